"""KP304: `a == b` -> `hmac.compare_digest(a, b)`, `a != b` -> `not hmac.compare_digest(a, b)`,
adding `import hmac`. Safe when both sides are text from `hexdigest()` or request headers
(compare_digest takes the same ASCII str); unsafe otherwise (bytes against str, or non-ASCII
text, now raise TypeError). The edits insert around the operands and copy neither."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.finding import Edit, Fix
from keyport_lint.fix.base import import_edit, insert

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.fix.base import FixContext


def fix(finding: Finding, fc: FixContext) -> Fix | None:
    node = fc.node_at(finding, cst.Comparison)
    if not isinstance(node, cst.Comparison) or len(node.comparisons) != 1:
        return None
    target = node.comparisons[0]
    negate = isinstance(target.operator, cst.NotEqual)
    if not negate and not isinstance(target.operator, cst.Equal):
        return None
    if node.lpar or node.rpar:
        return None
    left, right = fc.span(node.left), fc.span(target.comparator)
    if left is None or right is None:
        return None
    between = _text(fc, (left[2], left[3]), (right[0], right[1]))
    if between is None or "#" in between or "\\" in between:
        return None
    edits = [
        insert((left[0], left[1]), ("not " if negate else "") + "hmac.compare_digest("),
        Edit(left[2], left[3], right[0], right[1], ", "),
        insert((right[2], right[3]), ")"),
    ]
    added = import_edit(fc, "hmac")
    if added is not None:
        edits.insert(0, added)
    scope = _function_of(fc.statements(finding), node) or fc.tree
    safe = _is_text(fc, scope, node.left) and _is_text(fc, scope, target.comparator)
    return Fix("safe" if safe else "unsafe",
               "Compare with hmac.compare_digest" + ("" if safe else
                                                      " (both sides must be str or bytes)"),
               tuple(edits))


def _text(fc: FixContext, start: tuple[int, int], end: tuple[int, int]) -> str | None:
    if start[0] != end[0]:
        return None
    return fc.lines[start[0] - 1][start[1] - 1:end[1] - 1]


def _function_of(statements: list[cst.CSTNode], target: cst.CSTNode) -> cst.CSTNode | None:
    """The innermost function holding `target` (None: outside any function)."""
    stack: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(s, None) for s in statements]
    while stack:
        node, scope = stack.pop()
        if node is target:
            return scope
        inner = node if isinstance(node, cst.FunctionDef) else scope
        stack.extend((child, inner) for child in node.children)
    return None


def _is_text(fc: FixContext, scope: cst.CSTNode, node: cst.BaseExpression) -> bool:
    """Text from hexdigest() or request headers, directly or through assignments in the
    same function."""
    if _text_expr(fc.tree, node):
        return True
    if isinstance(node, cst.Name):
        values = _assigned(scope, node.value)
        return bool(values) and all(_text_expr(fc.tree, v) for v in values)
    return False


def _text_expr(module: cst.Module, node: cst.CSTNode) -> bool:
    """`x.hexdigest()`, `request.headers.get(…)`, `request.headers[…]` (or Django's META)."""
    def headers(value: cst.CSTNode) -> bool:
        return isinstance(value, cst.Attribute) and value.attr.value in ("headers", "META")

    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node.func.attr.value == "hexdigest" or (
            node.func.attr.value == "get" and headers(node.func.value))
    return isinstance(node, cst.Subscript) and headers(node.value)


def _assigned(scope: cst.CSTNode, name: str) -> list[cst.BaseExpression]:
    out: list[cst.BaseExpression] = []

    class Finder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if isinstance(target.target, cst.Name) and target.target.value == name:
                    out.append(node.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                out.append(cst.Name("__unknown__"))

    scope.visit(Finder())
    return out
