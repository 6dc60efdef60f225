"""Kind `status-handling`: how code treats a KeyPort validation result (KP401–KP405).

KeyPort answers HTTP 200 with a typed `status` for business failures, and the SDK returns a
plain dict for them; code that collapses those statuses into one failure, tests the dict for
truth, compares against invented statuses, or gates on the HTTP code alone lets the wrong users
in or gives every failure the same message. One kind with a `check` parameter; every check
reads the shared analysis in `analysis/results.py`. Statuses, categories and the categories that
must be told apart are settings (rules/settings.yaml), never Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.errors import UserError
from keyport_lint.kinds.base import REQUIRED, Kind, setting_triggers

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.analysis.results import ResultsAnalysis
    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings
    from keyport_lint.yamlio import LDict

CHECKS = ("collapsed", "truthiness", "unknown-status", "http-gate", "exceptions")
# exception attributes whose use tells failures apart inside a catch-all handler
DISTINGUISHING_ATTRIBUTES = frozenset({"code", "status", "status_code", "retry_after",
                                       "response"})


class StatusHandling(Kind):
    name = "status-handling"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        "check": ("str", REQUIRED),  # one of CHECKS
        # substrings of which a file must hold one (besides the KeyPort context markers)
        "triggers": ("list[str]", []),
        # exception names (last segment) that catch every KeyPort failure at once (KP405)
        "catch-all": ("list[str]", ["Exception", "BaseException", "KeyPortError"]),
    }
    placeholders = frozenset({"categories", "detail", "caught"})
    default_context = "keyport"
    user_facing = False  # KP4 only: tuned through settings (statuses, categories)
    # a validation helper, client or factory may come from a KeyPort-related project module
    follows_imports = True

    def validate(self, rule: Rule, raw: LDict) -> None:
        if rule.params["check"] not in CHECKS:
            raise UserError(f"rule {rule.id}: check must be one of {', '.join(CHECKS)}",
                            raw.file or None, raw.line_of("check") if "check" in raw else raw.line)

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        """The rule's own tokens plus whatever makes a module KeyPort-related."""
        tokens = {t.lower() for t in rule.params["triggers"]}
        tokens |= {p.lower() for p in settings["validate-paths"]}
        tokens |= {h.lower() for h in settings["api-hosts"]}
        names = setting_triggers(settings, ("context-markers", "key-names", "secret-names"))
        return None if names is None else tokens | names

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.analysis.results import validation_results

        analysis = ctx.analysis(validation_results)
        check = rule.params["check"]
        if check == "exceptions":
            self._exceptions(rule, ctx, analysis)
        elif analysis.has_results:
            getattr(self, "_" + check.replace("-", "_"))(rule, ctx, analysis)
        return ()

    # -- KP401 ---------------------------------------------------------------------------------
    def _collapsed(self, rule: Rule, ctx: PythonContext, analysis: ResultsAnalysis) -> None:
        settings = ctx.settings
        categories: dict[str, list[str]] = settings["status-categories"]
        names: dict[str, str] = settings["category-names"]
        by_exception = {c for c, excs in settings["category-exceptions"].items()
                        if set(excs) & analysis.exception_refs}
        by_code = {c: {int(x) for x in codes if x.strip().isdigit()}
                   for c, codes in settings["category-http-codes"].items()}
        for f in analysis.functions:
            gates = [g for g in f.gates if not g.bool_return and g.value.is_validation]
            if not gates or not f.status_access:
                continue
            statuses, codes, everything = f.handled()
            if everything:
                continue
            handled = {c for c, members in categories.items() if set(members) & statuses}
            handled |= {c for c, numbers in by_code.items() if numbers & codes}
            handled |= by_exception
            missing = [c for c in settings["required-categories"] if c not in handled]
            if missing:
                gate = gates[0]
                ctx.report(rule, gate.node, length=len(gate.keyword) or None,
                           categories=_and([names.get(c, c) for c in missing]))

    # -- KP402 ---------------------------------------------------------------------------------
    def _truthiness(self, rule: Rule, ctx: PythonContext, analysis: ResultsAnalysis) -> None:
        direct = {*ctx.settings["sdk-validate-methods"], *ctx.settings["http-call-names"],
                  "json", "loads"}
        for f in analysis.functions:
            for expr, value, name in f.truth_tests:
                if not value.is_result:
                    continue
                # a result from a helper may be None (`return None` on error): testing it
                # before reading its fields is a None guard; a direct validate() never is
                if name and name in f.checked_names and _via_helper(value.site, direct):
                    continue
                ctx.report(rule, expr)

    # -- KP403 ---------------------------------------------------------------------------------
    def _unknown_status(self, rule: Rule, ctx: PythonContext, analysis: ResultsAnalysis) -> None:
        known = {s for members in ctx.settings["status-categories"].values() for s in members}
        for f in analysis.functions:
            reported: set[int] = set()
            for compare in f.status_compares:
                unknown = sorted(s for s in compare.strings - known - compare.value.keys if s)
                if unknown and id(compare.node) not in reported:
                    reported.add(id(compare.node))
                    ctx.report(rule, compare.node, detail=(
                        f"{unknown[0]!r} is not a KeyPort status, so this comparison never "
                        "matches; compare with KeyPort's status strings (active, expired, …)"))
            for node, _value in f.attribute_reads:
                attr = node.attr.value
                ctx.report(rule, node, detail=(
                    f".{attr} on a validation result raises AttributeError: the result is a "
                    f"plain dict; read it as [{attr!r}]"))

    # -- KP404 ---------------------------------------------------------------------------------
    def _http_gate(self, rule: Rule, ctx: PythonContext, analysis: ResultsAnalysis) -> None:
        import libcst as cst

        for f in analysis.functions:
            seen: set[int] = set()
            for node, value in f.http_tests:
                if value.site is not None and id(value.site) in f.checked_sites:
                    continue
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if isinstance(node, cst.Comparison):
                    detail = "an HTTP status code test"
                elif isinstance(node, cst.Attribute):
                    detail = f".{node.attr.value}"
                elif isinstance(node, cst.Call):
                    detail = "raise_for_status()"
                else:
                    detail = "the response's truth value"
                ctx.report(rule, node, detail=detail)

    # -- KP405 ---------------------------------------------------------------------------------
    def _exceptions(self, rule: Rule, ctx: PythonContext, analysis: ResultsAnalysis) -> None:
        from keyport_lint.analysis.facts import module_facts

        if not analysis.guarded_calls:
            return
        facts = ctx.analysis(module_facts)
        catch_all = set(rule.params["catch-all"])
        for try_node, _calls in analysis.guarded_calls:
            caught = [(h, _caught_names(h.type, facts)) for h in try_node.handlers]
            broad = [(h, n) for h, n in caught if not n or n & catch_all]
            if not broad or len(broad) < len(caught):
                continue  # a more specific clause tells some failures apart
            for handler, names in broad:
                if _distinguishes(handler):
                    continue
                what = f"except {sorted(names)[0]}" if names else "a bare except"
                ctx.report(rule, handler, length=len("except"), caught=what)


def _caught_names(node: cst.BaseExpression | None, facts: Any) -> set[str]:
    import libcst as cst

    if node is None:
        return set()
    if isinstance(node, (cst.Tuple, cst.List)):
        out: set[str] = set()
        for element in node.elements:
            out |= _caught_names(element.value, facts)
        return out
    resolved = facts.resolve(node)
    return {resolved.rsplit(".", 1)[-1]} if resolved else {"?"}


def _distinguishes(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    """Does a catch-all handler re-raise, or look at which failure it caught (`isinstance(e,
    …)`, `e.status_code` …)? A plain walk: libcst's matchers cost a large import."""
    import libcst as cst

    bound = handler.name.name if handler.name is not None else None
    name = bound.value if isinstance(bound, cst.Name) else None
    stack: list[cst.CSTNode] = [handler.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Raise) and node.exc is None:
            return True
        if name is not None and (_is_instance_test(node, name) or (
                isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
                and node.value.value == name
                and node.attr.value in DISTINGUISHING_ATTRIBUTES)):
            return True
        stack.extend(node.children)
    return False


def _is_instance_test(node: cst.CSTNode, name: str) -> bool:
    import libcst as cst

    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
            and node.func.value == "isinstance" and bool(node.args)
            and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == name)


def _via_helper(site: Any, direct: set[str]) -> bool:
    import libcst as cst

    if not isinstance(site, cst.Call):
        return False
    func = site.func
    last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return last not in direct


def _and(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


KIND = StatusHandling()
