"""Run-level errors: a bad config or rule file stops the run with exit 2 and one clear line."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user must fix (config, rule file, usage); shown without a traceback."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


TIMEOUT_SECONDS = 1.0


class PatternTimeout(Exception):
    """A YAML pattern (built-in or the user's) that ran out of time on one text."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        super().__init__(f"pattern {pattern[:80]!r} ran longer than {TIMEOUT_SECONDS:g} s on one "
                         "text and was stopped; simplify it (nested or overlapping quantifiers "
                         "backtrack without end)")


class AnalysisFailed(Exception):
    """A shared analysis raised: every rule that asks for it fails the same way, the others run."""

    def __init__(self, name: str, cause: BaseException) -> None:
        self.name = name
        self.cause = cause
        super().__init__(f"{describe(cause)} in shared analysis {name}")


def debugging() -> bool:
    """KEYPORT_LINT_DEBUG=1: internal errors stop the run with their traceback."""
    import os

    return bool(os.environ.get("KEYPORT_LINT_DEBUG"))


def describe(exc: BaseException) -> str:
    """What went wrong, for a finding or stderr: the exception type and where it was raised,
    never its message (messages of parsers and analyses may quote source text)."""
    import traceback

    if isinstance(exc, AnalysisFailed):
        return str(exc)
    if isinstance(exc, PatternTimeout):
        return (f"a pattern ran longer than {TIMEOUT_SECONDS:g} s and was stopped; simplify it "
                "(nested or overlapping quantifiers backtrack without end)")
    if isinstance(exc, RecursionError):
        return "RecursionError: code nested too deeply to follow"
    if isinstance(exc, MemoryError):
        return "MemoryError: out of memory"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    frame = frames[-1]
    return f"{type(exc).__name__} at {frame.filename.replace(chr(92), '/').rsplit('/', 1)[-1]}:" \
           f"{frame.lineno}"
