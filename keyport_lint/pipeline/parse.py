"""Parse once with libcst, imported here and only here on the hot path, so files the
pre-filter rejected never pay for it."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

# A parsed module is tens of thousands of container objects, alive until its file is done and
# then freed by reference counting (contexts drop their memoised analyses, `FileContext.let_go`).
# With CPython's default thresholds (700, 10, 10) every tree is traversed by the young
# collections and again by full ones (a quarter of the CPU on KeyPort-dense code); as mypy
# does, a process that parses collects after 200,000 net new objects instead, which still
# bounds what reference cycles can hold.
GC_THRESHOLDS = (200_000, 30, 30)


class ParseFailure(Exception):
    """Carries only a position: libcst's own message quotes the source line (maybe a key)."""

    def __init__(self, line: int | None, column: int | None, what: str = "syntax error") -> None:
        self.line, self.column, self.what = line, column, what
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"{what}{where}")


def parse_python(text: str, max_lines: int | None = None) -> cst.Module:
    """The module, or ParseFailure; code nested beyond what the native parser survives
    (`depth.py`) never reaches it."""
    import libcst as cst

    from keyport_lint.pipeline.depth import TooDeep, check_depth

    if gc.get_threshold()[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*GC_THRESHOLDS)

    try:
        check_depth(text, max_lines)
    except TooDeep as exc:
        raise ParseFailure(None, None, str(exc)) from None
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        line, column = cpython_position(text) or (exc.raw_line, exc.raw_column + 1)
        raise ParseFailure(line, column) from None
    except RecursionError:
        raise ParseFailure(None, None, "code nested too deeply to parse") from None
    except Exception as exc:  # libcst's native parser has raised other types on odd input
        raise ParseFailure(None, None, f"parser failed ({type(exc).__name__})") from None


def cpython_position(text: str) -> tuple[int, int] | None:
    """Where CPython's own compiler puts the syntax error (libcst reports where its parser gave
    up, often a line later): the line an editor or `python file.py` shows. Only the position is
    kept; the message, which quotes source, is dropped."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<checked file>", "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        if exc.lineno:
            return exc.lineno, max(exc.offset or 1, 1)
    except (RecursionError, MemoryError, ValueError):
        pass
    return None
