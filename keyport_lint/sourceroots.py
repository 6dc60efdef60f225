"""Source roots of a monorepo, detected from folder listings (never by importing anything).

A team's shared library often lives beside its services (`libs/keyport_common/`,
`packages/billing/src/billing/`), importable at run time because the deployment puts its
folder on `sys.path`. Import-following must see it too, or a verifier imported from it is
invisible. A folder holding a top-level package (a subfolder with `__init__.py`) while being no
package itself is such a root. The walk is bounded (depth, folder count) and skips folders no
import comes from (hidden ones, virtual environments, `node_modules`), and every listing it
consulted is returned, so the result cache sees a package created later.
"""

from __future__ import annotations

import os
from collections.abc import Callable

MAX_DEPTH = 4  # a root as deep as root/services/billing/src
MAX_FOLDERS = 4000
SKIP = frozenset({"node_modules", "site-packages", "venv", "env", "__pycache__", "build",
                  "dist", "htmlcov"})

Scan = Callable[[str], tuple[frozenset[str], frozenset[str]]]


def detect_roots(root: str, scan: Scan) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(roots found, folders listed to find them), both in a stable order."""
    roots: list[str] = []
    listed: dict[str, None] = {}
    level = [root]
    for _depth in range(MAX_DEPTH + 1):
        below: list[str] = []
        for folder in level:
            if len(listed) >= MAX_FOLDERS:
                return tuple(roots), tuple(listed)
            listed[folder] = None
            files, dirs = scan(folder)
            if "__init__.py" in files and folder != root:
                continue  # a package: its subpackages are imported through it
            holds_package = False
            for name in sorted(dirs):
                if name.startswith(".") or name in SKIP:
                    continue
                child = os.path.join(folder, name)
                below.append(child)
                listed[child] = None
                if "__init__.py" in scan(child)[0]:
                    holds_package = True
            if holds_package:
                roots.append(folder)
        level = below
    return tuple(roots), tuple(listed)


def nearest_first(roots: tuple[str, ...], folder: str) -> tuple[str, ...]:
    """Roots sorted so that those sharing the longest path with the importer come first: two
    services each with their own `app` package resolve their own."""
    def shared(candidate: str) -> int:
        try:
            return len(os.path.commonpath((candidate, folder)))
        except ValueError:
            return 0
    return tuple(sorted(roots, key=lambda r: -shared(r)))
