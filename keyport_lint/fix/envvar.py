"""KP101/KP102/KP103 (unsafe: the program now needs the variable set): the hardcoded literal
replaced by `os.environ["KEYPORT_API_KEY"]` (or the webhook secret's variable; both names are
settings), adding `import os`. The key stays in the history, so the finding's help says to
rotate it; the fix removes only the copy in the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.finding import Fix
from keyport_lint.fix.base import import_edit, replace

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.fix.base import FixContext

# callees whose argument is already the fallback of an environment read: the fix there is to
# drop the fallback, which is a different edit than this family makes
FALLBACK_CALLS = ("getenv", "get", "config", "env", "str")


def fix(finding: Finding, fc: FixContext) -> Fix | None:
    node = _literal(finding, fc)
    if node is None:
        return None
    parent = fc.parent(finding, node)
    if isinstance(parent, cst.Arg):
        call = fc.parent(finding, parent)
        if isinstance(call, cst.Call) and fc.tree.code_for_node(call.func).rsplit(
                ".", 1)[-1] in FALLBACK_CALLS:
            return None
    if isinstance(parent, (cst.ConcatenatedString, cst.FormattedString)):
        return None
    span = fc.span(node)
    if span is None:
        return None
    settings = fc.cfg.settings
    slot = finding.message.split(", which")[0].lower()
    webhook = finding.rule == "KP102" or (finding.rule == "KP103" and any(
        w in slot for w in ("secret", "webhook", "whsec")))
    variable = settings["fix-env-webhook-secret" if webhook else "fix-env-api-key"]
    edits = [replace(span, f'os.environ["{variable}"]')]
    added = import_edit(fc, "os")
    if added is not None:
        edits.insert(0, added)
    return Fix("unsafe", f'Read the value from os.environ["{variable}"] (then rotate the key)',
               tuple(edits))


def _literal(finding: Finding, fc: FixContext) -> cst.SimpleString | None:
    """The string literal that is the whole value: not a key inside a longer string."""
    for node in fc.nodes_around(finding, cst.SimpleString)[:1]:
        assert isinstance(node, cst.SimpleString)
        if node.prefix.lower() not in ("", "r", "u"):
            return None
        span = fc.span(node)
        inner = node.raw_value
        if span is None or span[0] != span[2] or any(ch.isspace() for ch in inner):
            return None  # over several lines, or more than the key (`Bearer <key>`)
        if (finding.line, finding.column, finding.end_column) in (
                (span[0], span[1], span[3]),
                (span[0], span[1] + len(node.prefix) + len(node.quote),
                 span[3] - len(node.quote))) or (
                finding.end_column - finding.column == len(inner)
                and span[1] <= finding.column < span[3]):
            return node
    return None
