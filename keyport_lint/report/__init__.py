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

FORMATS = ("text", "json", "sarif", "github", "junit")


@dataclass
class ReportOptions:
    config: Config
    color: bool = False
    quiet: bool = False
    statistics: bool = False
    show_excerpts: bool = True
    baseline: str | None = None  # the baseline file in use, if any
    baselined: int = 0  # findings the baseline absorbed (not in the result)
    extra: dict[str, object] = field(default_factory=dict)


def render(fmt: str, result: RunResult, opts: ReportOptions) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(result, opts)
