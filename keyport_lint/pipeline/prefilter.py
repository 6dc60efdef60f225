"""Pre-filter: cheap substring tests that decide which rules can fire in a file at all.

Tokens come from the rules themselves (their YAML patterns and names, user additions included),
so a file with none of them is never parsed and libcst is never imported for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from keyport_lint.catalog import Rule
from keyport_lint.kinds import get_kind
from keyport_lint.kinds.base import literal_trigger
from keyport_lint.settings import LazyPattern, Settings, has_marker, marker_regex


class PreFilter:
    """Which rules can fire in a file, from substring tests. (A plain class: a dataclass
    costs every run a millisecond to define.)"""

    def __init__(self, enabled: dict[str, Rule] | None = None) -> None:
        self.always: dict[str, list[Rule]] = {}  # file kind -> rules
        self.triggered: dict[str, list[tuple[frozenset[str], Rule]]] = {}
        self.follows_imports: frozenset[str] = frozenset()  # ids of rules that follow imports
        self.enabled: dict[str, Rule] = enabled or {}  # every enabled rule by id
        # tokens of generic names (`api_key`): they count only in KeyPort-related code ...
        self.generic: frozenset[str] = frozenset()
        # ... for the rules that judge names only there (ids)
        self.contextual: frozenset[str] = frozenset()
        self.markers: re.Pattern[str] | None = None  # what makes text KeyPort-related
        self._regex: dict[str, tuple[LazyPattern, dict[str, set[str]], str]] = {}

    def rules_for(self, text: str, kind: str,
                  reaches_keyport: Callable[[], bool] | None = None,
                  lower: str | None = None,
                  keyport_text: Callable[[], bool] | None = None) -> list[Rule]:
        """Rules that can fire here. `reaches_keyport` (asked only when needed) says whether
        the file imports a KeyPort-related project module; `keyport_text` whether its text
        holds a KeyPort marker; `lower` is the lower-case text when the caller has it.

        A generic word alone (`api_key`) activates a rule that judges such names only in
        KeyPort code just when the file is KeyPort-related by its text or by its imports."""
        candidates = self.triggered.get(kind, [])
        active = list(self.always.get(kind, []))
        pending = []
        if candidates:
            # a plain `in` test per token first; one regex pass only when one is there (the
            # regex is compiled then, so a run over clean files never compiles it)
            lowered = text.lower() if lower is None else lower
            present: set[str] = set()
            if any(t in lowered for t in self._roots(kind)):
                regex, implied, _ = self._token_regex(kind)
                for found in set(regex.findall(lowered)):
                    present |= implied[found]
            for tokens, rule in candidates:
                hit = tokens & present if present else None
                if hit and (rule.id not in self.contextual or not hit <= self.generic):
                    active.append(rule)
                elif hit or rule.id in self.follows_imports:  # generic words, or none
                    pending.append(rule)
        if pending and keyport_text is None and self.markers is not None:
            markers = self.markers
            keyport_text = lambda: has_marker(markers, text)  # noqa: E731
        if pending and ((keyport_text is not None and keyport_text()) or (
                reaches_keyport is not None and reaches_keyport())):
            active.extend(pending)
        return sorted(active, key=lambda r: r.id)

    def _roots(self, kind: str) -> tuple[str, ...]:
        """Tokens that no other token contains: one of them is in any text holding a token."""
        cached = self._regex.get(kind)
        if cached is None:
            self._token_regex(kind)
            cached = self._regex[kind]
        return tuple(cached[2].split("\0")) if cached[2] else ()

    def _token_regex(self, kind: str) -> tuple[LazyPattern, dict[str, set[str]], str]:
        """A lookahead alternation that reports, at every position, the longest token starting
        there (overlaps included); a found token implies every token it contains."""
        cached = self._regex.get(kind)
        if cached is None:
            tokens = sorted({t for tokens, _ in self.triggered.get(kind, []) for t in tokens},
                            key=len, reverse=True)
            regex = LazyPattern("(?=(" + "|".join(re.escape(t) for t in tokens) + "))"
                                if tokens else r"(?!x)x")
            implied = {t: {u for u in tokens if u in t} for t in tokens}
            minimal = [t for t in tokens if not any(u != t and u in t for u in tokens)]
            cached = self._regex[kind] = (regex, implied, "\0".join(minimal))
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
    generic = set()
    for name in ("generic-key-names", "generic-secret-names"):
        for pattern in settings.get(name, []) or []:
            token = literal_trigger(pattern)
            if token is not None:
                generic.add(token)
    pf.generic = frozenset(generic)
    pf.markers = marker_regex(settings)
    pf.contextual = frozenset(r.id for r in rules if _judges_names_in_context(r))
    return pf


def _judges_names_in_context(rule: Rule) -> bool:
    """Rules for which a generic name means something only in KeyPort-related code: those
    limited to such code, and the built-in kinds whose name sources are KeyPort-specific
    unless a rule brings its own (a user's taint rule naming `api_key` keeps its trigger)."""
    if rule.context == "keyport":
        return True
    if rule.kind in ("key-slot", "webhook-verification"):
        return True
    if rule.kind == "taint":
        return not (rule.params.get("names") or rule.params.get("literals")
                    or rule.params.get("calls"))
    return False
