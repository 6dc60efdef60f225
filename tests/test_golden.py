"""Golden snapshot: every fixture's and every rule example's findings, exactly.

The fixture markers say which lines must be reported; the snapshot adds the column, the end
and the message of every finding of every rule, so a refactor that moves a caret or rewords a
message shows up as a diff here. A change that is meant is recorded with

    KEYPORT_LINT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and explained in the commit that makes it.

The selection test guards a class of bug where one analysis mutates what another memoised:
each rule run alone must give exactly the findings it gives when every rule runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path

import pytest

from keyport_lint.catalog import builtin_rules
from keyport_lint.config import Config
from keyport_lint.finding import Finding
from keyport_lint.testing import case_config, example_filename, is_case_file, run_case

from .conftest import FIXTURES, ROOT

GOLDEN = ROOT / "tests" / "data" / "golden.json"
UPDATE = os.environ.get("KEYPORT_LINT_UPDATE_GOLDEN") == "1"
ALL = "ALL"


def _cases() -> list[Path]:
    return sorted(case for code_dir in FIXTURES.iterdir() if code_dir.is_dir()
                  for case in code_dir.iterdir() if is_case_file(case))


def _case_id(case: Path) -> str:
    return case.relative_to(FIXTURES).as_posix()


def _row(f: Finding) -> list[object]:
    return [f.path, f.line, f.column, f.end_line, f.end_column, f.rule, f.message]


@cache
def _findings(case: Path, select: str) -> tuple[tuple[object, ...], ...]:
    """Findings of one case with every rule (`ALL`) or one rule alone."""
    cfg = case_config(case, set())
    cfg.select = [""] if select == ALL else [select]
    result = run_case(case, cfg)
    assert not result.errors, result.errors
    return tuple(tuple(_row(f)) for f in result.findings)


def _example_findings(rule_id: str, key: str) -> list[list[object]]:
    rule = next(r for r in builtin_rules() if r.id == rule_id)
    from keyport_lint.pipeline.run import run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        name = example_filename(rule)
        (root / name).write_text(rule.examples[key], encoding="utf-8")
        result = run([name], Config(root=root), cwd=root)
    return [_row(f) for f in result.findings]


def _snapshot() -> dict[str, object]:
    fixtures = {_case_id(c): [list(r) for r in _findings(c, ALL)] for c in _cases()}
    examples = {f"{r.id}/{key}": _example_findings(r.id, key)
                for r in builtin_rules() if r.kind != "diagnostic"
                for key in ("bad", "good") if r.examples.get(key)}
    return {"fixtures": fixtures, "examples": examples}


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, list[list[object]]]]:
    if UPDATE:
        GOLDEN.write_text(json.dumps(_snapshot(), indent=1, sort_keys=True) + "\n",
                          encoding="utf-8")
    data: dict[str, dict[str, list[list[object]]]] = json.loads(
        GOLDEN.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_fixture_findings_match_the_golden_snapshot(case: Path, golden) -> None:
    want = golden["fixtures"].get(_case_id(case))
    assert want is not None, f"{_case_id(case)} is not in the snapshot (update it)"
    assert [list(r) for r in _findings(case, ALL)] == want


def test_rule_examples_match_the_golden_snapshot(golden) -> None:
    got = {f"{r.id}/{key}": _example_findings(r.id, key)
           for r in builtin_rules() if r.kind != "diagnostic"
           for key in ("bad", "good") if r.examples.get(key)}
    assert got == golden["examples"]


def test_the_snapshot_lists_no_fixture_that_is_gone(golden) -> None:
    assert sorted(golden["fixtures"]) == sorted(_case_id(c) for c in _cases())


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_each_rule_alone_gives_what_it_gives_with_every_rule(case: Path) -> None:
    everything = _findings(case, ALL)
    # KP9 findings depend on the selection by design (a suppression of a rule switched off
    # is not unused; KP900 only for files the selected rules need)
    rules = {str(r[5]) for r in everything} | {case.parent.name}
    for rule in sorted(r for r in rules if not r.startswith("KP9")):
        alone = _findings(case, rule)
        assert list(alone) == [r for r in everything if r[5] == rule], rule
