"""The entry point: `validation_results(ctx)`, memoised per file."""

from __future__ import annotations

from keyport_lint.analysis.facts import ModuleFacts
from keyport_lint.analysis.results.branches import _Branches
from keyport_lint.analysis.results.evaluate import _Evaluate
from keyport_lint.analysis.results.handoffs import _Handoffs
from keyport_lint.analysis.results.values import ResultsAnalysis
from keyport_lint.context import PythonContext


class _Interpreter(_Handoffs, _Branches, _Evaluate):
    """Replays the recorded events of every unit until the values settle."""



def validation_results(ctx: PythonContext) -> ResultsAnalysis:
    """Memoised per file through `ctx.analysis(validation_results)`."""
    from keyport_lint.analysis.model import module_records

    records = ctx.analysis(module_records)
    facts = records.facts
    collector = records.results
    if collector is None or not _may_hold_results(ctx, facts):
        return ResultsAnalysis()
    analysis = _Interpreter(ctx, facts, collector).run()
    analysis.exception_refs = frozenset(collector.exception_refs)
    return analysis


def _may_hold_results(ctx: PythonContext, facts: ModuleFacts) -> bool:
    """Without the SDK imported or a KeyPort URL in the text there is nothing to follow."""
    settings = ctx.settings
    marks = [*settings["validate-paths"], *settings["api-paths"], *settings["api-hosts"]]
    if any(mark in ctx.text for mark in marks):
        return True
    roots = {c.split(".")[0] for c in settings["sdk-clients"]}
    return any(origin.lstrip(".").split(".")[0] in roots for origin in facts.imports.values())
