"""Shared analyses: results independent of the selection, no crash on odd but valid code,
no quiet give-up on long chains, and work linear in the input."""

from __future__ import annotations

from pathlib import Path

from keyport_lint.testing import case_config, run_case

from .conftest import FIXTURES


def _rules(case: Path, select: list[str]) -> list[tuple[str, int, str]]:
    cfg = case_config(case, set())
    cfg.select = select
    result = run_case(case, cfg)
    assert not result.errors, result.errors
    return [(f.path, f.line, f.rule) for f in result.findings]


def test_a_configured_webhook_handler_is_an_endpoint_whatever_runs_first() -> None:
    # KP3's webhook classification once appended the functions settings.webhook-handlers names
    # to the memoised web-handler list, so KP501 saw them only when a KP3 rule ran before it
    case = FIXTURES / "KP501" / "bad_configured_handler"
    want = [("billing/hooks.py", 18, "KP501")]
    assert _rules(case, ["KP501"]) == want
    assert [f for f in _rules(case, ["KP301", "KP501"]) if f[2] == "KP501"] == want
