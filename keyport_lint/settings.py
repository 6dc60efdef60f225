"""Effective shared settings: built-in defaults from rules/settings.yaml merged with the user's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property, lru_cache
from typing import Any


class Settings:
    """Read-only view of the merged `settings:` values, with compiled regexes cached."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @staticmethod
    def names_regex(patterns: list[str]) -> re.Pattern[str]:
        """One case-insensitive full-match regex for a list of name patterns."""
        if not patterns:
            return re.compile(r"(?!x)x")
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    @cached_property
    def secret_names(self) -> re.Pattern[str]:
        return self.names_regex(self["secret-names"])

    @cached_property
    def generic_secret_names(self) -> re.Pattern[str]:
        return self.names_regex(self["generic-secret-names"])

    @cached_property
    def context_markers(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self["context-markers"]) or r"(?!x)x",
                          re.IGNORECASE)


class LazyPattern:
    """A regex compiled on first use, read like a compiled one (`search`, `finditer` …;
    `pattern` and `flags` without compiling): a run whose files hold none of the tokens in
    front of it never pays for compiling it."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never for the slots (copy, pickle probe these)
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyPattern, (self.pattern, self.flags))


@lru_cache(maxsize=16)
def _marker_regex(markers: tuple[str, ...], names: tuple[str, ...]) -> re.Pattern[str]:
    bounded = [rf"(?<![A-Za-z0-9_])(?:{n})(?![A-Za-z0-9_])" for n in names]
    lazy = LazyPattern("|".join([f"(?:{m})" for m in markers] + bounded) or r"(?!x)x",
                       re.IGNORECASE)
    return lazy  # type: ignore[return-value]  # read as a re.Pattern


KEYPORT_HEADER_WORDS = frozenset({"signature", "timestamp", "event"})
NUMBER_BINDING = LazyPattern(r"^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=[ \t]*[-+]?"
                             r"(?:\d[\d_.]*|0[xXoObB]\w+)[ \t]*(?:#[^\n]*)?$", re.MULTILINE)
ANY_BINDING = LazyPattern(r"^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=(?!=)|"
                          r"\b(?:import|def|class|as)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


def marker_hits(regex: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of the marker regex that mark KeyPort code. Not: another product's
    `X-Keyport-…` header (KeyPort's are `-Signature`, `-Timestamp`, `-Event`), or a name bound
    only to a number (network code's `keyport = 8022`)."""
    numeric: set[str] | None = None
    for match in regex.finditer(text):
        start, end = match.span()
        if text[max(0, start - 2):start].lower() == "x-" and text[end:end + 1] == "-":
            word = re.match(r"-([A-Za-z]+)", text[end:end + 40])
            if word is not None and word.group(1).lower() not in KEYPORT_HEADER_WORDS:
                continue
        left, right = start, end
        while left > 0 and (text[left - 1].isalnum() or text[left - 1] == "_"):
            left -= 1
        while right < len(text) and (text[right].isalnum() or text[right] == "_"):
            right += 1
        name = text[left:right]
        if name.isidentifier() and (left == 0 or text[left - 1] not in "\"'-./"):
            if numeric is None:
                numeric = _number_only_names(text)
            if name in numeric:
                continue
        yield match


def has_marker(regex: re.Pattern[str], text: str) -> bool:
    return next(marker_hits(regex, text), None) is not None


def _number_only_names(text: str) -> set[str]:
    numbers = {m.group(1) for m in NUMBER_BINDING.finditer(text)}
    if not numbers:
        return numbers
    others: set[str] = set()
    for match in ANY_BINDING.finditer(text):
        name = match.group(1) or match.group(2)
        if name in numbers:
            line_end = text.find("\n", match.start())
            line = text[match.start():line_end if line_end >= 0 else len(text)]
            if match.group(2) or not NUMBER_BINDING.match(line):
                others.add(name)
    return numbers - others


def marker_regex(settings: Settings) -> re.Pattern[str]:
    """What makes code KeyPort-related: the context markers plus the
    KeyPort-specific key and secret names, which count anywhere."""
    return _marker_regex(tuple(settings["context-markers"]),
                         tuple(settings["key-names"]) + tuple(settings["secret-names"]))
