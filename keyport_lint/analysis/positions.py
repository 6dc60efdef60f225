"""Positions of reported nodes, paid for only where a finding sits.

libcst computes positions by generating the code of the whole module with position tracking
(a position object for every node, a context manager for every syntactic range), which costs
more than the parse. Findings sit in a few top-level statements, so:

- the first line of every top-level statement comes from `ast` (its parser is written in C and
  about 30 times faster than libcst's);
- each top-level statement holding a node asked about is generated once per file by libcst's
  own code generation, with a state that records every node's range as token counts (turned
  into lines and columns at the end; columns are the same as in the whole module, since a
  top-level statement starts at column 0). The table (`ModulePositions`) is shared: the
  report, the taint summaries and the fixer read the same generations.

Lines and columns are exactly libcst's `PositionProvider`'s (a test compares every node of
every fixture). Where `ast` cannot follow (syntax newer than the running Python, statements
that do not line up), the whole module is generated the same way, once.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import sys
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from keyport_lint.analysis.fastvisit import TOKENS

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.analysis.units import Unit
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
    out. The file's table once its findings are being placed (`PythonContext.finish`, then
    the fixer); before that (a taint summary for an importer) a table of its own, so the
    project index's parsed modules keep no position tables."""
    table = ctx.memoised(module_positions)
    return (table if table is not None else module_positions(ctx)).spans(nodes)


def module_positions(ctx: PythonContext) -> ModulePositions:
    """The file's one position table: the report, the taint summaries and the fixer read the
    same statement generations (memoised per file)."""
    table = ModulePositions(ctx.module, ctx.text)
    table.context = ctx
    table._top = ctx.analysis(_top_units)  # one `ast` parse per file, summaries included
    return table


def _top_units(ctx: PythonContext) -> list[Unit] | None:
    from keyport_lint.analysis.units import top_units

    return top_units(ctx.module, ctx.text)


class ModulePositions:
    """Positions of the nodes of the statements asked about, each generated once: the
    innermost statement of an indented block holding a node (`units.py`), so a finding in a
    function does not generate the whole function. What the report places and what the fixer
    searches come from the same passes. Spans are (line, column from 0, end line, end
    column); a generation keeps token counts and turns only the ranges asked for into lines
    and columns."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text
        self._top: list[Unit] | bool | None = False  # False: not lined up yet
        self._starts: list[int] | bool | None = False
        self._children: dict[int, dict[int, Unit]] = {}  # id(unit node) -> its units by id
        self.context: PythonContext | None = None  # whose `walks` a whole-module pass counts
        self.generated: dict[int, _Generated] = {}  # id(unit node or module) -> pass
        self._where: dict[int, _Generated] = {}
        self.whole_passes = 0

    def top(self) -> list[Unit] | None:
        """A unit per top-level statement, or None (then: the whole module)."""
        if self._top is False:
            from keyport_lint.analysis.units import top_units

            self._top = top_units(self.module, self.text)
        return self._top  # type: ignore[return-value]

    def starts(self) -> list[int] | None:
        """The first line of every top-level statement, or None (built once)."""
        if self._starts is False:
            top = self.top()
            self._starts = None if top is None else [unit.line for unit in top]
        return self._starts  # type: ignore[return-value]

    def spans(self, nodes: Iterable[Any]) -> dict[int, Span]:
        wanted = {id(n): n for n in nodes}
        out = self._lookup(wanted)
        if len(out) < len(wanted):
            self.resolve({key for key in wanted if key not in out})
            out = self._lookup(wanted)
        return out

    def _lookup(self, wanted: dict[int, Any]) -> dict[int, Span]:
        out: dict[int, Span] = {}
        where = self._where
        for key, node in wanted.items():
            generated = where.get(key)
            if generated is not None:
                start, end, found = generated.computed[key]
                if found is node:
                    out[key] = generated.span(start, end)
        return out

    def resolve(self, unknown: set[int]) -> None:
        """Generate the innermost units holding these nodes (one search for all of them);
        the whole module when `ast` cannot line statements up or a node is outside them."""
        top = self.top()
        if top is not None:
            from keyport_lint.analysis.units import holding

            found = holding(self.module, unknown)
            units = {}
            for index, chain in found.values():
                unit = self._innermost(top[index], chain)
                units[id(unit.node)] = unit
            for unit in units.values():
                self.generate(unit)
            unknown = unknown - found.keys()
        if unknown:
            self.generate(None)

    def _innermost(self, unit: Unit, chain: tuple[Any, ...]) -> Unit:
        for statement in chain[1:]:
            inner = self._units_in(unit).get(id(statement))
            if inner is None:
                break
            unit = inner
        return unit

    def _units_in(self, unit: Unit) -> dict[int, Unit]:
        found = self._children.get(id(unit.node))
        if found is None:
            from keyport_lint.analysis.units import children

            found = self._children[id(unit.node)] = {
                id(u.node): u for u in children(unit, self.module.default_indent)}
        return found

    def generate(self, unit: Unit | None) -> _Generated:
        """The pass over one unit (None: the whole module), made once."""
        root: Any = self.module if unit is None else unit.node
        found = self.generated.get(id(root))
        if found is not None:
            return found
        if unit is None:
            self.whole_passes += 1
            if self.context is not None:
                self.context.walks += 1
            found = _generate(self.module, root)
        else:
            found = _generate(self.module, root, unit.shift, unit.indents)
        self.generated[id(root)] = found
        # id(node) -> its pass, for every node (a dict built in C; a node generated twice,
        # in a statement and in one holding it, has the same span in both)
        self._where.update(dict.fromkeys(found.computed, found))
        return found

    def covering(self, first_line: int, last_line: int) -> list[Unit | None]:
        """The innermost units whose lines hold these lines: one statement, or the top-level
        statements they span ([None]: the whole module, when `ast` cannot say)."""
        top, starts = self.top(), self.starts()
        if top is None or starts is None:
            return [None]
        low = max(bisect.bisect_right(starts, first_line) - 1, 0)
        high = max(bisect.bisect_right(starts, last_line) - 1, 0)
        units = top[low:high + 1]
        if len(units) != 1:
            return list(units)
        unit = units[0]
        while True:
            inner = next((u for u in self._units_in(unit).values()
                          if u.line <= first_line and last_line <= u.end_line), None)
            if inner is None:
                return [unit]
            unit = inner

    def nodes_of(self, unit: Unit | None, kind: type | tuple[type, ...]
                 ) -> list[tuple[Span, Any]]:
        """Every node of `kind` of a unit, punctuation and whitespace aside, with its span,
        in the order libcst's position pass records them."""
        generated = self.generate(unit)
        return [(generated.span(start, end), node)
                for start, end, node in generated.computed.values()
                if type(node) not in TOKENS and isinstance(node, kind)]


class _Generated:
    """One statement's pass: every node's range as token counts, turned into lines and
    columns on demand."""

    __slots__ = ("_ends", "_offsets", "_where", "computed", "shift", "tokens")

    def __init__(self, tokens: list[str], computed: dict[int, tuple[int, int, Any]],
                 shift: int) -> None:
        self.tokens = tokens
        self.computed = computed
        self.shift = shift
        self._offsets: list[int] | None = None
        self._ends: list[int] = []
        self._where: dict[int, tuple[int, int]] | None = None  # text with "\r": all at once

    def span(self, start: int, end: int) -> Span:
        line, column = self._at(start)
        end_line, end_column = self._at(end)
        return line + self.shift, column, end_line + self.shift, end_column

    def _at(self, count: int) -> tuple[int, int]:
        """(line, column) after `count` tokens, as libcst's position pass counts them."""
        if self._offsets is None:
            text = "".join(self.tokens)
            if "\r" in text:  # "\r" + "\n" may be split over two tokens: counted in order
                counts = sorted({c for start, end, _ in self.computed.values()
                                 for c in (start, end)})
                self._where = dict(zip(counts, _line_columns(self.tokens, counts)))
            self._offsets = list(accumulate(map(len, self.tokens), initial=0))
            self._ends = [m.end() for m in _NEWLINE.finditer(text)]
        if self._where is not None:
            return self._where[count]
        offset = self._offsets[count]
        k = bisect.bisect_right(self._ends, offset)
        return k + 1, offset - (self._ends[k - 1] if k else 0)


# -- the position pass ---------------------------------------------------------------------------
_NEWLINE = re.compile(r"\r\n?|\n")


class _Closer:
    """The end of a syntactic range: one shared context manager, ranges kept on a stack
    (libcst's `record_syntactic_position` is a generator context manager per node). It
    holds the state's containers, not the state: no reference cycle keeps a pass alive."""

    __slots__ = ("computed", "ranges", "tokens")

    def __init__(self, tokens: list[str], computed: dict[int, tuple[int, int, Any]],
                 ranges: list[tuple[Any, Any, Any, int]]) -> None:
        self.tokens, self.computed, self.ranges = tokens, computed, ranges

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        node, start_node, end_node, start = self.ranges.pop()
        computed = self.computed
        if start_node is not None:  # hoisted from a child, as libcst does
            start = computed[id(start_node)][0]
        end = computed[id(end_node)][1] if end_node is not None else len(self.tokens)
        computed[id(node)] = (start, end, node)


class _TrackingState:
    """A libcst `CodegenState` that records every node's range as token counts (libcst's
    `PositionProvider` builds two position objects per node and a generator context manager
    for every syntactic range: most of the cost of its pass)."""

    def __init__(self, default_indent: str, default_newline: str) -> None:
        self.default_indent = default_indent
        self.default_newline = default_newline
        self.provider = None
        self.indent_tokens: list[str] = []
        self.tokens: list[str] = []
        # id(node) -> (start, end, node), in the order libcst's pass records them
        self.computed: dict[int, tuple[int, int, Any]] = {}
        self.ranges: list[tuple[Any, Any, Any, int]] = []
        self._open: list[int] = []
        self._closer = _Closer(self.tokens, self.computed, self.ranges)

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
        self._open.append(len(self.tokens))

    def after_codegen(self, node: Any) -> None:
        start = self._open.pop()
        key = id(node)
        if key not in self.computed:  # a syntactic range recorded inside wins
            self.computed[key] = (start, len(self.tokens), node)

    def record_syntactic_position(self, node: Any, *, start_node: Any = None,
                                  end_node: Any = None) -> _Closer:
        self.ranges.append((node, start_node, end_node, len(self.tokens)))
        return self._closer


def _generate(module: cst.Module, root: Any, shift: int = 0,
              indents: tuple[str, ...] = ()) -> _Generated:
    """Every node of `root` (a top-level statement of `module`, or the module), counted
    from line 1 + `shift`, column 0 at the start of `root`: exactly what libcst's
    `PositionProvider` gives over a module holding `root` alone, in the order it records
    them."""
    state = _TrackingState(module.default_indent, module.default_newline)
    state.indent_tokens.extend(indents)  # the blocks around a nested statement
    try:
        with deeper_recursion():
            root._codegen(state)
    except KeyError:  # a hoisted position this pass did not see: libcst's own pass
        if indents:  # cannot happen (every node is recorded): a nested statement has no
            raise  # module of its own to hand libcst
        return _libcst_spans(module, root, shift)
    return _Generated(state.tokens, state.computed, shift)


def statement_spans(module: cst.Module, root: cst.CSTNode,
                    nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Spans, by `id(node)`, of the given nodes inside `root` (a top-level statement of
    `module`, or the module itself), counted from the start of `root`, in the order
    libcst's pass records them."""
    wanted = {id(n) for n in nodes}
    generated = _generate(module, root)
    out = {}
    for key, (start, end, _) in generated.computed.items():
        if key in wanted:
            out[key] = generated.span(start, end)
    return out


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


def _libcst_spans(module: cst.Module, root: Any, shift: int) -> _Generated:
    """libcst's own positions, as a pass of one token per line and column (spans are kept
    as (line, column) pairs, never counted)."""
    if root is not module:
        root = module.with_changes(body=[root], header=[], footer=[])
    generated = _Generated([], {}, shift)
    where: dict[int, tuple[int, int]] = {}
    for node, r in resolve_positions(root).items():
        start, end = len(where), len(where) + 1
        where[start], where[end] = (r.start.line, r.start.column), (r.end.line, r.end.column)
        generated.computed[id(node)] = (start, end, node)
    generated._offsets, generated._where = [], where
    return generated


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
