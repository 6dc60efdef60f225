"""Positions for fixes: the same table the report's positions came from.

A fix needs a few nodes in and around a finding and a few top-level statements (where an import
goes). The findings were placed by generating the top-level statements holding them once,
recording every node (`analysis/positions.py`, `ModulePositions`); the fixer reads that table,
so a statement holding a finding is never generated twice. A statement no finding sits in (an
import's anchor) is generated on first use, the same way; where `ast` cannot line statements
up, the whole module is.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.analysis.positions import ModulePositions

Span = tuple[int, int, int, int]  # 1-based line, column; end line, end column (exclusive)


class StatementPositions:
    def __init__(self, table: ModulePositions) -> None:
        self.table = table
        self.module: cst.Module = table.module

    @property
    def whole_passes(self) -> int:
        return self.table.whole_passes

    def around(self, first_line: int, last_line: int, kind: type | tuple[type, ...]
               ) -> list[tuple[Span, Any]]:
        """Every node of `kind` (with its span) of the innermost statements covering these
        lines (the top-level ones when the lines span several)."""
        return [((line, column + 1, end_line, end_column + 1), node)
                for unit in self.table.covering(first_line, last_line)
                for (line, column, end_line, end_column), node in self.table.nodes_of(
                    unit, kind)]

    def statements(self, first_line: int, last_line: int) -> list[Any]:
        """The top-level statements covering these lines (the whole module when `ast` cannot
        say)."""
        indexes = self._indexes(first_line, last_line)
        if indexes.start < 0:
            return [self.module]
        return [self.module.body[i] for i in indexes if i < len(self.module.body)]

    def span(self, node: Any) -> Span | None:
        found = self.table.spans((node,)).get(id(node))
        if found is None:
            return None
        line, column, end_line, end_column = found
        return line, column + 1, end_line, end_column + 1

    def resolve(self, nodes: list[Any]) -> None:
        """Resolve the statements holding these nodes (one search for all of them)."""
        self.table.spans(nodes)

    def _indexes(self, first: int, last: int) -> range:
        starts = self.table.starts()
        if starts is None:
            return range(-1, 0)  # -1: the whole module
        low = max(bisect.bisect_right(starts, first) - 1, 0)
        high = max(bisect.bisect_right(starts, last) - 1, 0)
        return range(low, min(high + 1, len(self.module.body)))
