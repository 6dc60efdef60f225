"""Small readers of libcst syntax the taint pass shares: literal constants, exact reads,
bound names, the blocks inside a compound statement, branch joins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import libcst as cst

from keyport_lint.analysis.facts import evaluated, literal_text
from keyport_lint.analysis.taint.values import _cap


def _join(a: dict[str, frozenset], b: dict[str, frozenset]) -> dict[str, frozenset]:
    """Environments after two branches: a name holds whatever either branch left in it."""
    result = dict(a)
    for name, value in b.items():
        current = result.get(name)
        result[name] = value if current is None or current is value else _cap(current | value)
    return result


_MUTATORS = frozenset({"append", "extend", "update", "add", "insert", "setdefault",
                       "appendleft", "extendleft"})


_SHAPE_METHODS = frozenset({"copy", "items", "values"})


_SHAPE_CALLS = re.compile(r"(?:builtins\.)?(?:dict|list|tuple|set|frozenset|sorted|reversed)$|"
                          r"copy\.(?:deep)?copy$|collections\..*|types\.SimpleNamespace$")


def _keeps_shape(callee: str) -> bool:
    return bool(_SHAPE_CALLS.match(callee))


def constant_value(node: cst.CSTNode | None) -> Any:
    """The value of a literal (str, int), or None."""
    # exact types: an isinstance that fails on a libcst class is a Python call (ABCMeta)
    try:
        if type(node) is cst.SimpleString or type(node) is cst.ConcatenatedString:
            return literal_text(node)
        if type(node) is cst.Integer:
            return int(evaluated(node))
        if (type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus
                and type(node.expression) is cst.Integer):
            return -int(evaluated(node.expression))
    except Exception:  # malformed escapes or numbers in odd code
        return None
    return None


_READS = frozenset({cst.Name, cst.Attribute, cst.SimpleString, cst.ConcatenatedString})


def _is_exact(node: cst.CSTNode | None) -> bool:
    """Is the value the secret itself (a read), not something built from it?"""
    if type(node) is cst.Await:
        node = node.expression
    if type(node) in _READS:
        return True
    if isinstance(node, cst.BooleanOperation):  # `a or b` is one of them
        return _is_exact(node.left) and _is_exact(node.right)
    if isinstance(node, cst.IfExp):
        return _is_exact(node.body) and _is_exact(node.orelse)
    if isinstance(node, cst.Subscript):
        return not any(isinstance(e.slice, cst.Slice) for e in node.slice)
    if isinstance(node, cst.Call):  # `get_key()`, `os.getenv(…)`: mostly the value itself
        return not (isinstance(node.func, cst.Attribute)
                    and node.func.attr.value in ("format", "format_map", "join", "replace"))
    return False


def _assign_targets(small: cst.CSTNode) -> list[cst.BaseExpression]:
    if type(small) is cst.Assign:
        return [t.target for t in small.targets]
    if type(small) is cst.AnnAssign or type(small) is cst.AugAssign:
        return [small.target]
    return []


def _bound_names(target: cst.CSTNode) -> Iterator[str]:
    if type(target) is cst.Name:
        yield target.value
    elif type(target) is cst.Tuple or type(target) is cst.List:
        for element in target.elements:
            yield from _bound_names(element.value)
    elif type(target) is cst.StarredElement:
        yield from _bound_names(target.value)


def _blocks(stmt: cst.CSTNode) -> Iterator[Iterable[cst.CSTNode]]:
    """The statement lists directly inside a compound statement."""
    for child in stmt.children:
        if isinstance(child, cst.BaseSuite):
            yield child.body
        elif isinstance(child, (cst.Else, cst.Finally, cst.ExceptHandler,
                                cst.ExceptStarHandler, cst.MatchCase)):
            yield from _blocks(child)
        elif isinstance(child, cst.If):
            yield [child]
