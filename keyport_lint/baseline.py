"""Baselines: adopt the linter on legacy code by recording today's findings and reporting only
new ones.

A baseline stores each finding's rule, path and fingerprint, nothing else: no line numbers
(so a finding that moves because lines above it changed stays baselined), no messages and no
source text (the flagged lines may hold secrets; the fingerprint hashes them). Matching is a
multiset: each entry absorbs one finding, so two identical flagged lines are two entries and a
third identical line is new. The fingerprint includes the finding's occurrence index among
identical lines, so fixing one finding never turns another into a new one.

Paths are relative to the folder of the config that governs each file (the repository root
when there is no config), like the fingerprints, so a baseline made at the root matches a run
started in any subfolder. Entries for files that were checked but matched no finding are
"stale" (the finding was fixed, or its line changed); `baseline --update` drops them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
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


def key_of(finding: Finding, anchors: dict[str, str]) -> tuple[str, str, str]:
    """A finding's baseline entry: its path anchored at its config's folder."""
    return _key(finding.rule, anchors.get(finding.path, finding.path), finding.fingerprint)


def dumps_entries(entries: list[tuple[str, str, str]]) -> str:
    """The baseline file for these entries: deterministic, one line per entry."""
    doc = {
        "tool": TOOL,
        "version": __version__,
        "format": FORMAT,
        "entries": [{"rule": r, "path": p, "fingerprint": fp} for r, p, fp in sorted(entries)],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def dumps(findings: list[Finding], anchors: dict[str, str] | None = None) -> str:
    """The baseline file for these findings."""
    return dumps_entries([key_of(f, anchors or {}) for f in findings])


@dataclass
class Match:
    new: list[Finding]  # findings the baseline does not hold, in order
    baselined: int  # findings it absorbed
    unmatched: Counter[tuple[str, str, str]]  # entries left over


@dataclass
class Baseline:
    source: str
    entries: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @property
    def paths(self) -> set[str]:
        return {path for _, path, _ in self.entries}

    def match(self, findings: list[Finding], anchors: dict[str, str] | None = None) -> Match:
        left = Counter(self.entries)
        new: list[Finding] = []
        for finding in findings:
            key = key_of(finding, anchors or {})
            if left[key] > 0:
                left[key] -= 1
            else:
                new.append(finding)
        return Match(new, len(findings) - len(new), +left)

    def filter(self, findings: list[Finding], anchors: dict[str, str] | None = None
               ) -> tuple[list[Finding], int]:
        """(findings not in the baseline, how many were baselined). Order is kept."""
        m = self.match(findings, anchors)
        return m.new, m.baselined


def stale(unmatched: Counter[tuple[str, str, str]], checked: set[str],
          enabled: Callable[[str], bool]) -> Counter[tuple[str, str, str]]:
    """Left-over entries that should have matched: their file was checked and their rule ran.
    Entries of files outside this run (a hook run on a few files) are not stale."""
    return Counter({k: n for k, n in unmatched.items() if k[1] in checked and enabled(k[0])})


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
