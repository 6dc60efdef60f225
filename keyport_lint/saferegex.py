"""Patterns from YAML (built-in or the user's) run with a time limit.

Python's `re` cannot be interrupted, and one user pattern with nested quantifiers can
backtrack for hours on one long line. The `regex` module (same syntax) takes a timeout; text
is also cut to `settings.max-line-length` before any pattern sees it. A pattern that still runs
out of time stops with a clear error naming the rule, instead of hanging the run.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex

from keyport_lint.errors import TIMEOUT_SECONDS, PatternTimeout

__all__ = ["IGNORECASE", "TIMEOUT_SECONDS", "PatternTimeout", "compile", "finditer", "search"]
IGNORECASE = regex.IGNORECASE


@lru_cache(maxsize=512)
def compile(pattern: str, flags: int = 0) -> Any:
    return regex.compile(pattern, flags | regex.VERSION0)


def finditer(compiled: Any, text: str) -> list[Any]:
    try:
        return list(compiled.finditer(text, timeout=TIMEOUT_SECONDS))
    except TimeoutError:
        raise PatternTimeout(compiled.pattern) from None


def search(compiled: Any, text: str) -> Any:
    try:
        return compiled.search(text, timeout=TIMEOUT_SECONDS)
    except TimeoutError:
        raise PatternTimeout(compiled.pattern) from None
