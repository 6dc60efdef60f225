"""Output formats. A format named `sarif` lives in sarif.py and defines `render(result, opts)`.

Every format reads the RunResult, whose messages and excerpts the run already redacted.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from keyport_lint.settings import LazyPattern

if TYPE_CHECKING:
    from keyport_lint.config import Config
    from keyport_lint.pipeline.run import RunResult

# text, concise and grouped are for people; the others for machines
FORMATS = ("text", "concise", "grouped", "json", "sarif", "github", "junit")
PEOPLE = ("text", "concise", "grouped")

# control characters (terminal escapes, line breaks, bidi overrides) that a file name, a rule
# name or a source line could smuggle into a terminal or a CI log
_CONTROL = LazyPattern("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                       "\u202a-\u202e\u2066-\u2069]")
# a line a CI runner reads as a command: GitHub `::error ...::`, Azure `##vso[...]`
_COMMAND = LazyPattern(r"\A\s*(?:::|##\[|##vso\[)")


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (`\\x1b`, `\\n`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def line_start(text: str) -> str:
    """Printable, and never read as a workflow command at the start of a line."""
    text = printable(text)
    return f"./{text}" if _COMMAND.match(text) else text


class ReportOptions:
    """How to render a result. (A plain class: a dataclass costs every run a millisecond to
    define, and every run builds one of these.)"""

    def __init__(self, config: Config, color: bool = False, quiet: bool = False,
                 statistics: bool = False, show_excerpts: bool = True, width: int = 100,
                 include_errors: bool = False, baseline: str | None = None,
                 baselined: int = 0, stale: int = 0, extra: dict[str, object] | None = None,
                 unsafe_fixes: bool = False) -> None:
        self.config = config
        self.color, self.quiet, self.statistics = color, quiet, statistics
        self.show_excerpts = show_excerpts
        self.width = width  # help lines wrap at word boundaries to this width
        self.include_errors = include_errors  # text formats: list run-level errors (a file)
        self.baseline = baseline  # the baseline file in use, if any
        self.baselined = baselined  # findings the baseline absorbed (not in the result)
        self.stale = stale  # baseline entries for checked files that matched no finding
        self.extra: dict[str, object] = extra if extra is not None else {}
        self.unsafe_fixes = unsafe_fixes  # `[*]` and the fixable count include unsafe fixes

    def __repr__(self) -> str:
        return f"ReportOptions({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def render(fmt: str, result: RunResult, opts: ReportOptions) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(result, opts)
