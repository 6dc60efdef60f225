"""KP402 (unsafe): a validation result used as a truth value -> `result["valid"]`.
KP403 (unsafe): a status string within edit distance 2 of exactly one KeyPort status -> that
status (`"revokd"` -> `"revoked"`); `result.valid` -> `result["valid"]`.

Both change what the program does on purpose (a branch that was always taken now depends on
the license), so they are unsafe fixes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.finding import Edit, Fix
from keyport_lint.fix.base import insert, replace

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.fix.base import FixContext

ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)
MAX_DISTANCE = 2


def fix_truthiness(finding: Finding, fc: FixContext) -> Fix | None:
    node = fc.node_at(finding, cst.BaseExpression)
    span = fc.span(node) if node is not None else None
    if node is None or span is None:
        return None
    if isinstance(node, ATOMS) or bool(getattr(node, "lpar", None)):
        edits: tuple[Edit, ...] = (insert((span[2], span[3]), '["valid"]'),)
    else:
        edits = (insert((span[0], span[1]), "("), insert((span[2], span[3]), ')["valid"]'))
    return Fix("unsafe", 'Test result["valid"]', edits)


def fix_status(finding: Finding, fc: FixContext) -> Fix | None:
    node = fc.node_at(finding, cst.Attribute)
    if isinstance(node, cst.Attribute) and node.attr.value == "valid":
        value, whole = fc.span(node.value), fc.span(node)
        if value is None or whole is None or node.value.rpar or node.lpar:
            return None
        return Fix("unsafe", 'Read result["valid"]',
                   (Edit(value[2], value[3], whole[2], whole[3], '["valid"]'),))
    statuses = sorted({s for group in fc.cfg.settings["status-categories"].values()
                       for s in group})
    for string in fc.nodes_in(finding, cst.SimpleString):
        assert isinstance(string, cst.SimpleString)
        if string.prefix.lower() not in ("", "u"):
            continue
        text = string.raw_value
        if text in statuses:
            continue
        near = [s for s in statuses if _distance(text, s) <= MAX_DISTANCE]
        span = fc.span(string)
        if len(near) == 1 and span is not None:
            quote = string.quote
            return Fix("unsafe", f"Compare with KeyPort's status {near[0]!r}",
                       (replace(span, f"{quote}{near[0]}{quote}"),))
    return None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (small strings only)."""
    if abs(len(a) - len(b)) > MAX_DISTANCE:
        return MAX_DISTANCE + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
