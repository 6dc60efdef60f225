"""Every fixture yields exactly its marked findings: no more, no fewer, at the marked lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyport_lint.catalog import builtin_rules
from keyport_lint.testing import check_case, is_case_file

from .conftest import FIXTURES

# constructs written down before the analyses handle them: each must fail today (strict), so
# the entry is removed by the change that fixes it
KNOWN_GAPS: dict[str, str] = {
}


def _cases() -> list[Path]:
    return sorted(case for code_dir in FIXTURES.iterdir() if code_dir.is_dir()
                  for case in code_dir.iterdir() if is_case_file(case))


def _params() -> list:
    out = []
    for case in _cases():
        name = f"{case.parent.name}/{case.name}"
        marks = [pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True)] \
            if name in KNOWN_GAPS else []
        out.append(pytest.param(case, id=name, marks=marks))
    return out


def test_known_gaps_name_real_fixtures() -> None:
    names = {f"{c.parent.name}/{c.name}" for c in _cases()}
    assert set(KNOWN_GAPS) <= names


@pytest.mark.parametrize("case", _params())
def test_fixture_gives_exactly_its_marked_findings(case: Path) -> None:
    mismatches = check_case(case, {case.parent.name})
    assert not mismatches, "\n".join(str(m) for m in mismatches)


# KP903 is a linter bug by definition: a fixture reproducing one would be a bug left unfixed;
# tests/test_isolation.py injects failures instead
@pytest.mark.parametrize("rule", [r.id for r in builtin_rules() if r.id != "KP903"])
def test_every_rule_has_bad_and_good_fixtures(rule: str) -> None:
    folder = FIXTURES / rule
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    assert any(n.startswith("bad") for n in names), f"{rule}: no bad fixture"
    assert any(n.startswith("good") for n in names), f"{rule}: no good fixture"


def test_a_bad_fixture_really_has_markers() -> None:
    """Guards the harness itself: a bad fixture without markers would pass vacuously."""
    from keyport_lint.testing import case_files, expectations

    for case in _cases():
        if case.name.startswith("bad"):
            marks = [expectations(f) for f in case_files(case)]
            assert any(marks), f"{case} has no expect: markers"
