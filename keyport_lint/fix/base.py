"""What a fix family reads of one file: text, parsed module, node positions, settings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keyport_lint.finding import Edit

if TYPE_CHECKING:  # libcst only when a family needs the module (KP901/KP902 read lines)
    import libcst as cst

    from keyport_lint.config import Config
    from keyport_lint.context import PythonContext
    from keyport_lint.finding import Finding
    from keyport_lint.fix.positions import StatementPositions
    from keyport_lint.suppress import Suppression

Span = tuple[int, int, int, int]  # 1-based line, column; end line, end column (exclusive)


@dataclass
class FixContext:
    text: str
    lines: list[str]
    ctx: PythonContext | None  # None: the file was not parsed (no rule could fire in it)
    cfg: Config
    suppressions: list[Suppression] = field(default_factory=list)
    unsuppressed: list[Finding] = field(default_factory=list)  # findings before suppression
    file_ignores: list[str] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)  # per-file facts the families share
    _positions: Any = None  # a StatementPositions, made on first use

    @property
    def module(self) -> cst.Module | None:
        return self.ctx.module if self.ctx is not None else None

    @property
    def hints(self) -> list[tuple[str, cst.CSTNode, dict[str, Any]]]:
        """(rule id, reported node, hint): what a rule said about repairing its finding."""
        return self.ctx.fix_hints if self.ctx is not None else []

    @property
    def tree(self) -> cst.Module:
        """The parsed module (families other than KP901/KP902 run only when there is one)."""
        assert self.module is not None
        return self.module

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def _located(self) -> StatementPositions | None:
        if self.module is None:
            return None
        if self._positions is None:
            from keyport_lint.analysis.positions import ModulePositions, module_positions
            from keyport_lint.fix.positions import StatementPositions

            if self.ctx is not None and self.ctx.text == self.text:  # the findings' table
                table = self.ctx.analysis(module_positions)
            else:
                table = ModulePositions(self.module, self.text)
                table.context = self.ctx
            self._positions = StatementPositions(table)
        return self._positions  # type: ignore[no-any-return]

    def span(self, node: cst.CSTNode) -> Span | None:
        located = self._located()
        if located is None:
            return None
        return located.span(node)  # a whole-module pass counts in the context's `walks`

    def _near(self, finding: Finding, kind: type | tuple[type, ...]
              ) -> list[tuple[Span, cst.CSTNode]]:
        """Nodes of `kind` (with spans) of the top-level statements the finding's lines fall
        in."""
        located = self._located()
        if located is None:
            return []
        return located.around(finding.line, finding.end_line, kind)

    def statements(self, finding: Finding) -> list[cst.CSTNode]:
        """The top-level statements the finding's lines fall in."""
        located = self._located()
        return [] if located is None else located.statements(finding.line, finding.end_line)

    def parent(self, finding: Finding, target: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of `target`, a node at the finding (searched in its statements only)."""
        stack: list[cst.CSTNode] = list(self.statements(finding))
        while stack:
            node = stack.pop()
            for child in node.children:
                if child is target:
                    return node
                stack.append(child)
        return None

    def nodes_in(self, finding: Finding, kind: type | tuple[type, ...]) -> Iterator[cst.CSTNode]:
        """Nodes of `kind` inside the finding's range, outermost first."""
        want = (finding.line, finding.column, finding.end_line, finding.end_column)
        found = [(span, node) for span, node in self._near(finding, kind)
                 if _inside(span, want)]
        found.sort(key=lambda sn: (sn[0][0], sn[0][1], -sn[0][2], -sn[0][3]))
        return (node for _, node in found)

    def nodes_around(self, finding: Finding, kind: type | tuple[type, ...]
                     ) -> list[cst.CSTNode]:
        """Nodes of `kind` whose range holds the finding's, innermost first."""
        want = (finding.line, finding.column, finding.end_line, finding.end_column)
        found = [(span, node) for span, node in self._near(finding, kind)
                 if _inside(want, span)]
        found.sort(key=lambda sn: ((sn[0][0], sn[0][1]), (-sn[0][2], -sn[0][3])), reverse=True)
        return [node for _, node in found]

    def node_at(self, finding: Finding, kind: type | tuple[type, ...]) -> cst.CSTNode | None:
        """The node of `kind` whose range is exactly the finding's."""
        want = (finding.line, finding.column, finding.end_line, finding.end_column)
        for node in self.nodes_in(finding, kind):
            if self.span(node) == want:
                return node
        return None

    def hint(self, finding: Finding) -> dict[str, Any] | None:
        """What the rule said about the node it reported this finding at."""
        mine = [(node, data) for rule, node, data in self.hints if rule == finding.rule]
        if not mine:
            return None
        located = self._located()
        if located is None:
            return None
        located.resolve([node for node, _ in mine])
        for node, data in mine:  # a node starting where the finding starts
            span = self.span(node)
            if span is not None and span[:2] == (finding.line, finding.column):
                return data
        return None


def _inside(inner: Span, outer: Span) -> bool:
    return (inner[0], inner[1]) >= (outer[0], outer[1]) and (inner[2], inner[3]) <= (
        outer[2], outer[3])


def insert(at: tuple[int, int], content: str) -> Edit:
    return Edit(at[0], at[1], at[0], at[1], content)


def replace(span: Span, content: str) -> Edit:
    return Edit(span[0], span[1], span[2], span[3], content)


def import_edit(fc: FixContext, name: str) -> Edit | None:
    """`import name` at the top of the module, unless it is already imported there; None
    when it is."""
    import libcst as cst

    body = fc.tree.body
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for part in stmt.body:
                if isinstance(part, cst.Import) and any(
                        a.asname is None and isinstance(a.name, cst.Name)
                        and a.name.value == name for a in part.names):
                    return None
    anchor: cst.CSTNode | None = None
    after = 0
    for index, stmt in enumerate(body):
        small: cst.BaseSmallStatement | None = None
        if isinstance(stmt, cst.SimpleStatementLine) and stmt.body:
            small = stmt.body[0]
        if index == 0 and isinstance(small, cst.Expr) and isinstance(
                small.value, (cst.SimpleString, cst.ConcatenatedString)):
            after = index + 1  # the docstring
            continue
        if isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and (
                small.module.value == "__future__"):
            after = index + 1
            continue
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            anchor = stmt
        break
    line = fc.newline
    if anchor is not None:  # in order among the plain `import x` lines that start the block
        last = None
        for stmt in body[body.index(anchor):]:  # type: ignore[arg-type]
            first = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if not isinstance(first, cst.Import) or fc.tree.code_for_node(
                    first.names[0].name) > name:
                break
            last = stmt
        if last is not None:
            span = fc.span(last)
            if span is None:
                return None
            if span[2] < len(fc.lines):
                return insert((span[2] + 1, 1), f"import {name}{line}")
            return insert((span[2], span[3]), f"{line}import {name}")
        span = fc.span(anchor)
        return insert((span[0], 1), f"import {name}{line}") if span else None
    if after:
        span = fc.span(body[after - 1])
        if span is None:
            return None
        return insert((span[2] + 1, 1), f"import {name}{line}") if span[2] < len(
            fc.lines) else insert((span[2], span[3]), f"{line}import {name}{line}")
    if body:
        span = fc.span(body[0])
        return insert((span[0], 1), f"import {name}{line}") if span else None
    return None
