"""KP201/KP202 (safe): the secret that reaches a log or print masked in place, `key` ->
`key[:12]` (settings.prefix-max), an f-string field `{key}` -> `{key[:12]}`.

Only the value itself is masked (not a container holding it, not a call's result). `[:12]` is
used where the value is known to be text (read from the environment, a string expression, or
a name of the key's own settings); anything else (`pair`, `data`) becomes `str(pair)[:12]`, since
slicing a tuple would still show the key. The edits insert text and copy nothing."""

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
        if _is_text(fc, node):
            edits.append(insert((span[2], span[3]), f"[:{bound}]"))
        else:
            edits += [insert((span[0], span[1]), "str("), insert((span[2], span[3]),
                                                                    f")[:{bound}]")]
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
            if fc.tree.code_for_node(node) == via and not _sliced(node):
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


TEXT_METHODS = {"strip", "lstrip", "rstrip", "lower", "upper", "format", "join", "replace",
                "removeprefix", "removesuffix", "decode"}


def _is_text(fc: FixContext, node: cst.CSTNode, depth: int = 0) -> bool:
    """Is this expression a str, as far as the module shows?"""
    if depth > 3:
        return False
    if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
        return not (isinstance(node, cst.SimpleString) and "b" in node.prefix.lower())
    if isinstance(node, cst.Subscript):  # os.environ["X"]
        return fc.tree.code_for_node(node.value).endswith("environ")
    if isinstance(node, cst.Call):
        callee = fc.tree.code_for_node(node.func)
        if callee in ("str", "getenv") or callee.endswith((".getenv", "environ.get")):
            return True
        return isinstance(node.func, cst.Attribute) and node.func.attr.value in TEXT_METHODS
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, (cst.Add, cst.Modulo)) and any(
            _is_text(fc, side, depth + 1) for side in (node.left, node.right))
    if isinstance(node, cst.IfExp):
        return _is_text(fc, node.body, depth + 1) and _is_text(fc, node.orelse, depth + 1)
    if isinstance(node, cst.BooleanOperation):
        return _is_text(fc, node.left, depth + 1) and _is_text(fc, node.right, depth + 1)
    if isinstance(node, (cst.Name, cst.Attribute)):
        last = node.value if isinstance(node, cst.Name) else node.attr.value
        if _named_like_the_key(fc, last):
            return True
        if isinstance(node, cst.Name):
            values = _assigned(fc, node.value)
            return bool(values) and all(v is not None and _is_text(fc, v, depth + 1)
                                        for v in values)
    return False


def _named_like_the_key(fc: FixContext, name: str) -> bool:
    import re

    settings = fc.cfg.settings
    patterns = [p for key in ("key-names", "secret-names", "generic-key-names",
                              "generic-secret-names") for p in settings.get(key, [])]
    for pattern in patterns:
        try:
            if re.fullmatch(pattern, name, re.IGNORECASE):
                return True
        except re.error:
            continue
    return False


def _assigned(fc: FixContext, name: str) -> list[cst.BaseExpression | None]:
    """Every value bound to `name` anywhere in the module (None: not a plain assignment)."""
    cache: dict[str, list[cst.BaseExpression | None]] = fc.memo.setdefault("assigned", {})
    if name in cache:
        return cache[name]
    out: list[cst.BaseExpression | None] = []

    class Finder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if isinstance(target.target, cst.Name) and target.target.value == name:
                    out.append(node.value)
                elif _binds(target.target, name):
                    out.append(None)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                out.append(node.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                out.append(node.value if isinstance(node.operator, cst.AddAssign) else None)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                out.append(node.value)

        def visit_For(self, node: cst.For) -> None:
            if _binds(node.target, name):
                out.append(None)

        def visit_Param(self, node: cst.Param) -> None:
            if node.name.value == name:
                out.append(None)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None and _binds(node.asname.name, name):
                out.append(None)

    fc.tree.visit(Finder())
    cache[name] = out
    return out


def _binds(target: cst.CSTNode, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(_binds(e.value, name) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _binds(target.value, name)
    return False
