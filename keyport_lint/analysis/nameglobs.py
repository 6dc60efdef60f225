"""Name patterns (fnmatch globs over dotted names) matched as a whole, shared by the taint
pass and endpoint detection: literal names, most of every list in the settings, by set
lookup; only the patterns with wildcards through one regex. An alternation of every
translated pattern was the largest regex compiled per run.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache


class Globs:
    """`match` answers True or None, as a compiled regex's `match` answers a match or None."""

    __slots__ = ("literals", "regex")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        literal = {p for p in patterns if not any(c in p for c in "*?[")}
        wild = [p for p in patterns if p not in literal]
        self.literals = frozenset(literal)
        self.regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in wild)
                                ) if wild else None

    def match(self, text: str) -> bool | None:
        if text in self.literals or (self.regex is not None and self.regex.match(text)):
            return True
        return None


@lru_cache(maxsize=256)
def globs(patterns: tuple[str, ...]) -> Globs:
    return Globs(patterns)
