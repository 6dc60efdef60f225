"""Small readers of libcst syntax the results analysis shares: exits, boolean returns,
strings, HTTP codes, `match` patterns, branch joins."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from http import HTTPStatus

import libcst as cst

from keyport_lint.analysis.facts import dotted_name, literal_text
from keyport_lint.analysis.results.values import (
    DICT,
    EXITING_CALLS,
    NONE,
    PARAM,
    RESULT_KINDS,
    STATUS,
    STR,
    TUPLE,
    VALID,
    Value,
)


@dataclass(eq=False)
class _ParamHandling:
    statuses: set = field(default_factory=set)
    everything: bool = False
    forwards: set = field(default_factory=set)  # (callee uid, index, sub)


def _is_exit(statement: cst.BaseStatement) -> bool:
    if type(statement) is cst.SimpleStatementLine and statement.body:
        last = statement.body[-1]
        if type(last) in (cst.Return, cst.Raise, cst.Continue, cst.Break):
            return True
        if type(last) is cst.Expr and type(last.value) is cst.Call:
            return dotted_name(last.value.func).rsplit(".", 1)[-1] in EXITING_CALLS
    return False


def _block_statements(block: cst.BaseSuite) -> list:
    if type(block) is cst.IndentedBlock:
        return list(block.body)
    if type(block) is cst.SimpleStatementSuite:
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _bool_return(statements: list) -> bool:
    if len(statements) != 1 or type(statements[0]) is not cst.SimpleStatementLine:
        return False
    body = statements[0].body
    return (len(body) == 1 and type(body[0]) is cst.Return
            and _is_bool_literal(body[0].value))


def _is_bool_literal(node: cst.BaseExpression | None) -> bool:
    return type(node) is cst.Name and node.value in ("True", "False", "None")


def _string_of(node: cst.BaseExpression) -> str | None:
    """A plain text literal (not bytes, not a concatenation)."""
    return literal_text(node, concatenated=False, allow_bytes=False)


def _http_code(dotted: str) -> int | None:
    """`HTTPStatus.OK`, `requests.codes.ok`, `status.HTTP_200_OK` as numbers."""
    last = dotted.rsplit(".", 1)[-1]
    match = re.fullmatch(r"HTTP_(\d{3})(?:_\w+)?", last)
    if match:
        return int(match.group(1))
    if "." in dotted and ("HTTPStatus" in dotted or ".codes." in dotted):
        try:
            return int(HTTPStatus[last.upper()])
        except KeyError:
            return None
    return None


@lru_cache(maxsize=16)
def _patterns(patterns: tuple) -> re.Pattern[str]:
    """fnmatch patterns as one regex: checked on every call of a function."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or r"(?!x)x")


def _interesting(value: Value) -> bool:
    return value.param is not None or value.is_validation


def _with_default(value: Value | None, fallback: Value | None) -> Value | None:
    """`result.get("status", "unknown")`: the code's own fallback is no unknown status."""
    if value is None or value.kind != STATUS or fallback is None or fallback.literal is None:
        return value
    return replace(value, keys=value.keys | {fallback.literal})


def _relative(url: tuple) -> bool:
    """A URL that starts with a literal path: relative to a client's base or to the app."""
    return bool(url) and isinstance(url[0], str) and url[0].startswith("/") \
        and not url[0].startswith("//")


def _is_text(value: Value | None) -> bool:
    return value is not None and value.kind == STR


def _text(value: Value | None) -> tuple:
    """String segments of a value: its text, its parameter, or one unknown segment."""
    if value is None:
        return (None,)
    if value.kind == STR:
        return value.url
    if value.kind == PARAM and value.param is not None and value.param[2] == "":
        return (value.param[:2],)
    return (None,)


def _walk_comparisons(node: cst.CSTNode) -> list:
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item) is cst.Comparison:
            found.append(item)
        elif type(item) is cst.BooleanOperation:
            stack += [item.left, item.right]
        elif type(item) is cst.UnaryOperation:
            stack.append(item.expression)
    return found


def _strings(value: Value | None) -> tuple[frozenset, bool]:
    """The string literals a comparison operand stands for, and whether some are unknown."""
    if value is None:
        return frozenset(), True
    if value.kind == STR:
        text = value.literal
        return (frozenset({text}), False) if text is not None else (frozenset(), True)
    if value.kind == TUPLE:
        out, unknown = set(), False
        for item in value.items:
            text = item.literal if item is not None else None
            if text is None:
                unknown = True
            else:
                out.add(text)
        return frozenset(out), unknown
    if value.kind == DICT:
        return value.keys, False
    return frozenset(), True


def _pattern_statuses(pattern: cst.MatchPattern | None,
                      on_result: bool) -> tuple[frozenset, bool | None, bool]:
    """(status strings, valid flag tested, unknown values) a case pattern matches."""
    if pattern is None:
        return frozenset(), None, False
    if on_result:
        if type(pattern) is cst.MatchMapping:
            strings: set = set()
            valid: bool | None = None
            unknown = False
            for element in pattern.elements:
                key = _string_of(element.key) if type(element.key) is cst.SimpleString \
                    else None
                if key == STATUS:
                    s, _, u = _pattern_statuses(element.pattern, False)
                    strings |= s
                    unknown = unknown or u
                elif key == VALID and type(element.pattern) is cst.MatchSingleton:
                    value = element.pattern.value
                    valid = type(value) is cst.Name and value.value == "True"
            return frozenset(strings), valid, unknown
        if type(pattern) is cst.MatchOr:
            strings, valid, unknown = set(), None, False
            for alternative in pattern.patterns:
                s, v, u = _pattern_statuses(alternative.pattern, True)
                strings |= s
                valid = v if v is not None else valid
                unknown = unknown or u
            return frozenset(strings), valid, unknown
        return frozenset(), None, False
    if type(pattern) is cst.MatchValue:
        text = _string_of(pattern.value)
        return (frozenset({text}), None, False) if text is not None else (frozenset(), None, True)
    if type(pattern) is cst.MatchOr:
        strings, unknown = set(), False
        for alternative in pattern.patterns:
            s, _, u = _pattern_statuses(alternative.pattern, False)
            strings |= s
            unknown = unknown or u
        return frozenset(strings), None, unknown
    if type(pattern) is cst.MatchAs and pattern.pattern is not None:
        return _pattern_statuses(pattern.pattern, on_result)
    return frozenset(), None, False


def _irrefutable(pattern: cst.MatchPattern | None) -> bool:
    return type(pattern) is cst.MatchAs and pattern.pattern is None


def _join(a: Value, b: Value) -> Value | None:
    """One value for two alternatives (branches, several returns)."""
    if a.kind == NONE:
        return b
    if b.kind == NONE:
        return a
    if a.kind == b.kind and a.kind != TUPLE:
        return a
    if a.kind in RESULT_KINDS and b.kind == DICT:
        return a
    if b.kind in RESULT_KINDS and a.kind == DICT:
        return b
    if a.kind == TUPLE and b.kind == TUPLE and len(a.items) == len(b.items):
        items = []
        for x, y in zip(a.items, b.items):
            items.append(x if y is None else y if x is None else _join(x, y))
        return Value(TUPLE, items=tuple(items))
    return None
