"""Positions for fixes, paid for one top-level statement at a time.

A fix needs the nodes in and around a finding and a few top-level statements (where an import
goes). libcst's position pass over the whole module costs about as much as the parse, so, as
the reported findings do, positions are resolved per top-level statement: `ast` (C, fast) gives
each statement's first line, and libcst's pass runs on a module holding that one statement,
shifted to its line. Where `ast` cannot follow, the whole module is resolved once.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from keyport_lint.analysis.positions import resolve_positions, statement_lines

if TYPE_CHECKING:
    import libcst as cst

Span = tuple[int, int, int, int]  # 1-based line, column; end line, end column (exclusive)


class StatementPositions:
    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text
        self.whole_passes = 0  # whole-module position passes made (the fallback)
        self._starts: list[int] | bool | None = False  # False: not computed yet
        self._by_statement: dict[int, dict[Any, Span]] = {}
        self._spans: dict[int, Span] = {}  # id(node) -> span, every statement resolved so far
        self._nodes: dict[int, Any] = {}  # id(node) -> node (keeps them alive for the ids)

    def around(self, first_line: int, last_line: int) -> list[tuple[Span, Any]]:
        """Every node (with its span) of the statements covering these lines."""
        out: list[tuple[Span, Any]] = []
        for index in self._indexes(first_line, last_line):
            out.extend((span, node) for node, span in self._statement(index).items())
        return out

    def statements(self, first_line: int, last_line: int) -> list[Any]:
        """The top-level statements covering these lines (the whole module when `ast` cannot
        say)."""
        indexes = self._indexes(first_line, last_line)
        if indexes.start < 0:
            return [self.module]
        return [self.module.body[i] for i in indexes if i < len(self.module.body)]

    def span(self, node: Any) -> Span | None:
        found = self._spans.get(id(node))
        if found is not None and self._nodes.get(id(node)) is node:
            return found
        index = self._holder(node)
        if index is None:
            return None
        return self._statement(index).get(node)

    # -- internals ----------------------------------------------------------------------------
    def _lines(self) -> list[int] | None:
        """The first line of every top-level statement, or None (then: the whole module)."""
        if self._starts is False:
            self._starts = statement_lines(self.module, self.text)
        return self._starts  # type: ignore[return-value]

    def _indexes(self, first: int, last: int) -> range:
        starts = self._lines()
        if starts is None:
            return range(-1, 0)  # -1: the whole module
        low = max(bisect.bisect_right(starts, first) - 1, 0)
        high = max(bisect.bisect_right(starts, last) - 1, 0)
        return range(low, high + 1)

    def _statement(self, index: int) -> dict[Any, Span]:
        if index in self._by_statement:
            return self._by_statement[index]
        starts = self._lines()
        if index < 0 or starts is None:
            positions = resolve_positions(self.module)
            self.whole_passes += 1
            shift = 0
        else:
            statement = self.module.body[index]
            positions = resolve_positions(self.module.with_changes(body=[statement], header=[],
                                                          footer=[]))
            shift = starts[index] - (len(statement.leading_lines) + 1)
        spans = {node: (r.start.line + shift, r.start.column + 1, r.end.line + shift,
                        r.end.column + 1) for node, r in positions.items()}
        self._by_statement[index] = spans
        for node, span in spans.items():
            self._spans[id(node)] = span
            self._nodes[id(node)] = node
        return spans

    def _holder(self, target: Any) -> int | None:
        """The index of the top-level statement holding `target` (-1: resolve all)."""
        if self._lines() is None:
            return -1
        for index, statement in enumerate(self.module.body):
            stack: list[Any] = [statement]
            while stack:
                node = stack.pop()
                if node is target:
                    return index
                stack.extend(node.children)
        return None
