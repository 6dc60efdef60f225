"""Inline suppressions: `# keyport-lint: ignore[KP201, KP202]` at the end of the reported line
(it covers that line only, never the next), or alone on the line above it (it covers the next
line). A bare `ignore` is KP902; a listed code that silenced nothing is KP901."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.finding import Finding

MARKER = "keyport-lint"
PATTERN = re.compile(
    r"(?:#|//|<!--|/\*|;)\s*keyport-lint\s*:\s*ignore\b(?P<bracket>\[(?P<codes>[^\]]*)\]?)?",
    re.IGNORECASE,
)
CODE = re.compile(r"\A[A-Z][A-Z0-9]*[0-9]{3}\Z")
# a comment in the checked file cannot hide that the linter failed on it
UNSUPPRESSIBLE = frozenset({"KP903"})


@dataclass
class Suppression:
    line: int
    column: int
    codes: tuple[str, ...]
    raw_ok: bool = True
    problem: str = ""
    used: set[str] = field(default_factory=set)
    alone: bool = False  # alone on its line: covers the next line; trailing: its own only


def _python_comments(text: str) -> list[tuple[int, int, str, bool]] | None:
    """(line, column offset, text, alone on its line) of each real comment; None when the
    file does not tokenize (then every line is searched, as for text files)."""
    import io
    import tokenize

    comments = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and MARKER in tok.string.lower():
                comments.append((tok.start[0], tok.start[1], tok.string,
                                 not tok.line[:tok.start[1]].strip()))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return comments


def find_suppressions(text: str, lines: list[str], kind: str = "text") -> list[Suppression]:
    """Suppressions in comments. In Python only real comments count, so a string that
    mentions the syntax (docs, tests of the linter) suppresses nothing."""
    if MARKER not in text.lower():
        return []
    candidates: list[tuple[int, int, str, bool]] | None = None
    if kind == "python":
        candidates = _python_comments(text)
    whole_lines = candidates is None
    if candidates is None:  # text files, untokenizable Python: whole lines are searched
        candidates = [(number, 0, line, False) for number, line in enumerate(lines, start=1)
                      if MARKER in line.lower()]
    found = []
    for number, offset, line, comment_alone in candidates:
        for match in PATTERN.finditer(line):
            column = offset + match.start() + 1
            alone = not line[:match.start()].strip() if whole_lines else comment_alone
            if match.group("bracket") is None:
                found.append(Suppression(number, column, (), False,
                                         "name the codes it silences, e.g. ignore[KP201]"))
                continue
            raw = match.group("codes") or ""
            codes = tuple(c.strip().upper() for c in raw.split(",") if c.strip())  # any case
            bad = [c for c in codes if not CODE.match(c)]
            if not codes or bad or not match.group("bracket").endswith("]"):
                found.append(Suppression(number, column, codes, False,
                                         f"malformed code list [{raw[:40]}]"))
                continue
            found.append(Suppression(number, column, codes, alone=alone))
    return found


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression]
                       ) -> list[Finding]:
    """Drop suppressed findings and mark which suppression codes were used."""
    if not suppressions:
        return findings
    by_line: dict[int, list[Suppression]] = {}
    for sup in suppressions:
        if sup.raw_ok:
            by_line.setdefault(sup.line, []).append(sup)
            if sup.alone:
                by_line.setdefault(sup.line + 1, []).append(sup)
    kept = []
    for finding in findings:
        if finding.rule in UNSUPPRESSIBLE:
            kept.append(finding)
            continue
        hit = None
        for sup in by_line.get(finding.line, []):
            if finding.rule in sup.codes:
                hit = sup
                break
        if hit is None:
            kept.append(finding)
        else:
            hit.used.add(finding.rule)
    return kept
