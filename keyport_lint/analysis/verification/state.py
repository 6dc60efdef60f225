"""The verification analysis of one module: flow facts and handler facts, with answers
computed on demand and memoised (mixins below)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import module_facts
from keyport_lint.analysis.handlers import (
    FunctionFacts,
    HandlerFacts,
    fnmatch_any,
    normalise_header,
    web_handlers,
    whole_regex,
)
from keyport_lint.analysis.verification.records import NOT_A_SIGNATURE_WORDS
from keyport_lint.analysis.webhooks import ModuleConstants, module_constants
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.records import Check, Flow


class _VerificationState:
    """Per-module verification facts; answers are computed on demand and memoised."""

    def __init__(self, ctx: PythonContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.facts = ctx.analysis(module_facts)
        self.web: HandlerFacts = ctx.analysis(web_handlers)
        from keyport_lint.analysis.model import module_records

        visitor = ctx.analysis(module_records).flows
        self.module = visitor.module
        self.flows = visitor.flows
        self.module_flows = {f.name: f for f in self.flows.values()
                             if f.parent is None and not f.cls}
        self._records = {r.node: r for r in self.web.functions}
        self._modes: dict[int, str | None] = {}
        self._class_modes: dict[tuple[str, bool], str | None] = {}
        self._checks: dict[int, list[Check]] = {}
        self._sig_words = {w.lower() for w in self.settings["signature-names"]}
        self._framework = self.web.framework
        self._foreign: dict[int, Flow] | None = None
        self._methods: dict[str, dict[str, Flow]] | None = None
        self._webhook_flows: dict[bool, list[Flow]] = {}
    # lookups ----------------------------------------------------------------------------------

    @property
    def constants(self) -> ModuleConstants:
        return module_constants(self.ctx)

    def record(self, flow: Flow) -> FunctionFacts | None:
        return self._records.get(flow.node) if flow.node is not None else None

    def class_methods(self, cls: str) -> dict[str, Flow]:
        """The flows of a class's methods (a class not inside a def, by name)."""
        if self._methods is None:
            self._methods = {}
        methods = self._methods.get(cls)
        if methods is None:
            record = self.web.classes.get(cls)
            methods = self._methods[cls] = {} if record is None else {
                name: self.flows[method.node] for name, method in record.methods.items()
                if method.node in self.flows}
        return methods

    def configured_verifier(self, written: str, resolved: str) -> bool:
        patterns = self.settings["verifiers"]
        if not patterns:
            return False
        names = {written, resolved, resolved.rsplit(".", 1)[-1], written.rsplit(".", 1)[-1]}
        return any(n and fnmatch_any(n, patterns) for n in names)

    def _method(self, cls: str, name: str, depth: int = 0) -> Flow | None:
        methods = self.class_methods(cls)
        if name in methods:
            return methods[name]
        record = self.web.classes.get(cls)
        if record is not None and depth < 5:
            for base in record.bases:
                if base in self.web.classes:
                    found = self._method(base, name, depth + 1)
                    if found is not None:
                        return found
        return None

    def _outer(self, flow: Flow) -> Flow:
        while flow.parent is not None:
            flow = flow.parent
        return flow

    def _own_attribute(self, written: str, flow: Flow, heads: tuple[str, ...]) -> str | None:
        """`name` for `self.name` in a method or a def nested in one: the instance as `heads`
        spell it (`self`, `cls`) or as the method's first parameter names it (`view`)."""
        head, dot, rest = written.partition(".")
        if not dot:
            return None
        method = flow if flow.cls else self._outer(flow)
        if head in heads or (method.definition is not None and method.cls
                             and head == method.definition.self_name):
            return rest
        return None

    def _words(self, name: str) -> set[str]:
        return {w.lower() for w in re.split(r"_|(?<=[a-z])(?=[A-Z])", name) if w}

    def _named(self, name: str) -> str | None:
        words = self._words(name)
        if words & NOT_A_SIGNATURE_WORDS:  # signature_method, SIGNATURE_METHODS, sig_alg …
            return None
        return "weak" if words & self._sig_words else None

    def _constant(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name):
            return self.constants.get(node.value)
        return None

    def _is_header(self, name: str, which: str) -> bool:
        return bool(whole_regex(self.settings, which).fullmatch(normalise_header(name)))

    def _assigned(self, name: str, flow: Flow) -> list[tuple[cst.BaseExpression, Flow]]:
        scope: Flow | None = flow
        while scope is not None:
            if name in scope.assigns:
                return [(v, scope) for v, _, _ in scope.assigns[name]]
            if name in scope.params:
                return []
            scope = scope.parent
        return []

    if TYPE_CHECKING:  # implemented by the mixins below
        def _assigned(self, name: str, flow: Flow) -> list[tuple[cst.BaseExpression, Flow]]: ...
        def _constant(self, node: cst.BaseExpression) -> str | None: ...
        def _is_header(self, name: str, which: str) -> bool: ...
        def _local_flow(self, written: str, flow: Flow) -> Flow | None: ...
        def _method(self, cls: str, name: str, depth: int = 0) -> Flow | None: ...
        def _named(self, name: str) -> str | None: ...
        def _outer(self, flow: Flow) -> Flow: ...
        def _own_attribute(self, written: str, flow: Flow, heads: tuple[str, ...]
                           ) -> str | None: ...
        def _pre_refs(self, flow: Flow) -> list[cst.BaseExpression]: ...
        def _words(self, name: str) -> set[str]: ...
        def checks(self, flow: Flow) -> list[Check]: ...
        def class_methods(self, cls: str) -> dict[str, Flow]: ...
        def configured_verifier(self, written: str, resolved: str) -> bool: ...
        def outcome(self, check: Check, flow: Flow) -> tuple[str, cst.CSTNode | None]: ...
        def record(self, flow: Flow) -> FunctionFacts | None: ...
        def ref_mode(self, written: str, resolved: str, flow: Flow | None = None,
                     depth: int = 0) -> str | None: ...

