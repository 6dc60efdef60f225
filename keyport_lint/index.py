"""The project index: what the checked project's modules export that matters to rules.

Rules ask it questions such as "does `from settings import KEYPORT_API_KEY` name a value that
holds the key?" or "is `verify_keyport` a verifier?". One protocol answers them all: a
module's summary is a set of sections, each a mapping name -> answer computed by a function of
the module's context (`summary(path, section)`, memoised per module and section: key-holding
names, verifiers, validation helpers, clients and factories, string constants …), and
`lookup(importer, origin, section)` finds the answer for an imported name, following
re-exports: a package `__init__` that imports the name (under an alias or not) and star
imports. The index itself knows nothing rule-specific. It answers lazily, one imported module at
a time, so a one-file run (pre-commit) reads only the modules that file imports, as far as the
question needs, never the whole tree; a module the run already parsed is reused, not parsed
again. Every module consulted is recorded for the result cache, memoised answers included.

Import resolution is textual (never importing anything) and done by the per-run module table
(`modules.py`): the config's `src`, the project root, `src/`, the folder above the importer's
top-level package, and the monorepo's detected source roots.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from keyport_lint.modules import ModuleTable
from keyport_lint.pipeline.source import SourceError, read_source

if TYPE_CHECKING:
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings

T = TypeVar("T")
STAR_IMPORT = re.compile(r"\bimport[ \t]+\*")
MAX_DEPTH = 4
MAX_PARSED = 32
MAX_ORIGINS = 1024  # memoised import resolutions (most repeats are within one file's analyses)


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
        self._reals: dict[Path, Path] = {}
        self._paths: dict[str, Path] = {}
        self._origins: dict[tuple[Path, str], tuple[tuple[Path, str] | None, frozenset[Any]]] = {}
        self._consulted: dict[frozenset[Any], frozenset[Any]] = {}
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

    def open_recorder(self) -> set[Any]:
        """`recording()` in two calls, for hot paths: close it with `close_recorder()`."""
        deps: set[Any] = set()
        self._recorders.append(deps)
        return deps

    def close_recorder(self) -> None:
        self._recorders.pop()

    def touch(self, paths: Iterable[object]) -> None:
        """Record modules as consulted by every open recorder (memoised answers replay
        their dependencies through this)."""
        for recorder in self._recorders:
            recorder.update(paths)

    _touch = touch  # the name subclasses (the server's overlay index) use

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
        self.touch([path])
        return self._text[path]

    def adopt(self, ctx: PythonContext) -> None:
        """A module the pipeline parsed: questions about it reuse its tree and analyses (kept
        like the index's own parses, a few at a time; summaries are kept for the run)."""
        if ctx.path is None:
            return
        path = self.real_path(ctx.path)
        ctx.hold()
        self._drop(self._contexts.pop(path, None))
        self._contexts[path] = ctx
        self._text.setdefault(path, ctx.text)
        self._evict()

    def real_path(self, path: Path) -> Path:
        """The resolved path the index keys modules by (asked twice per checked file: reuse,
        then adopt), resolved once."""
        found = self._reals.get(path)
        if found is None:
            found = self._reals[path] = Path(os.path.normpath(str(path.resolve())))
        return found

    def _evict(self) -> None:
        while len(self._contexts) > MAX_PARSED:  # trees are large: keep a few, summaries last
            self._drop(self._contexts.pop(next(iter(self._contexts))))

    @staticmethod
    def _drop(ctx: PythonContext | None) -> None:
        if ctx is not None:
            ctx.let_go()

    def reuse(self, path: Path, text: str, display: str) -> PythonContext | None:
        """The context the index already built for a module the pipeline is about to check
        (asked by an earlier file), if its text is the same: neither parsed nor walked
        again. It takes the pipeline's display path."""
        ctx = self._contexts.get(self.real_path(path))
        if ctx is None or ctx.text != text:
            return None
        ctx.display = display
        return ctx

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
            if ctx is not None and self._contexts.get(path) is not ctx:  # adopt() held it
                ctx.hold()
            self._contexts[path] = ctx
            self._evict()
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
        if found is None:
            return None
        path = self._paths.get(found)  # one Path per module: the resolution memo keeps them
        if path is None:
            path = self._paths[found] = Path(found)
        return path

    def resolve_origin(self, importer: Path, origin: str) -> tuple[Path, str] | None:
        """Split an import origin (`.config.settings`, `app.settings.KEY`) into the module file
        and the attribute name inside it ("" when the origin is the module itself).

        Memoised per (importer, origin) with what the resolution consulted, replayed to the
        open recorders on every later use (the analyses of one file ask about the same
        imports many times)."""
        key = (importer, origin)
        known = self._origins.get(key)
        if known is not None:
            if known[1]:
                self.touch(known[1])
            return known[0]
        deps = self.open_recorder()  # the resolution touches every open recorder
        try:
            found = self._resolve_origin(importer, origin)
        finally:
            self.close_recorder()
        if len(self._origins) >= MAX_ORIGINS:  # the sets are large: memory stays bounded
            self._origins.clear()
            self._consulted.clear()
        consulted = frozenset(deps)  # few distinct sets (folder listings): kept once each
        self._origins[key] = (found, self._consulted.setdefault(consulted, consulted))
        return found

    def _resolve_origin(self, importer: Path, origin: str) -> tuple[Path, str] | None:
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
        """One section of a module's summary, computed once per run (None if the module
        cannot be read or parsed)."""
        key = (path, summarize)
        if key in self._summaries:
            self.touch(self._deps.get(key, set()) | {path})
            return self._summaries[key]
        self._summaries[key] = None  # cycle guard: a module reached again sees "nothing"
        with self.recording() as deps:
            ctx = self.context(path)
            self.touch([path])
            value = summarize(ctx) if ctx is not None else None
        self._deps[key] = deps
        self._summaries[key] = value
        return value

    def lookup(self, importer: Path, origin: str,
               section: Callable[[PythonContext], Mapping[str, T]], depth: int = 0
               ) -> T | None:
        """What `section` says about the name an import origin refers to, following
        re-exports (`from .keys import KEY as TOKEN` in a package `__init__`, `from .conf
        import *`) to the module that defines it."""
        resolved = self.resolve_origin(importer, origin)
        if resolved is None:
            return None
        module, name = resolved
        if name and name not in (self.text(module) or "") and not STAR_IMPORT.search(
                self.text(module) or ""):
            return None  # neither defines nor re-exports it: no need to parse the module
        exported = self.summary(module, section)
        key = name or "*"
        if exported and key in exported:
            return exported[key]
        if not name or depth >= MAX_DEPTH:
            return None
        reexports = self.summary(module, _reexports)
        if reexports is None:
            return None
        imported, stars = reexports
        target = imported.get(name)
        if target is not None and target != origin:
            return self.lookup(module, target, section, depth + 1)
        if not name.startswith("_"):
            for star in stars:
                found = self.lookup(module, f"{star}.{name}" if not star.endswith(".")
                                    else star + name, section, depth + 1)
                if found is not None:
                    return found
        return None

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


def _reexports(ctx: PythonContext) -> tuple[dict[str, str], tuple[str, ...]]:
    """Section: what a module imports (local name -> origin) and the modules it star-imports,
    for following re-exports."""
    from keyport_lint.analysis.facts import module_facts

    facts = ctx.analysis(module_facts)
    return dict(facts.imports), tuple(facts.star_imports)


def _marker_tokens(settings: Settings, markers: re.Pattern[str] | None
                   ) -> tuple[tuple[str, ...], ...] | None:
    """For each pattern of the settings' marker regex, the literal runs every match of it
    contains (None: no such guarantee, or the markers are not the settings' own)."""
    from keyport_lint.importscan import literal_runs
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
