"""A small type checker for YAML values, shared by the config loader and the rule catalogue.

Types are short strings so that YAML files can declare them: `str`, `int`, `float`, `bool`,
`regex`, `list[str]`, `list[regex]`, `dict[str,str]`, `dict[str,list[str]]`, `mapping`,
`list[mapping]`, `any`.
"""

from __future__ import annotations

import re
from typing import Any

from keyport_lint.errors import UserError
from keyport_lint.yamlio import where

TYPES = {
    "str", "int", "float", "bool", "regex", "list[str]", "list[regex]",
    "dict[str,str]", "dict[str,list[str]]", "mapping", "list[mapping]", "any",
}


def _fail(msg: str, container: Any, key: Any) -> UserError:
    file, line = where(container, key)
    return UserError(msg, file or None, line)


def compile_regex(pattern: Any, container: Any, key: Any, what: str) -> re.Pattern[str]:
    """Every user pattern passes here (settings, rule parameters): it must compile and must not
    be able to backtrack without end, since most run with Python's `re`, which no time limit
    can stop."""
    if not isinstance(pattern, str):
        raise _fail(f"{what} must be a string regex, got {type(pattern).__name__}", container, key)
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise _fail(f"{what}: invalid regex {pattern!r}: {exc}", container, key) from None
    risk = backtracking_risk(pattern)
    if risk:
        raise _fail(f"{what}: regex {pattern!r} can backtrack without end on long text ({risk});"
                    " rewrite it without nested or overlapping repetition, e.g. "
                    r"`\w*acme_key` for `(?:\w+_)*acme_key`", container, key)
    return compiled


try:  # Python 3.11+ keeps the regex parser here; sre_parse is its deprecated alias
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse as _sre  # type: ignore[no-redef]

_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT}
_UNBOUNDED = 16  # a repetition allowing more than this many rounds counts as unbounded


def backtracking_risk(pattern: str) -> str | None:
    """Why `pattern` may backtrack exponentially (or polynomially past quadratic), or None.

    Conservative, from the parsed pattern: a repetition holding another repetition with no
    separator that the inner one cannot eat (`(?:\\w+_)*` is one, `(?:_[a-z]+)*` is not), a
    repetition of alternatives that can start alike, or three unbounded repetitions of the
    same thing in a row (`.*.*.*`)."""
    try:
        return _risk(_sre.parse(pattern))
    except Exception:  # `re` compiled it: this analysis never blocks a valid pattern itself
        return None


def _risk(items: Any) -> str | None:
    run: list[str] = []
    for op, av in items:
        found = None
        if op in _REPEATS:
            _low, high, sub = av
            if high > 1:
                inner = _inner_repeats(sub)
                if inner and not _separated(sub, inner):
                    return "a repeated group holds another repetition"
                if _ambiguous(sub):
                    return "a repeated choice whose branches can start alike"
            if high > _UNBOUNDED and len(sub) == 1:
                item = repr(sub[0])
                run = [*run, item] if (run and run[-1] == item) or item.startswith(
                    "(ANY") else [item]
                if len(run) >= 3:
                    return "three unbounded repetitions of the same thing in a row"
            else:
                run = []
            found = _risk(sub)
        elif op is _sre.SUBPATTERN:
            found = _risk(av[-1])
        elif op is _sre.BRANCH:
            found = next((r for r in (_risk(b) for b in av[1]) if r), None)
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            found = _risk(av[1])
        if found:
            return found
    return None


def _inner_repeats(items: Any) -> list[Any]:
    """The repeated items (more than one round) anywhere inside `items`."""
    out: list[Any] = []
    for op, av in items:
        if op in _REPEATS and av[1] > 1:
            out.append(av[2])
        elif op is _sre.SUBPATTERN:
            out += _inner_repeats(av[-1])
        elif op is _sre.BRANCH:
            for branch in av[1]:
                out += _inner_repeats(branch)
    return out


def _separated(items: Any, inner: list[Any]) -> bool:
    """Does every round of the group hold a literal character no inner repetition can match?
    Then rounds cannot trade characters and the engine never tries two ways."""
    for op, av in items:
        if op is _sre.LITERAL and not any(_matches(sub, chr(av)) for sub in inner):
            return True
        if op is _sre.SUBPATTERN and _separated(av[-1], inner):
            return True
    return False


def _matches(items: Any, char: str) -> bool:
    """Can the first item of `items` match `char`? (True when unsure.)"""
    if len(items) != 1:
        return True
    op, av = items[0]
    if op is _sre.LITERAL:
        return chr(av) == char
    if op is _sre.NOT_LITERAL:
        return chr(av) != char
    if op is _sre.ANY:
        return char != "\n"
    if op is _sre.IN:
        negate = bool(av) and av[0][0] is _sre.NEGATE
        hit = any(_in_set(o, a, char) for o, a in av if o is not _sre.NEGATE)
        return hit != negate
    return True


_CATEGORIES = {
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_SPACE": str.isspace,
}


def _in_set(op: Any, av: Any, char: str) -> bool:
    if op is _sre.LITERAL:
        return chr(av) == char
    if op is _sre.RANGE:
        return av[0] <= ord(char) <= av[1]
    if op is _sre.CATEGORY:
        name = str(av)
        for key, test in _CATEGORIES.items():
            if name.endswith(key):
                return bool(test(char)) != ("NOT_" in name)
    return True


def _first(items: Any) -> str | None:
    """The literal character every match of `items` starts with, or None when not known."""
    for op, av in items:
        if op is _sre.LITERAL:
            return chr(av)
        if op is _sre.SUBPATTERN:
            return _first(av[-1])
        return None
    return ""


def _ambiguous(items: Any) -> bool:
    for op, av in items:
        if op is _sre.SUBPATTERN:
            return _ambiguous(av[-1])
        if op is _sre.BRANCH:
            firsts = [_first(b) for b in av[1]]
            known = [f for f in firsts if f]
            return None in firsts or "" in firsts or len(known) != len(set(known))
        return False
    return False


def check_type(value: Any, type_name: str, container: Any, key: Any, what: str) -> None:
    """Raise a UserError naming file and line when `value` is not of `type_name`."""
    def bad(expected: str) -> UserError:
        return _fail(f"{what} must be {expected}, got {type(value).__name__}", container, key)

    if type_name == "any":
        return
    if type_name == "str":
        if not isinstance(value, str):
            raise bad("a string")
    elif type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
    elif type_name == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
    elif type_name == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
    elif type_name == "regex":
        compile_regex(value, container, key, what)
    elif type_name in ("list[str]", "list[regex]"):
        if not isinstance(value, list):
            raise bad("a list")
        for i, item in enumerate(value):
            if type_name == "list[regex]":
                compile_regex(item, value, i, f"{what}[{i}]")
            elif not isinstance(item, str):
                raise _fail(f"{what}[{i}] must be a string", value, i)
    elif type_name == "dict[str,str]":
        if not isinstance(value, dict):
            raise bad("a mapping")
        for k, v in value.items():
            if not isinstance(v, str):
                raise _fail(f"{what}.{k} must be a string", value, k)
    elif type_name == "dict[str,list[str]]":
        if not isinstance(value, dict):
            raise bad("a mapping")
        for k, v in value.items():
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise _fail(f"{what}.{k} must be a list of strings", value, k)
    elif type_name == "mapping":
        if not isinstance(value, dict):
            raise bad("a mapping")
    elif type_name == "list[mapping]":
        if not isinstance(value, list):
            raise bad("a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise _fail(f"{what}[{i}] must be a mapping", value, i)
    else:  # pragma: no cover - schema authoring error
        raise ValueError(f"unknown schema type {type_name}")

