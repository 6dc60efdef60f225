"""Positions of reported nodes, paid for only where a finding sits.

libcst computes positions by generating the code of the whole module with position tracking,
which costs about as much as the parse. Findings sit in a few top-level statements, so:

- the first line of every top-level statement comes from `ast` (its parser is written in C and
  about 30 times faster than libcst's);
- positions inside a statement come from libcst's own position pass over a module holding that
  one statement (columns are the same: a top-level statement starts at column 0), shifted by
  the statement's first line.

Lines and columns are exactly libcst's. Where `ast` cannot follow (syntax newer than the
running Python, statements that do not line up), the whole module is resolved as before.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from keyport_lint.analysis.fastvisit import NODE_TYPES, SEQUENCES, TOKENS, child_fields

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.context import PythonContext

Span = tuple[int, int, int, int]  # start line, start column, end line, end column (0-based col)
# libcst's position pass recurses about six frames per nesting level: a 330-branch `elif`
# chain or a 400-term concatenation needs more than Python's default limit of 1,000
POSITION_FRAMES = 8_000


@contextlib.contextmanager
def deeper_recursion(frames: int = POSITION_FRAMES) -> Iterator[None]:
    """Raise the recursion limit for one libcst call (deeper code still raises
    RecursionError, which the rule boundary reports)."""
    old = sys.getrecursionlimit()
    if old < frames:
        sys.setrecursionlimit(frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def node_spans(ctx: PythonContext, nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Spans of the given nodes of `ctx.module`, by `id(node)`; nodes not in it are left
    out."""
    wanted = {id(n): n for n in nodes}
    if not wanted:
        return {}
    module = ctx.module
    where = _statements_holding(module, set(wanted))
    starts = ctx.analysis(_statement_lines) if where else None
    out: dict[int, Span] = {}
    if starts is not None:
        by_statement: dict[int, list[int]] = {}
        for key, index in where.items():
            by_statement.setdefault(index, []).append(key)
        for index, keys in by_statement.items():
            statement = module.body[index]
            positions = resolve_positions(
                module.with_changes(body=[statement], header=[], footer=[]))
            shift = starts[index] - (len(statement.leading_lines) + 1)
            for key in keys:
                rng = positions.get(wanted[key])
                if rng is not None:
                    out[key] = (rng.start.line + shift, rng.start.column,
                                rng.end.line + shift, rng.end.column)
    missing = [n for k, n in wanted.items() if k not in out]
    if missing:  # outside the statements, or `ast` could not line them up: the whole module
        positions = resolve_positions(module)
        ctx.walks += 1
        for node in missing:
            rng = positions.get(node)
            if rng is not None:
                out[id(node)] = (rng.start.line, rng.start.column, rng.end.line, rng.end.column)
    return out


def resolve_positions(module: cst.Module) -> Any:
    """libcst's positions of every node of `module` (a node -> CodeRange mapping).

    The provider runs on its own: `MetadataWrapper.resolve` would also run an empty batched
    visitor over the whole module (its loop always visits, with or without batchable
    providers), which costs two thirds as much as the positions themselves."""
    import libcst as cst
    from libcst.metadata import PositionProvider

    with deeper_recursion():
        provider = PositionProvider()
        try:
            provider._gen_impl(module)
            return provider._computed
        except AttributeError:  # a libcst without these internals
            return cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _statements_holding(module: cst.Module, wanted: set[int]) -> dict[int, int]:
    """id(node) -> index of the top-level statement holding it, for the wanted nodes (an
    iterative search that stops when all are found; punctuation and whitespace, never
    reported, are not entered)."""

    found: dict[int, int] = {}
    remaining = set(wanted)
    for index, statement in enumerate(module.body):
        stack: list[Any] = [statement]
        while stack:
            node = stack.pop()
            key = id(node)
            if key in remaining:
                found[key] = index
                remaining.discard(key)
                if not remaining:
                    return found
            for name in child_fields(type(node)):
                value: Any = getattr(node, name, None)
                kind = type(value)
                if kind in NODE_TYPES:
                    if kind not in TOKENS:
                        stack.append(value)
                elif kind in SEQUENCES:
                    stack.extend(v for v in value
                                 if type(v) in NODE_TYPES and type(v) not in TOKENS)
    return found


def _statement_lines(ctx: PythonContext) -> list[int] | None:
    """Memoised per file."""
    return statement_lines(ctx.module, ctx.text)


def statement_lines(module: cst.Module, text: str) -> list[int] | None:
    """The line of the first token (the first decorator of a decorated definition) of every
    top-level statement, from `ast`; None when `ast` cannot parse the text or its statements
    do not line up with libcst's (the fixer reads them too)."""
    import libcst as cst

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            body = ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines: list[int] = []
    position = 0
    for statement in module.body:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        if position + count > len(body):
            return None
        first = body[position]
        decorators = getattr(first, "decorator_list", None) or []
        lines.append(min([first.lineno, *(d.lineno for d in decorators)]))
        position += count
    return lines if position == len(body) else None
