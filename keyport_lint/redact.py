"""Redaction: no output, cache or baseline ever holds a full key or secret.

Every text that leaves the linter (messages, excerpts, fingerprints' inputs) passes through a
Redactor built from all secret patterns in force (built-in and user rules alike) plus the
literal values rules found in that file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from keyport_lint.kinds.base import literal_prefix
from keyport_lint.settings import Settings

SHOWN = 4  # random characters shown after the literal prefix


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


class Redactor:
    def __init__(self, patterns: Iterable[str], prefix_max: int) -> None:
        self.prefix_max = prefix_max
        self._sources = list(patterns)
        self._compiled: list[tuple[object, str]] | None = None

    @property
    def patterns(self) -> list[tuple[object, str]]:
        """Compiled on first use: a run with nothing to report never loads the regex engine."""
        if self._compiled is None:
            self._compiled = [(_compile(p), literal_prefix(p)) for p in self._sources]
        return self._compiled

    def __call__(self, text: str, extra: Iterable[str] = ()) -> str:
        for pattern, prefix in self.patterns:
            text = _sub(pattern, lambda m, p=prefix: redact_text(
                m.group(0), m.group(0)[: len(p)], self.prefix_max), text)
        for value in sorted(set(extra), key=len, reverse=True):
            if value and value in text:
                text = text.replace(value, f"<redacted:{short_hash(value)}>")
        return text

    def hashed(self, text: str, extra: Iterable[str] = ()) -> str:
        """Secrets replaced by hashes: stable input for fingerprints."""
        for pattern, _ in self.patterns:
            text = _sub(pattern, lambda m: f"<{short_hash(m.group(0))}>", text)
        for value in sorted(set(extra), key=len, reverse=True):
            if value:
                text = text.replace(value, f"<{short_hash(value)}>")
        return text


def _compile(pattern: str) -> object:
    from keyport_lint import saferegex

    return saferegex.compile(pattern)


def _sub(pattern: object, replace: object, text: str) -> str:
    """Substitute with the time limit; a pattern that runs out of time on this text hides the
    whole text rather than risk showing a secret."""
    from keyport_lint.saferegex import TIMEOUT_SECONDS

    try:
        return pattern.sub(replace, text, timeout=TIMEOUT_SECONDS)  # type: ignore[attr-defined]
    except TimeoutError:
        return f"<redacted:{short_hash(text)}>"
