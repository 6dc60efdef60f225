"""Output formats. A format named `sarif` lives in sarif.py and defines `render(result, opts)`.

Every format reads the RunResult, whose messages and excerpts the run already redacted.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.config import Config
    from keyport_lint.pipeline.run import RunResult

# text, concise and grouped are for people; the others for machines
FORMATS = ("text", "concise", "grouped", "json", "sarif", "github", "junit")
PEOPLE = ("text", "concise", "grouped")

# control characters (terminal escapes, line breaks, bidi overrides) that a file name, a rule
# name or a source line could smuggle into a terminal or a CI log
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                      "\u202a-\u202e\u2066-\u2069]")
# a line a CI runner reads as a command: GitHub `::error ...::`, Azure `##vso[...]`
_COMMAND = re.compile(r"\A\s*(?:::|##\[|##vso\[)")


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (`\\x1b`, `\\n`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def line_start(text: str) -> str:
    """Printable, and never read as a workflow command at the start of a line."""
    text = printable(text)
    return f"./{text}" if _COMMAND.match(text) else text


@dataclass
class ReportOptions:
    config: Config
    color: bool = False
    quiet: bool = False
    statistics: bool = False
    show_excerpts: bool = True
    width: int = 100  # help lines wrap at word boundaries to this width
    include_errors: bool = False  # text formats: list run-level errors (a report file)
    baseline: str | None = None  # the baseline file in use, if any
    baselined: int = 0  # findings the baseline absorbed (not in the result)
    stale: int = 0  # baseline entries for checked files that matched no finding
    extra: dict[str, object] = field(default_factory=dict)
    unsafe_fixes: bool = False  # `[*]` and the fixable count include unsafe fixes


def render(fmt: str, result: RunResult, opts: ReportOptions) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(result, opts)
