"""Applying fixes to one text: order them, skip those that overlap an earlier one (the next
pass re-lints and picks them up), re-parse, and never keep a result that does not parse."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from keyport_lint.context import LINE_BREAK
from keyport_lint.finding import Edit, Finding

Interval = tuple[int, int]


@dataclass
class Applied:
    text: str
    applied: list[Finding] = field(default_factory=list)
    deferred: list[Finding] = field(default_factory=list)  # overlapped: next pass
    broken: list[Finding] = field(default_factory=list)  # result would not parse: dropped


def line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [m.end() for m in LINE_BREAK.finditer(text)]
    return starts


def offset(starts: list[int], text: str, line: int, column: int) -> int:
    if line < 1:
        raise ValueError("edit before the start of the text")
    if line > len(starts):  # one past the last line: the very end
        return len(text)
    return min(starts[line - 1] + column - 1, len(text))


def intervals(text: str, edits: tuple[Edit, ...], starts: list[int] | None = None
              ) -> list[tuple[int, int, str]]:
    starts = starts if starts is not None else line_starts(text)
    out = []
    for e in edits:
        a = offset(starts, text, e.line, e.column)
        b = offset(starts, text, e.end_line, e.end_column)
        if b < a:
            raise ValueError("edit ends before it starts")
        out.append((a, b, e.content))
    return out


def splice(text: str, pieces: list[tuple[int, int, str]]) -> str:
    out = []
    last = 0
    for a, b, content in sorted(set(pieces), key=lambda p: (p[0], p[1])):
        out.append(text[last:a])
        out.append(content)
        last = b
    out.append(text[last:])
    return "".join(out)


def _overlaps(mine: list[tuple[int, int, str]], taken: set[tuple[int, int, str]]) -> bool:
    for a, b, content in mine:
        for c, d, other in taken:
            if (a, b, content) == (c, d, other):
                continue  # the same edit (`import os` from two fixes): made once
            if a < d and c < b:
                return True
            if a == b == c == d or (a == b and c < a < d) or (c == d and a < c < b):
                return True
    return False


def parses(text: str) -> bool:
    from keyport_lint.pipeline.parse import ParseFailure, parse_python

    try:
        parse_python(text)
    except ParseFailure:
        return False
    except Exception:  # libcst may raise other errors on odd input; not parseable for us
        return False
    return True


def apply_fixes(text: str, findings: list[Finding]) -> Applied:
    """Apply every given finding's fix that fits (the caller chose which may apply)."""
    result = Applied(text)
    starts = line_starts(text)
    taken: set[tuple[int, int, str]] = set()
    chosen: list[tuple[Finding, list[tuple[int, int, str]]]] = []
    ordered = sorted((f for f in findings if f.fix is not None and f.fix.edits),
                     key=lambda f: (min((e.line, e.column) for e in f.fix.edits),  # type: ignore[union-attr]
                                    f.sort_key()))
    for finding in ordered:
        assert finding.fix is not None
        try:
            mine = intervals(text, finding.fix.edits, starts)
        except ValueError:
            result.broken.append(finding)
            continue
        if _overlaps(mine, taken):
            result.deferred.append(finding)
            continue
        chosen.append((finding, mine))
        taken.update(mine)
    if not chosen:
        return result
    new = splice(text, [p for _, pieces in chosen for p in pieces])
    if not parses(new):  # find the culprits: each fix alone on the original text
        good = []
        for finding, pieces in chosen:
            if parses(splice(text, pieces)):
                good.append((finding, pieces))
            else:
                result.broken.append(finding)
        if good and not parses(new := splice(text, [p for _, ps in good for p in ps])):
            result.deferred.extend(f for f, _ in good[1:])
            good = good[:1]
            new = splice(text, good[0][1])
        chosen = good
    if not chosen:
        return result
    result.text = new
    result.applied = [f for f, _ in chosen]
    return result


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file in one step (a crash leaves the old or the new file, never half),
    keeping its permission bits."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keyport-lint-fix-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
