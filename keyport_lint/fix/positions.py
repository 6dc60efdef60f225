"""Positions for fixes, paid for only for the nodes a fix asks about.

A fix needs a few nodes in and around a finding and a few top-level statements (where an import
goes). As for reported findings (`analysis/positions.py`), `ast` (C, fast) gives each top-level
statement's first line, and libcst's code generation runs over the one statement holding the
nodes, tracking only those nodes, shifted to the statement's line. Where `ast` cannot follow,
the whole module is generated the same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from keyport_lint.analysis.positions import (
    descendants,
    statement_lines,
    statement_spans,
    statements_holding,
)

if TYPE_CHECKING:
    import libcst as cst

Span = tuple[int, int, int, int]  # 1-based line, column; end line, end column (exclusive)


class StatementPositions:
    def __init__(self, module: cst.Module, text: str,
                 lines: Callable[[], list[int] | None] | None = None) -> None:
        self.module = module
        self.text = text
        self._read_lines = lines or (lambda: statement_lines(module, text))
        self.whole_passes = 0  # whole-module position passes made (the fallback)
        self._starts: list[int] | bool | None = False  # False: not computed yet
        self._by_statement: dict[int, list[tuple[Span, Any]]] = {}
        self._spans: dict[int, Span] = {}  # id(node) -> span, every statement resolved so far
        self._nodes: dict[int, Any] = {}  # id(node) -> node (keeps them alive for the ids)

    def around(self, first_line: int, last_line: int, kind: type | tuple[type, ...]
               ) -> list[tuple[Span, Any]]:
        """Every node of `kind` (with its span) of the statements covering these lines."""
        return [(span, node) for index in self._indexes(first_line, last_line)
                for span, node in self._statement(index) if isinstance(node, kind)]

    def statements(self, first_line: int, last_line: int) -> list[Any]:
        """The top-level statements covering these lines (the whole module when `ast` cannot
        say)."""
        indexes = self._indexes(first_line, last_line)
        if indexes.start < 0:
            return [self.module]
        return [self.module.body[i] for i in indexes if i < len(self.module.body)]

    def span(self, node: Any) -> Span | None:
        self.resolve([node])
        return self._spans.get(id(node)) if self._known(node) else None

    def resolve(self, nodes: list[Any]) -> None:
        """Resolve the statements holding these nodes (one search for all of them)."""
        unknown = {id(n) for n in nodes if not self._known(n)}
        if not unknown:
            return
        if self._lines() is None:
            self._statement(-1)
            return
        for index in sorted(set(statements_holding(self.module, unknown).values())):
            self._statement(index)

    # -- internals ----------------------------------------------------------------------------
    def _known(self, node: Any) -> bool:
        return self._nodes.get(id(node)) is node

    def _lines(self) -> list[int] | None:
        """The first line of every top-level statement, or None (then: the whole module)."""
        if self._starts is False:
            self._starts = self._read_lines()
        return self._starts  # type: ignore[return-value]

    def _indexes(self, first: int, last: int) -> range:
        starts = self._lines()
        if starts is None:
            return range(-1, 0)  # -1: the whole module
        low = max(bisect.bisect_right(starts, first) - 1, 0)
        high = max(bisect.bisect_right(starts, last) - 1, 0)
        return range(low, min(high + 1, len(self.module.body)))

    def _statement(self, index: int) -> list[tuple[Span, Any]]:
        """Every node of statement `index` (-1: the module) but punctuation and whitespace,
        with its span, in the order libcst's position pass records them."""
        found = self._by_statement.get(index)
        if found is not None:
            return found
        starts = self._lines()
        if index < 0 or starts is None:
            root: Any = self.module
            self.whole_passes += 1
            shift = 0
        else:
            root = self.module.body[index]
            shift = starts[index] - (len(root.leading_lines) + 1)
        nodes = {id(n): n for n in descendants(root)}
        found = []
        for key, (line, column, end_line, end_column) in statement_spans(
                self.module, root, nodes.values()).items():
            span = (line + shift, column + 1, end_line + shift, end_column + 1)
            self._spans[key] = span
            self._nodes[key] = nodes[key]
            found.append((span, nodes[key]))
        self._by_statement[index] = found
        return found
