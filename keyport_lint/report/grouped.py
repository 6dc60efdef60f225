"""Findings grouped by file: the path once, then `line:col CODE [severity] message` lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyport_lint.report import line_start
from keyport_lint.report.text import BOLD, _c, _finish, headline

if TYPE_CHECKING:
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions


def render(result: RunResult, opts: ReportOptions) -> str:
    out: list[str] = []
    if not opts.statistics:
        on = opts.color
        current = None
        width = max((len(f"{f.line}:{f.column}") for f in result.findings), default=0)
        for f in result.findings:
            if f.path != current:
                if current is not None:
                    out.append("")
                out.append(_c(line_start(f.path), BOLD, on) + ":")
                current = f.path
            out.append("  " + headline(f, on, f"{f.line}:{f.column}".ljust(width),
                                      unsafe=opts.unsafe_fixes))
        if out:
            out.append("")
    if opts.quiet and not opts.statistics:
        return "\n".join(out) + ("\n" if out else "")
    return _finish(out, result, opts)
