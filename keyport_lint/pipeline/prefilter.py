"""Pre-filter: cheap substring tests that decide which rules can fire in a file at all.

Tokens come from the rules themselves (their YAML patterns and names, user additions included),
so a file with none of them is never parsed and libcst is never imported for it.
"""

from __future__ import annotations

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

    def rules_for(self, text: str, kind: str,
                  reaches_keyport: Callable[[], bool] | None = None) -> list[Rule]:
        """Rules that can fire here. `reaches_keyport` (asked only when needed) says whether
        the file imports a KeyPort-related project module."""
        candidates = self.triggered.get(kind, [])
        active = list(self.always.get(kind, []))
        pending = []
        if candidates:
            lowered = text.lower()
            for tokens, rule in candidates:
                if any(token in lowered for token in tokens):
                    active.append(rule)
                elif rule.id in self.follows_imports:
                    pending.append(rule)
        if pending and reaches_keyport is not None and reaches_keyport():
            active.extend(pending)
        return sorted(active, key=lambda r: r.id)

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
