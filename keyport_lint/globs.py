"""Path globs in configs: `rule-files` patterns (found by a bounded walk that stays inside the
config's folder) and the glob-to-regex translation that `exclude`-style patterns share."""

from __future__ import annotations

import os
import re
from pathlib import Path

from keyport_lint.errors import UserError
from keyport_lint.yamlio import LDict, where

GLOB_MAGIC = re.compile(r"[*?\[]")
MAX_GLOB_ENTRIES = 50_000
GLOB_SKIPPED = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__",
                          ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".keyport-lint-cache"})


def rule_file_matches(base: Path, pattern: str, doc: LDict) -> list[Path]:
    """Files a `rule-files` entry names. A plain path is taken as given (it may lie outside
    the project: naming it says so); a wildcard pattern must stay inside the config's folder,
    never follows symlinked folders (no loops) and stops after MAX_GLOB_ENTRIES entries."""
    file, line = where(doc, "rule-files")
    if not GLOB_MAGIC.search(pattern):
        return [base / pattern] if (base / pattern).exists() else []
    parts = Path(pattern).parts
    if Path(pattern).is_absolute() or ".." in parts or pattern.startswith("~"):
        raise UserError(f"rule-files pattern {pattern!r}: a wildcard pattern stays inside the "
                        "config's folder; name files outside it one by one", file, line)
    regex = re.compile(glob_regex(pattern))
    root = base.resolve()
    found: list[Path] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in GLOB_SKIPPED)
        seen += len(dirnames) + len(filenames)
        if seen > MAX_GLOB_ENTRIES:
            raise UserError(f"rule-files pattern {pattern!r} walks more than "
                            f"{MAX_GLOB_ENTRIES:,} entries; make it narrower", file, line)
        here = Path(dirpath)
        for name in filenames:
            path = here / name
            rel = path.relative_to(base).as_posix()
            if not regex.fullmatch(rel):
                continue
            if path.is_symlink() and root not in path.resolve().parents:
                raise UserError(f"rule-files pattern {pattern!r} matches {rel}, a link to a file "
                                "outside the config's folder; name that file explicitly",
                                file, line)
            found.append(path)
    return sorted(found)


def glob_regex(pattern: str) -> str:
    """Glob to regex over /-separated relative paths: `**/` any folders, `*` and `?` within
    one name, `[...]` a set."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
