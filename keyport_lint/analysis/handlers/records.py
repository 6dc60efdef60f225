"""What endpoint detection records: functions, classes, routes, request reads, handlers,
hooks that run before handlers, route registrations."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from keyport_lint.analysis.definitions import (
    VAR_KEYWORD,
    VAR_POSITIONAL,
    ClassRecord,
    FunctionRecord,
    enclosing_function,
)
from keyport_lint.analysis.handlers.syntax import _depends_targets


class FunctionFacts:
    """What endpoint detection collects from one def's parameters and body, beside its record
    in the definitions model (`definition`); `parameters` are the named parameters a request
    fills (`self`/`cls`, `*args`, `**kwargs` left out)."""

    __slots__ = ("attrs", "called", "cls", "definition", "name", "names", "node", "outer",
                 "parameters", "passed", "strings")

    def __init__(self, definition: FunctionRecord, outer: FunctionFacts | None) -> None:
        self.definition = definition
        self.outer = outer  # the facts of the def around this one
        self.node: cst.FunctionDef = definition.node  # type: ignore[assignment]
        self.name = definition.name
        self.cls: ClassRecord | None = definition.cls
        self.parameters = [p for p in definition.bound if p.kind not in _STARS]
        # (root, attr, node) for `root.attr` where root has at most two segments
        # (request.body, self.request.body, flask.request.json)
        self.attrs: list[tuple[str, str, cst.Attribute]] = []
        self.strings: list[str] = []
        self.names: set[str] = set()  # every identifier used in the def
        self.passed: set[str] = set()  # names passed whole as call arguments
        self.called: set[str] = set()  # dotted callees as written

    @property
    def qualname(self) -> str:
        """`Class.method`, `outer.inner` (how findings name a handler)."""
        return display_name(self.definition)

    @property
    def params(self) -> list[cst.Param]:
        return [p.node for p in self.parameters]


_STARS = (VAR_POSITIONAL, VAR_KEYWORD)


def display_name(record: FunctionRecord) -> str:
    """A method as `Class.method` (its class alone), a nested def after its enclosing def."""
    if record.cls is not None:
        return f"{record.cls.name}.{record.name}"
    parent = enclosing_function(record)
    return f"{display_name(parent)}.{record.name}" if parent is not None else record.name


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
    function: FunctionFacts
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
        return [d.written for d in self.function.definition.decorators if d.written]

    @property
    def dependencies(self) -> list[cst.BaseExpression]:
        """What FastAPI/Litestar run before this handler: `Depends(f)` / `Security(f)` targets
        in parameters and in the route decorator's `dependencies=`, and `guards=` entries."""
        out: list[cst.BaseExpression] = []
        for param in self.function.parameters:
            _depends_targets(param.default, out)
            _depends_targets(param.annotation_node, out)
        for decorator in self.function.definition.decorators:
            if decorator.call is not None:
                for arg in decorator.call.args:
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
    functions: list[FunctionFacts] = field(default_factory=list)
    module_functions: dict[str, FunctionFacts] = field(default_factory=dict)
    # classes not inside a def, by name (the first of a name)
    classes: dict[str, ClassRecord] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)  # name -> app class (dotted)
    module_assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)
    registrations: list[Registration] = field(default_factory=list)
    hooks: list[HookRef] = field(default_factory=list)
    hook_functions: list[FunctionFacts] = field(default_factory=list)  # @app.before_request …
    frameworks: list[str] = field(default_factory=list)  # imported, in settings order
    by_node: dict[cst.FunctionDef, Handler] = field(default_factory=dict)

    @property
    def framework(self) -> str:
        return self.frameworks[0] if self.frameworks else ""

