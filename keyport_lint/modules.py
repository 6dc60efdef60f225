"""The per-run module table: module name → path, what each module imports, and whether its
text holds KeyPort markers — built lazily, shared by every file of the run.

Import-following before parsing ("does this file reach a KeyPort-related module?") is answered
here from each module's text, read at most once per run (the pipeline hands over the text it
already read; a module read here first is kept until the pipeline takes it, within a memory
budget). Folders are listed once, not probed with one `stat` per candidate path, and every
answer records what it consulted — module texts and folder listings, including the listings
that showed a module *absent* — so the cache sees a module created later.

Reachability ("does this file reach a KeyPort-related module?") is answered in `following`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from keyport_lint.closure import ClosureDeps, DepTree, fold_groups
from keyport_lint.following import Following
from keyport_lint.importscan import (
    Import,
    gate_tokens,
    import_statements,
    submodule_candidates,
)
from keyport_lint.pipeline.source import Source, SourceError, decode, file_digest, read_bytes
from keyport_lint.settings import has_marker
from keyport_lint.sourceroots import detect_roots, nearest_first

READ_AHEAD_BUDGET = 32 * 1024 * 1024  # characters kept for the pipeline (text and lower case)


class Listing(str):
    """A dependency on a folder's listing (which `.py` files it holds), as opposed to a file."""


class Module:
    """One module as import-following sees it."""

    __slots__ = ("digest", "imports", "keyport", "path")

    def __init__(self, path: str, digest: str | None, keyport: bool,
                 imports: tuple[Import, ...]) -> None:
        self.path = path
        self.digest = digest
        self.keyport = keyport
        self.imports = imports  # (module, raw names of a `from` import, alias of a plain one)


def scan_folder(folder: str) -> tuple[frozenset[str], frozenset[str]]:
    """What import resolution sees of a folder: its importable `.py` files and its
    subfolders that could be packages (both empty when it does not exist)."""
    try:
        with os.scandir(folder) as entries:
            return split_listing(entries)
    except OSError:
        return frozenset(), frozenset()


def split_listing(entries: Iterable[os.DirEntry[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """A folder listing as import resolution sees it: file names and subfolder names (one
    definition for the table's own listings and the ones discovery hands it)."""
    files: set[str] = set()
    dirs: set[str] = set()
    for entry in entries:
        kind = entry_kind(entry)
        if kind == "file":
            files.add(entry.name)
        elif kind == "dir":
            dirs.add(entry.name)
    return frozenset(files), frozenset(dirs)


def entry_kind(entry: os.DirEntry[str]) -> str | None:
    """"file" for an importable `.py` file, "dir" for a possible package, else None."""
    name = entry.name
    if name.endswith(".py"):
        return "file" if name[:-3].isidentifier() and _is_file(entry) else None
    if name.isidentifier() and name != "__pycache__" and _is_dir(entry):
        return "dir"
    return None


def folder_digest(files: frozenset[str], dirs: frozenset[str]) -> str:
    if not files and not dirs:
        return "-"
    names = sorted(files) + sorted(d + "/" for d in dirs)
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def listing_digest(folder: str) -> str:
    """A folder's listing as import resolution sees it, digested ("-": nothing there)."""
    return folder_digest(*scan_folder(folder))


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


class ModuleTable:
    def __init__(self, root: Path, markers: re.Pattern[str] | None,
                 marker_tokens: tuple[tuple[str, ...], ...] | None, max_size: int,
                 touch: Callable[[Iterable[object]], None]) -> None:
        self.root = str(root)
        self.markers = markers
        self.marker_tokens = marker_tokens
        self.max_size = max_size
        self.touch = touch
        self._modules: dict[str, Module] = {}
        # where module texts come from when not from the disk (the language server's buffers)
        self.text_of: Callable[[str], str | None] | None = None
        # read here ahead of the pipeline: (text or why not, lower case, digest, stat)
        self._ahead: dict[str, tuple[str | SourceError, str, str, tuple[int, int]]] = {}
        # one or two tokens one of which any text holding a marker holds (`keyport`, `kp_`),
        # as one alternation: sre scans for their shared first letter, 4x faster than `in`
        self._gate = re.compile("|".join(re.escape(gate.decode("utf-8")) for gate in gate_tokens(
            tuple(tuple(run.encode("utf-8") for run in runs) for runs in marker_tokens or ())))
            or r"(?!x)x")
        self._ahead_size = 0
        # 0 in worker processes: they receive every file's text and never take one read here
        self.read_ahead_budget = READ_AHEAD_BUDGET
        self._listings: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._listing_keys: dict[str, str] = {}
        # one dependency object per folder, one set per distinct answer: resolution memoises
        # tens of thousands of answers that name the same few hundred folders
        self._listing_deps: dict[str, Listing] = {}
        self._dep_sets: dict[frozenset[object], frozenset[object]] = {}
        self._joined: dict[tuple[str, str], str] = {}
        self._roots: dict[str, tuple[tuple[str, ...], frozenset[object]]] = {}
        # source roots: configured (`src`, absolute) and detected (None: not yet walked)
        self.configured_roots: tuple[str, ...] = ()
        self._detected: tuple[tuple[str, ...], ClosureDeps] | None = None
        self._by_first: dict[str, tuple[str, ...]] | None = None  # first name -> roots
        self._ordered: dict[tuple[str, str], tuple[str, ...]] = {}  # (folder, first) -> roots
        self._resolved: dict[tuple, tuple[str | None, frozenset[object]]] = {}
        # folder -> module -> (path, roots' dependencies, the listings walked in them)
        self._by_folder: dict[str, dict[str, tuple[str | None, frozenset[object],
                                                   frozenset[object]]]] = {}
        self._succ: dict[str, tuple[tuple[str, ...], frozenset[object]]] = {}
        self.targets: frozenset[str] = frozenset()  # the files the run checks (when known)
        self.following = Following(self)
        self._trees: dict[int, DepTree] = {}

    # -- texts -----------------------------------------------------------------------------
    def learn(self, path: str, source: Source) -> Module:
        """Record a module from text the caller already read (no second read)."""
        module = self._modules.get(path)
        if module is None:
            module = self._modules[path] = Module(
                path, source.digest, self._is_keyport(source.text, source.lower),
                import_statements(source.text))
        return module

    def take(self, path: str, display: str, kind: str) -> Source | SourceError | None:
        """The text read and decoded here ahead of the pipeline (with its lower case), handed
        over once."""
        ahead = self._ahead.pop(path, None)
        if ahead is None:
            return None
        text, lower, digest, seen = ahead
        self._ahead_size -= 2 * len(lower)
        if isinstance(text, SourceError):
            return text if kind == "python" else None
        if kind != "python":  # decoded as Python (its coding cookie): the pipeline reads it
            return None
        return Source(Path(path), display, kind, text, digest, seen, [lower])

    def module(self, path: str) -> Module:
        """A module's imports and KeyPort verdict: a file met only while following imports is
        read and decoded here once, and kept for the pipeline (within a budget)."""
        module = self._modules.get(path)
        if module is None and self.text_of is not None:  # an editor's buffers, say
            buffer = self.text_of(path)
            if buffer is None:
                module = self._modules[path] = Module(path, None, False, ())
            else:
                digest = hashlib.sha256(buffer.encode("utf-8", "surrogatepass")).hexdigest()
                module = self.learn(path, Source(Path(path), os.path.basename(path), "python",
                                                 buffer, digest))
        if module is None:
            try:
                data, digest, seen = read_bytes(path, self.max_size)
            except SourceError:  # still a dependency: its bytes may be fixed later
                module = self._modules[path] = Module(path, file_digest(path), False, ())
                return module
            try:
                text: str | SourceError = decode(data, "python")
            except SourceError as exc:
                text = exc
            if isinstance(text, str):
                lower = text.lower()
                module = Module(path, digest, self._is_keyport(text, lower),
                                import_statements(text))
            else:  # the pipeline reports it; imports still count
                lower = ""
                module = Module(path, digest, False,
                                import_statements(data.decode("utf-8", "replace"))
                                if b"import" in data else ())
            self._modules[path] = module
            if self._ahead_size + 2 * len(lower) <= self.read_ahead_budget:
                self._ahead[path] = (text, lower, digest, seen)
                self._ahead_size += 2 * len(lower)
        return module

    def _is_keyport(self, text: str, lower: str) -> bool:
        if self.markers is None or not text:
            return False
        needs = self.marker_tokens
        if needs is not None:  # some marker pattern must find all of its literal runs
            if self._gate.search(lower) is None:
                return False
            if not any(all(run in lower for run in runs) for runs in needs):
                return False
        return has_marker(self.markers, text)

    def text_is_keyport(self, source: Source) -> bool:
        """Markers in a file that is not a module (JS, HTML …)."""
        return self._is_keyport(source.text, source.lower)

    def is_keyport_text(self, path: str) -> bool:
        self.touch((path,))
        return self.module(path).keyport

    # -- resolution ------------------------------------------------------------------------
    def seed(self, listings: dict[str, tuple[frozenset[str], frozenset[str]]],
             targets: frozenset[str] = frozenset()) -> None:
        """Listings discovery already made this run, and the files the run checks."""
        for folder, found in listings.items():
            self._listings.setdefault(folder, found)
        self.targets = targets

    def _scan(self, folder: str) -> tuple[frozenset[str], frozenset[str]]:
        found = self._listings.get(folder)
        if found is None:
            found = self._listings[folder] = scan_folder(folder)
        return found

    def _join(self, folder: str, part: str) -> str:
        key = (folder, part)
        found = self._joined.get(key)
        if found is None:
            found = self._joined[key] = os.path.join(folder, part)
        return found

    def _listed(self, folder: str) -> Listing:
        """The dependency on a folder's listing, one object per folder."""
        found = self._listing_deps.get(folder)
        if found is None:
            found = self._listing_deps[folder] = Listing(folder)
        return found

    def _shared(self, deps: frozenset[object]) -> frozenset[object]:
        """One object for each distinct set of dependencies memoised."""
        return self._dep_sets.setdefault(deps, deps)

    def listing(self, folder: str) -> frozenset[str]:
        """Names of the `.py` files in a folder (empty when it does not exist), listed once."""
        return self._scan(folder)[0]

    def pair(self, item: object) -> tuple[str, str]:
        """A recorded dependency with its digest as this run saw it."""
        if isinstance(item, Listing):
            return "dir:" + str(item), self.listing_key(str(item))
        path = str(item)
        return path, self.module(path).digest or "-"

    def tree(self, group: ClosureDeps) -> DepTree:
        """`group` with digests, built once per component."""
        trees = self._trees
        return fold_groups(group, trees, lambda top: DepTree(
            tuple(sorted(self.pair(i) for i in top.own)),
            tuple(trees[id(c)] for c in top.children)))

    def listing_key(self, folder: str) -> str:
        """The digest of a folder's listing as this run saw it (see `listing_digest`)."""
        key = self._listing_keys.get(folder)
        if key is None:
            key = self._listing_keys[folder] = folder_digest(*self._scan(folder))
        return key

    def search_roots(self, folder: str) -> tuple[tuple[str, ...], frozenset[object]]:
        """The roots tried first — configured roots, project root, `src/`, the folder above
        the importer's top-level package — and what decided them: the listings walked up, and
        the detected roots' group (see `detected_roots`; they are tried after these, nearest
        the importer first, but only those holding the import's first name)."""
        found = self._roots.get(folder)
        if found is None:
            seen = [folder]
            top = folder
            while "__init__.py" in self.listing(top) and os.path.dirname(top) != top:
                top = os.path.dirname(top)
                seen.append(top)
            _, detected_deps = self.detected_roots()
            prefix = tuple(dict.fromkeys((*self.configured_roots, self.root,
                                          os.path.join(self.root, "src"), top)))
            found = self._roots[folder] = (
                prefix, self._shared(frozenset([*map(self._listed, seen), detected_deps])))
        return found

    def detected_roots(self) -> tuple[tuple[str, ...], ClosureDeps]:
        """Folders of the project holding top-level packages (see `sourceroots`), walked once
        per run; and the listings consulted, as one group shared by every resolution (a root's
        listing, where a module is absent, is a dependency of every absolute import)."""
        if self._detected is None:
            roots, listed = detect_roots(self.root, self._scan)
            self._detected = (roots, ClosureDeps(frozenset(map(self._listed, listed)), ()))
        return self._detected

    def _holding(self, first: str) -> tuple[str, ...]:
        """Detected roots whose listing holds `first` as a module or a folder, in detected
        order: the only ones an import starting with `first` can resolve in. Indexed once per
        run, so resolution costs the same with ten roots or a thousand."""
        if self._by_first is None:
            index: dict[str, list[str]] = {}
            for root in self.detected_roots()[0]:
                files, dirs = self._scan(root)
                for name in {*(f[:-3] for f in files), *dirs}:
                    index.setdefault(name, []).append(root)
            self._by_first = {name: tuple(roots) for name, roots in index.items()}
        return self._by_first.get(first, ())

    def _candidates(self, folder: str, module: str) -> tuple[str, ...]:
        """The roots an absolute import is tried against, in order: the fixed ones, then the
        detected roots holding its first name, nearest the importer first (the order
        `nearest_first` gives all of them; the others cannot hold the module)."""
        first = module.partition(".")[0]
        found = self._ordered.get((folder, first))
        if found is None:
            found = prefix = self.search_roots(folder)[0]
            rest = tuple(r for r in self._holding(first) if r not in prefix)
            if rest:
                found = (*prefix, *(nearest_first(rest, folder) if len(rest) > 1 else rest))
            self._ordered[(folder, first)] = found
        return found

    def resolve(self, importer: str, module: str) -> str | None:
        """Path of a module named as in an import (`.config`, `app.settings`), or None."""
        target, roots_deps, found_deps = self._lookup(os.path.dirname(importer), module)
        self.touch(roots_deps)
        self.touch(found_deps)
        return target

    def _lookup(self, folder: str, module: str
                ) -> tuple[str | None, frozenset[object], frozenset[object]]:
        """`resolve` from a folder, memoised: the path, and what decided it (the roots tried,
        then the listings walked in them)."""
        memo = self._by_folder.get(folder)
        if memo is None:
            memo = self._by_folder[folder] = {}
        hit = memo.get(module)
        if hit is None:
            if module.startswith("."):
                key: tuple = (folder, module)
                candidates: tuple[str, ...] = ()
                roots_deps: frozenset[object] = frozenset()
            else:  # absolute imports depend only on the roots tried (and their listings)
                candidates = self._candidates(folder, module)
                roots_deps = self.search_roots(folder)[1]
                key = (candidates, module)
            found = self._resolved.get(key)
            if found is None:
                found = self._resolved[key] = self._resolve(folder, module, candidates)
            hit = memo[module] = (found[0], roots_deps, found[1])
        return hit

    def _resolve(self, folder: str, module: str, roots: tuple[str, ...]
                 ) -> tuple[str | None, frozenset[object]]:
        level = len(module) - len(module.lstrip("."))
        parts = [p for p in module[level:].split(".") if p]
        if level:
            base = folder
            for _ in range(level - 1):
                base = os.path.dirname(base)
            candidates: tuple[str, ...] = (base,)
        else:
            if not parts:
                return None, frozenset()
            candidates = roots
        consulted: list[object] = []
        join = self._join
        listed = self._listed
        for base in candidates:
            folder_now = base
            for part in parts[:-1]:  # packages on the way: listed, never probed one by one
                consulted.append(listed(folder_now))
                if part not in self._scan(folder_now)[1]:
                    break
                folder_now = join(folder_now, part)
            else:
                consulted.append(listed(folder_now))
                files, dirs = self._scan(folder_now)
                if not parts:
                    if "__init__.py" in files:
                        return (os.path.normpath(os.path.join(folder_now, "__init__.py")),
                                self._shared(frozenset(consulted)))
                    continue
                last = parts[-1]
                if last + ".py" in files:
                    return (os.path.normpath(os.path.join(folder_now, last + ".py")),
                            self._shared(frozenset(consulted)))
                if last in dirs:
                    package = join(folder_now, last)
                    consulted.append(listed(package))
                    if "__init__.py" in self._scan(package)[0]:
                        return (os.path.normpath(os.path.join(package, "__init__.py")),
                                self._shared(frozenset(consulted)))
        return None, self._shared(frozenset(consulted))

    # -- reachability ----------------------------------------------------------------------
    def successors(self, path: str) -> tuple[str, ...]:
        found = self._successors(path)
        self.touch(found[1])
        return found[0]

    def _successors(self, path: str) -> tuple[tuple[str, ...], frozenset[object]]:
        """The modules `path` imports (submodules named by `from package import X` too), and
        what resolving them consulted; memoised."""
        found = self._succ.get(path)
        if found is None:
            folder = os.path.dirname(path)
            deps: set[object] = set()
            out: dict[str, None] = {}
            lookup = self._lookup
            memo = self._by_folder.setdefault(folder, {})
            roots_seen: frozenset[object] = frozenset()
            for base, names, _ in self.module(path).imports:
                if base:
                    target, roots_deps, found_deps = memo.get(base) or lookup(folder, base)
                    if roots_deps is not roots_seen:  # the same for every absolute import
                        deps.update(roots_deps)
                        roots_seen = roots_deps
                    deps.update(found_deps)
                    if target is not None:
                        if target != path:
                            out[target] = None
                        if not target.endswith("__init__.py"):
                            continue  # `from m import X`, m no package: X no submodule
                if not names:
                    continue
                for name in submodule_candidates(base, names):
                    target, roots_deps, found_deps = memo.get(name) or lookup(folder, name)
                    if roots_deps is not roots_seen:
                        deps.update(roots_deps)
                        roots_seen = roots_deps
                    deps.update(found_deps)
                    if target is not None and target != path:
                        out[target] = None
            found = self._succ[path] = (tuple(out), frozenset(deps))
        return found

    def reaches_keyport(self, path: str, source: Source | None = None) -> bool:
        """Does this module import, directly or not, a module whose text holds KeyPort
        markers, following what its code uses (see `following`)? Its own text does not
        count (the pre-filter asks that separately)."""
        if source is not None:
            self.learn(path, source)
        return self.following.reaches(path)

    def text(self, path: str) -> str | None:
        """A module's text as this run saw it (None: unreadable, or changed since)."""
        if self.text_of is not None:
            return self.text_of(path)
        ahead = self._ahead.get(path)
        if ahead is not None:
            return ahead[0] if isinstance(ahead[0], str) else None
        try:
            data, digest, _ = read_bytes(path, self.max_size)
        except SourceError:
            return None
        if digest != self.module(path).digest:
            return None
        try:
            return decode(data, "python")
        except SourceError:
            return None

    def expected(self, path: str) -> bool:
        """Is this module one the run reads anyway?"""
        return path in self.targets or path in self._modules
