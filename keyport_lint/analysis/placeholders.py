"""Is a literal a real secret or a placeholder (`kp_live_xxx…`, `changeme`, `YOUR_KEY`)?

Shared by the secret-pattern and key-slot kinds; parameters come from settings or the rule.
"""

from __future__ import annotations

import math
import re
from collections import Counter

ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
TEMPLATE = re.compile(r"\$\{|\{\{|%\(|<|>|\{[A-Za-z_]")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def is_placeholder(random_part: str, words: list[str], min_entropy: float) -> bool:
    lowered = random_part.lower()
    if any(word.lower() in lowered for word in words):
        return True
    if len(set(lowered)) <= 2 or "..." in random_part or "…" in random_part:
        return True
    return entropy(random_part) < min_entropy


def looks_like_value(value: str, min_length: int) -> bool:
    """An unprefixed literal that could be a real key: not a name, template, path or sentence."""
    if len(value) < min_length or any(ch.isspace() for ch in value):
        return False
    if ENV_NAME.fullmatch(value) or TEMPLATE.search(value):
        return False
    return bool(re.fullmatch(r"[A-Za-z0-9_\-]+", value))
