"""Output formats. A format named `sarif` lives in sarif.py and defines `render(result, opts)`.

Every format reads the RunResult, whose messages and excerpts the run already redacted.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.config import Config
    from keyport_lint.pipeline.run import RunResult

# text, concise and grouped are for people; the others for machines
FORMATS = ("text", "concise", "grouped", "json", "sarif", "github", "junit")
PEOPLE = ("text", "concise", "grouped")


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
