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
