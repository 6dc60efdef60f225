"""The collector of the shared walk: functions, classes, app objects, route
registrations and request-shaped attribute reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name
from keyport_lint.analysis.fastvisit import FastVisitor

if TYPE_CHECKING:
    from keyport_lint.settings import Settings
from keyport_lint.analysis.handlers.records import ClassRecord, FunctionRecord, HookRef
from keyport_lint.analysis.handlers.syntax import (
    _root,
    expression_refs,
    fnmatch_any,
    string_value,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.handlers.records import HandlerFacts


class _Collector(FastVisitor):
    """Dispatch-table visitor (fastvisit.py): the plain CSTVisitor's per-field lookups cost
    as much as the parse on KeyPort-dense code."""

    def __init__(self, facts: ModuleFacts, settings: Settings, out: HandlerFacts) -> None:
        super().__init__()
        self.facts = facts
        self.settings = settings
        self.per_handler_hooks = frozenset(settings["web-per-handler-hooks"])
        self.out = out
        self.scope: list[FunctionRecord | ClassRecord] = []
        self._current: FunctionRecord | None = None
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
        """The innermost enclosing def (kept current as scopes open and close: asked for
        every name, attribute, string and call)."""
        return self._current

    def _scope_changed(self) -> None:
        self._current = next((item for item in reversed(self.scope)
                              if isinstance(item, FunctionRecord)), None)

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
        self._scope_changed()

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        if self.scope and isinstance(self.scope[-1], ClassRecord):
            self.scope.pop()
            self._scope_changed()

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
            if last in self.hook_names and last not in self.per_handler_hooks:
                self.out.hook_functions.append(record)
        self.pending[id(node)] = record

    def visit_FunctionDef_params(self, node: cst.FunctionDef) -> None:
        record = self.pending.pop(id(node), None)
        if record is not None:
            self.scope.append(record)
            self._scope_changed()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        top = self.scope[-1] if self.scope else None
        if isinstance(top, FunctionRecord) and top.node is original_node:
            self.scope.pop()
            self._scope_changed()

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
