"""Positions of reported nodes, paid for only where a finding sits.

libcst computes positions by generating the code of the whole module with position tracking
(a position object for every node, a context manager for every syntactic range), which costs
more than the parse. Findings sit in a few top-level statements, so:

- the first line of every top-level statement comes from `ast` (its parser is written in C and
  about 30 times faster than libcst's);
- inside a statement, libcst's own code generation runs with a state that tracks only the
  nodes asked for (and the children their ranges are hoisted from: a block ends where its
  last statement ends), as token counts turned into lines and columns at the end; columns are
  the same as in the whole module, since a top-level statement starts at column 0.

Lines and columns are exactly libcst's `PositionProvider`'s (a test compares every node of
every fixture). Where `ast` cannot follow (syntax newer than the running Python, statements
that do not line up), the whole module is generated the same way.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from itertools import accumulate
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
    where = statements_holding(module, set(wanted))
    starts = ctx.analysis(memoised_statement_lines) if where else None
    out: dict[int, Span] = {}
    if starts is not None:
        by_statement: dict[int, list[int]] = {}
        for key, index in where.items():
            by_statement.setdefault(index, []).append(key)
        for index, keys in by_statement.items():
            statement = module.body[index]
            spans = statement_spans(module, statement, [wanted[key] for key in keys])
            shift = starts[index] - (len(statement.leading_lines) + 1)
            for key, (line, column, end_line, end_column) in spans.items():
                out[key] = (line + shift, column, end_line + shift, end_column)
    missing = [n for k, n in wanted.items() if k not in out]
    if missing:  # outside the statements, or `ast` could not line them up: the whole module
        out.update(statement_spans(module, module, missing))
        ctx.walks += 1
    return out


# -- the position pass ---------------------------------------------------------------------------
_NEWLINE = re.compile(r"\r\n?|\n")
_STRUCTURE = "libcst._nodes.statement"  # statements and suites hoist children's positions


class _Recorder:
    """`record_syntactic_position` for one tracked node: token counts at entry and exit."""

    __slots__ = ("end_node", "key", "start", "start_node", "state")

    def __init__(self, state: _TrackingState, key: int, start_node: Any, end_node: Any) -> None:
        self.state, self.key = state, key
        self.start_node, self.end_node = start_node, end_node
        self.start = 0

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc: object) -> None:
        computed = self.state.computed
        start = (computed[id(self.start_node)][0] if self.start_node is not None
                 else self.start)
        end = (computed[id(self.end_node)][1] if self.end_node is not None
               else len(self.state.tokens))
        computed[self.key] = (start, end)


class _TrackingState:
    """A libcst `CodegenState` that records positions, as token counts, only for the tracked
    nodes (libcst's `PositionProvider` builds a position object for every node and a context
    manager for every syntactic range: most of the cost of its pass)."""

    def __init__(self, default_indent: str, default_newline: str, tracked: set[int],
                 indent_tokens: list[str]) -> None:
        self.default_indent = default_indent
        self.default_newline = default_newline
        self.provider = None
        self.indent_tokens = indent_tokens
        self.tokens: list[str] = []
        self.tracked = tracked
        self.computed: dict[int, tuple[int, int]] = {}
        self._open: dict[int, int] = {}

    def increase_indent(self, value: str) -> None:
        self.indent_tokens.append(value)

    def decrease_indent(self) -> None:
        self.indent_tokens.pop()

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)

    def pop_trailing_newline(self) -> None:
        """Kept: positions recorded after it count it, as libcst's do."""

    def before_codegen(self, node: Any) -> None:
        key = id(node)
        if key in self.tracked:
            self._open[key] = len(self.tokens)

    def after_codegen(self, node: Any) -> None:
        key = id(node)
        if key in self.tracked:
            start = self._open.pop(key)
            if key not in self.computed:  # a syntactic range recorded inside wins
                self.computed[key] = (start, len(self.tokens))

    def record_syntactic_position(self, node: Any, *, start_node: Any = None,
                                  end_node: Any = None) -> Any:
        key = id(node)
        if key in self.tracked:
            return _Recorder(self, key, start_node, end_node)
        return _NOTHING


_NOTHING = contextlib.nullcontext()


def statement_spans(module: cst.Module, root: cst.CSTNode,
                    nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Spans, by `id(node)`, of the given nodes inside `root` (a top-level statement of
    `module`, or the module itself), counted from line 1 column 0 at the start of `root`:
    exactly what libcst's `PositionProvider` gives over a module holding `root` alone, in
    the order it records them."""
    wanted = {id(n): n for n in nodes}
    state = _TrackingState(module.default_indent, module.default_newline, _tracked(wanted),
                           [])
    try:
        with deeper_recursion():
            root._codegen(state)  # type: ignore[arg-type]
    except KeyError:  # a hoisted position this pass did not track: libcst's own pass
        return _libcst_spans(module, root, wanted)
    counts = sorted({c for key in wanted if key in state.computed
                     for c in state.computed[key]})
    where = dict(zip(counts, _line_columns(state.tokens, counts)))
    # in the order libcst's pass records them (the fixer sorts nodes with equal spans by it)
    return {key: (*where[found[0]], *where[found[1]])
            for key, found in state.computed.items() if key in wanted}


def _tracked(wanted: dict[int, Any]) -> set[int]:
    """The wanted nodes and what their positions are hoisted from: a statement or suite
    takes its range from its children (a block ends where its last statement ends), so
    statements' children are tracked too, down to the expressions."""
    tracked: set[int] = set()
    stack = list(wanted.values())
    while stack:
        node = stack.pop()
        key = id(node)
        if key in tracked:
            continue
        tracked.add(key)
        kind = type(node)
        if kind.__module__ != _STRUCTURE:
            continue
        for name in child_fields(kind):
            value: Any = getattr(node, name, None)
            if type(value) in NODE_TYPES:
                stack.append(value)
            elif type(value) in SEQUENCES:
                stack.extend(v for v in value if type(v) in NODE_TYPES)
    return tracked


def _line_columns(tokens: list[str], counts: list[int]) -> list[tuple[int, int]]:
    """(line, column) after each of the given numbers of tokens (sorted), counted as
    libcst's position pass counts them: lines from 1, columns from 0."""
    offsets = list(accumulate(map(len, tokens), initial=0))
    text = "".join(tokens)
    if "\r" not in text:  # no "\r" + "\n" split over two tokens: one search for all
        ends = [m.end() for m in _NEWLINE.finditer(text)]
        out = []
        for count in counts:
            offset = offsets[count]
            k = bisect.bisect_right(ends, offset)
            out.append((k + 1, offset - (ends[k - 1] if k else 0)))
        return out
    out, line, column, done = [], 1, 0, 0
    for count in counts:
        for token in tokens[done:count]:
            segments = _NEWLINE.split(token)
            if len(segments) == 1:
                column += len(token)
            else:
                line += len(segments) - 1
                column = len(segments[-1])
        done = count
        out.append((line, column))
    return out


def _libcst_spans(module: cst.Module, root: cst.CSTNode,
                  wanted: dict[int, Any]) -> dict[int, Span]:
    if root is not module:
        root = module.with_changes(body=[root], header=[], footer=[])
    positions = resolve_positions(root)  # type: ignore[arg-type]
    return {key: (r.start.line, r.start.column, r.end.line, r.end.column)
            for key, node in wanted.items() if (r := positions.get(node)) is not None}


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


def statements_holding(module: cst.Module, wanted: set[int]) -> dict[int, int]:
    """id(node) -> index of the top-level statement holding it, for the wanted nodes (a
    search that stops when all are found)."""
    found: dict[int, int] = {}
    remaining = set(wanted)
    for index, statement in enumerate(module.body):
        for node in descendants(statement):
            key = id(node)
            if key in remaining:
                found[key] = index
                remaining.discard(key)
                if not remaining:
                    return found
    return found


def descendants(root: Any) -> Iterator[Any]:
    """`root` and the nodes below it, iteratively, but punctuation and whitespace: never
    reported, so never entered."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        yield node
        for name in child_fields(type(node)):
            value: Any = getattr(node, name, None)
            kind = type(value)
            if kind in NODE_TYPES:
                if kind not in TOKENS:
                    stack.append(value)
            elif kind in SEQUENCES:
                stack.extend(v for v in value
                             if type(v) in NODE_TYPES and type(v) not in TOKENS)


def memoised_statement_lines(ctx: PythonContext) -> list[int] | None:
    """Memoised per file (the fixer reads them too)."""
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
