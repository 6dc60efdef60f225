"""One line per finding (`path:line:col: CODE [severity] message`), then the verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyport_lint.report.text import _finish, headline

if TYPE_CHECKING:
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions


def render(result: RunResult, opts: ReportOptions) -> str:
    out = [] if opts.statistics else [headline(f, opts.color, unsafe=opts.unsafe_fixes)
                                      for f in result.findings]
    if opts.quiet and not opts.statistics:
        return "\n".join(out) + ("\n" if out else "")
    if out:
        out.append("")
    return _finish(out, result, opts)
