"""Pre-filter: cheap substring tests that decide which rules can fire in a file at all.

Tokens come from the rules themselves (their YAML patterns and names, user additions included),
so a file with none of them is never parsed and libcst is never imported for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keyport_lint.catalog import Rule
from keyport_lint.kinds import get_kind
from keyport_lint.settings import Settings


@dataclass
class PreFilter:
    always: dict[str, list[Rule]] = field(default_factory=dict)  # file kind -> rules
    triggered: dict[str, list[tuple[frozenset[str], Rule]]] = field(default_factory=dict)
    extra_tokens: frozenset[str] = frozenset()  # names the project index says hold the key

    def rules_for(self, text: str, kind: str) -> list[Rule]:
        candidates = self.triggered.get(kind, [])
        active = list(self.always.get(kind, []))
        if candidates:
            lowered = text.lower()
            hit_extra = any(token in lowered for token in self.extra_tokens)
            for tokens, rule in candidates:
                if hit_extra or any(token in lowered for token in tokens):
                    active.append(rule)
        return sorted(active, key=lambda r: r.id)

    def tokens(self) -> set[str]:
        return {t for rules in self.triggered.values() for tokens, _ in rules for t in tokens}


def build_prefilter(rules: list[Rule], settings: Settings,
                    extra_tokens: frozenset[str] = frozenset()) -> PreFilter:
    pf = PreFilter(extra_tokens=extra_tokens)
    for rule in rules:
        kind = get_kind(rule.kind)
        if kind.name == "diagnostic":
            continue
        tokens = kind.triggers(rule, settings)
        for file_kind in rule.files:
            if tokens is None:
                pf.always.setdefault(file_kind, []).append(rule)
            else:
                pf.triggered.setdefault(file_kind, []).append(
                    (frozenset(t.lower() for t in tokens), rule))
    return pf
