"""KP201/KP202 (safe): the secret that reaches a log or print masked in place, `key` ->
`key[:12]` (settings.prefix-max), an f-string field `{key}` -> `{key[:12]}`.

Only the value itself is masked (not a container holding it, not a call's result): slicing
those would change what the program does. The edit inserts `[:N]` and copies nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.finding import Fix
from keyport_lint.fix.base import insert

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.fix.base import FixContext

SIMPLE = (cst.Name, cst.Attribute, cst.Subscript)
THROUGH = (cst.FormattedString, cst.FormattedStringExpression, cst.BinaryOperation,
           cst.ConcatenatedString, cst.Tuple, cst.Element, cst.StarredElement)


def fix(finding: Finding, fc: FixContext) -> Fix | None:
    hint = fc.hint(finding)
    if not hint or not hint.get("whole") or hint.get("arg") is None or hint.get(
            "sink_kind") != "call":
        return None  # a raised exception or a returned value is no text to slice
    arg: cst.CSTNode = hint["arg"]
    if isinstance(arg, cst.Arg):
        arg = arg.value
    via = str(hint.get("via") or "")
    targets = _targets(arg, via, fc)
    if not targets:
        return None
    bound = fc.cfg.settings["prefix-max"]
    edits = []
    for node in targets:
        span = fc.span(node)
        if span is None:
            return None
        edits.append(insert((span[2], span[3]), f"[:{bound}]"))
    what = via or "the secret"
    return Fix("safe", f"Mask {what} as {what}[:{bound}]", tuple(edits))


def _targets(arg: cst.CSTNode, via: str, fc: FixContext) -> list[cst.CSTNode]:
    if isinstance(arg, SIMPLE) and not _sliced(arg):
        return [arg]
    if not via:
        return []
    found: list[cst.CSTNode] = []

    def visit(node: cst.CSTNode) -> None:
        if isinstance(node, SIMPLE):
            if fc.module.code_for_node(node) == via and not _sliced(node):
                found.append(node)
            return
        if isinstance(node, THROUGH):
            for child in node.children:
                visit(child)

    visit(arg)
    return found


def _sliced(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Subscript) and any(
        isinstance(e.slice, cst.Slice) for e in node.slice)
