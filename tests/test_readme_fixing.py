"""README "Fixing": every before/after pair, run with the command its marker shows."""

from __future__ import annotations

import re
import shlex

import pytest

from .conftest import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
PAIRS = re.findall(r"<!-- readme-fix: (.+?) -->\n```python\n(.*?)```\n```python\n(.*?)```",
                   README, re.S)


def test_the_fixing_section_shows_every_fixable_rule():
    section = README.split("## Fixing", 1)[1].split("\n## ", 1)[0]
    for code in ("KP101", "KP102", "KP103", "KP201", "KP202", "KP304", "KP402", "KP403",
                 "KP901", "KP902"):
        assert code in section
    assert len(PAIRS) == 5


@pytest.mark.parametrize("command, before, after", PAIRS, ids=[p[0] for p in PAIRS])
def test_readme_fix_as_shown(tmp_path, command: str, before: str, after: str):
    program, *args = shlex.split(command)
    assert program == "keyport-lint" and args[-1] == "app.py"
    (tmp_path / "app.py").write_text(before, encoding="utf-8")
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == after
    # fixing again changes nothing
    run_cli(*args, cwd=tmp_path)
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == after
