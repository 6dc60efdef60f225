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
