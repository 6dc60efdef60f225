"""The one tree walk: a plain loop over libcst node fields that feeds every collector at once.

libcst's `visit` protocol recurses (a 330-branch `elif` chain or a 400-term `"a" + …` exceeds
Python's recursion limit) and looks up `visit_<Node>` and `visit_<Node>_<field>` by name for
every node and field: on KeyPort-dense code that bookkeeping costs as much as the parse. Here a
collector writes ordinary `visit_X` / `leave_X` / `visit_X_field` / `leave_X_field` methods,
collected once per class into dicts keyed by node type; `walk` drives any number of collectors
in one pass with an explicit stack, in libcst's own visiting order, with libcst's semantics
(a `visit_X` returning False prunes that collector's view of the subtree; `leave_X` still runs).
Node types every collector declares opaque (tokens, whitespace, operators) are never entered,
nor subtrees in which no collector has a handler for any node type the declared field types
admit (numbers, `pass`, f-string text); a field whose declared type admits only such nodes
(`lpar`, `whitespace_after_func`, `comma`) is not even read, unless a collector has a field
handler for it.
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


# every concrete node type: `type(x) in NODE_TYPES` is a set lookup, where isinstance against
# libcst's abstract base classes goes through ABCMeta (the walk asks it for every field)
NODE_TYPES = frozenset(subclasses(cst.CSTNode))
SEQUENCES = (list, tuple)

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
    not source order: a Call declares `func, args, lpar`, yet `lpar` comes first): the field
    names it passes are string constants of its code, in the order the source names them
    (reading the source instead cost a tokenizer pass per node type)."""
    found = _FIELDS.get(kind)
    if found is None:
        import dataclasses

        names = {f.name for f in dataclasses.fields(kind)} if dataclasses.is_dataclass(
            kind) else set()
        code = getattr(getattr(kind, "_visit_and_replace_children", None), "__code__", None)
        if code is not None and names:
            found = tuple(dict.fromkeys(c for c in code.co_consts
                                        if isinstance(c, str) and c in names))
        else:
            try:
                source = inspect.getsource(kind._visit_and_replace_children)  # type: ignore[attr-defined]
                found = tuple(dict.fromkeys(_FIELD_VISIT.findall(source)))
            except (OSError, TypeError, AttributeError):  # no source: declaration order
                found = tuple(f.name for f in dataclasses.fields(kind))
        _FIELDS[kind] = found
    return found


_ADMITS: dict[type, dict[str, frozenset[type] | None]] = {}


def field_admits(kind: type) -> dict[str, frozenset[type] | None]:
    """Per child field of a node type, every node type its declared type admits (None: not
    known, anything may be there), read once per type from libcst's dataclass fields
    (`Sequence[Comma]`, `Union[AssignEqual, MaybeSentinel]`, `Optional[Name]` …). A field
    whose admitted types a pass never enters need not even be read."""
    found = _ADMITS.get(kind)
    if found is None:
        import dataclasses

        declared = {f.name: f.type for f in dataclasses.fields(kind)} if (
            dataclasses.is_dataclass(kind)) else {}
        found = _ADMITS[kind] = {name: _admitted(declared.get(name))
                                 for name in child_fields(kind)}
    return found


def _admitted(declared: Any) -> frozenset[type] | None:
    """Memoised per declared type (a few dozen distinct ones across libcst's nodes)."""
    try:
        return _ADMITTED[declared]
    except KeyError:
        found = _ADMITTED[declared] = _admitted_now(declared)
        return found
    except TypeError:  # an unhashable annotation
        return _admitted_now(declared)


_ADMITTED: dict[Any, frozenset[type] | None] = {}


def _admitted_now(declared: Any) -> frozenset[type] | None:
    import typing

    if declared is None or declared is type(None) or declared is cst.MaybeSentinel:
        return frozenset()
    args = typing.get_args(declared)
    if args:  # Union, Optional, Sequence: every argument
        out: set[type] = set()
        for arg in args:
            admitted = _admitted(arg)
            if admitted is None:
                return None
            out |= admitted
        return frozenset(out)
    if isinstance(declared, type) and issubclass(declared, cst.CSTNode):
        return frozenset(subclasses(declared))
    return None  # a forward reference, a literal, a plain str: read it


def fields_outside(kind: type, skipped: frozenset[type]) -> tuple[str, ...]:
    """The child fields of `kind`, in visiting order, that may hold a node type not in
    `skipped`."""
    admits = field_admits(kind)
    return tuple(name for name in child_fields(kind)
                 if (found := admits[name]) is None or not found <= skipped)


# -- the walk ------------------------------------------------------------------------------------
_LEAVE, _FIELD = 0, 1


def walk(root: cst.CSTNode, *collectors: FastVisitor) -> None:
    """Feed every collector in one iterative pass over `root`'s subtree.

    The stack holds nodes to enter as they are, and (event, node, handlers) tuples for the
    leave and field events; while no collector is pruned (the usual case) each node costs
    one call per collector that has a handler for its type, nothing per collector that
    has none."""
    count = len(collectors)
    combination = tuple(type(c) for c in collectors)
    entered = _ENTERED.get(combination)
    if entered is None:
        entered = _ENTERED[combination] = _entered(collectors)
    plans = _PLANS.setdefault(combination, {})
    # blocked[i]: the node whose visit pruned collector i (None: it sees this subtree)
    blocked: list[cst.CSTNode | None] = [None] * count
    nblocked = 0
    indices = range(count)
    stack: list[Any] = [root]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        if type(node) is tuple:
            op, node, extra = node
            if op == _LEAVE:
                if not nblocked:
                    for i, handler in extra[1]:
                        handler(collectors[i], node)
                    continue
                handlers = extra[0] if extra is not None else None
                for i in indices:
                    mark = blocked[i]
                    if mark is None or mark is node:
                        if handlers is not None:
                            handler = handlers[i]
                            if handler is not None:
                                handler(collectors[i], node)
                        if mark is node:
                            blocked[i] = None
                            nblocked -= 1
            elif not nblocked:  # field events: (collector, handler) pairs
                for i, handler in extra:
                    handler(collectors[i], node)
            else:
                for i, handler in extra:
                    if blocked[i] is None:
                        handler(collectors[i], node)
            continue
        kind = type(node)
        plan = plans.get(kind)
        if plan is None:
            plan = plans[kind] = _plan(kind, collectors)
        opaque, visits, visit_pairs, leaves, fields = plan
        pruned = False
        if not nblocked and opaque is None:
            for i, handler in visit_pairs:
                if handler(collectors[i], node) is False:
                    blocked[i] = node
                    nblocked += 1
                    pruned = True
        else:
            for i in indices:
                if blocked[i] is None:
                    if opaque is not None and opaque[i]:
                        blocked[i] = node
                        nblocked += 1
                        pruned = True
                        continue
                    handler = visits[i]
                    if handler is not None and handler(collectors[i], node) is False:
                        blocked[i] = node
                        nblocked += 1
                        pruned = True
        if leaves is not None or pruned:
            push((_LEAVE, node, leaves))
        if nblocked == count:
            continue
        for name, field_handlers in fields:
            value: Any = getattr(node, name, None)
            if field_handlers is not None:
                push((_FIELD, node, field_handlers[1]))
            value_type = type(value)
            if value_type in entered:
                push(value)
            elif value_type in SEQUENCES:
                extend([child for child in reversed(value) if type(child) in entered])
            if field_handlers is not None:
                push((_FIELD, node, field_handlers[0]))


# plans per combination of collector classes, then per node type (built once per process)
_PLANS: dict[tuple[type, ...], dict[type, tuple]] = {}
_ENTERED: dict[tuple[type, ...], frozenset[type]] = {}


def _entered(collectors: tuple[FastVisitor, ...]) -> frozenset[type]:
    """The node types a walk with these collectors enters: not opaque to all of them, and
    not a subtree in which no collector has any handler (a number, `pass`, the text of an
    f-string: nothing in it, as far as the declared field types tell, is visited)."""
    skip = frozenset.intersection(*(c.OPAQUE for c in collectors))
    handled: set[type] = set()
    for c in collectors:
        handled |= set(c._visits) | set(c._leaves)
        handled |= {kind for kind, _ in c._field_visits} | {kind for kind, _ in c._field_leaves}
    candidates = NODE_TYPES - skip
    real = _real_types()
    silent: set[type] = set()  # types whose whole subtree has no handler
    loud: set[type] = set(handled)  # types whose subtree has one, as found so far
    for kind in candidates & real:
        if kind in loud:
            continue
        seen, stack, quiet = {kind}, [kind], True
        while stack and quiet:
            for admitted in field_admits(stack.pop()).values():
                if admitted is None or not admitted.isdisjoint(loud):
                    quiet = False
                    break
                # only classes a tree can hold (not abstract bases, not libcst's
                # pre-slots copies of its classes) are followed
                for inner in (admitted & real) - skip - seen - silent:
                    seen.add(inner)
                    stack.append(inner)
        if quiet:
            silent.add(kind)
        else:
            loud.add(kind)
    return frozenset(candidates - silent)


def _real_types() -> frozenset[type]:
    """The node classes a parsed tree is made of: libcst's public, concrete ones."""
    import inspect

    return frozenset(t for t in NODE_TYPES
                     if getattr(cst, t.__name__, None) is t and not inspect.isabstract(t))


def _plan(kind: type, collectors: tuple[FastVisitor, ...]) -> tuple:
    """Per node type, for one walk: which collectors skip it (None: none does), their visit
    handlers (per collector, and as (collector, handler) pairs of those that have one), the
    leave handlers (None when no collector has one) and the child fields in reverse visiting
    order with the field handlers of each, as (collector, handler) pairs (None when no
    collector has any)."""
    opaque = tuple(kind in c.OPAQUE for c in collectors)
    visits = tuple(c._visits.get(kind) for c in collectors)
    visit_pairs = tuple((i, h) for i, h in enumerate(visits) if h is not None)
    leave_handlers = tuple(c._leaves.get(kind) for c in collectors)
    leaves = (leave_handlers, _pairs(leave_handlers)) if any(
        h is not None for h in leave_handlers) else None
    skip = frozenset.intersection(*(c.OPAQUE for c in collectors))
    needed = set(fields_outside(kind, skip))
    fields = []
    for name in reversed(child_fields(kind)):
        enter = tuple(c._field_visits.get((kind, name)) for c in collectors)
        leave = tuple(c._field_leaves.get((kind, name)) for c in collectors)
        handlers = (_pairs(enter), _pairs(leave)) if any(
            h is not None for h in enter + leave) else None
        if handlers is None and name not in needed:
            continue  # only nodes no collector enters (punctuation, whitespace): never read
        fields.append((name, handlers))
    return (opaque if any(opaque) else None), visits, visit_pairs, leaves, tuple(fields)


def _pairs(handlers: tuple[Callable[..., Any] | None, ...]
           ) -> tuple[tuple[int, Callable[..., Any]], ...]:
    return tuple((i, h) for i, h in enumerate(handlers) if h is not None)
