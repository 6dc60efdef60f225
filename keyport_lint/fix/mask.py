"""KP201/KP202 (safe): the secret that reaches a log or print masked in place, `key` ->
`key[:12]` (settings.prefix-max), an f-string field `{key}` -> `{key[:12]}`.

Only the value itself is masked (not a container holding it, not a call's result). `[:12]` is
used where the value is known to be text (read from the environment, a string expression, or
a name of the key's own settings); anything else (`pair`, `data`) becomes `str(pair)[:12]`, since
slicing a tuple would still show the key. The edits insert text and copy nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

from keyport_lint.finding import Fix
from keyport_lint.fix.base import insert

if TYPE_CHECKING:
    import ast

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
    _visit(arg, via, fc, found)
    return found


def _visit(node: cst.CSTNode, via: str, fc: FixContext, found: list[cst.CSTNode]) -> None:
    """A module-level function, not a closure: a recursive closure is a reference cycle that
    would keep the file's tree and analyses alive until a full garbage collection."""
    if isinstance(node, SIMPLE):
        if fc.tree.code_for_node(node) == via and not _sliced(node):
            found.append(node)
        return
    if isinstance(node, THROUGH):
        for child in node.children:
            _visit(child, via, fc, found)


def _sliced(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Subscript) and any(
        isinstance(e.slice, cst.Slice) for e in node.slice)


MAX_DEPTH = 8
TEXT_METHODS = {"strip", "lstrip", "rstrip", "lower", "upper", "format", "join", "replace",
                "removeprefix", "removesuffix", "decode"}


def _is_text(fc: FixContext, node: cst.CSTNode) -> bool:
    """Is this expression a str, as far as the module shows?"""
    if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
        return not (isinstance(node, cst.SimpleString) and "b" in node.prefix.lower())
    if isinstance(node, (cst.Name, cst.Attribute)):
        last = node.value if isinstance(node, cst.Name) else node.attr.value
        if _named_like_the_key(fc, last):
            return True
        return isinstance(node, cst.Name) and _name_is_text(fc, node.value, 0)
    try:  # anything else: the same judgement on Python's own tree of its code
        import ast

        parsed = ast.parse(fc.tree.code_for_node(node).strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return False
    return _ast_text(fc, parsed, 0)


def _ast_text(fc: FixContext, node: ast.AST, depth: int) -> bool:
    import ast

    if depth > MAX_DEPTH:  # names bound to names bound to …: give up, not text
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Subscript):  # os.environ["X"]
        return _dotted(node.value).endswith("environ")
    if isinstance(node, ast.Call):
        callee = _dotted(node.func)
        if callee in ("str", "getenv") or callee.endswith((".getenv", "environ.get")):
            return True
        return isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_METHODS
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, (ast.Add, ast.Mod)) and (
            _ast_text(fc, node.left, depth + 1) or _ast_text(fc, node.right, depth + 1))
    if isinstance(node, ast.IfExp):
        return _ast_text(fc, node.body, depth + 1) and _ast_text(fc, node.orelse, depth + 1)
    if isinstance(node, ast.BoolOp):
        return all(_ast_text(fc, v, depth + 1) for v in node.values)
    if isinstance(node, ast.Name):
        return _named_like_the_key(fc, node.id) or _name_is_text(fc, node.id, depth + 1)
    if isinstance(node, ast.Attribute):
        return _named_like_the_key(fc, node.attr)
    return False


def _name_is_text(fc: FixContext, name: str, depth: int) -> bool:
    values = _assigned(fc).get(name, [])
    return bool(values) and all(v is not None and _ast_text(fc, v, depth + 1) for v in values)


def _dotted(node: ast.AST) -> str:
    import ast

    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


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


def _assigned(fc: FixContext) -> dict[str, list[ast.expr | None]]:
    """Every value bound to each name anywhere in the module (None: bound some other way:
    unpacking, a loop, a parameter, an import), from Python's own parser (fast), once."""
    import ast

    table: dict[str, list[ast.expr | None]] | None = fc.memo.get("assigned")
    if table is not None:
        return table
    table = {}
    fc.memo["assigned"] = table
    try:
        tree = ast.parse(fc.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return table

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _bind(table, target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
            _bind(table, node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            _bind(table, node.target, node.value if isinstance(node.op, ast.Add) else None)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            _bind(table, node.target, None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _bind(table, node.optional_vars, None)
        elif isinstance(node, ast.arg):
            table.setdefault(node.arg, []).append(None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            table.setdefault(node.name, []).append(None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                table.setdefault((alias.asname or alias.name).split(".")[0], []).append(None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            table.setdefault(node.name, []).append(None)
    return table


def _bind(table: dict[str, list[Any]], target: Any, value: Any) -> None:
    import ast

    if isinstance(target, ast.Name):
        table.setdefault(target.id, []).append(value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _bind(table, element, None)
    elif isinstance(target, ast.Starred):
        _bind(table, target.value, None)
