"""The collector of the shared walk: functions, classes, app objects, route
registrations and request-shaped attribute reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.definitions import (
    ClassRecord,
    DefinitionsCollector,
    FunctionRecord,
)
from keyport_lint.analysis.facts import ModuleFacts, dotted_name
from keyport_lint.analysis.fastvisit import FastVisitor
from keyport_lint.analysis.handlers.records import FunctionFacts, HookRef
from keyport_lint.analysis.handlers.syntax import (
    _root,
    expression_refs,
    fnmatch_any,
    string_value,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.handlers.records import HandlerFacts
    from keyport_lint.settings import Settings


class _Collector(FastVisitor):
    """Dispatch-table visitor (fastvisit.py): the plain CSTVisitor's per-field lookups cost
    as much as the parse on KeyPort-dense code."""

    def __init__(self, facts: ModuleFacts, scopes: DefinitionsCollector, settings: Settings,
                 out: HandlerFacts) -> None:
        super().__init__()
        self.facts = facts
        self.settings = settings
        self.per_handler_hooks = frozenset(settings["web-per-handler-hooks"])
        self.out = out
        self.scopes = scopes  # where the walk is, in the definitions model
        self.definitions = scopes.out
        self._current: FunctionFacts | None = None
        self.by_node_id: dict[int, FunctionFacts] = {}
        self.decorator_exprs: set[int] = set()
        self.assign_target: list[str] = []
        self.called_names: set[str] = set()
        route_calls = settings["web-route-calls"]
        self.route_words = {c for c in route_calls if "." not in c}
        self.route_dotted = [c for c in route_calls if "." in c]
        self.hook_names = set(settings["web-pre-handler-hooks"])
        self.app_classes = settings["web-app-classes"]
        self.raw_registrations: list[tuple[cst.Call, str]] = []

    # scope: the def whose parameters or body the walk is in, from the definitions model -------
    def _function(self) -> FunctionFacts | None:
        """The innermost enclosing def (kept current as defs open and close: asked for every
        name, attribute, string and call)."""
        return self._current

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        record = self.definitions.by_id[id(node)]
        for decorator in record.decorators:
            self.decorator_exprs.add(id(decorator.expr))
            for ref in expression_refs(decorator.expr):
                self.out.hooks.append(HookRef(ref, record))  # type: ignore[arg-type]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        record = self.definitions.by_id[id(node)]
        assert type(record) is FunctionRecord
        function = FunctionFacts(record, self._current)
        self.by_node_id[id(node)] = function
        self.out.functions.append(function)
        for decorator in record.decorators:
            self.decorator_exprs.add(id(decorator.expr))
            last = decorator.last
            if last in self.hook_names and last not in self.per_handler_hooks:
                self.out.hook_functions.append(function)

    def visit_FunctionDef_params(self, node: cst.FunctionDef) -> None:
        self._current = self.by_node_id[id(node)]

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._current = self.by_node_id[id(original_node)].outer

    def _instance(self) -> str:
        """The name the instance has where the walk is: the enclosing method's `self` (a def
        nested in a method sees the method's); "" outside methods."""
        function = self._current
        while function is not None:
            record = function.definition
            if record.cls is not None:
                return record.self_name if record.first == "self" else ""
            function = function.outer
        return ""

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
                    if root and "." in root and root.partition(".")[0] == self._instance():
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
            elif isinstance(target, cst.Attribute) and type(target.value) is cst.Name and \
                    target.value.value == self._instance():
                name = f"{target.value.value}.{target.attr.value}"
        self.assign_target.append(name)
        if not name or value is None:
            return
        top = self.scopes.top
        if isinstance(value, cst.Call):
            callee = self.facts.resolve(value.func).lstrip(".")
            if callee and fnmatch_any(callee, self.app_classes):
                self.out.apps[name] = callee
        if top is None:
            self.out.module_assigns[name] = value
            if name in self.hook_names:  # Django's MIDDLEWARE = [...]
                for ref in expression_refs(value):
                    self.out.hooks.append(HookRef(ref, "module"))
        elif type(top) is ClassRecord and name in self.hook_names:
            for ref in expression_refs(value):  # permission_classes = [...], decorators = [...]
                self.out.hooks.append(HookRef(ref, top))
