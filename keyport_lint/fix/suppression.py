"""KP901 (safe): an unused suppression removed (its code list trimmed, or the comment
dropped); KP902 (safe): a bare `# keyport-lint: ignore` given the codes it would silence.

Both edit only the linter's own comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyport_lint.finding import Edit, Fix
from keyport_lint.suppress import PATTERN

if TYPE_CHECKING:
    import re

    from keyport_lint.finding import Finding
    from keyport_lint.fix.base import FixContext
    from keyport_lint.suppress import Suppression


def _comment(finding: Finding, fc: FixContext) -> tuple[Suppression, re.Match[str]] | None:
    for sup in fc.suppressions:
        if (sup.line, sup.column) == (finding.line, finding.column):
            if not 0 < sup.line <= len(fc.lines):
                return None
            match = PATTERN.match(fc.lines[sup.line - 1], sup.column - 1)
            return (sup, match) if match is not None else None
    return None


def fix_unused(finding: Finding, fc: FixContext) -> Fix | None:
    found = _comment(finding, fc)
    if found is None:
        return None
    sup, match = found
    unused = {c for c in sup.codes if c not in sup.used and c != "KP901"
              and fc.cfg.is_enabled(c) and not any(c.startswith(p) for p in fc.file_ignores)}
    keep = [c for c in sup.codes if c not in unused]
    if not unused:
        return None
    line = fc.lines[sup.line - 1]
    if keep:
        start = match.start("codes") + 1
        end = match.end("codes") + 1
        return Fix("safe", f"Remove unused {', '.join(sorted(unused))} from the suppression",
                   (Edit(sup.line, start, sup.line, end, ", ".join(keep)),))
    return Fix("safe", "Remove the unused suppression", (_drop(fc, sup.line, match, line),))


def _drop(fc: FixContext, number: int, match: re.Match[str], line: str) -> Edit:
    start, end = match.start(), match.end()
    rest = line[end:]
    if rest.strip():  # another comment follows the suppression on this line
        gap = len(rest) - len(rest.lstrip(" \t"))
        if rest.lstrip(" \t").startswith("#"):
            return Edit(number, start + 1, number, end + gap + 1, "")
        return Edit(number, start + 1, number, end + 1, "#")
    before = line[:start].rstrip(" \t")
    if before:
        return Edit(number, len(before) + 1, number, len(line) + 1, "")
    if number < len(fc.lines):  # the comment alone on its line: drop the line
        return Edit(number, 1, number + 1, 1, "")
    return Edit(number, 1, number, len(line) + 1, "")


def fix_bare(finding: Finding, fc: FixContext) -> Fix | None:
    found = _comment(finding, fc)
    if found is None:
        return None
    sup, match = found
    if match.group("bracket") is not None:
        return None  # a malformed or unknown code list: which codes were meant is unclear
    codes = sorted({f.rule for f in fc.unsuppressed
                    if f.line in (sup.line, sup.line + 1) and not f.rule.startswith("KP9")})
    if not codes:
        return Fix("safe", "Remove the suppression that silences nothing",
                   (_drop(fc, sup.line, match, fc.lines[sup.line - 1]),))
    end = match.end() + 1
    return Fix("safe", f"Name the codes: ignore[{', '.join(codes)}]",
               (Edit(sup.line, end, sup.line, end, f"[{', '.join(codes)}]"),))
