"""The shared walk: one pass over a module feeds every record collector.

The record-style analyses (one record per def and class, module facts, web endpoints,
validation-result events, verification flow facts) each need one look at every node. Instead
of one traversal each, `module_records(ctx)` runs their collectors side by side in a single
iterative walk (`fastvisit.walk`), memoised per file; the analyses then build their answers
from the records without walking the module again. The taint pass interprets statements in
execution order and stays a pass of its own.

The import alias table is read from the module's top-level statements before the walk, so the
collectors resolve names (`facts.resolve`) against it as they go; imports inside functions are
added as the walk reaches them.

The definitions collector (`analysis/definitions.py`) runs first at every node, so the others
read the record of the def or class they are in instead of keeping their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from keyport_lint.analysis.definitions import Definitions
    from keyport_lint.analysis.facts import ModuleFacts
    from keyport_lint.analysis.handlers.collector import _Collector as HandlerCollector
    from keyport_lint.analysis.handlers.records import HandlerFacts
    from keyport_lint.analysis.results.events import _Collector as ResultsCollector
    from keyport_lint.analysis.verification.flows import _FlowVisitor
    from keyport_lint.context import PythonContext


@dataclass(eq=False)
class ModuleRecords:
    """What the shared walk collected; read-only for the analyses built on it."""

    facts: ModuleFacts
    definitions: Definitions  # one record per def, lambda and class
    handlers: HandlerCollector
    handler_facts: HandlerFacts
    flows: _FlowVisitor
    # None: neither the text nor an import of a KeyPort-related project module can bring a
    # validation result
    results: ResultsCollector | None


def module_records(ctx: PythonContext) -> ModuleRecords:
    """Memoised per file through `ctx.analysis(module_records)`."""
    from keyport_lint.analysis import definitions
    from keyport_lint.analysis.facts import ModuleFacts
    from keyport_lint.analysis.facts import _Collector as FactsCollector
    from keyport_lint.analysis.fastvisit import walk
    from keyport_lint.analysis.handlers.collector import _Collector as HandlerCollector
    from keyport_lint.analysis.handlers.records import HandlerFacts
    from keyport_lint.analysis.results.events import _Collector as ResultsCollector
    from keyport_lint.analysis.verification.flows import _FlowVisitor

    facts = ModuleFacts()
    facts_collector = FactsCollector(facts)
    _read_top_level_imports(ctx.module, facts_collector)
    # first: the other collectors read the records of the defs the walk is in
    scopes = definitions.collector(facts)
    handler_facts = HandlerFacts()
    handlers = HandlerCollector(facts, scopes, ctx.settings, handler_facts)
    flows = _FlowVisitor(facts, scopes.out, ctx.settings)
    results = ResultsCollector(scopes.out) if _may_mention_results(ctx) or (
        ctx.project is not None and ctx.project.imports_keyport_module(
            ctx.path, facts.imports)) else None
    collectors = [scopes, facts_collector, handlers, flows] + (
        [results] if results else [])
    walk(ctx.module, *collectors)
    scopes.out.freeze()  # read-only from here on: every rule shares these records
    ctx.walks += 1
    return ModuleRecords(facts, scopes.out, handlers, handler_facts, flows, results)


def _read_top_level_imports(module: cst.Module, collector: object) -> None:
    """Imports of the module body (also inside top-level `if`/`try`), into the alias table."""
    blocks: list[list[cst.CSTNode]] = [list(module.body)]
    while blocks:
        for statement in blocks.pop():
            smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else [
                statement]  # a suite on the `if` line holds small statements directly
            for small in smalls:
                if isinstance(small, cst.Import):
                    collector.visit_Import(small)  # type: ignore[attr-defined]
                elif isinstance(small, cst.ImportFrom):
                    collector.visit_ImportFrom(small)  # type: ignore[attr-defined]
            if isinstance(statement, (cst.If, cst.Try, cst.TryStar)):
                blocks.extend(_suites(statement))


def _suites(statement: cst.CSTNode) -> list[list[cst.CSTNode]]:
    out: list[list[cst.CSTNode]] = []
    node: cst.CSTNode | None = statement
    while isinstance(node, cst.If):  # `elif` chains iteratively
        out.append(list(node.body.body))
        node = node.orelse
    if isinstance(node, cst.Else):
        out.append(list(node.body.body))
    if isinstance(node, (cst.Try, cst.TryStar)):
        out.append(list(node.body.body))
        out.extend(list(h.body.body) for h in node.handlers)
        for extra in (node.orelse, node.finalbody):
            if extra is not None:
                out.append(list(extra.body.body))
    return out


def _may_mention_results(ctx: PythonContext) -> bool:
    """A text test that any module holding a validation result passes (the results analysis
    decides exactly, from the imports, after the walk)."""
    settings = ctx.settings
    marks = [*settings["validate-paths"], *settings["api-paths"], *settings["api-hosts"],
             *(c.split(".")[0] for c in settings["sdk-clients"])]
    return any(mark in ctx.text for mark in marks)
