"""The walk and the position search skip fields whose declared type admits only nodes they
never enter (punctuation, whitespace): what they see must be exactly what a walk reading every
field sees, for any collector's opaque set, and field handlers on skipped fields still run."""

from __future__ import annotations

from typing import Any

import libcst as cst

from keyport_lint.analysis.fastvisit import (
    NODE_TYPES,
    SEQUENCES,
    TOKENS,
    FastVisitor,
    child_fields,
    walk,
)
from keyport_lint.analysis.units import holding

from .conftest import FIXTURES

CODE = '''
import os
value = call(  # a comment inside the brackets
    os.environ["A"] ,  # another
    key = ( 1 + 2 ),
)[ 0 ]
def f(a, *, b: int = 3) -> dict[str, int]:
    return {"a": a, ** b}
'''


def _modules() -> list[cst.Module]:
    out = [cst.parse_module(CODE)]
    for case in sorted(FIXTURES.rglob("*.py")):
        try:
            out.append(cst.parse_module(case.read_text(encoding="utf-8")))
        except cst.ParserSyntaxError:
            continue
    return out


def _every_field(root: cst.CSTNode, skip: frozenset[type]) -> list[cst.CSTNode]:
    """Reference: read every field, enter every node not in `skip`, in visiting order."""
    out: list[cst.CSTNode] = []
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        children: list[Any] = []
        for name in child_fields(type(node)):
            value = getattr(node, name, None)
            values: Any = value if type(value) in SEQUENCES else [value]
            children += [v for v in values if type(v) in NODE_TYPES and type(v) not in skip]
        stack.extend(reversed(children))
    return out


def _recording(opaque: frozenset[type]) -> FastVisitor:
    """A collector that visits every node type, seeing what `opaque` leaves it."""
    seen: list[cst.CSTNode] = []

    def visit(self: Any, node: cst.CSTNode) -> None:
        seen.append(node)

    methods: dict[str, Any] = {f"visit_{t.__name__}": visit for t in NODE_TYPES
                               if getattr(cst, t.__name__, None) is t}
    kind = type("Recording", (FastVisitor,), {"OPAQUE": opaque, **methods})
    collector = kind()
    collector.seen = seen  # type: ignore[attr-defined]
    return collector  # type: ignore[no-any-return]


def test_walk_sees_what_reading_every_field_sees() -> None:
    # the default opaque set, and one that enters parenthesized whitespace (comments inside
    # brackets live there, in fields declared as whitespace)
    for opaque in (TOKENS, TOKENS - {cst.ParenthesizedWhitespace}):
        for module in _modules():
            collector = _recording(opaque)
            walk(module, collector)
            assert collector.seen == _every_field(module, opaque)  # type: ignore[attr-defined]
    comments = _recording(TOKENS - {cst.ParenthesizedWhitespace})
    walk(cst.parse_module(CODE), comments)
    # the comment after "(" sits in a field declared as whitespace (the one after "," belongs
    # to the comma, which no collector enters)
    assert [n.value for n in comments.seen  # type: ignore[attr-defined]
            if isinstance(n, cst.Comment)] == ["# a comment inside the brackets"]


def test_field_handlers_on_skipped_fields_still_run() -> None:
    class Fields(FastVisitor):
        def __init__(self) -> None:
            self.events: list[str] = []

        def visit_Call_whitespace_after_func(self, node: cst.Call) -> None:
            self.events.append("enter")

        def leave_Call_whitespace_after_func(self, node: cst.Call) -> None:
            self.events.append("leave")

    collector = Fields()
    walk(cst.parse_module(CODE), collector)
    assert collector.events == ["enter", "leave"]  # the one call, its skipped field


def test_position_search_finds_every_node_of_its_statement() -> None:
    for module in _modules():
        for index, statement in enumerate(module.body):
            nodes = _every_field(statement, TOKENS)
            found = holding(module, {id(n) for n in nodes})
            assert {index for index, _ in found.values()} == {index}
            assert len(found) == len({id(n) for n in nodes})


def test_a_collector_sees_its_types_inside_subtrees_the_others_never_enter() -> None:
    """Numbers hold nothing the record collectors handle, so a walk of those alone skips
    them; a collector that visits `Integer` beside them still sees every one."""
    class Calls(FastVisitor):
        def __init__(self) -> None:
            self.calls = 0

        def visit_Call(self, node: cst.Call) -> None:
            self.calls += 1

    class Integers(FastVisitor):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def visit_Integer(self, node: cst.Integer) -> None:
            self.seen.append(node.value)

    for module in _modules():
        want = [n.value for n in _every_field(module, TOKENS) if isinstance(n, cst.Integer)]
        calls, integers = Calls(), Integers()
        walk(module, calls, integers)
        assert integers.seen == want
        assert calls.calls == sum(isinstance(n, cst.Call) for n in _every_field(module, TOKENS))
