"""Web endpoints of one module, across frameworks, and which of them receive KeyPort webhooks.

Shared by KP3 (webhook verification) and KP5 (exposure to clients), so endpoint detection does
not depend on KeyPort at all:

- `web_handlers(ctx)` -> `HandlerFacts`: every endpoint (Flask/Quart routes and MethodViews,
  FastAPI/Starlette routes, `add_api_route`, `Route(...)` lists, Django function and class-based
  views incl. DRF, aiohttp, Tornado, Sanic, Litestar, `http.server` `do_POST`), with its
  framework, HTTP methods, route paths, how it reads the request (raw body, parsed JSON, form,
  headers, query), its body and header parameters, plus the references that run before
  handlers (middleware, dependencies, permission classes) for the verification analysis;
- `keyport_webhooks(ctx)` -> the endpoints that receive KeyPort deliveries, with the reasons
  (SPEC section 2, KP3): an `X-KeyPort-*` header in any spelling, the webhook secret, keyport
  in the route or name, `license.*` dispatch in KeyPort-related code, or
  `settings.webhook-handlers`.

One traversal records functions, classes, app objects, route registrations and request-shaped
attribute reads; everything else is lookups over those records. Framework knowledge (app
classes, decorators, registration calls, view bases, request attributes) lives in
rules/settings.yaml. Without scope metadata, names are resolved through the import alias table.
The visitors are plain `CSTVisitor`s: no matcher decorators are needed, and the matcher
machinery costs about four times as much per traversal.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name, evaluated, module_facts
from keyport_lint.analysis.fastvisit import FastVisitor, walk
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.settings import Settings

HTTP_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
VIEW_METHOD_VERBS = {"create": "POST", "update": "PUT", "partial_update": "PATCH",
                     "destroy": "DELETE", "list": "GET", "retrieve": "GET"}
TARGET_KEYWORDS = ("view_func", "endpoint", "handler", "view", "controller", "route_handler")
PATH_KEYWORDS = ("path", "rule", "route", "pattern", "uri", "url")
NON_BODY_MARKERS = frozenset({"Depends", "Security", "Header", "Query", "Path", "Cookie",
                              "File", "Form", "Param", "Parameter", "Dependency"})
SIMPLE_TYPES = frozenset({
    "str", "int", "float", "bool", "bytes", "UUID", "datetime", "date", "time", "Decimal",
    "BackgroundTasks", "Response", "WebSocket", "HTTPConnection", "SecurityScopes", "Any",
    "State", "Scope", "Receive", "Send",
})
MAX_URLS_FILES = 12
# hook names that configure one handler or class, not the whole app
PER_HANDLER_HOOKS = frozenset({"method_decorator", "decorators", "dependencies", "guards",
                               "permission_classes", "authentication_classes"})


@dataclass(eq=False)
class ClassRecord:
    node: cst.ClassDef
    name: str
    bases: list[str]  # resolved dotted names of the bases
    assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)
    methods: dict[str, FunctionRecord] = field(default_factory=dict)


@dataclass(eq=False)
class FunctionRecord:
    """A def with what a handler analysis needs from its body, collected in the traversal."""

    node: cst.FunctionDef
    name: str
    qualname: str
    cls: ClassRecord | None
    parent: FunctionRecord | None
    # (root, attr, node) for `root.attr` where root has at most two segments (request.body,
    # self.request.body, flask.request.json)
    attrs: list[tuple[str, str, cst.Attribute]] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every identifier used in the def
    passed: set[str] = field(default_factory=set)  # names passed whole as call arguments
    called: set[str] = field(default_factory=set)  # dotted callees as written

    @property
    def params(self) -> list[cst.Param]:
        p = self.node.params
        params = [*p.posonly_params, *p.params, *p.kwonly_params]
        if self.cls is not None and params and not _is_static(self.node):
            params = params[1:]  # self / cls
        return params


@dataclass(eq=False)
class Route:
    path: str | None
    methods: frozenset[str]  # empty: any method
    framework: str
    via: str  # decorator | registration | view-class | urls | django-view | configured
    receiver: str = ""  # the app/router/blueprint object that registered it
    node: cst.CSTNode | None = None  # the decorator or the registering call


@dataclass(eq=False)
class Read:
    kind: str  # raw | parsed | form | headers | query | passed
    root: str
    attr: str
    node: cst.CSTNode | None


@dataclass(eq=False)
class Handler:
    function: FunctionRecord
    framework: str
    routes: list[Route]
    request_roots: frozenset[str]
    reads: list[Read]
    header_params: list[tuple[str, cst.Param]]  # (normalised header name, parameter)
    body_params: list[cst.Param]  # parsed-body parameters (Pydantic models, Litestar `data`)

    @property
    def node(self) -> cst.FunctionDef:
        return self.function.node

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def qualname(self) -> str:
        return self.function.qualname

    @property
    def methods(self) -> frozenset[str]:
        """HTTP methods routed here; empty when any method may arrive."""
        out: set[str] = set()
        for route in self.routes:  # `@csrf_exempt @require_POST`: the specific one wins
            out |= route.methods
        return frozenset(out)

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.routes if r.path]

    @property
    def read_kinds(self) -> frozenset[str]:
        kinds = {r.kind for r in self.reads}
        if self.body_params:
            kinds.add("parsed")
        if self.header_params:
            kinds.add("headers")
        return frozenset(kinds)

    @property
    def receivers(self) -> set[str]:
        return {r.receiver for r in self.routes if r.receiver}

    @property
    def decorators(self) -> list[str]:
        """Dotted names of the decorators as written (`app.post`, `csrf_exempt`)."""
        out = []
        for decorator in self.node.decorators:
            expr = decorator.decorator
            name = dotted_name(expr.func if isinstance(expr, cst.Call) else expr)
            if name:
                out.append(name)
        return out

    @property
    def dependencies(self) -> list[cst.BaseExpression]:
        """What FastAPI/Litestar run before this handler: `Depends(f)` / `Security(f)` targets
        in parameters and in the route decorator's `dependencies=`, and `guards=` entries."""
        out: list[cst.BaseExpression] = []
        for param in self.function.params:
            _depends_targets(param.default, out)
            if param.annotation is not None:
                _depends_targets(param.annotation.annotation, out)
        for decorator in self.node.decorators:
            if isinstance(decorator.decorator, cst.Call):
                for arg in decorator.decorator.args:
                    if arg.keyword is not None and arg.keyword.value == "dependencies":
                        _depends_targets(arg.value, out)
                    elif arg.keyword is not None and arg.keyword.value == "guards" and \
                            isinstance(arg.value, (cst.List, cst.Tuple)):
                        out.extend(e.value for e in arg.value.elements
                                   if isinstance(e.value, (cst.Name, cst.Attribute)))
        return out


@dataclass(eq=False)
class HookRef:
    """Something referenced where code runs before handlers (middleware, dependencies, ...).

    `scope` is "module", a ClassRecord (class attribute, class decorator) or the name of an app
    object whose constructor received it (`APIRouter(dependencies=[...])`)."""

    expr: cst.BaseExpression
    scope: str | ClassRecord


@dataclass(eq=False)
class Registration:
    call: cst.Call
    path: str | None
    methods: frozenset[str]
    framework: str
    target: cst.BaseExpression
    receiver: str


@dataclass(eq=False)
class HandlerFacts:
    handlers: list[Handler] = field(default_factory=list)
    functions: list[FunctionRecord] = field(default_factory=list)
    module_functions: dict[str, FunctionRecord] = field(default_factory=dict)
    classes: dict[str, ClassRecord] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)  # name -> app class (dotted)
    module_assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)
    registrations: list[Registration] = field(default_factory=list)
    hooks: list[HookRef] = field(default_factory=list)
    hook_functions: list[FunctionRecord] = field(default_factory=list)  # @app.before_request …
    frameworks: list[str] = field(default_factory=list)  # imported, in settings order
    by_node: dict[cst.FunctionDef, Handler] = field(default_factory=dict)

    @property
    def framework(self) -> str:
        return self.frameworks[0] if self.frameworks else ""

    def handler_for(self, node: cst.FunctionDef) -> Handler | None:
        return self.by_node.get(node)


# -- helpers --------------------------------------------------------------------------------------

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
        for element in expr.slice:
            if isinstance(element.slice, cst.Index):
                _depends_targets(element.slice.value, out, depth + 1)


def _is_static(node: cst.FunctionDef) -> bool:
    return any(dotted_name(d.decorator) == "staticmethod" for d in node.decorators)


def fnmatch_any(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def string_value(node: cst.CSTNode | None) -> str | None:
    """The text of a plain (possibly concatenated) string literal, else None."""
    if isinstance(node, cst.SimpleString):
        try:
            value = evaluated(node)
        except Exception:  # odd escapes
            return None
        return value.decode("latin-1") if isinstance(value, bytes) else value
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None


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


def _path_arg(call: cst.Call) -> str | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in PATH_KEYWORDS:
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
        for element in expr.elements:
            if isinstance(element, cst.DictElement):
                expression_refs(element.value, out, depth + 1)
    elif isinstance(expr, cst.Subscript):
        expression_refs(expr.value, out, depth + 1)
        for element in expr.slice:
            if isinstance(element.slice, cst.Index):
                expression_refs(element.slice.value, out, depth + 1)
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


# -- the traversal ------------------------------------------------------------------------------

class _Collector(FastVisitor):
    """Dispatch-table visitor (fastvisit.py): the plain CSTVisitor's per-field lookups cost
    as much as the parse on KeyPort-dense code."""

    def __init__(self, facts: ModuleFacts, settings: Settings, out: HandlerFacts) -> None:
        super().__init__()
        self.facts = facts
        self.settings = settings
        self.out = out
        self.scope: list[FunctionRecord | ClassRecord] = []
        self.pending: dict[int, FunctionRecord] = {}
        self.decorator_exprs: set[int] = set()
        self.assign_target: list[str] = []
        self.called_names: set[str] = set()
        route_calls = settings["web-route-calls"]
        self.route_words = {c for c in route_calls if "." not in c}
        self.route_dotted = [c for c in route_calls if "." in c]
        self.hook_names = set(settings["web-pre-handler-hooks"])
        self.app_classes = settings["web-app-classes"]
        self.raw_registrations: list[tuple[cst.Call, str]] = []

    # scope ------------------------------------------------------------------------------------
    def _function(self) -> FunctionRecord | None:
        for item in reversed(self.scope):
            if isinstance(item, FunctionRecord):
                return item
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [self.facts.resolve(arg.value) for arg in node.bases if arg.keyword is None]
        record = ClassRecord(node, node.name.value, [b for b in bases if b])
        if not any(isinstance(s, FunctionRecord) for s in self.scope):
            self.out.classes.setdefault(record.name, record)
        for decorator in node.decorators:
            self.decorator_exprs.add(id(decorator.decorator))
            for ref in expression_refs(decorator.decorator):
                self.out.hooks.append(HookRef(ref, record))
        self.scope.append(record)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        if self.scope and isinstance(self.scope[-1], ClassRecord):
            self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        top = self.scope[-1] if self.scope else None
        cls = top if isinstance(top, ClassRecord) else None
        parent = self._function()
        prefix = cls.name if cls else (parent.qualname if parent else "")
        name = node.name.value
        record = FunctionRecord(node, name, f"{prefix}.{name}" if prefix else name, cls, parent)
        self.out.functions.append(record)
        if cls is not None:
            cls.methods.setdefault(name, record)
        elif parent is None:
            self.out.module_functions[name] = record
        for decorator in node.decorators:
            self.decorator_exprs.add(id(decorator.decorator))
            func = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) \
                else decorator.decorator
            last = dotted_name(func).rsplit(".", 1)[-1]
            if last in self.hook_names and last not in PER_HANDLER_HOOKS:
                self.out.hook_functions.append(record)
        self.pending[id(node)] = record

    def visit_FunctionDef_params(self, node: cst.FunctionDef) -> None:
        record = self.pending.pop(id(node), None)
        if record is not None:
            self.scope.append(record)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        top = self.scope[-1] if self.scope else None
        if isinstance(top, FunctionRecord) and top.node is original_node:
            self.scope.pop()

    # facts inside functions -------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        function = self._function()
        if function is None:
            return
        root = _root(node.value)
        if root is not None:
            function.attrs.append((root, node.attr.value, node))

    def visit_Name(self, node: cst.Name) -> None:
        function = self._function()
        if function is not None:
            function.names.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        function = self._function()
        if function is not None:
            value = string_value(node)
            if value is not None and len(value) < 200:
                function.strings.append(value)

    def visit_Call(self, node: cst.Call) -> None:
        function = self._function()
        func_dotted = dotted_name(node.func)
        if isinstance(node.func, cst.Name):
            self.called_names.add(node.func.value)
        if function is not None:
            if func_dotted:
                function.called.add(func_dotted)
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    function.passed.add(arg.value.value)
                else:
                    root = _root(arg.value)
                    if root and root.startswith("self."):
                        function.passed.add(root)
        if id(node) in self.decorator_exprs:
            return
        attr = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        resolved = self.facts.resolve(node.func) if func_dotted else ""
        if attr in self.route_words or (
                resolved and fnmatch_any(resolved.lstrip("."), self.route_dotted)):
            self.raw_registrations.append((node, resolved))
        # code that runs before handlers: app.add_middleware(M), Starlette(middleware=[...]),
        # APIRouter(dependencies=[...]), app.before_request(f)
        last = resolved.rsplit(".", 1)[-1] if resolved else ""
        if attr in self.hook_names or last in self.hook_names:
            for arg in node.args:
                for ref in expression_refs(arg.value):
                    self.out.hooks.append(HookRef(ref, "module"))
        receiver = self.assign_target[-1] if self.assign_target else ""
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in self.hook_names:
                app = self.out.apps.get(receiver, "")
                scope = receiver if arg.keyword.value in ("dependencies", "guards") and \
                    app.endswith(("Router", "Blueprint")) else "module"
                for ref in expression_refs(arg.value):
                    self.out.hooks.append(HookRef(ref, scope))

    # assignments ------------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        self._assign([t.target for t in node.targets], node.value)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        if self.assign_target:
            self.assign_target.pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assign([node.target], node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if self.assign_target:
            self.assign_target.pop()

    def _assign(self, targets: list[cst.BaseExpression], value: cst.BaseExpression | None
                ) -> None:
        name = ""
        if len(targets) == 1:
            target = targets[0]
            if isinstance(target, cst.Name):
                name = target.value
            elif isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                name = f"self.{target.attr.value}"
        self.assign_target.append(name)
        if not name or value is None:
            return
        top = self.scope[-1] if self.scope else None
        if isinstance(value, cst.Call):
            callee = self.facts.resolve(value.func).lstrip(".")
            if callee and fnmatch_any(callee, self.app_classes):
                self.out.apps[name] = callee
        if top is None:
            self.out.module_assigns[name] = value
            if name in self.hook_names:  # Django's MIDDLEWARE = [...]
                for ref in expression_refs(value):
                    self.out.hooks.append(HookRef(ref, "module"))
        elif isinstance(top, ClassRecord):
            top.assigns[name] = value
            if name in self.hook_names:  # permission_classes = [...], decorators = [...]
                for ref in expression_refs(value):
                    self.out.hooks.append(HookRef(ref, top))


# -- building handlers -----------------------------------------------------------------------------

class _Builder:
    def __init__(self, ctx: PythonContext, facts: ModuleFacts, collector: _Collector,
                 out: HandlerFacts) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.facts = facts
        self.collector = collector
        self.out = out
        self.routes: dict[int, list[Route]] = {}  # id(FunctionDef) -> routes
        self.view_classes: dict[str, str] = {}  # class name -> framework
        self.class_routes: dict[str, list[Route]] = {}

    def framework(self) -> str:
        return self.out.framework

    def build(self) -> None:
        self.out.frameworks = self._frameworks()
        for function in self.out.functions:
            for decorator in function.node.decorators:
                route = self._decorator_route(decorator)
                if route is not None:
                    self.routes.setdefault(id(function.node), []).append(route)
        for call, resolved in self.collector.raw_registrations:
            self.out.registrations.extend(self._registrations(call, resolved))
        for reg in self.out.registrations:
            self._route_target(reg)
        self._view_classes()
        self._django_function_views()
        for function in self.out.functions:
            routes = self.routes.get(id(function.node))
            if routes:
                handler = self._handler(function, routes)
                self.out.handlers.append(handler)
                self.out.by_node[function.node] = handler

    def _frameworks(self) -> list[str]:
        found = []
        origins = [o.lstrip(".") for o in self.facts.imports.values()]
        for framework, prefixes in self.settings["web-frameworks"].items():
            if any(o == p or o.startswith(p + ".") for o in origins for p in prefixes):
                found.append(framework)
        return found

    # decorators -------------------------------------------------------------------------------
    def _decorator_route(self, decorator: cst.Decorator) -> Route | None:
        expr = decorator.decorator
        call = expr if isinstance(expr, cst.Call) else None
        func = call.func if call is not None else expr
        written = dotted_name(func)
        if not written:
            return None
        resolved = self.facts.resolve(func).lstrip(".")
        last = written.rsplit(".", 1)[-1]
        if fnmatch_any(resolved, self.settings["web-handler-decorators"]):
            framework = framework_of(self.settings, resolved) or self.framework()
            methods = _methods_from(call, last)
            return Route(_path_arg(call) if call is not None else None,
                         methods if methods is not None else frozenset(), framework,
                         "decorator", "", decorator)
        if call is None or not isinstance(func, cst.Attribute) \
                or last not in self.settings["web-route-decorators"]:
            return None
        receiver = dotted_name(func.value)
        if not receiver:
            return None
        path = _path_arg(call)
        app = self.out.apps.get(receiver)
        if app is None and path is None:
            return None
        if app is None and not self.out.frameworks and not (path or "").startswith("/"):
            return None
        framework = framework_of(self.settings, app) if app else ""
        framework = framework or self.framework()
        methods = _methods_from(call, last)
        if methods is None and last in ("route", "api_route") and call.args:
            first = string_value(call.args[0].value)  # aiohttp: routes.route("POST", "/x")
            if first is not None and first.upper() in HTTP_VERBS:
                methods = frozenset({first.upper()})
        if methods is None:
            methods = frozenset({"GET"}) if last in ("route", "api_route") else frozenset()
        return Route(path, methods, framework, "decorator", receiver, decorator)

    # registrations ----------------------------------------------------------------------------
    def _registrations(self, call: cst.Call, resolved: str) -> list[Registration]:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else \
            resolved.rsplit(".", 1)[-1]
        receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else ""
        framework = framework_of(self.settings, resolved) if resolved else ""
        if not framework and receiver in self.out.apps:
            framework = framework_of(self.settings, self.out.apps[receiver])
        framework = framework or self.framework()
        methods = _methods_from(call, name)
        if methods is None and call.args:  # aiohttp: router.add_route("POST", "/x", handler)
            first = string_value(call.args[0].value)
            if first is not None and first.upper() in HTTP_VERBS:
                methods = frozenset({first.upper()})
        methods = methods if methods is not None else frozenset()
        out: list[Registration] = []
        # tables of (path, handler) tuples: tornado Application([...]), add_handlers(host, [...])
        for arg in call.args:
            if arg.keyword is None and isinstance(arg.value, (cst.List, cst.Tuple)):
                for element in arg.value.elements:
                    item = element.value
                    if not isinstance(item, cst.Tuple) or len(item.elements) < 2:
                        continue
                    path = string_value(item.elements[0].value)
                    if path is not None:
                        out.append(Registration(call, path, methods, framework,
                                                item.elements[1].value, receiver))
        if out:
            return out
        targets = [a.value for a in call.args
                   if a.keyword is not None and a.keyword.value in TARGET_KEYWORDS]
        if not targets:
            for arg in call.args:
                if arg.keyword is None and not arg.star and isinstance(
                        arg.value, (cst.Name, cst.Attribute, cst.Call)):
                    targets.append(arg.value)
                    break
        path = _path_arg(call)
        return [Registration(call, path, methods, framework, t, receiver) for t in targets]

    def _route_target(self, reg: Registration) -> None:
        target = reg.target
        route = Route(reg.path, reg.methods, reg.framework, "registration", reg.receiver,
                      reg.call)
        if isinstance(target, cst.Call):  # X.as_view(...)
            target = target.func.value if isinstance(target.func, cst.Attribute) else target.func
        name = dotted_name(target)
        if name in self.out.module_functions:
            self.routes.setdefault(id(self.out.module_functions[name].node), []).append(route)
        elif name in self.out.classes:
            self.view_classes.setdefault(name, reg.framework)
            self.class_routes.setdefault(name, []).append(route)

    # class-based views ------------------------------------------------------------------------
    def _view_framework(self, record: ClassRecord, depth: int = 0) -> str | None:
        if record.name in self.view_classes:
            return self.view_classes[record.name]
        if depth > 5:
            return None
        for base in record.bases:
            if fnmatch_any(base.lstrip("."), self.settings["web-view-bases"]):
                return framework_of(self.settings, base) or self.framework()
            local = self.out.classes.get(base)
            if local is not None and local is not record:
                framework = self._view_framework(local, depth + 1)
                if framework is not None:
                    return framework
        return None

    def _view_classes(self) -> None:
        view_methods = set(self.settings["web-view-methods"])
        for record in self.out.classes.values():
            framework = self._view_framework(record)
            if framework is None:
                continue
            routes = self.class_routes.get(record.name, [])
            class_path = string_value(record.assigns.get("path")) \
                if framework == "litestar" else None
            for name, method in record.methods.items():
                if name not in view_methods or id(method.node) in self.routes:
                    continue
                verb = name[3:] if name.startswith("do_") else name
                verb = VIEW_METHOD_VERBS.get(verb, verb.upper())
                methods = frozenset({verb}) if verb in HTTP_VERBS else frozenset()
                own = [Route(r.path, methods, framework, "view-class", r.receiver, r.node)
                       for r in routes] or [Route(class_path, methods, framework, "view-class")]
                self.routes[id(method.node)] = own
            if class_path:  # Litestar controllers: path on the class, verbs on methods
                for method in record.methods.values():
                    for route in self.routes.get(id(method.node), []):
                        if route.path is not None and not route.path.startswith(class_path):
                            route.path = class_path.rstrip("/") + "/" + route.path.lstrip("/")
                        elif route.path is None:
                            route.path = class_path

    # Django function views --------------------------------------------------------------------
    def _django_function_views(self) -> None:
        names = self.settings["web-request-names"]
        candidates = []
        for name, function in self.out.module_functions.items():
            if id(function.node) in self.routes or name.startswith("_"):
                continue
            params = function.params
            if not params or name in self.collector.called_names:
                continue
            candidates.append((function, params[0].name.value in names))
        django = any(f in ("django", "drf") for f in self.out.frameworks)
        if not candidates or (self.out.frameworks and not django):
            return  # a Flask or FastAPI module's functions taking `request` are helpers
        path = self.ctx.path
        conventional = path is not None and (path.stem == "views" or path.parent.name == "views")
        routed = self._urls_routes([f.name for f, _ in candidates])
        for function, takes_request in candidates:
            found = routed.get(function.name)
            if found:
                self.routes[id(function.node)] = found
            elif takes_request and (django or conventional):
                framework = "drf" if "drf" in self.out.frameworks else "django"
                self.routes[id(function.node)] = [Route(None, frozenset(), framework,
                                                        "django-view")]

    def _urls_routes(self, names: list[str]) -> dict[str, list[Route]]:
        """Routes to this module's functions from the project's urls.py files (a view may be
        routed only there). Reads a urls.py only when its text names a candidate."""
        project, path = self.ctx.project, self.ctx.path
        if project is None or path is None:
            return {}
        found: dict[str, list[Route]] = {}
        me = path.resolve()
        for urls in _urls_candidates(me, project.root):
            text = project.text(urls)
            if not text or not any(n in text for n in names):
                continue
            routes = project.summary(urls, url_routes) or []
            for origin, route in routes:
                resolved = project.resolve_origin(urls, origin)
                if resolved is not None and resolved[0] == me and resolved[1]:
                    found.setdefault(resolved[1], []).append(route)
        return found

    # handlers ---------------------------------------------------------------------------------
    def _handler(self, function: FunctionRecord, routes: list[Route]) -> Handler:
        framework = next((r.framework for r in routes if r.framework), self.framework())
        roots = self._request_roots(function, framework)
        reads = self._reads(function, roots, framework)
        header_params, body_params = self._params(function, framework, roots)
        return Handler(function, framework, routes, frozenset(roots), reads, header_params,
                       body_params)

    def _request_roots(self, function: FunctionRecord, framework: str) -> set[str]:
        names = set(self.settings["web-request-names"])
        roots: set[str] = set()
        params = function.params
        for param in params:
            ann = param.annotation.annotation if param.annotation else None
            if isinstance(ann, cst.Subscript):
                ann = ann.value
            annotation = dotted_name(ann) if ann is not None else ""
            if param.name.value in names or annotation.endswith("Request"):
                roots.add(param.name.value)
        if params and framework in ("django", "drf", "aiohttp", "sanic", "starlette") \
                and function.cls is None:
            roots.add(params[0].name.value)
        if function.cls is not None:
            roots.add("self.request")
            if framework == "http.server":
                roots.add("self")
        for local, origin in self.facts.imports.items():
            if origin in ("flask.request", "quart.request"):
                roots.add(local)
            elif origin in ("flask", "quart"):
                roots.add(f"{local}.request")
        return roots

    def _reads(self, function: FunctionRecord, roots: set[str], framework: str) -> list[Read]:
        table = self.settings["web-request-reads"]
        reads = []
        for root, attr, node in function.attrs:
            if root not in roots:
                continue
            kind = classify_read(table, framework, attr)
            if kind is not None:
                reads.append(Read(kind, root, attr, node))
        for root in roots:
            if root in function.passed and root != "self":
                reads.append(Read("passed", root, "", None))
        return reads

    def _params(self, function: FunctionRecord, framework: str, roots: set[str]
                ) -> tuple[list[tuple[str, cst.Param]], list[cst.Param]]:
        headers: list[tuple[str, cst.Param]] = []
        bodies: list[cst.Param] = []
        for param in function.params:
            name = param.name.value
            if name in roots:
                continue
            markers = _param_markers(param)
            header = markers.get("Header")
            if header is not None:
                headers.append((normalise_header(header or name), param))
                continue
            if markers.get("Parameter"):
                headers.append((normalise_header(markers["Parameter"]), param))
                continue
            if is_keyport_header(self.settings, name):
                headers.append((normalise_header(name), param))
                continue
            if (framework == "litestar" and name == "data") or (
                    framework == "fastapi" and _is_body_param(param, markers)):
                bodies.append(param)
        return headers, bodies


def classify_read(table: dict[str, list[str]], framework: str, attr: str) -> str | None:
    """raw | parsed | form | headers | query for `request.<attr>` in a framework."""
    for kind, entries in table.items():
        if f"{framework}:{attr}" in entries:
            return kind
    for kind, entries in table.items():
        if attr in entries:
            return kind
    return None


def _param_markers(param: cst.Param) -> dict[str, str]:
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
        if marker not in NON_BODY_MARKERS and marker != "Body":
            continue
        alias = ""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in ("alias", "header"):
                alias = string_value(arg.value) or ""
        found[marker] = alias
    return found


def _is_body_param(param: cst.Param, markers: dict[str, str]) -> bool:
    if "Body" in markers:
        return True
    if any(k in NON_BODY_MARKERS for k in markers):
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


def _urls_candidates(module: Path, root: Path) -> list[Path]:
    return _urls_near(module.parent, root)


@lru_cache(maxsize=256)
def _urls_near(folder: Path, root: Path) -> list[Path]:
    """urls.py files that may route a module's views: beside it, in its ancestors up to the
    project root, and in the root's direct sub-packages (the Django project package)."""
    found: list[Path] = []
    seen = set()
    while True:
        for candidate in (folder / "urls.py",):
            if candidate.is_file() and candidate not in seen:
                seen.add(candidate)
                found.append(candidate)
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir())[:50]
    except OSError:
        children = []
    for child in children:
        candidate = child / "urls.py"
        if candidate.is_file() and candidate not in seen:
            seen.add(candidate)
            found.append(candidate)
    return [p.resolve() for p in found[:MAX_URLS_FILES]]


def url_routes(ctx: PythonContext) -> list[tuple[str, Route]]:
    """Project-index summary of a urls.py: (import origin of the view, route)."""
    facts = ctx.analysis(web_handlers)
    imports = ctx.analysis(module_facts)
    out = []
    for reg in facts.registrations:
        target = reg.target
        if isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute):
            target = target.func.value  # Views.as_view()
        origin = imports.resolve(target)
        if origin and (origin != dotted_name(target) or "." in origin):
            out.append((origin, Route(reg.path, reg.methods, reg.framework or "django", "urls",
                                      reg.receiver, None)))
    return out


def web_handlers(ctx: PythonContext) -> HandlerFacts:
    """Every web endpoint of the module. Memoised per file through `ctx.analysis`."""
    facts = ctx.analysis(module_facts)
    out = HandlerFacts()
    collector = _Collector(facts, ctx.settings, out)
    walk(ctx.module, collector)
    _Builder(ctx, facts, collector, out).build()
    return out


# -- KeyPort webhook handlers -------------------------------------------------------------------

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


def keyport_signals(ctx: PythonContext, function: FunctionRecord) -> KeyPortSignals:
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
            resolved = project.resolve_origin(path, origin)
            if resolved is not None and resolved[1] and project.is_keyport_text(resolved[0]):
                exported = project.summary(resolved[0], exported_constants) or {}
                self._imported[name] = exported.get(resolved[1])
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


def configured_handler(ctx: PythonContext, function: FunctionRecord) -> bool:
    patterns = ctx.settings["webhook-handlers"]
    if not patterns:
        return False
    module = module_dotted(ctx)
    names = [function.name, function.qualname, f"{module}.{function.qualname}"]
    return any(fnmatch_any(n, patterns) for n in names)


# methods of the KeyPort SDK client (SPEC section 1); an endpoint calling them is a client
KEYPORT_CLIENT_METHODS = ("validate", "get_license")


def _calls_keyport_api(ctx: PythonContext, function: FunctionRecord) -> bool:
    """Does the handler itself call KeyPort (the SDK, or the API by URL)?"""
    if any(c.rsplit(".", 1)[-1] in KEYPORT_CLIENT_METHODS and "." in c
           for c in function.called):
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
            params = function.params
            roots = {p.name.value for p in params
                     if p.name.value in ctx.settings["web-request-names"]}
            if params and not roots:
                roots.add(params[0].name.value)
            for local, origin in ctx.analysis(module_facts).imports.items():
                if origin in ("flask.request", "quart.request"):
                    roots.add(local)
            if function.cls is not None:
                roots.add("self.request")
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
