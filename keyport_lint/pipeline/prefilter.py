"""Pre-filter: cheap substring tests that decide which rules can fire in a file at all.

Tokens come from the rules themselves (their YAML patterns and names, user additions included),
so a file with none of them is never parsed and libcst is never imported for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from keyport_lint.catalog import Rule
from keyport_lint.kinds import get_kind
from keyport_lint.settings import Settings


@dataclass
class PreFilter:
    always: dict[str, list[Rule]] = field(default_factory=dict)  # file kind -> rules
    triggered: dict[str, list[tuple[frozenset[str], Rule]]] = field(default_factory=dict)
    follows_imports: frozenset[str] = frozenset()  # ids of rules that follow imports
    enabled: dict[str, Rule] = field(default_factory=dict)  # every enabled rule by id
    _regex: dict[str, tuple[re.Pattern[str], dict[str, set[str]]]] = field(
        default_factory=dict, repr=False)

    def rules_for(self, text: str, kind: str,
                  reaches_keyport: Callable[[], bool] | None = None) -> list[Rule]:
        """Rules that can fire here. `reaches_keyport` (asked only when needed) says whether
        the file imports a KeyPort-related project module."""
        candidates = self.triggered.get(kind, [])
        active = list(self.always.get(kind, []))
        pending = []
        if candidates:
            # one pass over the text finds every token present; rules then ask a set
            regex, implied = self._token_regex(kind)
            present: set[str] = set()
            for found in set(regex.findall(text.lower())):
                present |= implied[found]
            for tokens, rule in candidates:
                if present and not tokens.isdisjoint(present):
                    active.append(rule)
                elif rule.id in self.follows_imports:
                    pending.append(rule)
        if pending and reaches_keyport is not None and reaches_keyport():
            active.extend(pending)
        return sorted(active, key=lambda r: r.id)

    def _token_regex(self, kind: str) -> tuple[re.Pattern[str], dict[str, set[str]]]:
        """A lookahead alternation that reports, at every position, the longest token starting
        there (overlaps included); a found token implies every token it contains."""
        cached = self._regex.get(kind)
        if cached is None:
            tokens = sorted({t for tokens, _ in self.triggered.get(kind, []) for t in tokens},
                            key=len, reverse=True)
            regex = re.compile("(?=(" + "|".join(re.escape(t) for t in tokens) + "))"
                               if tokens else r"(?!x)x")
            implied = {t: {u for u in tokens if u in t} for t in tokens}
            cached = self._regex[kind] = (regex, implied)
        return cached

    def tokens(self) -> set[str]:
        return {t for rules in self.triggered.values() for tokens, _ in rules for t in tokens}


def build_prefilter(rules: list[Rule], settings: Settings) -> PreFilter:
    pf = PreFilter(enabled={r.id: r for r in rules})
    follows = set()
    for rule in rules:
        kind = get_kind(rule.kind)
        if kind.name == "diagnostic":
            continue
        if kind.follows_imports:
            follows.add(rule.id)
        tokens = kind.triggers(rule, settings)
        for file_kind in rule.files:
            if tokens is None:
                pf.always.setdefault(file_kind, []).append(rule)
            else:
                pf.triggered.setdefault(file_kind, []).append(
                    (frozenset(t.lower() for t in tokens), rule))
    pf.follows_imports = frozenset(follows)
    return pf
