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
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from keyport_lint.modules import ModuleTable
from keyport_lint.pipeline.source import SourceError, read_source

if TYPE_CHECKING:
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings

T = TypeVar("T")
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
        # dependency recording: every module text read while answering a question is added to
        # each open recorder; memoised answers keep their own dependency sets and replay them
        self._recorders: list[set[Any]] = []
        self._deps: dict[object, set[Any]] = {}
        self._marker_tokens = _marker_tokens(settings, markers)
        self.table = ModuleTable(self.root, markers, self._marker_tokens,
                                 settings["max-file-size"], self._touch)
        if type(self).text is not ProjectIndex.text:  # a subclass serves texts (buffers)
            self.table.text_of = lambda path: self.text(Path(path))

    @contextlib.contextmanager
    def recording(self) -> Iterator[set[Any]]:
        """Collect the project modules consulted inside the block (for the result cache)."""
        deps: set[Any] = set()
        self._recorders.append(deps)
        try:
            yield deps
        finally:
            self._recorders.pop()

    def _touch(self, paths: Iterable[object]) -> None:
        for recorder in self._recorders:
            recorder.update(paths)

    def content_hash(self, path: Path) -> str | None:
        """Hash of a module's bytes, as the cache compares them (read once per run)."""
        return self.table.module(str(path)).digest

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
                    module = parse_python(text)
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
    # Resolution and import-following are answered by the per-run module table (modules.py):
    # strings, folder listings made once, each module's text read once.
    def resolve_module(self, importer: Path, module: str) -> Path | None:
        """Path of a module named as in an import (`.config`, `app.settings`), or None."""
        found = self.table.resolve(str(importer), module)
        return Path(found) if found is not None else None

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
        """Memoised in the module table: asked for every import of every file."""
        return self.table.is_keyport_text(str(path))

    def imports_keyport_module(self, importer: Path | None, imports: dict[str, str]) -> bool:
        """Does this module import a name from a KeyPort-related module of the project?"""
        if importer is None:
            return False
        for origin in imports.values():
            resolved = self.resolve_origin(importer, origin)
            if resolved is not None and self.is_keyport_text(resolved[0]):
                return True
        return False

    def reaches_keyport(self, importer: Path, text: str | None = None) -> bool:
        """Cheap, before parsing: does this file import (transitively, by text) a project module
        with KeyPort text? Decides whether a file without KeyPort text needs the rules that
        follow values across modules. (`text` is accepted for callers that hold it; the
        module table already has it or reads it once.)"""
        return self.table.reaches_keyport(str(importer))


def _marker_tokens(settings: Settings, markers: re.Pattern[str] | None
                   ) -> tuple[tuple[str, ...], ...] | None:
    """For each pattern of the settings' marker regex, the literal runs every match of it
    contains (None: no such guarantee, or the markers are not the settings' own)."""
    from keyport_lint.modules import literal_runs
    from keyport_lint.settings import marker_regex

    if markers is None or markers.pattern != marker_regex(settings).pattern:
        return None
    requirements = []
    for name in ("context-markers", "key-names", "secret-names"):
        for pattern in settings.get(name, []) or []:
            runs = literal_runs(pattern)
            if not runs:
                return None
            requirements.append(runs)
    return tuple(requirements)
