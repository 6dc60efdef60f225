"""Kind `raw-response`: a web handler hands the raw KeyPort response to the browser (KP502).

Two shared analyses meet here: `handlers` says which functions are endpoints, `results` says
what an expression holds (the validate dict, the HTTP response, its text or bytes, a `**` copy).
A handler that returns such a value, or wraps it in a response call (`jsonify(result)`,
`JsonResponse(resp.json())`, `self.write(result)`), is reported at its `return` (or `write`).
A new dict of chosen fields is the fix and is never reported.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.kinds.base import Kind

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings

BODY_KEYWORDS = ("content", "data", "body", "text", "obj", "context", "response")


class RawResponse(Kind):
    name = "raw-response"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        "triggers": ("list[str]", ["keyport", "/api/v1/validate"]),
    }
    placeholders = frozenset({"what", "handler"})
    default_context = "keyport"
    user_facing = False  # KP502 only: tuned through settings (response-calls, web-*)
    # the raw response may come from a helper or client of a KeyPort-related project module
    follows_imports = True
    uses_settings = ("response-calls", "web-frameworks", "validate-paths", "sdk-clients",
                     "sdk-lookup-methods", "http-request-classes", "http-raw-body-attributes",
                     "http-raw-body-methods", "http-ok-attributes", "http-status-attributes",
                     "json-parse-calls")

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        return {t.lower() for t in rule.params["triggers"]}

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        import libcst as cst

        from keyport_lint.analysis.facts import module_facts
        from keyport_lint.analysis.results import validation_results
        from keyport_lint.analysis.webhooks import endpoints

        results = ctx.analysis(validation_results)
        if not results.has_results:
            return ()
        facts = ctx.analysis(module_facts)
        calls = ctx.settings["response-calls"]
        for handler in endpoints(ctx):
            unit = results.function(handler.node)
            if unit is None:
                continue
            for ret, value in unit.returns:
                what = _raw(value) or _wrapped(ret.value, results, facts, calls)
                if what:
                    ctx.report(rule, ret, what=what, handler=handler.name)
            if not handler.function.called & {"self.write", "self.finish"}:
                continue  # only Tornado-style handlers write their response
            for write in _writes(handler.node):
                what = _wrapped(write, results, facts, calls)
                if what:
                    ctx.report(rule, write, what=what, handler=handler.name)
        del cst
        return ()


def _raw(value: Any) -> str | None:
    if value is None:
        return None
    if value.is_result:
        return "the validate result"
    if value.is_raw_response:
        return "the raw validate response"
    return None


def _wrapped(expr: Any, results: Any, facts: Any, calls: list[str]) -> str | None:
    """`jsonify(result)`, `JsonResponse(resp.json())`, `json.dumps(result)`, `{**result}`."""
    import libcst as cst

    if isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.StarredDictElement):
                what = _raw(results.value_of(element.value))
                if what:
                    return f"a ** copy of {what}"
        return None
    if not isinstance(expr, cst.Call):
        return None
    callee = facts.resolve(expr.func) or ""
    last = callee.rsplit(".", 1)[-1]
    if not last or not any(fnmatch.fnmatchcase(last, p) for p in calls):
        return None
    positional = [a for a in expr.args if a.keyword is None and not a.star]
    candidates = positional[:1] + [a for a in expr.args
                                   if a.keyword is not None and a.keyword.value in BODY_KEYWORDS]
    for arg in candidates:
        what = _raw(results.value_of(arg.value)) or _wrapped(arg.value, results, facts, calls)
        if what:
            return what
    return None


def _writes(node: cst.FunctionDef) -> list[cst.Call]:
    """`self.write(...)` / `self.finish(...)` calls of a Tornado-style handler."""
    import libcst as cst

    from keyport_lint.analysis.fastvisit import FastVisitor, walk

    found: list[cst.Call] = []

    class _Writes(FastVisitor):
        def visit_FunctionDef(self, inner: cst.FunctionDef) -> bool:
            return inner is node  # nested functions are not the handler

        def visit_Call(self, call: cst.Call) -> None:
            func = call.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and \
                    func.value.value == "self" and func.attr.value in ("write", "finish"):
                found.append(call)

    walk(node, _Writes())
    return found


KIND = RawResponse()
