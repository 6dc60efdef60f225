"""Baselines: adopt the linter on legacy code by recording today's findings and reporting only
new ones.

A baseline stores each finding's rule, path and fingerprint, nothing else: no line numbers
(so a finding that moves because lines above it changed stays baselined), no messages and no
source text (the flagged lines may hold secrets; the fingerprint hashes them). Matching is a
multiset: each entry absorbs one finding, so two identical flagged lines are two entries and a
third identical line is new. The fingerprint includes the finding's occurrence index among
identical lines, so fixing one finding never turns another into a new one.

Paths are relative to the working directory, as in every output: make and use a baseline from
the same directory (the repository root, in CI).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyport_lint import __version__
from keyport_lint.errors import UserError
from keyport_lint.finding import Finding

FORMAT = 1  # bump when the fingerprint or the file layout changes incompatibly
TOOL = "keyport-lint"


def _key(rule: str, path: str, fingerprint: str) -> tuple[str, str, str]:
    return (rule, path, fingerprint)


def dumps(findings: list[Finding]) -> str:
    """The baseline file for these findings: deterministic, one entry per finding."""
    entries = sorted(_key(f.rule, f.path, f.fingerprint) for f in findings)
    doc = {
        "tool": TOOL,
        "version": __version__,
        "format": FORMAT,
        "entries": [{"rule": r, "path": p, "fingerprint": fp} for r, p, fp in entries],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass
class Baseline:
    source: str
    entries: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @property
    def paths(self) -> set[str]:
        return {path for _, path, _ in self.entries}

    def filter(self, findings: list[Finding]) -> tuple[list[Finding], int]:
        """(findings not in the baseline, how many were baselined). Order is kept."""
        left = Counter(self.entries)
        new: list[Finding] = []
        for finding in findings:
            key = _key(finding.rule, finding.path, finding.fingerprint)
            if left[key] > 0:
                left[key] -= 1
            else:
                new.append(finding)
        return new, len(findings) - len(new)


def load(path: Path, display: str | None = None) -> Baseline:
    """Read a baseline; anything missing or malformed is a UserError naming the file."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("baseline file not found (create it with `keyport-lint baseline "
                        "--output FILE`)", name) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UserError(f"cannot read baseline: {reason}", name) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"baseline is not valid JSON: {exc.msg}", name, exc.lineno) from None
    return parse(doc, name)


def parse(doc: Any, name: str) -> Baseline:
    def bad(why: str) -> UserError:
        return UserError(f"not a keyport-lint baseline: {why} (regenerate it with "
                         "`keyport-lint baseline --output FILE`)", name)

    if not isinstance(doc, dict) or doc.get("tool") != TOOL:
        raise bad('expected a JSON object with "tool": "keyport-lint"')
    if doc.get("format", FORMAT) != FORMAT:
        raise bad(f"format {doc.get('format')!r} is not supported by this version "
                  f"(expected {FORMAT})")
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise bad('"entries" must be a list')
    baseline = Baseline(name)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) and entry.get(k) for k in
                ("rule", "path", "fingerprint")):
            raise bad(f"entry {i + 1} needs string fields rule, path and fingerprint")
        baseline.entries[_key(entry["rule"], entry["path"], entry["fingerprint"])] += 1
    return baseline
