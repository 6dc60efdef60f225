"""User rules' fixes: a `fix:` replacement template on a `forbidden-call` or `secret-pattern`
rule.

    fix:
      replace: '{callee}({args}, timeout=10)'   # the new text
      applicability: unsafe                      # or safe; default unsafe
      title: add a timeout                       # optional
      imports: [os]                              # optional: `import os` added when missing

`forbidden-call` replaces the whole call; placeholders `{callee}` (as written), `{args}` (all
arguments as written), `{arg0}`, `{arg1}` … (positional values) and `{kw[NAME]}` (a keyword's
value). `secret-pattern` replaces the string literal whose whole content is the match (not a
secret inside a longer string); it has no placeholders, since it must not copy the secret.
A template that would write a secret is dropped by the run's redaction check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keyport_lint.errors import UserError
from keyport_lint.finding import Fix

if TYPE_CHECKING:  # libcst only when a fix is computed: config loading validates templates
    import libcst as cst

    from keyport_lint.catalog import Rule
    from keyport_lint.finding import Finding
    from keyport_lint.fix.base import FixContext
    from keyport_lint.yamlio import LDict

FIELDS = {"replace", "applicability", "title", "imports"}


def validate(rule: Rule, raw: LDict) -> None:
    """Check a rule's `fix:` mapping (called by the kinds that accept one)."""
    spec: Any = rule.params.get("fix") or {}
    if not spec:
        return
    line = raw.line_of("fix") or raw.line

    def fail(message: str) -> UserError:
        return UserError(f"rule {rule.id}: fix: {message}", raw.file or None, line)

    unknown = set(spec) - FIELDS
    if unknown:
        raise fail(f"unknown field {sorted(unknown)[0]!r} (fields: {', '.join(sorted(FIELDS))})")
    if not isinstance(spec.get("replace"), str):
        raise fail("'replace' (the replacement text) is required and must be a string")
    if spec.get("applicability", "unsafe") not in ("safe", "unsafe"):
        raise fail("applicability must be 'safe' or 'unsafe'")
    imports = spec.get("imports", [])
    if not isinstance(imports, list) or not all(
            isinstance(i, str) and i.isidentifier() for i in imports):
        raise fail("imports must be a list of module names")
    if rule.kind == "secret-pattern" and "{" in spec["replace"].replace("{{", ""):
        raise fail("a secret-pattern fix has no placeholders (it must not copy the secret)")


def fix(finding: Finding, fc: FixContext, rule: Rule) -> Fix | None:
    import libcst as cst

    from keyport_lint.fix.base import import_edit, replace

    spec = rule.params["fix"]
    if rule.kind == "forbidden-call":
        node = fc.node_at(finding, cst.Call)
        if not isinstance(node, cst.Call):
            return None
        try:
            text = spec["replace"].format(**_call_fields(fc, node))
        except (KeyError, IndexError, ValueError, AttributeError):
            return None
    else:
        from keyport_lint.fix.envvar import _literal

        node = _literal(finding, fc)
        if node is None:
            return None
        text = spec["replace"].replace("{{", "{").replace("}}", "}")
    span = fc.span(node)
    if span is None:
        return None
    edits = [replace(span, text)]
    for name in spec.get("imports", []):
        added = import_edit(fc, name)
        if added is not None and added not in edits:
            edits.insert(0, added)
    return Fix(spec.get("applicability", "unsafe"), spec.get("title") or f"Replace with {text}",
               tuple(edits))


def _call_fields(fc: FixContext, call: cst.Call) -> dict[str, Any]:
    code = fc.tree.code_for_node

    def one(arg: cst.Arg) -> str:
        if arg.star:
            return f"{arg.star}{code(arg.value)}"
        if arg.keyword is not None:
            return f"{arg.keyword.value}={code(arg.value)}"
        return code(arg.value)

    args = ", ".join(one(a) for a in call.args)
    fields: dict[str, Any] = {"callee": code(call.func), "args": args,
                              "kw": {a.keyword.value: code(a.value) for a in call.args
                                     if a.keyword is not None}}
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for index, arg in enumerate(positional):
        fields[f"arg{index}"] = code(arg.value)
    return fields
