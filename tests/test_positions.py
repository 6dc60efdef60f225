"""Positions of reported nodes are exactly libcst's `PositionProvider` positions, for every
node type the fixtures hold, whether resolved over the whole module or in the one top-level
statement holding the node (the position pass tracks only the nodes asked for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

from keyport_lint.analysis import positions
from keyport_lint.analysis.positions import node_spans, statement_spans
from keyport_lint.config import Config
from keyport_lint.context import PythonContext

from .conftest import FIXTURES

Span = tuple[int, int, int, int]


def _modules(newline: str = "\n") -> list[tuple[str, str, cst.Module]]:
    out = []
    for case in sorted(FIXTURES.rglob("*.py")):
        text = case.read_text(encoding="utf-8").replace("\n", newline)
        try:
            out.append((str(case.relative_to(FIXTURES)), text, cst.parse_module(text)))
        except cst.ParserSyntaxError:  # a fixture of unparsable code
            continue
    return out


def _libcst(module: cst.Module) -> dict[Any, Span]:
    whole = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: (r.start.line, r.start.column, r.end.line, r.end.column)
            for node, r in whole.items()}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_every_node_of_every_fixture_has_libcsts_position(newline: str) -> None:
    modules = _modules(newline)
    assert len(modules) > 200
    types: set[type] = set()
    for name, _, module in modules:
        want = _libcst(module)
        got = statement_spans(module, module, list(want))
        assert {n: got.get(id(n)) for n in want} == want, name
        types.update(type(n) for n in want)
    assert len(types) > 80  # statements, expressions, whitespace, operators, suites …


def test_one_node_at_a_time_in_its_statement_has_libcsts_position(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for alone, a node's statement is generated tracking only that node and what its
    range is hoisted from (a block ends where its last statement ends): every node type,
    first, middle and last occurrence over the fixtures."""
    def no_fallback(*args: object) -> None:
        raise AssertionError("libcst's own pass was needed")

    monkeypatch.setattr(positions, "_libcst_spans", no_fallback)
    settings = Config(root=Path(".")).settings
    seen: dict[type, list[tuple[PythonContext, Any, Span]]] = {}
    for name, text, module in _modules():
        ctx = PythonContext(name, text, module, settings)
        for node, span in _libcst(module).items():
            seen.setdefault(type(node), []).append((ctx, node, span))
    checked = 0
    for occurrences in seen.values():
        picks = {0, len(occurrences) // 2, len(occurrences) - 1}
        for i in sorted(picks):
            ctx, node, span = occurrences[i]
            assert node_spans(ctx, [node]) == {id(node): span}, (ctx.display, node)
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_every_statement_generated_alone_has_libcsts_positions(newline: str) -> None:
    """Positions are generated per statement at any depth (the innermost statement of an
    indented block holding the node, lined up with `ast` for its first line and with the
    blocks around it for its indentation): every node of every such statement of every
    fixture, generated alone, is where libcst's pass over the whole module puts it."""
    from keyport_lint.analysis.positions import ModulePositions
    from keyport_lint.analysis.units import Unit, children

    checked = nested = 0
    for name, text, module in _modules(newline):
        want = {id(n): span for n, span in _libcst(module).items()}
        table = ModulePositions(module, text)
        top = table.top()
        assert top is not None, name
        stack: list[Unit] = list(top)
        while stack:
            unit = stack.pop()
            nested += bool(unit.indents)
            generated = table.generate(unit)
            for key, (start, end, _) in generated.computed.items():
                assert generated.span(start, end) == want[key], (name, unit.node)
                checked += 1
            stack.extend(children(unit, module.default_indent))
    assert nested > 1000 and checked > 50_000
