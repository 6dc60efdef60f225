"""Statements at any depth lined up with CPython's `ast`: the units positions are generated in.

A finding sits in one statement, often deep in a function or class. libcst's code generation of
that statement alone gives the positions of its nodes exactly as the whole module's would, once
two things are known: the line its first token is on (from `ast`, whose parser is written in C)
and the indentation of the blocks around it (the tokens libcst adds before each line). A unit is
such a statement: a top-level statement, or a statement of an indented block of a unit (the body
of a `def`, `class`, `if`, `else`, `for`, `while`, `with`, `try`, `except`, `finally`). An `elif`
branch, a `match` and a one-line suite (`if x: y`) are left to the unit holding them.

Where `ast` and libcst do not line up (statement counts or kinds differ), the search stops at
the enclosing unit, or, for the top level, says so (None): the caller then generates more.
"""

from __future__ import annotations

import ast
import warnings
from typing import TYPE_CHECKING, Any

import libcst as cst

from keyport_lint.analysis.fastvisit import NODE_TYPES, SEQUENCES, TOKENS, fields_outside

if TYPE_CHECKING:
    from collections.abc import Iterator


class Unit:
    """One statement and where it stands: its `ast` statements (a simple statement line holds
    one per small statement), the indentation tokens before its lines, the lines it spans."""

    __slots__ = ("asts", "end_line", "indents", "line", "node")

    def __init__(self, node: Any, asts: list[ast.stmt], indents: tuple[str, ...]) -> None:
        self.node, self.asts, self.indents = node, asts, indents
        first = asts[0]
        decorators = getattr(first, "decorator_list", None) or []
        # the first token: the first decorator of a decorated definition
        self.line: int = min([first.lineno, *(d.lineno for d in decorators)])
        self.end_line: int = asts[-1].end_lineno or self.line

    @property
    def shift(self) -> int:
        """Added to the lines of a generation of this statement alone (which counts its
        leading blank and comment lines from line 1)."""
        return self.line - (len(self.node.leading_lines) + 1)


def top_units(module: cst.Module, text: str) -> list[Unit] | None:
    """A unit per top-level statement, or None when `ast` cannot parse the text or its
    statements do not line up with libcst's."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            body = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _line_up(module.body, body, ())


def _line_up(statements: Any, body: list[ast.stmt], indents: tuple[str, ...]
             ) -> list[Unit] | None:
    units: list[Unit] = []
    position = 0
    for statement in statements:
        simple = type(statement) is cst.SimpleStatementLine
        count = len(statement.body) if simple else 1
        asts = body[position:position + count]
        if len(asts) != count or not count or (
                simple and any(type(a) in _AST_COMPOUND for a in asts)) or (
                not simple and type(asts[0]) not in _COMPOUND.get(type(statement), ())):
            return None
        units.append(Unit(statement, asts, indents))
        position += count
    return units if position == len(body) else None


# libcst compound statement -> the `ast` statements it may be
_COMPOUND: dict[type, tuple[type, ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef), cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,), cst.For: (ast.For, ast.AsyncFor), cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith), cst.Try: (ast.Try,), cst.Match: (ast.Match,),
}
if hasattr(cst, "TryStar") and hasattr(ast, "TryStar"):
    _COMPOUND[cst.TryStar] = (ast.TryStar,)
_AST_COMPOUND = frozenset(kind for kinds in _COMPOUND.values() for kind in kinds)


def _blocks(unit: Unit) -> Iterator[tuple[Any, list[ast.stmt]]]:
    """The unit's indented blocks, each with the `ast` statements of the same body."""
    node, tree = unit.node, unit.asts[0]
    kind = type(node)
    if kind is cst.SimpleStatementLine or kind is cst.Match:
        return
    yield node.body, tree.body  # type: ignore[attr-defined]
    if kind is cst.Try or kind.__name__ == "TryStar":
        handlers = tree.handlers  # type: ignore[attr-defined]
        if len(handlers) == len(node.handlers):
            for handler, tree_handler in zip(node.handlers, handlers):
                yield handler.body, tree_handler.body
        if node.finalbody is not None:
            yield node.finalbody.body, tree.finalbody  # type: ignore[attr-defined]
    if type(getattr(node, "orelse", None)) is cst.Else:  # not an `elif`: left to its `if`
        yield node.orelse.body, tree.orelse  # type: ignore[attr-defined]


def children(unit: Unit, default_indent: str) -> list[Unit]:
    """The units of the unit's indented blocks (none where they do not line up)."""
    out: list[Unit] = []
    for block, body in _blocks(unit):
        if type(block) is not cst.IndentedBlock:
            continue  # a suite on the header's line
        indent = default_indent if block.indent is None else block.indent
        found = _line_up(block.body, body, (*unit.indents, indent))
        if found is not None:
            out.extend(found)
    return out


def holding(module: cst.Module, wanted: set[int]) -> dict[int, tuple[int, tuple[Any, ...]]]:
    """id(node) -> (index of the top-level statement holding it, the statements of indented
    blocks from that one down to the innermost holding it), for the wanted nodes (a search
    that stops when all are found; punctuation and whitespace, never reported, are never
    entered, nor fields that can hold only them)."""
    found: dict[int, tuple[int, tuple[Any, ...]]] = {}
    remaining = set(wanted)
    plans = _SEARCH
    for index, statement in enumerate(module.body):
        stack: list[tuple[Any, tuple[Any, ...]]] = [(statement, (statement,))]
        pop, push = stack.pop, stack.append
        while stack:
            node, chain = pop()
            key = id(node)
            if key in remaining:
                found[key] = (index, chain)
                remaining.discard(key)
                if not remaining:
                    return found
            kind = type(node)
            fields = plans.get(kind)
            if fields is None:
                fields = plans[kind] = fields_outside(kind, TOKENS)
            block = kind is cst.IndentedBlock
            for name in fields:
                value: Any = getattr(node, name)
                value_type = type(value)
                if value_type in _INNER:
                    push((value, chain))
                elif value_type in SEQUENCES:
                    if block and name == "body":
                        stack.extend((v, (*chain, v)) for v in value if type(v) in _INNER)
                    else:
                        stack.extend((v, chain) for v in value if type(v) in _INNER)
    return found


_SEARCH: dict[type, tuple[str, ...]] = {}
_INNER = NODE_TYPES - TOKENS
