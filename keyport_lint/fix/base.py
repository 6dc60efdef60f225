"""What a fix family reads of one file: text, parsed module, node positions, settings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keyport_lint.finding import Edit

if TYPE_CHECKING:  # libcst only when a family needs the module (KP901/KP902 read lines)
    import libcst as cst

    from keyport_lint.config import Config
    from keyport_lint.finding import Finding
    from keyport_lint.suppress import Suppression

Span = tuple[int, int, int, int]  # 1-based line, column; end line, end column (exclusive)


@dataclass
class FixContext:
    text: str
    lines: list[str]
    module: cst.Module | None  # None: the file was not parsed (no rule could fire in it)
    cfg: Config
    # (rule id, reported node, hint): what a rule said about how to repair its finding
    hints: list[tuple[str, cst.CSTNode, dict[str, Any]]] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    unsuppressed: list[Finding] = field(default_factory=list)  # findings before suppression
    file_ignores: list[str] = field(default_factory=list)
    _positions: Any = None
    memo: dict[str, Any] = field(default_factory=dict)  # per-file facts the families share
    _all: list[tuple[Span, cst.CSTNode]] | None = None

    @property
    def tree(self) -> cst.Module:
        """The parsed module (families other than KP901/KP902 run only when there is one)."""
        assert self.module is not None
        return self.module

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def span(self, node: cst.CSTNode) -> Span | None:
        if self.module is None:
            return None
        if self._positions is None:
            import libcst as cst
            from libcst.metadata import PositionProvider

            wrapper = cst.MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        rng = self._positions.get(node)
        if rng is None:
            return None
        return (rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)

    def _spans(self) -> list[tuple[Span, cst.CSTNode]]:
        """Every node with its span, once per file."""
        if self.module is None:
            return []
        if self._all is None:
            self.span(self.module)  # resolves the positions
            self._all = [((r.start.line, r.start.column + 1, r.end.line, r.end.column + 1), n)
                         for n, r in self._positions.items()]
        return self._all

    def nodes_in(self, finding: Finding, kind: type | tuple[type, ...]) -> Iterator[cst.CSTNode]:
        """Nodes of `kind` inside the finding's range, outermost first."""
        want = (finding.line, finding.column, finding.end_line, finding.end_column)
        found = [(span, node) for span, node in self._spans()
                 if isinstance(node, kind) and _inside(span, want)]
        found.sort(key=lambda sn: (sn[0][0], sn[0][1], -sn[0][2], -sn[0][3]))
        return (node for _, node in found)

    def nodes_around(self, finding: Finding, kind: type | tuple[type, ...]
                     ) -> list[cst.CSTNode]:
        """Nodes of `kind` whose range holds the finding's, innermost first."""
        want = (finding.line, finding.column, finding.end_line, finding.end_column)
        found = [(span, node) for span, node in self._spans()
                 if isinstance(node, kind) and _inside(want, span)]
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
        for rule, node, data in self.hints:
            span = self.span(node)
            if rule == finding.rule and span is not None and span[:2] == (
                    finding.line, finding.column):
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
