"""What endpoint detection records: functions, classes, routes, request reads, handlers,
hooks that run before handlers, route registrations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name

if TYPE_CHECKING:
    pass
from keyport_lint.analysis.handlers.syntax import _depends_targets, _is_static


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

