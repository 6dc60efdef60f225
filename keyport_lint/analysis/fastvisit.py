"""The one tree walk: a plain loop over libcst node fields that feeds every collector at once.

libcst's `visit` protocol recurses (a 330-branch `elif` chain or a 400-term `"a" + …` exceeds
Python's recursion limit) and looks up `visit_<Node>` and `visit_<Node>_<field>` by name for
every node and field: on KeyPort-dense code that bookkeeping costs as much as the parse. Here a
collector writes ordinary `visit_X` / `leave_X` / `visit_X_field` / `leave_X_field` methods,
collected once per class into dicts keyed by node type; `walk` drives any number of collectors
in one pass with an explicit stack, in libcst's own visiting order, with libcst's semantics
(a `visit_X` returning False prunes that collector's view of the subtree; `leave_X` still runs).
Node types every collector declares opaque (tokens, whitespace, operators) are never entered.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, ClassVar

import libcst as cst


def subclasses(base: type) -> set[type]:
    found = {base}
    sub: type
    for sub in base.__subclasses__():
        found |= subclasses(sub)
    return found


def opaque_types(*bases: type) -> frozenset[type]:
    """Every concrete node type below the given bases."""
    return frozenset(t for base in bases for t in subclasses(base))


# punctuation and whitespace: no analysis needs to enter them
TOKENS = opaque_types(
    cst.BaseParenthesizableWhitespace, cst.Comma, cst.Dot, cst.Colon, cst.AssignEqual,
    cst.Semicolon, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseUnaryOp, cst.BaseCompOp,
    cst.BaseAugOp, cst.Newline, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket,
    cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ImportStar,
)


class FastVisitor:
    """A collector: ordinary `visit_X` / `leave_X` / `visit_X_field` methods, and `OPAQUE`,
    the node types whose subtrees it never needs. Run it with `walk`."""

    OPAQUE: ClassVar[frozenset[type]] = TOKENS
    _visits: ClassVar[dict[type, Callable[..., Any]]] = {}
    _leaves: ClassVar[dict[type, Callable[..., Any]]] = {}
    _field_visits: ClassVar[dict[tuple[type, str], Callable[..., Any]]] = {}
    _field_leaves: ClassVar[dict[tuple[type, str], Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._visits, cls._field_visits = _dispatch_table(cls, "visit_")
        cls._leaves, cls._field_leaves = _dispatch_table(cls, "leave_")


def _dispatch_table(cls: type, prefix: str) -> tuple[dict, dict]:
    """`visit_If` -> {cst.If: method}; `visit_If_body` -> {(cst.If, "body"): method}."""
    nodes: dict = {}
    fields: dict = {}
    for klass in reversed(cls.__mro__):
        if klass in (FastVisitor, object) or not issubclass(klass, FastVisitor):
            continue
        for name, method in vars(klass).items():
            if not name.startswith(prefix) or not callable(method):
                continue
            node_name, _, attribute = name[len(prefix):].partition("_")
            node_type = getattr(cst, node_name, None)
            if isinstance(node_type, type):
                if attribute:
                    fields[(node_type, attribute)] = method
                else:
                    nodes[node_type] = method
    return nodes, fields


# -- field order ---------------------------------------------------------------------------------
_FIELD_VISIT = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that hold nodes, in libcst's visiting (source) order, read
    once per type from libcst's own `_visit_and_replace_children` (dataclass field order is
    not source order: a Call declares `func, args, lpar`, yet `lpar` comes first)."""
    found = _FIELDS.get(kind)
    if found is None:
        try:
            source = inspect.getsource(kind._visit_and_replace_children)  # type: ignore[attr-defined]
            found = tuple(dict.fromkeys(_FIELD_VISIT.findall(source)))
        except (OSError, TypeError, AttributeError):  # no source: declaration order
            import dataclasses

            found = tuple(f.name for f in dataclasses.fields(kind))
        _FIELDS[kind] = found
    return found


# -- the walk ------------------------------------------------------------------------------------
_ENTER, _LEAVE, _FIELD_ENTER, _FIELD_LEAVE = range(4)


class WalkCounter:
    """How many whole-tree walks ran (the JSON report's `walks_per_parsed_file`)."""

    walks = 0


def walk(root: cst.CSTNode, *collectors: FastVisitor) -> None:
    """Feed every collector in one iterative pass over `root`'s subtree."""
    WalkCounter.walks += 1
    count = len(collectors)
    skip = frozenset.intersection(*(c.OPAQUE for c in collectors))
    opaque = [c.OPAQUE for c in collectors]
    visits = [c._visits for c in collectors]
    leaves = [c._leaves for c in collectors]
    field_visits = [c._field_visits for c in collectors]
    field_leaves = [c._field_leaves for c in collectors]
    any_fields = any(field_visits) or any(field_leaves)
    # blocked[i]: the node whose visit pruned collector i (None: it sees this subtree)
    blocked: list[cst.CSTNode | None] = [None] * count
    stack: list[tuple[int, Any, str]] = [(_ENTER, root, "")]
    pop, push = stack.pop, stack.append
    while stack:
        op, node, field = pop()
        kind = type(node)
        if op == _ENTER:
            active = False
            for i in range(count):
                if blocked[i] is None:
                    if kind in opaque[i]:
                        blocked[i] = node
                        continue
                    handler = visits[i].get(kind)
                    if handler is not None and handler(collectors[i], node) is False:
                        blocked[i] = node
                        continue
                    active = True
            push((_LEAVE, node, ""))
            if not active:
                continue
            for name in reversed(child_fields(kind)):
                value = getattr(node, name, None)
                wants_field = any_fields and any(
                    blocked[i] is None and ((kind, name) in field_visits[i]
                                            or (kind, name) in field_leaves[i])
                    for i in range(count))
                if wants_field:
                    push((_FIELD_LEAVE, node, name))
                if isinstance(value, cst.CSTNode):
                    if type(value) not in skip:
                        push((_ENTER, value, ""))
                elif isinstance(value, (list, tuple)):
                    for child in reversed(value):
                        if isinstance(child, cst.CSTNode) and type(child) not in skip:
                            push((_ENTER, child, ""))
                if wants_field:
                    push((_FIELD_ENTER, node, name))
        elif op == _LEAVE:
            for i in range(count):
                mark = blocked[i]
                if mark is None or mark is node:
                    handler = leaves[i].get(kind)
                    if handler is not None:
                        handler(collectors[i], node)
                    if mark is node:
                        blocked[i] = None
        else:
            table = field_visits if op == _FIELD_ENTER else field_leaves
            for i in range(count):
                if blocked[i] is None:
                    handler = table[i].get((kind, field))
                    if handler is not None:
                        handler(collectors[i], node)
