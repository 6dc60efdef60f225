"""Output for people, ruff-like.

`path:line:col: CODE [severity] diagnosis`, the source excerpt with a caret, then
`= help: the fix` (wrapped at word boundaries), a blank line between findings, and a verdict
that counts the files with findings and the files checked. The severity is a word, so it shows
without colour (pre-commit, NO_COLOR, CI logs). `--statistics` prints only the counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyport_lint.report import line_start, printable
from keyport_lint.report.summary import fixable, notes, shown_fixable, statistics, verdict

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions

RESET, BOLD, RED, YELLOW, CYAN, DIM = "\033[0m", "\033[1m", "\033[31m", "\033[33m", "\033[36m", \
    "\033[2m"


def _c(text: str, code: str, on: bool) -> str:
    return f"{code}{text}{RESET}" if on else text


def headline(f: Finding, on: bool, where: str | None = None, unsafe: bool = False) -> str:
    """`path:line:col: CODE [*] [severity] message` (or `where` instead of the location);
    `[*]`: `--fix` repairs it."""
    colour = RED if f.severity == "error" else YELLOW
    location = where if where is not None else \
        f"{_c(line_start(f.path), BOLD, on)}:{f.line}:{f.column}:"
    star = f" {_c('[*]', CYAN, on)}" if shown_fixable(f, unsafe) else ""
    return (f"{location} {_c(printable(f.rule), colour + BOLD, on)}{star} "
            f"{_c('[' + f.severity + ']', colour, on)} {printable(f.message)}")


def render(result: RunResult, opts: ReportOptions) -> str:
    if opts.quiet and not opts.statistics:
        return body_concise(result, opts)
    out = [] if opts.statistics else body_full(result, opts)
    return _finish(out, result, opts)


def body_full(result: RunResult, opts: ReportOptions) -> list[str]:
    out: list[str] = []
    on = opts.color
    for f in result.findings:
        out.append(headline(f, on, unsafe=opts.unsafe_fixes))
        excerpt = result.excerpts.get((f.path, f.line))
        pad = " " * len(str(f.line))
        if opts.show_excerpts and excerpt is not None:
            start, end = result.carets.get((f.path, f.line, f.column), (f.column, f.end_column))
            end_line = f.line if (f.path, f.line, f.column) in result.carets else f.end_line
            out.extend(_excerpt(printable(excerpt), f.line, start, end_line, end, on))
        if f.help:
            out.extend(help_lines(printable(f.help), pad, opts.width, on))
        out.append("")
    return out


def help_lines(text: str, pad: str, width: int, on: bool) -> list[str]:
    import textwrap  # only reports with findings wrap help text

    lead = f"{pad} = "
    lines = textwrap.wrap(text, width=max(width - len(lead) - 6, 40), break_long_words=False,
                          break_on_hyphens=False)
    first, rest = (lines[0], lines[1:]) if lines else ("", [])
    out = [_c(lead, DIM, on) + _c("help:", CYAN + BOLD, on) + " " + first]
    out += [" " * (len(lead) + 6) + line for line in rest]
    return out


def body_concise(result: RunResult, opts: ReportOptions) -> str:
    lines = [headline(f, opts.color, unsafe=opts.unsafe_fixes) for f in result.findings]
    return "\n".join(lines) + ("\n" if lines else "")


def _finish(out: list[str], result: RunResult, opts: ReportOptions) -> str:
    """Statistics (when asked), run errors (in a report file), the verdict and notes."""
    on = opts.color
    if opts.statistics:
        for code, name, count, severity in statistics(result.findings):
            out.append(f"{count:5d}  {_c(printable(code), BOLD, on)}  [{severity}]  "
                       f"{printable(name)}")
        if opts.quiet:
            return "\n".join(out) + ("\n" if out else "")
        if result.findings:
            out.append("")
    if opts.include_errors:
        out += [f"error: {printable(e)}" for e in result.errors]
    out.append(_c(verdict(result), BOLD, on) if result.findings or result.errors
               else verdict(result))
    hint = None if opts.statistics else fixable(result.findings, opts.unsafe_fixes)
    if hint is not None:
        out.append(hint)
    out += notes(opts)
    return "\n".join(out) + "\n"


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
