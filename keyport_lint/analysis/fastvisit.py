"""A CSTVisitor with cheap dispatch, shared by the analyses that walk whole modules.

libcst's visitor looks up `visit_<Node>` and `visit_<Node>_<field>` by name for every node and
every field; on KeyPort-dense code that bookkeeping costs as much as the parse itself. Here the
methods a subclass defines are collected once into dicts keyed by node type, and node types a
subclass declares opaque (tokens, whitespace, operators) are not entered at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import libcst as cst


def subclasses(base: type) -> set[type]:
    found = {base}
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


class FastVisitor(cst.CSTVisitor):
    """Subclasses write ordinary `visit_X` / `leave_X` / `visit_X_field` methods and set
    `OPAQUE` to the node types whose subtrees they never need."""

    OPAQUE: ClassVar[frozenset[type]] = TOKENS
    _visits: ClassVar[dict[type, Callable[..., Any]]] = {}
    _leaves: ClassVar[dict[type, Callable[..., Any]]] = {}
    _field_visits: ClassVar[dict[tuple[type, str], Callable[..., Any]]] = {}
    _field_leaves: ClassVar[dict[tuple[type, str], Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._visits, cls._field_visits = _dispatch_table(cls, "visit_")
        cls._leaves, cls._field_leaves = _dispatch_table(cls, "leave_")

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        if kind in self.OPAQUE:
            return False
        handler = self._visits.get(kind)
        # a handler returning False prunes the subtree, as with CSTVisitor
        return not (handler is not None and handler(self, node) is False)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        handler = self._leaves.get(type(original_node))
        if handler is not None:
            handler(self, original_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if self._field_visits:
            handler = self._field_visits.get((type(node), attribute))
            if handler is not None:
                handler(self, node)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        if self._field_leaves:
            handler = self._field_leaves.get((type(original_node), attribute))
            if handler is not None:
                handler(self, original_node)


def _dispatch_table(cls: type, prefix: str) -> tuple[dict, dict]:
    """`visit_If` -> {cst.If: method}; `visit_If_body` -> {(cst.If, "body"): method}."""
    nodes: dict = {}
    fields: dict = {}
    for klass in reversed(cls.__mro__):
        if klass in (FastVisitor, cst.CSTVisitor, object) or not issubclass(klass, FastVisitor):
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
