"""The entry point: `validation_results(ctx)`, memoised per file."""

from __future__ import annotations

from keyport_lint.analysis.facts import ModuleFacts
from keyport_lint.analysis.results.branches import _Branches
from keyport_lint.analysis.results.evaluate import _Evaluate
from keyport_lint.analysis.results.handoffs import _Handoffs
from keyport_lint.analysis.results.values import ResultsAnalysis, Value
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


def results_exports(ctx: PythonContext) -> dict[str, Value]:
    """Project-index section: the clients, results, helpers and factories a module offers
    importers (`ResultsAnalysis.exports`)."""
    return ctx.analysis(validation_results).exports


def _may_hold_results(ctx: PythonContext, facts: ModuleFacts) -> bool:
    """Without the SDK imported, a KeyPort URL in the text or an import of a KeyPort-related
    project module (a helper, a client) there is nothing to follow."""
    settings = ctx.settings
    marks = [*settings["validate-paths"], *settings["api-paths"], *settings["api-hosts"]]
    if any(mark in ctx.text for mark in marks):
        return True
    roots = {c.split(".")[0] for c in settings["sdk-clients"]}
    if any(origin.lstrip(".").split(".")[0] in roots for origin in facts.imports.values()):
        return True
    return ctx.project is not None and ctx.project.imports_keyport_module(ctx.path,
                                                                          facts.imports)
