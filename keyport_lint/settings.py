"""Effective shared settings: built-in defaults from rules/settings.yaml merged with the user's."""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import Any


class Settings:
    """Read-only view of the merged `settings:` values, with compiled regexes cached."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @staticmethod
    def names_regex(patterns: list[str]) -> re.Pattern[str]:
        """One case-insensitive full-match regex for a list of name patterns."""
        if not patterns:
            return re.compile(r"(?!x)x")
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    @cached_property
    def secret_names(self) -> re.Pattern[str]:
        return self.names_regex(self["secret-names"])

    @cached_property
    def generic_secret_names(self) -> re.Pattern[str]:
        return self.names_regex(self["generic-secret-names"])

    @cached_property
    def context_markers(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self["context-markers"]) or r"(?!x)x",
                          re.IGNORECASE)


@lru_cache(maxsize=16)
def _marker_regex(markers: tuple[str, ...], names: tuple[str, ...]) -> re.Pattern[str]:
    bounded = [rf"(?<![A-Za-z0-9_])(?:{n})(?![A-Za-z0-9_])" for n in names]
    return re.compile("|".join([f"(?:{m})" for m in markers] + bounded) or r"(?!x)x",
                      re.IGNORECASE)


def marker_regex(settings: Settings) -> re.Pattern[str]:
    """What makes code KeyPort-related: the context markers plus the
    KeyPort-specific key and secret names, which count anywhere."""
    return _marker_regex(tuple(settings["context-markers"]),
                         tuple(settings["key-names"]) + tuple(settings["secret-names"]))
