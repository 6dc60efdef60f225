"""Small readers of libcst syntax and settings that endpoint detection shares: string
values, header names, framework of a dotted name, HTTP methods and paths of a route call,
references inside an expression, body parameters."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name, literal_text
from keyport_lint.analysis.nameglobs import globs

if TYPE_CHECKING:
    from keyport_lint.settings import Settings


HTTP_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


SIMPLE_TYPES = frozenset({
    "str", "int", "float", "bool", "bytes", "UUID", "datetime", "date", "time", "Decimal",
    "BackgroundTasks", "Response", "WebSocket", "HTTPConnection", "SecurityScopes", "Any",
    "State", "Scope", "Receive", "Send",
})


MAX_URLS_FILES = 12


def _depends_targets(expr: cst.CSTNode | None, out: list[cst.BaseExpression],
                     depth: int = 0) -> None:
    """The callables inside `Depends(f)` / `Security(f)`, looking through lists and
    `Annotated[...]`."""
    if expr is None or depth > 6:
        return
    if isinstance(expr, cst.Call):
        if dotted_name(expr.func).rsplit(".", 1)[-1] in ("Depends", "Security") and \
                expr.args and isinstance(expr.args[0].value, (cst.Name, cst.Attribute)):
            out.append(expr.args[0].value)
    elif isinstance(expr, (cst.List, cst.Tuple)):
        for element in expr.elements:
            _depends_targets(element.value, out, depth + 1)
    elif isinstance(expr, cst.Subscript):
        for index in expr.slice:
            if isinstance(index.slice, cst.Index):
                _depends_targets(index.slice.value, out, depth + 1)


def fnmatch_any(name: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Does a dotted name match one of the fnmatch patterns (case-sensitive)? One compiled
    matcher per pattern list (literal names by set lookup): asked for every call and
    decorator of a module."""
    return globs(tuple(patterns)).match(name) is not None


def string_value(node: cst.CSTNode | None) -> str | None:
    """The text of a plain (possibly concatenated) string literal, else None."""
    return literal_text(node)


def string_list(node: cst.CSTNode | None) -> list[str] | None:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for element in node.elements:
            value = string_value(element.value)
            if value is None:
                return None
            out.append(value)
        return out
    value = string_value(node)
    return [value] if value is not None else None


def normalise_header(name: str) -> str:
    """`HTTP_X_KEYPORT_SIGNATURE`, `x_keyport_signature`, `X-KeyPort-Signature` -> one form."""
    name = name.strip().lower().replace("_", "-")
    if name.startswith("http-"):
        name = name[5:]
    return name


@lru_cache(maxsize=64)
def _whole(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!x)x")
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def whole_regex(settings: Settings, name: str) -> re.Pattern[str]:
    """One case-insensitive regex of a list setting, for `fullmatch`."""
    return _whole(tuple(settings.get(name, [])))


def is_keyport_header(settings: Settings, name: str, which: str = "webhook-headers") -> bool:
    return bool(whole_regex(settings, which).fullmatch(normalise_header(name)))


def framework_of(settings: Settings, dotted: str) -> str:
    """The framework a dotted name belongs to (`rest_framework.views.APIView` -> drf)."""
    dotted = dotted.lstrip(".")
    for framework, prefixes in settings["web-frameworks"].items():
        for prefix in prefixes:
            if dotted == prefix or dotted.startswith(prefix + "."):
                return framework
    return ""


def _methods_from(call: cst.Call | None, name: str) -> frozenset[str] | None:
    """HTTP methods of a route decorator or registration: from its name or `methods=`."""
    verb = name.upper()
    if verb.startswith("ADD_"):
        verb = verb[4:]
    if verb.startswith("REQUIRE_"):
        verb = verb[8:]
    if verb in HTTP_VERBS:
        return frozenset({verb})
    if verb == "SAFE":
        return frozenset({"GET", "HEAD"})
    if call is not None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in ("methods", "http_method"):
                values = string_list(arg.value)
                if values is not None:
                    return frozenset(v.upper() for v in values)
        if name in ("api_view", "require_http_methods") and call.args:
            values = string_list(call.args[0].value)
            if values is not None:
                return frozenset(v.upper() for v in values)
    return None


def _path_arg(call: cst.Call, keywords: list[str]) -> str | None:
    """The route path of a route call: a keyword of settings.web-route-path-keywords, else
    the first positional string that is not an HTTP method."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return string_value(arg.value)
    for arg in call.args[:2]:
        if arg.keyword is None and not arg.star:
            value = string_value(arg.value)
            if value is not None and value.upper() not in HTTP_VERBS and value != "*":
                return value
    return None


def expression_refs(expr: cst.CSTNode | None, out: list[cst.BaseExpression] | None = None,
                    depth: int = 0) -> list[cst.BaseExpression]:
    """Names, attributes and strings an expression refers to, looking through containers and
    calls (`[Depends(verify)]`, `Middleware(KeyPortMiddleware)`, `Annotated[T, Depends(f)]`)."""
    if out is None:
        out = []
    if expr is None or depth > 6:
        return out
    if isinstance(expr, (cst.Name, cst.Attribute)):
        out.append(expr)
    elif isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        out.append(expr)  # type: ignore[arg-type]
    elif isinstance(expr, cst.Call):
        out.append(expr.func)
        for arg in expr.args:
            expression_refs(arg.value, out, depth + 1)
    elif isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        for element in expr.elements:
            expression_refs(element.value, out, depth + 1)
    elif isinstance(expr, cst.Dict):
        for entry in expr.elements:
            if isinstance(entry, cst.DictElement):
                expression_refs(entry.value, out, depth + 1)
    elif isinstance(expr, cst.Subscript):
        expression_refs(expr.value, out, depth + 1)
        for index in expr.slice:
            if isinstance(index.slice, cst.Index):
                expression_refs(index.slice.value, out, depth + 1)
    elif isinstance(expr, cst.Annotation):
        expression_refs(expr.annotation, out, depth + 1)
    elif isinstance(expr, cst.BinaryOperation):  # `A | B` unions in annotations
        expression_refs(expr.left, out, depth + 1)
        expression_refs(expr.right, out, depth + 1)
    return out


def _root(node: cst.BaseExpression) -> str | None:
    """`request` for `request.body`, `self.request` for `self.request.body`; None if deeper."""
    base = dotted_name(node)
    if not base or base.endswith("()") or base.count(".") > 1:
        return None
    return base


def classify_read(table: dict[str, list[str]], framework: str, attr: str) -> str | None:
    """raw | parsed | form | headers | query for `request.<attr>` in a framework."""
    for kind, entries in table.items():
        if f"{framework}:{attr}" in entries:
            return kind
    for kind, entries in table.items():
        if attr in entries:
            return kind
    return None


def _param_markers(param: cst.Param, non_body: list[str]) -> dict[str, str]:
    """FastAPI/Litestar parameter markers (`Header(alias=...)`, `Depends(f)`) in the default or
    in `Annotated[...]` metadata -> {marker: header alias or ""}."""
    found: dict[str, str] = {}
    calls: list[cst.Call] = []
    if isinstance(param.default, cst.Call):
        calls.append(param.default)
    annotation = param.annotation.annotation if param.annotation else None
    if isinstance(annotation, cst.Subscript) and dotted_name(annotation.value).endswith(
            "Annotated"):
        for element in annotation.slice[1:]:
            if isinstance(element.slice, cst.Index) and isinstance(element.slice.value,
                                                                    cst.Call):
                calls.append(element.slice.value)
    for call in calls:
        marker = dotted_name(call.func).rsplit(".", 1)[-1]
        if marker not in non_body and marker != "Body":
            continue
        alias = ""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in ("alias", "header"):
                alias = string_value(arg.value) or ""
        found[marker] = alias
    return found


def _is_body_param(param: cst.Param, markers: dict[str, str], non_body: list[str]) -> bool:
    if "Body" in markers:
        return True
    if any(k in non_body for k in markers):
        return False
    if param.annotation is None:
        return False
    annotation = param.annotation.annotation
    if isinstance(annotation, cst.Subscript):
        head = dotted_name(annotation.value).rsplit(".", 1)[-1]
        if head == "Annotated" and annotation.slice:
            first = annotation.slice[0].slice
            annotation = first.value if isinstance(first, cst.Index) else annotation
        elif head in ("Optional", "Union", "List", "list", "Dict", "dict"):
            return head in ("Dict", "dict") or any(
                isinstance(e.slice, cst.Index) and dotted_name(e.slice.value).rsplit(".", 1)[-1]
                not in SIMPLE_TYPES | {"None"} for e in annotation.slice)
    name = dotted_name(annotation).rsplit(".", 1)[-1] if not isinstance(
        annotation, cst.Subscript) else dotted_name(annotation.value).rsplit(".", 1)[-1]
    if not name:
        return False
    return name not in SIMPLE_TYPES and not name.endswith("Request")
