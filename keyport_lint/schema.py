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
    if not isinstance(pattern, str):
        raise _fail(f"{what} must be a string regex, got {type(pattern).__name__}", container, key)
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise _fail(f"{what}: invalid regex {pattern!r}: {exc}", container, key) from None
    return compiled


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

