"""How a function, a class or a reference verifies: inline, in helpers, before the handler
(decorators, dependencies, permission classes, pre-hooks, middleware), in other modules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.definitions import ClassRecord
from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.handlers import Handler, expression_refs, string_value
from keyport_lint.analysis.verification.exports import lookup_export, verifier_exports
from keyport_lint.analysis.verification.records import (
    MIDDLEWARE_TOKENS,
    _is_dotted,
    _nearby_modules,
)
from keyport_lint.analysis.verification.state import _VerificationState

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.records import Flow


class _Modes(_VerificationState):
    """Where and how verification happens."""

    # modes ------------------------------------------------------------------------------------
    def mode(self, flow: Flow) -> str | None:
        """raises | returns | broken when the function verifies a signature, else None."""
        key = id(flow)
        if key in self._modes:
            return self._modes[key]
        self._modes[key] = None  # cycle guard
        outcomes = [self.outcome(c, flow)[0] for c in self.checks(flow)]
        result: str | None = None
        if any(o in ("raises",) for o in outcomes):
            result = "raises"
        elif any(o in ("returns", "ok") for o in outcomes):
            result = "returns"
        elif outcomes:
            result = "broken"
        if result is None or result == "broken":
            # a decorator: the wrapper inside verifies, and stops by returning an error
            for child in flow.children.values():
                if self.mode(child) not in (None, "broken"):
                    result = "raises"
                    break
        self._modes[key] = result
        return result

    def class_mode(self, name: str, prehooks_only: bool = False, depth: int = 0) -> str | None:
        """A local class verifies when one of its methods does (middleware, permission class);
        for inheritance (`class Hook(VerifiedView)`) only its pre-hooks count."""
        key = (name, prehooks_only)
        if key in self._class_modes:
            return self._class_modes[key]
        self._class_modes[key] = None
        hooks = set(self.settings["web-pre-handler-hooks"])
        result = None
        for method_name, flow in self.class_methods(name).items():
            if prehooks_only and method_name not in hooks:
                continue
            if self.mode(flow) not in (None, "broken"):
                result = "class"
                break
        record = self.web.classes.get(name)
        if result is None and record is not None and depth < 5:
            for base in record.bases:
                if base in self.web.classes and base != name:
                    if self.class_mode(base, True, depth + 1):
                        result = "class"
                        break
                elif self._imported_export(base, prehooks_only=True):
                    result = "class"
                    break
        self._class_modes[key] = result
        return result

    def ref_mode(self, written: str, resolved: str, flow: Flow | None = None,
                 depth: int = 0) -> str | None:
        """Does a name (called, decorated with, depended on, registered) verify?"""
        if not written and not resolved:
            return None
        if self.configured_verifier(written, resolved):
            return "unknown"
        if depth > 4:
            return None
        name = self._own_attribute(written, flow, ("self", "cls")) if flow is not None else None
        if name is not None and flow is not None:
            cls = flow.cls or self._outer(flow).cls
            own = self._method(cls, name)
            return self.mode(own) if own is not None else None
        if "." not in written:
            scope = flow
            while scope is not None:  # nested defs first
                if written in scope.children:
                    return self.mode(scope.children[written])
                scope = scope.parent
            if written in self.module_flows:
                return self.mode(self.module_flows[written])
            if written in self.web.classes:
                return self.class_mode(written)
            value = self.web.module_assigns.get(written)
            if isinstance(value, cst.Call):  # verify = KeyPortVerifier(secret)
                inner = dotted_name(value.func)
                if inner and inner != written:
                    mode = self.ref_mode(inner, self.facts.resolve(value.func).lstrip("."),
                                         None, depth + 1)
                    if mode is not None:  # an instance of a verifying class is called
                        return "unknown" if mode == "class" else mode
        head, _, rest = written.partition(".")
        if rest and "." not in rest and head not in self.facts.imports:
            # verifier.verify(request) on an instance of a verifying class of this module
            value = self.web.module_assigns.get(head)
            if isinstance(value, cst.Call) and dotted_name(value.func) in self.web.classes:
                method = self._method(dotted_name(value.func), rest)
                return self.mode(method) if method is not None else None
        origin = self.facts.imports.get(head)
        if origin is not None:
            found = self._imported_export(f"{origin}.{rest}" if rest else origin)
            if found is None and rest and "." not in rest:
                # an imported instance (or class) whose methods verify: `verifier.verify(…)`
                owner = self._imported_export(origin)
                found = "unknown" if owner == "class" else None
            return found
        return None

    def _imported_export(self, origin: str, prehooks_only: bool = False) -> str | None:
        project, path = self.ctx.project, self.ctx.path
        if project is None or path is None or not origin:
            return None
        value = lookup_export(project, path, origin)
        if value is None:
            return None
        if prehooks_only:
            return "class" if value == "view" else None
        if value in ("class", "view"):
            return "class"
        return value if value != "app" else None

    def _pre_refs(self, flow: Flow) -> list[cst.BaseExpression]:
        record = flow.definition
        if record is None:
            return []
        refs: list[cst.BaseExpression] = []
        for decorator in record.decorators:
            expression_refs(decorator.expr, refs)
        for param in record.params:
            if param.default is not None:
                expression_refs(param.default, refs)
            if param.annotation_node is not None:
                expression_refs(param.annotation_node, refs)
        return refs

    # before the handler -----------------------------------------------------------------------
    def pre_verified(self, handler: Handler, flow: Flow) -> bool:
        """Does something verify before this handler runs?"""
        for ref in self._pre_refs(flow):
            if self._ref_verifies(ref, flow):
                return True
        function = handler.function
        cls: ClassRecord | None = function.cls
        hooks = set(self.settings["web-pre-handler-hooks"])
        if cls is not None:
            for hook in self.web.hooks:
                if hook.scope is cls and self._ref_verifies(hook.expr, None):
                    return True
            for name in hooks:
                method = self._method(cls.name, name)
                if method is not None and self.mode(method) not in (None, "broken"):
                    return True
            for base in cls.bases:
                if base in self.web.classes and base != cls.name:
                    if self.class_mode(base, prehooks_only=True):
                        return True
                elif self._imported_export(base, prehooks_only=True):
                    return True
        return self.module_pre_verified(handler.receivers)

    def module_pre_verified(self, receivers: set[str] | None = None) -> bool:
        """Middleware, before_request hooks and app-level dependencies of this module (or of
        the module an app object is imported from, or of the project's entry modules)."""
        for hook in self.web.hooks:
            scope = hook.scope
            if (scope == "module" or (receivers and isinstance(scope, str)
                                        and scope in receivers)) and \
                    self._ref_verifies(hook.expr, None):
                return True
        for function in self.web.hook_functions:
            flow = self.flows.get(function.node)
            if flow is not None and self.mode(flow) not in (None, "broken"):
                return True
        for receiver in receivers or ():
            head = receiver.split(".", 1)[0]
            origin = self.facts.imports.get(head)
            if origin is not None and self.ctx.project is not None and self.ctx.path:
                if lookup_export(self.ctx.project, self.ctx.path, origin) == "app":
                    return True
                resolved = self.ctx.project.resolve_origin(self.ctx.path, origin)
                if resolved is not None:
                    exports = self.ctx.project.summary(resolved[0], verifier_exports)
                    if exports and exports.get("<middleware>"):
                        return True
        return False

    def pre_attempted(self, flow: Flow) -> bool:
        """Does a decorator or dependency of this handler try to verify, even if it ignores
        the verdict? Then the handler is KP303 there, not also KP301."""
        for ref in self._pre_refs(flow):
            written = dotted_name(ref)
            if written and self.ref_mode(written, self.facts.resolve(ref).lstrip("."),
                                         flow) == "broken":
                return True
        return False

    def _ref_verifies(self, ref: cst.BaseExpression, flow: Flow | None) -> bool:
        if isinstance(ref, (cst.SimpleString, cst.ConcatenatedString)):
            value = string_value(ref)
            if not value or not _is_dotted(value):
                return False
            if self.configured_verifier(value, value):
                return True
            return self._imported_export(value) is not None
        written = dotted_name(ref)
        if not written:
            return False
        resolved = self.facts.resolve(ref).lstrip(".")
        return self.ref_mode(written, resolved, flow) not in (None, "broken")

    def project_middleware(self) -> bool:
        """A verifying middleware registered in Django settings' MIDDLEWARE, or in an entry
        module near this one (main.py, app.py, asgi.py …) that mentions this module. Reads
        only files whose text registers middleware; bounded, so a one-file run never walks the
        whole tree."""
        project, path = self.ctx.project, self.ctx.path
        if project is None or path is None:
            return False
        me = path.resolve()
        stem = me.stem if me.stem != "__init__" else me.parent.name
        mentions = re.compile(rf"\b{re.escape(stem)}\b")
        for candidate in _nearby_modules(me, project.root):
            text = project.text(candidate)
            if not text or not any(t in text for t in MIDDLEWARE_TOKENS):
                continue
            settings_module = candidate.name == "settings.py" or candidate.parent.name == "settings"
            if not settings_module and not mentions.search(text):
                continue  # an entry module guards the handlers of the modules it wires up
            exports = project.summary(candidate, verifier_exports)
            if exports and exports.get("<middleware>"):
                return True
        return False

