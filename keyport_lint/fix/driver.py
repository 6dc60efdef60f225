"""`check --fix` / `--diff`: apply the allowed fixes of a run's findings file by file,
re-linting each fixed text (bounded passes) until no allowed fix applies, then write the files
atomically (`--fix`) or print a unified diff (`--diff`). The report that follows is of the
fixed texts: what remains."""

from __future__ import annotations

import difflib
import io
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.finding import Finding
from keyport_lint.fix.apply import apply_fixes, write_atomically

if TYPE_CHECKING:
    from keyport_lint.config import ConfigTree
    from keyport_lint.pipeline.run import RunResult

MAX_PASSES = 10


@dataclass
class FixPolicy:
    """Which fixes may apply: `--unsafe-fixes` (or config `unsafe-fixes: true`) adds the
    unsafe ones; config `fixable`/`unfixable` (codes or prefixes, as ruff has them) narrow
    both."""

    unsafe: bool = False
    fixable: tuple[str, ...] = ("",)
    unfixable: tuple[str, ...] = ()

    def allows_rule(self, code: str) -> bool:
        return any(code.startswith(p) for p in self.fixable) and not any(
            code.startswith(p) for p in self.unfixable)

    def allows(self, finding: Finding) -> bool:
        fix = finding.fix
        return fix is not None and self.allows_rule(finding.rule) and (
            fix.applicability == "safe" or self.unsafe)


@dataclass
class FixOutcome:
    fixed: int = 0  # findings whose fix was applied
    files: list[str] = field(default_factory=list)  # display paths changed
    diff: str = ""
    problems: list[str] = field(default_factory=list)  # dropped fixes, unwritable files


def encoding_of(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def fix_run(result: RunResult, tree: ConfigTree, policy_of: Callable[[Path], FixPolicy],
            write: bool, cwd: Path) -> FixOutcome:
    """Fix the files of `result` in place (`write`) or into a diff; `result` is updated to
    the findings of the fixed texts."""
    from keyport_lint.pipeline.buffer import absolute, run_buffer

    outcome = FixOutcome()
    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.path, []).append(finding)
    diffs = []
    for display in sorted(by_file):
        path = absolute(display, cwd)
        policy = policy_of(path)
        findings = by_file[display]
        if not any(policy.allows(f) for f in findings) or not path.is_file():
            continue
        if path.is_symlink():  # the link may lead anywhere, out of the project too
            outcome.problems.append(f"{display}: not fixed: it is a symbolic link")
            continue
        try:
            original = path.read_bytes()
        except OSError as exc:
            outcome.problems.append(f"{display}: cannot read: {exc.strerror}")
            continue
        encoding = encoding_of(original)
        try:
            text = before = original.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        # the edits must be computed on exactly these bytes (the file may have changed since
        # the run read it): check them once more, then fix
        latest = run_buffer(original, display, tree).result
        findings = latest.findings
        fixed = 0
        for _ in range(MAX_PASSES):
            applied = apply_fixes(text, [f for f in findings if policy.allows(f)])
            outcome.problems += _dropped(display, applied.broken, "the result would not parse")
            if not applied.applied:
                break
            fixed += len(applied.applied)
            text = applied.text
            latest = run_buffer(text.encode(encoding, "surrogateescape"), display, tree).result
            findings = latest.findings
            broken = {(f.rule, f.line, f.column) for f in applied.broken}
            findings = [f.with_(fix=None) if (f.rule, f.line, f.column) in broken else f
                        for f in findings]
        else:  # passes exhausted: what still overlaps is not applied
            outcome.problems += _dropped(display, [f for f in findings if policy.allows(f)],
                                         f"still overlaps another fix after {MAX_PASSES} passes")
        if text == before:
            continue
        if write:
            try:
                write_atomically(path, text.encode(encoding, "surrogateescape"))
            except OSError as exc:  # the file stays as it was, and so do its findings
                outcome.problems.append(f"{display}: cannot write: {exc.strerror}")
                continue
        else:
            diffs.append(unified(before, text, display))
        outcome.fixed += fixed
        outcome.files.append(display)
        _replace(result, display, latest)
    outcome.diff = "".join(diffs)
    return outcome


def _dropped(display: str, findings: list[Finding], why: str) -> list[str]:
    return [f"{display}:{f.line}:{f.column}: {f.rule} fix dropped: {why}" for f in findings]


def unified(before: str, after: str, display: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True),
                                 after.splitlines(keepends=True),
                                 fromfile=f"a/{display}", tofile=f"b/{display}")
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of "
                   "file\n")
    return "".join(out)


def _replace(result: RunResult, display: str, latest: RunResult) -> None:
    """The file's findings, excerpts and carets in `result` become those of the fixed text."""
    result.findings = sorted([f for f in result.findings if f.path != display]
                             + latest.findings, key=Finding.sort_key)
    result.excerpts = {k: v for k, v in result.excerpts.items() if k[0] != display}
    result.excerpts.update(latest.excerpts)
    result.carets = {k: v for k, v in result.carets.items() if k[0] != display}
    result.carets.update(latest.carets)
    result.errors.extend(latest.errors)


def fix_text(text: str, findings: list[Finding], policy: FixPolicy,
             recheck: Callable[[str], list[Finding]]) -> tuple[str, list[str]]:
    """One text fixed in memory (`--stdin-filename … --fix`): the fixed text and problems."""
    problems: list[str] = []
    for _ in range(MAX_PASSES):
        applied = apply_fixes(text, [f for f in findings if policy.allows(f)])
        problems += [p for f in applied.broken
                     for p in _dropped(f.path, [f], "the result would not parse")]
        if not applied.applied:
            break
        text = applied.text
        findings = recheck(text)
    return text, problems
