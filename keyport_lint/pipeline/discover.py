"""Discover files: walk folders honouring .gitignore and config `exclude`; take explicit files
as given (pre-commit passes staged files, checked even if git ignores them) except that config
`exclude` still applies to them, as with ruff's force-exclude.

The walk works on `os.scandir` entries and strings: each folder is listed once, its ignore
rules (its own `.gitignore`, plus `.git/info/exclude` at a repository root) are computed once and
handed down to its subfolders, and `.git` / `CACHEDIR.TAG` are looked up in that one listing.
A folder that cannot be listed is a warning naming it, never an abort, never silence.
"""

from __future__ import annotations

import contextlib
import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.config import Config
from keyport_lint.valuerecord import ValueRecord

if TYPE_CHECKING:
    import pathspec

ALWAYS_SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".tox", ".nox", ".venv", "venv", ".direnv", ".eggs",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype", "node_modules",
    "__pypackages__", ".keyport-lint-cache",
})
# the cache-directory tagging convention: a tag counts only when it starts with this
# exact signature
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"


class Target(ValueRecord):
    """A file to check. `file` is its path as a string; the `Path` is built on first use, as
    a run the cache settles (and the cache itself) needs only the string. Read-only by
    convention; equal when every field is."""

    __slots__ = ("_path", "display", "explicit", "file", "kind", "stat")

    def __init__(self, path: Path | str, display: str, kind: str, explicit: bool,
                 stat: tuple[int, int] | None = None) -> None:
        self.file = os.fspath(path)
        self._path = path if isinstance(path, Path) else None
        self.display = display
        self.kind = kind  # "python" or "text"
        self.explicit = explicit
        self.stat = stat  # size and mtime when discovery already took them

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = Path(self.file)
        return self._path

    def _key(self) -> tuple[object, ...]:
        return (self.file, self.display, self.kind, self.explicit, self.stat)

    def __repr__(self) -> str:
        return (f"Target(path={self.file!r}, display={self.display!r}, kind={self.kind!r}, "
                f"explicit={self.explicit!r}, stat={self.stat!r})")


def file_kind(path: Path | str, cfg: Config) -> str | None:
    name = os.path.basename(path)
    return _kind_of(name, tuple(cfg.settings["python-extensions"]),
                    tuple(cfg.settings["text-extensions"]))


@lru_cache(maxsize=4096)
def _kind_of(name: str, python_ext: tuple[str, ...], text_ext: tuple[str, ...]) -> str | None:
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    if suffix in python_ext:
        return "python"
    if name == ".env" or (name.startswith(".env.") and ".env" in text_ext):
        return "text"
    if suffix in text_ext:
        return "text"
    return None


def display_path(path: Path | str, cwd: Path | str) -> str:
    path, cwd = str(path), str(cwd)
    if path == cwd:
        return "."
    if path.startswith(cwd.rstrip(os.sep) + os.sep):
        rel = path[len(cwd.rstrip(os.sep)) + 1:]
    else:
        rel = os.path.relpath(path, cwd)
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def safe_display(display: str) -> str:
    """A display path that every output can encode: undecodable bytes of a file name (kept as
    surrogates by the OS layer) are shown as \\xNN escapes."""
    try:
        display.encode("utf-8")
        return display
    except UnicodeEncodeError:
        return display.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_cachedir_tag(path: str) -> bool:
    """Only a tag with the standard signature marks a cache folder (an empty file named
    CACHEDIR.TAG must not hide a folder of keys)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False


Chain = tuple[tuple[str, "pathspec.PathSpec"], ...]  # (folder, its patterns), outermost first


class _Ignores:
    """.gitignore files met while walking, each applying below its own folder, up to the
    repository root (or the walk's top when there is no repository)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def own_spec(self, directory: str, names: set[str]) -> pathspec.PathSpec | None:
        """The folder's own patterns, read from its listing (`names`)."""
        if not self.enabled:
            return None
        lines: list[str] = []
        if ".gitignore" in names:
            lines += _read_lines(os.path.join(directory, ".gitignore"))
        if ".git" in names and os.path.isdir(os.path.join(directory, ".git")):
            lines += _read_lines(os.path.join(directory, ".git", "info", "exclude"))
        return _gitignore_spec(lines) if lines else None

    def chain_above(self, start: str, top: str) -> Chain:
        """The patterns of the folders from `top` down to `start`'s parent."""
        if not self.enabled or start == top:
            return ()
        folders = []
        directory = os.path.dirname(start)
        while True:
            folders.append(directory)
            if directory == top or os.path.dirname(directory) == directory:
                break
            directory = os.path.dirname(directory)
        chain: list[tuple[str, pathspec.PathSpec]] = []
        for folder in reversed(folders):
            try:
                names = set(os.listdir(folder))
            except OSError:
                continue
            spec = self.own_spec(folder, names)
            if spec is not None:
                chain.append((folder, spec))
        return tuple(chain)

    @staticmethod
    def ignored(chain: Chain, path: str, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        for folder, spec in chain:
            rel = path[len(folder) + 1:] if folder != os.sep else path[1:]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            if spec.match_file(rel + suffix):
                return True
        return False


def _read_lines(path: str) -> list[str]:
    with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()
    return []


def _git_top(start: str) -> str:
    """The folder whose .gitignore files apply: the repository root above `start`, or itself."""
    directory = start
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return start
        directory = parent


Listings = dict[str, tuple[frozenset[str], frozenset[str]]]


def discover(paths: list[str], cfg: Config, cwd: Path,
             warnings: list[str] | None = None, listings: Listings | None = None
             ) -> tuple[list[Target], list[str]]:
    """Targets sorted by display path, and run-level errors (paths that do not exist).
    Problems that skip part of the tree (folders that cannot be listed) go to `warnings`;
    `listings` receives what import resolution needs of each folder listed (its `.py` files
    and possible packages), so the module table never lists it again."""
    exclude = _gitignore_spec(cfg.exclude) if cfg.exclude else None
    ignores = _Ignores(cfg.respect_gitignore)
    found: dict[str, Target] = {}
    errors: list[str] = []
    warned = warnings if warnings is not None else []
    root = str(cfg.root)
    cwd_s = str(cwd)
    python_ext = tuple(cfg.settings["python-extensions"])
    text_ext = tuple(cfg.settings["text-extensions"])

    def excluded(path: str, is_dir: bool, start: str | None = None) -> bool:
        """Patterns are relative to the project root; for a folder outside the project
        (a checkout elsewhere, site-packages), relative to the folder given."""
        if exclude is None:
            return False
        for base in (root, start):
            if base is None:
                continue
            if path == base:
                return False
            prefix = base.rstrip(os.sep) + os.sep
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix):].replace(os.sep, "/")
            return bool(exclude.match_file(rel + ("/" if is_dir else "")))
        return False

    for raw in paths:
        path = os.path.normpath(os.path.join(cwd_s, raw))
        try:
            st = os.stat(path)
        except OSError as exc:
            if _missing(exc):
                errors.append(f"{safe_display(raw)}: no such file or directory")
            else:
                errors.append(f"{safe_display(raw)}: cannot read "
                              f"({exc.strerror or type(exc).__name__})")
            continue
        if not stat.S_ISDIR(st.st_mode) and not stat.S_ISREG(st.st_mode):
            warned.append(f"{safe_display(raw)}: not a regular file; not checked")
            continue
        if stat.S_ISREG(st.st_mode):
            kind = _kind_of(os.path.basename(path), python_ext, text_ext)
            if kind and not excluded(path, False) and (
                    exclude is None or not _under_excluded_dir(path, excluded)):
                found[path] = Target(path, safe_display(display_path(path, cwd_s)), kind,
                                     True, (st.st_size, st.st_mtime_ns))
            continue
        top = _git_top(path)
        chain = ignores.chain_above(path, top)
        base_display = display_path(path, cwd_s)
        base_display = "" if base_display == "." else base_display + "/"
        stack: list[tuple[str, str, Chain]] = [(path, base_display, chain)]
        while stack:
            directory, shown, chain = stack.pop()
            try:
                with os.scandir(directory) as listing:
                    entries = list(listing)
            except OSError as exc:
                warned.append(f"{safe_display(shown.rstrip('/') or '.')}: folder cannot be "
                              f"listed ({exc.strerror or type(exc).__name__}); its files are "
                              "not checked")
                continue
            names = {e.name for e in entries}
            if listings is not None:
                listings[directory] = _importable(entries)
            if directory != path and "CACHEDIR.TAG" in names and \
                    is_cachedir_tag(os.path.join(directory, "CACHEDIR.TAG")):
                continue  # a cache folder, tagged the standard way
            spec = ignores.own_spec(directory, names)
            if directory != path and ".git" in names:
                chain = ()  # a repository inside: the outer .gitignore files stop here
            here = (*chain, (directory, spec)) if spec is not None else chain
            subdirs = []
            for entry in entries:
                name = entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                full = entry.path
                if is_dir:
                    if name in ALWAYS_SKIPPED_DIRS or excluded(full, True, path) or \
                            (here and _Ignores.ignored(here, full, True)):
                        continue
                    subdirs.append((name, full))
                    continue
                kind = _kind_of(name, python_ext, text_ext)
                if kind is None or full in found:
                    continue
                try:
                    if entry.is_symlink():
                        continue
                    regular = entry.is_file(follow_symlinks=False)
                except OSError:
                    regular = False
                if excluded(full, False, path) or (here and _Ignores.ignored(here, full, False)):
                    continue
                if not regular:  # a FIFO would block the run, a device never end
                    warned.append(f"{safe_display(shown + name)}: not a regular file; "
                                  "not checked")
                    continue
                found[full] = Target(full, safe_display(shown + name), kind, False)
            for name, full in sorted(subdirs, reverse=True):
                stack.append((full, shown + name + "/", here))
    return sorted(found.values(), key=lambda t: t.display), errors


def _importable(entries: list[os.DirEntry[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """The module table's view of a listing (see `modules.scan_folder`)."""
    from keyport_lint.modules import split_listing

    return split_listing(entries)


def _missing(exc: OSError) -> bool:
    import errno

    return exc.errno in (errno.ENOENT, errno.ENOTDIR)


def _under_excluded_dir(path: str, excluded: object) -> bool:
    parent = os.path.dirname(path)
    while True:
        if excluded(parent, True):  # type: ignore[operator]
            return True
        up = os.path.dirname(parent)
        if up == parent:
            return False
        parent = up


def _gitignore_spec(lines: list[str]) -> pathspec.PathSpec:
    return gitignore_spec(tuple(lines))


@lru_cache(maxsize=256)
def gitignore_spec(lines: tuple[str, ...]) -> pathspec.PathSpec:
    """Gitignore-style patterns (discovery, config exclude, per-file-ignores), compiled once
    per process; pathspec is imported on first use, as a hook run on a few files often needs
    no pattern at all."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)
