"""The project index: what the checked project's modules export that matters to rules.

Rules ask it questions such as "does `from settings import KEYPORT_API_KEY` name a value that
holds the key?" or "is `verify_keyport` a verifier?". It answers lazily, one imported module at a
time, with a per-module summary that the asking analysis defines (`lookup(..., summarize)`), so
the index itself knows nothing rule-specific. A one-file run (pre-commit) therefore reads only
the modules that file imports, as far as the question needs, never the whole tree.

Import resolution is textual (never importing anything): project root, `src/`, and the folder
above the importer's top-level package.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from keyport_lint.pipeline.source import SourceError, file_digest, read_source

if TYPE_CHECKING:
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings

T = TypeVar("T")
FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+(?P<dots>\.*)(?P<module>[\w.]*)[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|[^\n#;]+)", re.MULTILINE)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+(?P<modules>[\w., \t]+)", re.MULTILINE)
MAX_DEPTH = 4
MAX_PARSED = 32


class ProjectIndex:
    def __init__(self, root: Path, settings: Settings, markers: re.Pattern[str] | None = None,
                 cwd: Path | None = None) -> None:
        self.root = root.resolve()
        # module paths in messages read like finding paths: relative to the working folder
        self.cwd = (cwd or Path.cwd()).resolve()
        self.settings = settings
        self.markers = markers
        self._text: dict[Path, str | None] = {}
        self._contexts: dict[Path, PythonContext | None] = {}
        self._summaries: dict[tuple[Path, Any], Any] = {}
        self._reach: dict[Path, bool] = {}
        # dependency recording: every module text read while answering a question is added to
        # each open recorder; memoised answers keep their own dependency sets and replay them
        self._recorders: list[set[Path]] = []
        self._deps: dict[object, set[Path]] = {}
        self._hashes: dict[Path, str | None] = {}
        self._keyport_text: dict[Path, bool] = {}
        self._resolved: dict[tuple, Path | None] = {}
        self._roots: dict[str, tuple[str, ...]] = {}
        self._files: dict[str, bool] = {}
        self._marker_tokens = _marker_tokens(settings, markers)

    @contextlib.contextmanager
    def recording(self) -> Iterator[set[Path]]:
        """Collect the project modules consulted inside the block (for the result cache)."""
        deps: set[Path] = set()
        self._recorders.append(deps)
        try:
            yield deps
        finally:
            self._recorders.pop()

    def _touch(self, paths: set[Path] | frozenset[Path] | list[Path]) -> None:
        for recorder in self._recorders:
            recorder.update(paths)

    def content_hash(self, path: Path) -> str | None:
        """Hash of a module's bytes, as the cache compares them."""
        if path not in self._hashes:
            self._hashes[path] = file_digest(path)
        return self._hashes[path]

    # -- reading ---------------------------------------------------------------------------
    def text(self, path: Path) -> str | None:
        if path not in self._text:
            try:
                source = read_source(path, path.name, "python", self.settings["max-file-size"])
                self._text[path] = source.text
            except SourceError:
                self._text[path] = None
        self._touch([path])
        return self._text[path]

    def context(self, path: Path) -> PythonContext | None:
        """The parsed module (shared by every question about it); None if it cannot parse."""
        if path not in self._contexts:
            text = self.text(path)
            ctx = None
            if text is not None:
                from keyport_lint.context import PythonContext
                from keyport_lint.pipeline.parse import ParseFailure, parse_python

                try:
                    module = parse_python(text, self.settings["max-python-lines"])
                    ctx = PythonContext(self._display(path), text, module, self.settings, self,
                                        path=path)
                except ParseFailure:
                    ctx = None
            self._contexts[path] = ctx
            while len(self._contexts) > MAX_PARSED:  # trees are large: keep a few, summaries last
                self._contexts.pop(next(iter(self._contexts)))
        return self._contexts[path]

    def _display(self, path: Path) -> str:
        from keyport_lint.pipeline.discover import display_path

        return display_path(path, self.cwd)

    # -- resolution ------------------------------------------------------------------------
    # Resolution runs for every import of every file that rules following imports look at, so
    # it works on plain strings with memoised stat calls: pathlib costs several times more.
    def search_roots(self, importer: Path) -> tuple[str, ...]:
        folder = os.path.dirname(str(importer))
        roots = self._roots.get(folder)
        if roots is None:
            top = folder
            while self._isfile(os.path.join(top, "__init__.py")) and \
                    os.path.dirname(top) != top:
                top = os.path.dirname(top)
            base = str(self.root)
            roots = tuple(dict.fromkeys((base, os.path.join(base, "src"), top)))
            self._roots[folder] = roots
        return roots

    def _isfile(self, path: str) -> bool:
        found = self._files.get(path)
        if found is None:
            found = self._files[path] = os.path.isfile(path)
        return found

    def resolve_module(self, importer: Path, module: str) -> Path | None:
        """Path of a module named as in an import (`.config`, `app.settings`), or None."""
        if module.startswith("."):
            key: tuple = (os.path.dirname(str(importer)), module)
        else:  # absolute imports depend only on the search roots
            key = (self.search_roots(importer), module)
        if key not in self._resolved:
            self._resolved[key] = self._resolve_module(importer, module)
        return self._resolved[key]

    def _resolve_module(self, importer: Path, module: str) -> Path | None:
        level = len(module) - len(module.lstrip("."))
        parts = [p for p in module[level:].split(".") if p]
        if level:
            base = os.path.dirname(str(importer))
            for _ in range(level - 1):
                base = os.path.dirname(base)
            candidates: tuple[str, ...] = (base,)
        else:
            if not parts:
                return None
            candidates = self.search_roots(importer)
        for base in candidates:
            target = os.path.join(base, *parts)
            for path in ((target + ".py") if parts else None,
                         os.path.join(target, "__init__.py")):
                if path is not None and self._isfile(path):
                    return Path(os.path.normpath(path))
        return None

    def resolve_origin(self, importer: Path, origin: str) -> tuple[Path, str] | None:
        """Split an import origin (`.config.settings`, `app.settings.KEY`) into the module file
        and the attribute name inside it ("" when the origin is the module itself)."""
        module = self.resolve_module(importer, origin)
        if module is not None:
            return module, ""
        head, _, name = origin.rpartition(".")
        if not name:
            return None
        if head == "" or set(head) == {"."}:
            head = head or ""
            if not head:
                return None
        module = self.resolve_module(importer, head)
        return (module, name) if module is not None else None

    # -- questions -------------------------------------------------------------------------
    def summary(self, path: Path, summarize: Callable[[PythonContext], T]) -> T | None:
        key = (path, summarize)
        if key in self._summaries:
            self._touch(self._deps.get(key, set()) | {path})
            return self._summaries[key]
        self._summaries[key] = None  # cycle guard: a module reached again sees "nothing"
        with self.recording() as deps:
            ctx = self.context(path)
            self._touch([path])
            value = summarize(ctx) if ctx is not None else None
        self._deps[key] = deps
        self._summaries[key] = value
        return value

    def lookup(self, importer: Path, origin: str,
               summarize: Callable[[PythonContext], dict[str, T]]) -> T | None:
        """What `summarize` says about the name an import origin refers to."""
        resolved = self.resolve_origin(importer, origin)
        if resolved is None:
            return None
        module, name = resolved
        exported = self.summary(module, summarize)
        if not exported:
            return None
        return exported.get(name or "*")

    def is_keyport_text(self, path: Path) -> bool:
        """Memoised: asked for every import of every file by rules that follow imports."""
        if path not in self._keyport_text:
            text = self.text(path) or ""
            found = False
            if text and self.markers is not None:
                tokens = self._marker_tokens  # a cheap substring test first
                found = (tokens is None or any(t in text.lower() for t in tokens)) and bool(
                    self.markers.search(text))
            self._keyport_text[path] = found
        self._touch([path])  # a memoised verdict still depends on that module's text
        return self._keyport_text[path]

    def imports_keyport_module(self, importer: Path | None, imports: dict[str, str]) -> bool:
        """Does this module import a name from a KeyPort-related module of the project?"""
        if importer is None:
            return False
        for origin in imports.values():
            resolved = self.resolve_origin(importer, origin)
            if resolved is not None and self.is_keyport_text(resolved[0]):
                return True
        return False

    def reaches_keyport(self, importer: Path, text: str, depth: int = 0) -> bool:
        """Cheap, before parsing: does this file import (transitively, by text) a project module
        with KeyPort text? Decides whether a file without KeyPort text needs the rules that
        follow values across modules."""
        importer = importer.resolve()
        key = ("reach", importer)
        if importer in self._reach:
            self._touch(self._deps.get(key, set()))
            return self._reach[importer]
        self._reach[importer] = False  # cycle guard
        with self.recording() as deps:
            found = self._reaches(importer, text, depth)
        self._deps[key] = deps
        self._reach[importer] = found
        return found

    def _reaches(self, importer: Path, text: str, depth: int) -> bool:
        found = False
        for module in _imported_modules(text):
            path = self.resolve_module(importer, module)
            if path is None or path == importer:
                continue
            if self.is_keyport_text(path) or (
                    depth < MAX_DEPTH and self.reaches_keyport(path, self.text(path) or "",
                                                               depth + 1)):
                found = True
                break
        return found


def _marker_tokens(settings: Settings, markers: re.Pattern[str] | None
                   ) -> tuple[str, ...] | None:
    """Substrings one of which any match of the settings' marker regex contains (None: no
    such guarantee, or the markers are not the settings' own)."""
    from keyport_lint.kinds.base import literal_trigger
    from keyport_lint.settings import marker_regex

    if markers is None or markers.pattern != marker_regex(settings).pattern:
        return None
    tokens = []
    for name in ("context-markers", "key-names", "secret-names"):
        for pattern in settings.get(name, []) or []:
            token = literal_trigger(pattern)
            if token is None:
                return None
            tokens.append(token)
    return tuple(tokens)


def _imported_modules(text: str) -> list[str]:
    """Module names a file imports, read from its text (submodule candidates included)."""
    if "import" not in text:
        return []
    modules: list[str] = []
    for match in FROM_IMPORT.finditer(text):
        base = match.group("dots") + match.group("module")
        if base:
            modules.append(base)
        names = re.sub(r"[()\\\n]", " ", match.group("names"))
        for name in names.split(","):
            name = name.strip().split(" as ")[0].strip()
            if name and name != "*" and name.isidentifier():
                sep = "" if base.endswith(".") or not base else "."
                modules.append(f"{base}{sep}{name}")
    for match in PLAIN_IMPORT.finditer(text):
        for name in match.group("modules").split(","):
            name = name.strip().split(" as ")[0].strip()
            if name:
                modules.append(name)
    return modules
