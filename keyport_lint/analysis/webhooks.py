"""Which endpoints receive KeyPort deliveries (KP3), on top of framework-neutral endpoint
detection (`analysis/handlers/`).

`keyport_webhooks(ctx)` -> the endpoints with the reasons that tie them to KeyPort: an
`X-KeyPort-*` header in any spelling, the webhook secret, keyport in the route or name,
`license.*` dispatch in KeyPort-related code, or `settings.webhook-handlers`. `endpoints(ctx)`
adds the functions that setting names to the web handlers, for every rule that asks about
endpoints; nothing here changes what `web_handlers` memoised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import module_facts
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    pass
from keyport_lint.analysis.handlers.builder import web_handlers
from keyport_lint.analysis.handlers.records import Handler, Read, Route
from keyport_lint.analysis.handlers.syntax import (
    classify_read,
    fnmatch_any,
    is_keyport_header,
    normalise_header,
    string_value,
    whole_regex,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.handlers.records import FunctionFacts, HandlerFacts


@dataclass(eq=False)
class Webhook:
    handler: Handler
    reasons: list[str]  # header | secret | name | path | events | configured
    processes: bool  # reads something of the delivery (a GET status page does not)


@dataclass(eq=False)
class KeyPortSignals:
    """What ties one function to KeyPort webhooks (used for handlers and their helpers)."""

    headers: set[str] = field(default_factory=set)  # normalised X-KeyPort-* header names
    secret: bool = False
    events: bool = False

    @property
    def any(self) -> bool:
        return bool(self.headers or self.secret or self.events)


def keyport_signals(ctx: PythonContext, function: FunctionFacts) -> KeyPortSignals:
    from keyport_lint.analysis.context import is_keyport_related

    memo = ctx.analysis(_signals_memo)
    if function.node in memo:
        return memo[function.node]
    settings = ctx.settings
    out = KeyPortSignals()
    headers = whole_regex(settings, "webhook-headers")
    for value in function.strings:
        normal = normalise_header(value)
        if headers.fullmatch(normal):
            out.headers.add(normal)
    for param in function.params:
        normal = normalise_header(param.name.value)
        if headers.fullmatch(normal):
            out.headers.add(normal)
    related = ctx.analysis(is_keyport_related)
    secrets = settings.secret_names
    constants = module_constants(ctx)
    for name in function.names:
        if secrets.fullmatch(name) or (related and settings.generic_secret_names.fullmatch(name)):
            out.secret = True
        constant = constants.get(name)
        if constant is not None:
            if headers.fullmatch(normalise_header(constant)):
                out.headers.add(normalise_header(constant))
            if secrets.fullmatch(constant):
                out.secret = True
        if constants.is_secret(name):
            out.secret = True
    if not out.secret:
        out.secret = any(secrets.fullmatch(s) for s in function.strings)
    if related:
        events = whole_regex(settings, "webhook-event-patterns")
        out.events = any(events.fullmatch(s) for s in function.strings)
    memo[function.node] = out
    return out


def _signals_memo(ctx: PythonContext) -> dict[cst.FunctionDef, KeyPortSignals]:
    return {}


class ModuleConstants:
    """Module-level string constants (`SIGNATURE_HEADER = "X-KeyPort-Signature"`) and names
    holding the webhook secret under a generic name (`WEBHOOK_SECRET =
    os.environ["KEYPORT_WEBHOOK_SECRET"]`). Local ones at once; an imported UPPER_CASE name is
    looked up on demand, and only in a project module with KeyPort text, so asking never
    parses modules that cannot answer."""

    def __init__(self, ctx: PythonContext) -> None:
        self.ctx = ctx
        local = exported_constants(ctx)
        self.strings = {k: v for k, v in local.items() if v != SECRET_MARK}
        self.secrets = {k for k, v in local.items() if v == SECRET_MARK}
        self._imported: dict[str, str | None] = {}

    def _lookup(self, name: str) -> str | None:
        if name in self._imported:
            return self._imported[name]
        self._imported[name] = None
        project, path = self.ctx.project, self.ctx.path
        origin = self.ctx.analysis(module_facts).imports.get(name)
        if project is not None and path is not None and origin and name.isupper():
            self._imported[name] = project.lookup(path, origin, _keyport_constants)
        return self._imported[name]

    def get(self, name: str) -> str | None:
        if name in self.strings:
            return self.strings[name]
        value = self._lookup(name)
        return value if value != SECRET_MARK else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def is_secret(self, name: str) -> bool:
        return name in self.secrets or self._lookup(name) == SECRET_MARK


SECRET_MARK = "<keyport webhook secret>"


def module_constants(ctx: PythonContext) -> ModuleConstants:
    """Memoised per file."""
    return ctx.analysis(ModuleConstants)


def _keyport_constants(ctx: PythonContext) -> dict[str, str]:
    """Project-index section: `exported_constants` of a module with KeyPort text (others
    answer nothing, so asking never builds endpoint facts of modules that cannot answer;
    the index still follows their re-exports)."""
    from keyport_lint.analysis.context import text_is_keyport_related

    return exported_constants(ctx) if text_is_keyport_related(ctx) else {}


def exported_constants(ctx: PythonContext) -> dict[str, str]:
    """Project-index summary: a module's string constants and webhook-secret aliases."""
    facts = ctx.analysis(web_handlers)
    secrets = ctx.settings.secret_names
    out: dict[str, str] = {}
    for name, value in facts.module_assigns.items():
        text = string_value(value)
        if text is not None and len(text) < 200:
            out[name] = text
        elif any(secrets.fullmatch(ref) for ref in _mentions(value)):
            out[name] = SECRET_MARK
    return out


def _mentions(expr: cst.CSTNode, depth: int = 0) -> list[str]:
    """Identifiers and strings inside an expression (bounded), e.g. the env var name in
    `os.environ.get("KEYPORT_WEBHOOK_SECRET", "")`."""
    out: list[str] = []
    if depth > 6:
        return out
    if isinstance(expr, cst.Name):
        out.append(expr.value)
    elif isinstance(expr, cst.Attribute):
        out.append(expr.attr.value)
        out.extend(_mentions(expr.value, depth + 1))
    elif isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(expr)
        if value is not None:
            out.append(value)
    elif isinstance(expr, cst.Call):
        out.extend(_mentions(expr.func, depth + 1))
        for arg in expr.args:
            out.extend(_mentions(arg.value, depth + 1))
    elif isinstance(expr, cst.Subscript):
        out.extend(_mentions(expr.value, depth + 1))
        for element in expr.slice:
            if isinstance(element.slice, cst.Index):
                out.extend(_mentions(element.slice.value, depth + 1))
    elif isinstance(expr, (cst.BinaryOperation, cst.BooleanOperation)):
        out.extend(_mentions(expr.left, depth + 1))
        out.extend(_mentions(expr.right, depth + 1))
    return out


def module_dotted(ctx: PythonContext) -> str:
    """`app.webhooks` for app/webhooks.py (display path), for settings.webhook-handlers."""
    display = ctx.display[:-3] if ctx.display.endswith(".py") else ctx.display
    parts = [p for p in display.replace("\\", "/").split("/") if p and p != "."]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def configured_handler(ctx: PythonContext, function: FunctionFacts) -> bool:
    patterns = ctx.settings["webhook-handlers"]
    if not patterns:
        return False
    module = module_dotted(ctx)
    names = [function.name, function.qualname, f"{module}.{function.qualname}"]
    return any(fnmatch_any(n, patterns) for n in names)


def _calls_keyport_api(ctx: PythonContext, function: FunctionFacts) -> bool:
    """Does the handler itself call KeyPort (the SDK, or the API by URL)?"""
    methods = {*ctx.settings["sdk-validate-methods"], *ctx.settings["sdk-lookup-methods"]}
    if any(c.rsplit(".", 1)[-1] in methods and "." in c for c in function.called):
        return True
    hosts = ctx.settings["api-hosts"]
    return any(h in value for value in function.strings for h in hosts)


def keyport_webhooks(ctx: PythonContext) -> list[Webhook]:
    """The endpoints that receive KeyPort deliveries. Memoised per file."""
    return ctx.analysis(_keyport_webhooks)


def endpoints(ctx: PythonContext) -> list[Handler]:
    """Every endpoint of the module: the web handlers, plus the functions
    `settings.webhook-handlers` names (the user says they are called for HTTP deliveries).
    Memoised per file; a new list, so no reader changes what `web_handlers` memoised."""
    return ctx.analysis(_endpoints)


def _endpoints(ctx: PythonContext) -> list[Handler]:
    facts = ctx.analysis(web_handlers)
    return list(facts.handlers) + _configured_handlers(ctx, facts)


def _configured_handlers(ctx: PythonContext, facts: HandlerFacts) -> list[Handler]:
    if not ctx.settings["webhook-handlers"]:
        return []
    out = []
    for function in facts.functions:  # settings.webhook-handlers may name any function
        if function.node not in facts.by_node and configured_handler(ctx, function):
            builder_framework = facts.framework or "configured"
            params = function.parameters  # from the def's record, `self`/`cls` left out
            roots = {p.name for p in params if p.name in ctx.settings["web-request-names"]}
            if params and not roots:
                roots.add(params[0].name)
            for local, origin in ctx.analysis(module_facts).imports.items():
                if origin in ("flask.request", "quart.request"):
                    roots.add(local)
            if function.cls is not None:  # the instance as the method names it
                roots.add(f"{function.definition.self_name or 'self'}.request")
            table = ctx.settings["web-request-reads"]
            reads = [Read(k, r, a, n) for r, a, n in function.attrs if r in roots
                     for k in [classify_read(table, builder_framework, a)] if k]
            reads += [Read("passed", r, "", None) for r in roots if r in function.passed]
            out.append(Handler(function, builder_framework,
                               [Route(None, frozenset(), builder_framework, "configured")],
                               frozenset(roots), reads, [], []))
    return out


def _keyport_webhooks(ctx: PythonContext) -> list[Webhook]:
    markers = ctx.settings.context_markers
    handlers = endpoints(ctx)
    out = []
    for handler in handlers:
        function = handler.function
        reasons = []
        signals = keyport_signals(ctx, function)
        header_params = {h for h, _ in handler.header_params}
        keyport_params = {h for h in header_params if is_keyport_header(ctx.settings, h)}
        if signals.headers or keyport_params:
            reasons.append("header")
        if signals.secret:
            reasons.append("secret")
        names = [function.name] + ([function.cls.name] if function.cls else [])
        if any(markers.search(n) for n in names):
            reasons.append("name")
        if any(markers.search(p) for p in handler.paths):
            reasons.append("path")
        if signals.events:
            reasons.append("events")
        if configured_handler(ctx, function):
            reasons.append("configured")
        if not reasons:
            continue
        if set(reasons) <= {"name", "path"} and _calls_keyport_api(ctx, function):
            continue  # `/api/keyport/activate` calls KeyPort: a client, not a receiver
        kinds = handler.read_kinds
        processes = bool(kinds & {"raw", "parsed", "form", "passed"}) or bool(
            signals.headers or keyport_params) or signals.events
        out.append(Webhook(handler, reasons, processes))
    return out
