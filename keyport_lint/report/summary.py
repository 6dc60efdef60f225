"""The one-sentence verdict every text format ends with, and the CLI repeats on stderr when
the report goes to a file. It says "All checks passed" only when files were checked, nothing
failed and nothing was found."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions


def plural(count: int, word: str, suffix: str = "s") -> str:
    return f"{count:,} {word}{suffix if count != 1 else ''}"


def verdict(result: RunResult) -> str:
    files = plural(result.files, "file")
    findings = result.findings
    errors = sum(1 for f in findings if f.severity == "error")
    with_findings = len({f.path for f in findings})
    run_errors = ""
    if result.errors:
        run_errors = f"; the run had {plural(len(result.errors), 'error')}, so it is incomplete"
    if findings:
        return (f"Found {plural(len(findings), 'finding')} ({plural(errors, 'error')}, "
                f"{plural(len(findings) - errors, 'warning')}) in "
                f"{plural(with_findings, 'file')}; {files} checked{run_errors}.")
    if result.files == 0:
        return "Nothing checked (0 files)."
    if result.errors:
        return f"No findings in {files} checked{run_errors}."
    return f"All checks passed ({files} checked)."


def fixable(findings: list[Finding], unsafe: bool) -> str | None:
    """"N fixable with --fix (M more with --unsafe-fixes)", or None when nothing is."""
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
    risky = sum(1 for f in findings if f.fix is not None and f.fix.applicability != "safe")
    if unsafe:
        safe, risky = safe + risky, 0
    if not safe and not risky:
        return None
    flag = "--fix --unsafe-fixes" if unsafe else "--fix"
    more = f" ({risky:,} more with --unsafe-fixes)" if risky else ""
    return f"{safe:,} fixable with {flag}{more}."


def shown_fixable(finding: Finding, unsafe: bool) -> bool:
    """Does `[*]` mark this finding: a fix `--fix` (with the current unsafe setting) applies?"""
    return finding.fix is not None and (unsafe or finding.fix.applicability == "safe")


def notes(opts: ReportOptions) -> list[str]:
    """What the baseline did: findings it hid, entries that no longer match anything."""
    out = []
    if opts.baseline is not None and opts.baselined:
        out.append(f"{plural(opts.baselined, 'finding')} in the baseline {opts.baseline} "
                   "not shown.")
    if opts.baseline is not None and opts.stale:
        one = opts.stale == 1
        out.append(f"{opts.stale:,} baseline {'entry' if one else 'entries'} in "
                   f"{opts.baseline} no longer {'matches' if one else 'match'} a finding "
                   f"(fixed, or the file changed); `keyport-lint baseline --update --output "
                   f"{opts.baseline}` drops {'it' if one else 'them'}.")
    return out


def statistics(findings: list[Finding]) -> list[tuple[str, str, int, str]]:
    """(code, name, count, severity) per code, most frequent first."""
    counts = Counter(f.rule for f in findings)
    first: dict[str, Finding] = {}
    for f in findings:
        first.setdefault(f.rule, f)
    return [(code, first[code].name, count, first[code].severity)
            for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
