"""`extend:` of a config in a folder above: the parent's path patterns keep their meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyport_lint.config import _rebase

from .conftest import run_cli


@pytest.mark.parametrize("pattern, rebased", [
    ("src/KP902/**", "/KP902/**"),     # anchored under the child: re-anchored there
    ("/src/legacy.py", "/legacy.py"),
    ("docs/**", None),                 # a sibling of the child: matches nothing there
    ("migrations/", "migrations/"),    # unanchored: any depth, the child's too
    ("**/vendor/**", "**/vendor/**"),
])
def test_extended_parent_patterns_are_rebased_to_the_child(tmp_path: Path, pattern: str,
                                                           rebased: str | None) -> None:
    assert _rebase(pattern, tmp_path, tmp_path / "src") == rebased


def test_parent_exclude_applies_in_the_child(project) -> None:
    project.write(".keyport-lint.yaml", "exclude: ['svc/legacy/**', 'docs/**']\n")
    project.write("svc/.keyport-lint.yaml", "extend: ../.keyport-lint.yaml\n")
    project.write("svc/legacy/old.py", "x = 1  # keyport-lint: ignore[KP101]\n")
    project.write("svc/docs/new.py", "x = 1  # keyport-lint: ignore[KP101]\n")
    proc = run_cli("check", "--output-format", "github", cwd=project.root / "svc")
    assert proc.stdout.splitlines() == [
        "::warning file=docs/new.py,line=1,col=8,title=KP901::"
        "unused suppression for KP101: nothing is reported here; remove the code from the "
        "comment (or the whole comment)"]
