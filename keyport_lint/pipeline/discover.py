"""Discover files: walk folders honouring .gitignore and config `exclude`; take explicit files
as given (pre-commit passes staged files, checked even if git ignores them) except that config
`exclude` still applies to them, as with ruff's force-exclude.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.config import Config

if TYPE_CHECKING:
    import pathspec

ALWAYS_SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".tox", ".nox", ".venv", "venv", ".direnv", ".eggs",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype", "node_modules",
    "__pypackages__", ".keyport-lint-cache",
})


@dataclass(frozen=True)
class Target:
    path: Path
    display: str
    kind: str  # "python" or "text"
    explicit: bool


def file_kind(path: Path, cfg: Config) -> str | None:
    name = path.name
    suffix = path.suffix.lower()
    if suffix in cfg.settings["python-extensions"]:
        return "python"
    text_ext = cfg.settings["text-extensions"]
    if name == ".env" or (name.startswith(".env.") and ".env" in text_ext):
        return "text"
    if suffix in text_ext:
        return "text"
    return None


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, cwd)).as_posix()


class _Ignores:
    """.gitignore files met while walking, each applying below its own folder."""

    def _spec(self, directory: Path) -> pathspec.PathSpec | None:
        if directory not in self.specs:
            lines: list[str] = []
            for name in (".gitignore",):
                with contextlib.suppress(OSError):
                    lines += (directory / name).read_text(encoding="utf-8",
                                                         errors="replace").splitlines()
            if (directory / ".git").is_dir():
                with contextlib.suppress(OSError):
                    lines += (directory / ".git" / "info" / "exclude").read_text(
                        encoding="utf-8", errors="replace").splitlines()
            self.specs[directory] = _gitignore_spec(lines) if lines else None
        return self.specs[directory]

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.specs: dict[Path, pathspec.PathSpec | None] = {}

    def ignored(self, path: Path, is_dir: bool, top: Path) -> bool:
        if not self.enabled:
            return False
        directory = path.parent
        while True:
            spec = self._spec(directory)
            if spec is not None:
                rel = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):
                    return True
            if directory == top or (directory / ".git").exists() or directory.parent == directory:
                return False
            directory = directory.parent


def _git_top(start: Path) -> Path:
    """The folder whose .gitignore files apply: the repository root above `start`, or itself."""
    for directory in [start, *start.parents]:
        if (directory / ".git").exists():
            return directory
    return start


def discover(paths: list[str], cfg: Config, cwd: Path) -> tuple[list[Target], list[str]]:
    """Targets sorted by display path, and run-level errors (paths that do not exist)."""
    exclude = _gitignore_spec(cfg.exclude) if cfg.exclude else None
    ignores = _Ignores(cfg.respect_gitignore)
    found: dict[Path, Target] = {}
    errors: list[str] = []

    def excluded(path: Path, is_dir: bool, start: Path | None = None) -> bool:
        """Patterns are relative to the project root; for a folder outside the project
        (a checkout elsewhere, site-packages), relative to the folder given."""
        if exclude is None:
            return False
        for base in (cfg.root, start):
            if base is None:
                continue
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            return rel != "." and bool(exclude.match_file(rel + ("/" if is_dir else "")))
        return False

    for raw in paths:
        given = Path(raw)
        path = (cwd / given).absolute() if not given.is_absolute() else given
        path = Path(os.path.normpath(path))
        if path.is_file():
            kind = file_kind(path, cfg)
            if kind and not excluded(path, False) and not _under_excluded_dir(path, excluded):
                found[path] = Target(path, display_path(path, cwd), kind, True)
            continue
        if not path.is_dir():
            errors.append(f"{raw}: no such file or directory")
            continue
        top = _git_top(path)
        for dirpath, dirnames, filenames in os.walk(path):
            here = Path(dirpath)
            keep = []
            for d in sorted(dirnames):
                sub = here / d
                if d in ALWAYS_SKIPPED_DIRS or excluded(sub, True, path) or \
                        ignores.ignored(sub, True, top) or (sub / "CACHEDIR.TAG").exists():
                    continue
                keep.append(d)
            dirnames[:] = keep
            for name in filenames:
                file = here / name
                kind = file_kind(file, cfg)
                if kind is None or file in found or excluded(file, False, path):
                    continue
                if ignores.ignored(file, False, top) or file.is_symlink():
                    continue
                found[file] = Target(file, display_path(file, cwd), kind, False)
    return sorted(found.values(), key=lambda t: t.display), errors


def _under_excluded_dir(path: Path, excluded: object) -> bool:
    return any(excluded(parent, True) for parent in path.parents)


def _gitignore_spec(lines: list[str]) -> pathspec.PathSpec:
    return gitignore_spec(tuple(lines))


@lru_cache(maxsize=256)
def gitignore_spec(lines: tuple[str, ...]) -> pathspec.PathSpec:
    """Gitignore-style patterns (discovery, config exclude, per-file-ignores), compiled once
    per process; pathspec is imported on first use, as a hook run on a few files often needs
    no pattern at all."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)
