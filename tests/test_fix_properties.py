"""`--fix --unsafe-fixes` on generated programs and on mutated fixtures: the result always
parses when the input did, a file without a fixable finding is never changed, and a fix never
writes a key that was not there."""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyport_lint.config import Config
from keyport_lint.fix.apply import parses
from keyport_lint.pipeline.run import run
from keyport_lint.testing import fixed_text, is_case_file

from .conftest import FIXTURES, KEY

HEADER = ("import logging\nimport keyport\nlog = logging.getLogger(__name__)\n"
          f'KEYPORT_API_KEY = "{KEY}"\nlog.info("%s", KEYPORT_API_KEY)\n')
FIXABLE = ("KP101", "KP102", "KP103", "KP201", "KP202", "KP304", "KP402", "KP403", "KP901",
           "KP902")
# the bad fixtures of the fixable rules: the mutations keep most of their findings
SEEDS = sorted(p.read_text(encoding="utf-8") for code in FIXABLE
               for p in (FIXTURES / code).glob("bad_*.py") if is_case_file(p))


def _fix(source: str) -> tuple[str, bool]:
    """The fixed text, and whether the input had a finding with a fix."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "gen.py"
        path.write_bytes(source.encode("utf-8", "surrogatepass"))
        cfg = Config(root=root)
        codes = set(cfg.rule_ids())
        result = run(["gen.py"], cfg, cwd=root)
        assert not result.errors
        fixable = any(f.fix is not None for f in result.findings)
        return fixed_text(path, root, cfg, codes), fixable


def _holds(source: str) -> None:
    fixed, fixable = _fix(source)
    if not fixable:
        assert fixed == source
    if parses(source):
        assert parses(fixed)
    else:
        assert fixed == source  # nothing is fixed in a file that does not parse
    assert fixed.count(KEY) <= source.count(KEY)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_fix_on_generated_programs(source: str) -> None:
    _holds(HEADER + source)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A bad fixture with whole lines deleted, duplicated, swapped or indented: mostly still
    Python, still full of findings."""
    lines = draw(st.sampled_from(SEEDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "join"]))
        if op == "delete":
            del lines[at]
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "swap" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        elif op == "indent":
            lines[at] = "    " + lines[at]
        elif op == "join" and at + 1 < len(lines):
            lines[at] = lines[at].rstrip("\n") + " " + lines.pop(at + 1)
    return "".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_fix_on_mutated_fixtures(source: str) -> None:
    _holds(source)
