"""Redaction: no output, cache or baseline ever holds a full key or secret.

Every text that leaves the linter (messages, excerpts, paths, stderr, rule docs, fingerprints'
inputs) passes through a Redactor built from all secret shapes in force (built-in settings,
`redact-patterns` and user rules alike), matched case-insensitively, plus the literal values
rules found in that file. Keys are recognised in every form source can spell them: the text is
searched through a *view* in which escapes are decoded (`kp\\x5flive_…`, `\\u`, octal) and string
joins are removed (`"kp_live_" "3f9a…"`, `"kp_live_" + "3f9a…"`, across lines too), and each
match is replaced in the original text over the whole span it came from. One pass per text:
linear in its length, and `redact_map` gives the column map that carets need, so a line with
many findings is redacted once.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from keyport_lint.kinds.base import literal_prefix, literal_trigger
from keyport_lint.settings import LazyPattern, Settings

SHOWN = 4  # random characters shown after the literal prefix
MIN_FRAGMENT = 4  # shorter pieces of a split key are left alone (they would redact noise)

_WS = r"(?:[ \t\f]|\\?\r?\n|\\?\r)*"
# closing quote, blanks, an optional `+`, a string prefix (after a blank or `+`), opening quote
_JOIN = rf"[\"'`]{_WS}(?:\+{_WS})?(?:(?<=[\s+])[rRbBuUfF]{{1,2}})?[\"'`]"
JOIN = LazyPattern(_JOIN)  # compiled once a text holds a backslash or a quote
ESCAPE_OR_JOIN = LazyPattern(
    r"\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}"
    r"|[\\'\"`])"
    rf"|{_JOIN}")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def redact_text(secret: str, prefix: str, prefix_max: int) -> str:
    """`kp_live_3f9a…`: the literal prefix and a few characters, within prefix-max."""
    keep = min(len(prefix) + SHOWN, prefix_max, max(len(secret) - 1, 0))
    if not prefix or keep <= 0:
        return f"<redacted:{short_hash(secret)}>"
    return secret[:keep] + "…"


def redact_match(secret: str, settings: Settings, pattern: str | None = None) -> str:
    prefix = ""
    for candidate in ([pattern] if pattern else
                      settings["key-patterns"] + settings["secret-patterns"]):
        token = literal_prefix(candidate)
        if token and secret.lower().startswith(token.lower()):
            prefix = secret[: len(token)]
            break
    return redact_text(secret, prefix, settings["prefix-max"])


def _decode(token: str) -> str:
    if not token.startswith("\\"):
        return ""  # a join: closing quote, blanks, `+`, opening quote
    body = token[1:]
    try:
        if body[0] in "xuU":
            code = int(body[1:].strip("{}"), 16)
        elif body[0] in "01234567":
            code = int(body, 8)
        else:
            return body
        return chr(code)
    except (ValueError, OverflowError):
        return token


@dataclass
class View:
    """Text with escapes decoded and string joins removed, mapped back to the original."""

    text: str
    original: str
    # (view start, view end, original start, original end) of each decoded escape or join
    segments: list[tuple[int, int, int, int]] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    def start(self, v: int) -> int:
        """Original offset of view offset `v` (the start of the token it came from)."""
        i = bisect.bisect_right(self._starts, v) - 1
        if i < 0:
            return v
        _vs, ve, os_, oe = self.segments[i]
        return os_ if v < ve else oe + (v - ve)

    def end(self, v: int) -> int:
        """Original offset just after view character `v - 1`."""
        if v <= 0:
            return 0
        i = bisect.bisect_right(self._starts, v - 1) - 1
        if i < 0:
            return v
        _vs, ve, _os, oe = self.segments[i]
        return oe if v - 1 < ve else oe + (v - ve)

    def pieces(self, vs: int, ve: int) -> list[str]:
        """The original text of view span [vs, ve), cut at joins: where a split key lies."""
        out, start = [], self.start(vs)
        stop = self.end(ve)
        for seg_vs, seg_ve, os_, oe in self.segments:
            if seg_vs == seg_ve and start < os_ < stop:
                out.append(self.original[start:os_])
                start = oe
        out.append(self.original[start:stop])
        return [p for p in out if p]


def view_of(text: str, joins: bool = True) -> View:
    """The view that patterns search. `joins=False`: escapes only (one literal's content)."""
    if "\\" not in text and not (joins and ('"' in text or "'" in text or "`" in text)):
        return View(text, text)
    pieces: list[str] = []
    segments: list[tuple[int, int, int, int]] = []
    pos = length = 0
    for match in ESCAPE_OR_JOIN.finditer(text):
        token = match.group(0)
        if not joins and not token.startswith("\\"):
            continue
        s, e = match.span()
        if s > pos:
            pieces.append(text[pos:s])
            length += s - pos
        rep = _decode(token)
        segments.append((length, length + len(rep), s, e))
        pieces.append(rep)
        length += len(rep)
        pos = e
    pieces.append(text[pos:])
    return View("".join(pieces), text, segments, [s[0] for s in segments])


@dataclass
class Redaction:
    """A redacted text and where its spans moved, for caret columns."""

    text: str
    spans: list[tuple[int, int, int, int]]  # original start, end -> redacted start, end

    def offset(self, original: int, end: bool = False) -> int:
        """Redacted offset of an original offset (inside a span: the span's start, or its end
        for the end of a range)."""
        shift = 0
        for os_, oe, ns, ne in self.spans:
            if original < os_ or (end and original == os_):
                break
            if original < oe:
                return ne if end else ns
            shift = ne - oe
        return original + shift


class Redactor:
    def __init__(self, patterns: Iterable[str], prefix_max: int) -> None:
        self.prefix_max = prefix_max
        self._sources = list(dict.fromkeys(patterns))
        self._compiled: list[tuple[Any, str]] | None = None
        triggers = [literal_trigger(p) for p in self._sources]
        # a text holding none of these (lower-cased) cannot match: the regex engine is neither
        # loaded nor run for it (None: some pattern has no literal run, so always search)
        self._triggers: list[str] | None = None if None in triggers else \
            [t for t in triggers if t is not None]

    @property
    def patterns(self) -> list[tuple[Any, str]]:
        """Compiled on first use: a run with nothing to report never loads the regex engine."""
        if self._compiled is None:
            from keyport_lint import saferegex

            compiled = []
            for source in self._sources:
                try:
                    compiled.append((saferegex.compile(source, saferegex.IGNORECASE),
                                     literal_prefix(source)))
                except Exception:  # validated at load; redaction itself never fails
                    continue
            self._compiled = compiled
        return self._compiled

    def __call__(self, text: str, extra: Iterable[str] = ()) -> str:
        return self.redact_map(text, extra).text

    def hashed(self, text: str, extra: Iterable[str] = ()) -> str:
        """Secrets replaced by hashes: stable input for fingerprints."""
        return self._apply(text, extra, lambda secret, prefix: f"<{short_hash(secret)}>",
                           lambda value: f"<{short_hash(value)}>").text

    def redact_map(self, text: str, extra: Iterable[str] = ()) -> Redaction:
        return self._apply(
            text, extra,
            lambda secret, prefix: redact_text(secret, secret[: len(prefix)], self.prefix_max),
            lambda value: f"<redacted:{short_hash(value)}>")

    def _spans(self, view: View, extra: Iterable[str]
               ) -> list[tuple[int, int, str, str]] | None:
        """(view start, view end, matched text, literal prefix) of every secret; None when a
        pattern ran out of time (then the caller hides the whole text)."""
        from keyport_lint.errors import TIMEOUT_SECONDS

        found: list[tuple[int, int, str, str]] = []
        lowered = view.text.lower() if self._triggers is not None else ""
        if self._triggers is None or any(t in lowered for t in self._triggers):
            searched = self.patterns
        else:
            searched = []
        for pattern, prefix in searched:
            try:
                for match in pattern.finditer(view.text, timeout=TIMEOUT_SECONDS):
                    if match.end() > match.start():
                        found.append((match.start(), match.end(), match.group(0), prefix))
            except TimeoutError:
                return None
        for value in sorted({v for v in extra if v}, key=len, reverse=True):
            at = view.text.find(value)
            while at >= 0:
                found.append((at, at + len(value), value, "\0"))
                at = view.text.find(value, at + len(value))
        return found

    def _apply(self, text: str, extra: Iterable[str],
               pattern_rep: Callable[[str, str], str], value_rep: Callable[[str], str]
               ) -> Redaction:
        view = view_of(text)
        found = self._spans(view, extra)
        if found is None:
            rep = f"<redacted:{short_hash(text)}>"
            return Redaction(rep, [(0, len(text), 0, len(rep))])
        if not found:
            return Redaction(text, [])
        spans: list[tuple[int, int, str]] = []
        for vs, ve, secret, prefix in sorted(found, key=lambda f: (f[0], -f[1])):
            os_, oe = view.start(vs), view.end(ve)
            rep = value_rep(secret) if prefix == "\0" else pattern_rep(secret, prefix)
            if spans and os_ < spans[-1][1]:  # overlapping: one span, the first replacement
                last = spans[-1]
                spans[-1] = (last[0], max(last[1], oe), last[2])
                continue
            spans.append((os_, oe, rep))
        out: list[str] = []
        moved: list[tuple[int, int, int, int]] = []
        pos = length = 0
        for os_, oe, rep in spans:
            out.append(text[pos:os_])
            length += os_ - pos
            moved.append((os_, oe, length, length + len(rep)))
            out.append(rep)
            length += len(rep)
            pos = oe
        out.append(text[pos:])
        return Redaction("".join(out), moved)

    def fragments(self, text: str) -> set[str]:
        """Pieces of the original text that hold part of a key split over several literals
        (`("kp_live_"` / `"3f9a…")` on two lines): redacting each line alone would miss them,
        so they are redacted as literal values wherever they appear in that file's output."""
        view = view_of(text)
        if not view.segments:
            return set()
        found = self._spans(view, ())
        out: set[str] = set()
        for vs, ve, _secret, prefix in found or ():
            pieces = view.pieces(vs, ve)
            if len(pieces) < 2:
                continue
            for piece in pieces:
                if len(piece) >= MIN_FRAGMENT and not prefix.lower().startswith(piece.lower()):
                    out.add(piece)
        return out


def redactor_from(settings: Settings, extra_patterns: Iterable[str] = ()) -> Redactor:
    """Every secret shape the settings know, plus `extra_patterns` (user secret rules)."""
    patterns = [*settings["key-patterns"], *settings["secret-patterns"],
                *(settings.get("redact-patterns") or []), *extra_patterns]
    return Redactor(patterns, settings["prefix-max"])


_DEFAULT: Redactor | None = None


def default_redactor() -> Redactor:
    """The built-in shapes: for text written before (or without) a config, e.g. its errors."""
    global _DEFAULT
    if _DEFAULT is None:
        from keyport_lint.config import default_settings

        _DEFAULT = redactor_from(Settings(default_settings()))
    return _DEFAULT
