"""Human output: `path:line:col: CODE message`, a source excerpt with a caret, a summary."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from keyport_lint.report import line_start, printable

if TYPE_CHECKING:
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions

RESET, BOLD, RED, YELLOW, CYAN, DIM = "\033[0m", "\033[1m", "\033[31m", "\033[33m", "\033[36m", \
    "\033[2m"


def _c(text: str, code: str, on: bool) -> str:
    return f"{code}{text}{RESET}" if on else text


def render(result: RunResult, opts: ReportOptions) -> str:
    out: list[str] = []
    on = opts.color
    for f in result.findings:
        colour = RED if f.severity == "error" else YELLOW
        out.append(f"{_c(line_start(f.path), BOLD, on)}:{f.line}:{f.column}: "
                   f"{_c(printable(f.rule), colour + BOLD, on)} {printable(f.message)}")
        excerpt = result.excerpts.get((f.path, f.line))
        if opts.show_excerpts and not opts.quiet and excerpt is not None:
            start, end = result.carets.get((f.path, f.line, f.column), (f.column, f.end_column))
            end_line = f.line if (f.path, f.line, f.column) in result.carets else f.end_line
            out.extend(_excerpt(printable(excerpt), f.line, start, end_line, end, on))
    if opts.statistics:
        counts = Counter(f.rule for f in result.findings)
        names = {f.rule: f.name for f in result.findings}
        if out:
            out.append("")
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"{count:5d}  {printable(code)}  {printable(names[code])}")
    if not opts.quiet:
        errors = sum(1 for f in result.findings if f.severity == "error")
        warnings = len(result.findings) - errors
        if result.findings:
            out.append(_c(f"Found {len(result.findings)} finding"
                          f"{'s' if len(result.findings) != 1 else ''} "
                          f"({errors} error{'s' if errors != 1 else ''}, "
                          f"{warnings} warning{'s' if warnings != 1 else ''}) "
                          f"in {result.files} file{'s' if result.files != 1 else ''}.", BOLD, on))
        else:
            out.append(f"All checks passed ({result.files} file"
                       f"{'s' if result.files != 1 else ''}).")
        if opts.baseline is not None and opts.baselined:
            out.append(f"{opts.baselined} finding{'s' if opts.baselined != 1 else ''} "
                       f"in the baseline {printable(opts.baseline)} not shown.")
    return "\n".join(out) + ("\n" if out else "")


def _excerpt(line_text: str, line: int, col: int, end_line: int, end_col: int,
             on: bool) -> list[str]:
    text = line_text.replace("\t", "    ").rstrip()
    if len(text) > 200:  # keep long minified lines readable
        start = max(col - 60, 0)
        text = ("…" if start else "") + text[start:start + 160] + "…"
        col = col - start + (1 if start else 0)
        end_col = min(end_col - start + (1 if start else 0), len(text) + 1)
    gutter = str(line)
    pad = " " * len(gutter)
    width = (end_col - col) if end_line == line and end_col > col else 1
    width = max(1, min(width, max(len(text) - col + 1, 1)))
    return [
        _c(f"{pad} |", DIM, on),
        _c(f"{gutter} | ", DIM, on) + text,
        _c(f"{pad} | ", DIM, on) + " " * (col - 1) + _c("^" * width, CYAN, on),
    ]
