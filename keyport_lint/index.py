"""The project index: what the checked project's modules export that matters to rules
(names that hold the key, verifier functions). Built lazily: a one-file run reads only the
modules that file imports, never the whole tree."""

from __future__ import annotations

from pathlib import Path


class ProjectIndex:
    def __init__(self, root: Path) -> None:
        self.root = root

    def imports_keyport_module(self, display: str, imports: dict[str, str]) -> bool:
        """Does this module import a name from a KeyPort-related module of the project?"""
        return False

    def prefilter_tokens(self) -> frozenset[str]:
        return frozenset()
