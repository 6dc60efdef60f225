"""Kind `forbidden-call`: a call, named through imports and aliases, with conditions on its
arguments (`requests.get(..., verify=False)`, `keyport.KeyPort(...)` without `timeout`).

Conditions (combined with `combine: all | any`):
- `{keyword: NAME, equals: VALUE}` — the keyword is passed with this literal value;
- `{keyword: NAME, missing: true}` — the keyword is not passed (and no `**kwargs` hides it);
- `{keyword: NAME, matches: REGEX}` / `{arg: N, matches: REGEX}` — a string argument matches;
- `{arg: N, missing: true}` — fewer than N+1 positional arguments.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.errors import UserError
from keyport_lint.kinds.base import Kind
from keyport_lint.schema import compile_regex

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings
    from keyport_lint.yamlio import LDict

CONDITION_KEYS = {"keyword", "arg", "equals", "missing", "matches"}
_UNSET = object()


class ForbiddenCall(Kind):
    name = "forbidden-call"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        "calls": ("list[str]", []),
        "conditions": ("list[mapping]", []),
        "combine": ("str", "all"),
        "fix": ("mapping", {}),  # a replacement template (keyport_lint/fix/template.py)
    }
    placeholders = frozenset({"call"})
    default_context = "keyport"

    def validate(self, rule: Rule, raw: LDict) -> None:
        def fail(msg: str, where: Any = raw) -> UserError:
            return UserError(f"rule {rule.id}: {msg}", getattr(where, "file", None) or None,
                             getattr(where, "line", None))

        if rule.params.get("fix"):  # the fixer loads only for rules that have a template
            from keyport_lint.fix.template import validate

            validate(rule, raw)
        if not rule.params["calls"]:
            raise fail("forbidden-call needs 'calls' (dotted names such as requests.get)")
        if rule.params["combine"] not in ("all", "any"):
            raise fail("combine must be 'all' or 'any'")
        for cond in rule.params["conditions"]:
            unknown = set(cond) - CONDITION_KEYS
            if unknown:
                raise fail(f"unknown condition field {sorted(unknown)[0]!r} "
                           f"(fields: {', '.join(sorted(CONDITION_KEYS))})", cond)
            if ("keyword" in cond) == ("arg" in cond):
                raise fail("a condition names exactly one of 'keyword' or 'arg'", cond)
            tests = [k for k in ("equals", "missing", "matches") if k in cond]
            if len(tests) != 1:
                raise fail("a condition has exactly one of 'equals', 'missing', 'matches'", cond)
            if "arg" in cond and (not isinstance(cond["arg"], int) or cond["arg"] < 0):
                raise fail("'arg' is a positional index (0, 1, …)", cond)
            if "arg" in cond and "equals" in cond:
                raise fail("'equals' applies to keywords; use 'matches' for positions", cond)
            if "matches" in cond:
                compile_regex(cond["matches"], cond, "matches", f"rule {rule.id}: matches")

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        if rule.context == "keyport":
            return {"keyport"}
        tokens = set()
        for call in rule.params["calls"]:
            last = call.rsplit(".", 1)[-1]
            if not re.fullmatch(r"\w{3,}", last):
                return None
            tokens.add(last.lower())
        return tokens

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.analysis.facts import module_facts

        patterns = rule.params["calls"]
        combine = all if rule.params["combine"] == "all" else any
        for callee, call in ctx.analysis(module_facts).calls:
            if not callee or not any(fnmatch.fnmatchcase(callee, p) for p in patterns):
                continue
            conditions = rule.params["conditions"]
            if not conditions or combine(_holds(c, call) for c in conditions):
                ctx.report(rule, call, call=callee)
        return ()


def _holds(cond: dict[str, Any], call: cst.Call) -> bool:
    import libcst as cst

    has_star_kwargs = any(a.star == "**" for a in call.args)
    if "keyword" in cond:
        arg = next((a for a in call.args if a.keyword and a.keyword.value == cond["keyword"]),
                   None)
        if "missing" in cond:
            return (arg is None and not has_star_kwargs) == bool(cond["missing"])
        if arg is None:
            return False
        value = arg.value
    else:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if "missing" in cond:
            return (len(positional) <= cond["arg"]) == bool(cond["missing"])
        if len(positional) <= cond["arg"]:
            return False
        value = positional[cond["arg"]].value
    if "equals" in cond:
        return _literal(value, cst) == cond["equals"] and _literal(value, cst) is not _UNSET
    literal = _literal(value, cst)
    return isinstance(literal, str) and re.search(str(cond["matches"]), literal[:10000]) is not None


def _literal(node: Any, cst: Any) -> Any:
    from keyport_lint.analysis.facts import evaluated

    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            value = evaluated(node)
        except Exception:
            return _UNSET
        return _UNSET if value is None else value
    if isinstance(node, cst.SimpleString):
        try:
            value = evaluated(node)
        except Exception:
            return _UNSET
        return value.decode("latin-1") if isinstance(value, bytes) else value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _literal(node.expression, cst)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) \
            else _UNSET
    return _UNSET


KIND = ForbiddenCall()
