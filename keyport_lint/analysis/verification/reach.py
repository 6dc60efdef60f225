"""Which functions belong to KeyPort webhook handling: handlers and what they call, apart
from other services' endpoints in the same module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.handlers import Handler
from keyport_lint.analysis.verification.records import FOREIGN_SIGNATURE_HEADER, _flow_name
from keyport_lint.analysis.verification.state import _VerificationState
from keyport_lint.analysis.webhooks import endpoints, keyport_signals, keyport_webhooks

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.records import Flow


class _Reach(_VerificationState):
    """KeyPort webhook functions and foreign endpoints."""

    # webhook context ------------------------------------------------------------------------
    def keyport_handlers(self) -> list[tuple[Handler, Flow, bool]]:
        """(handler, flow, processes) for every KeyPort webhook handler of the module."""
        out = []
        for webhook in keyport_webhooks(self.ctx):
            flow = self.flows.get(webhook.handler.node)
            if flow is not None:
                out.append((webhook.handler, flow, webhook.processes))
        return out

    def webhook_flows(self, strict: bool = False) -> list[Flow]:
        """Functions whose HMACs and checks are about KeyPort deliveries: the KeyPort handlers,
        functions with KeyPort webhook signals (headers, the secret) or with webhook/keyport in
        their name, with what they call or are guarded by in this module. Unless `strict`, also
        the other functions of KeyPort-related code that compute or check a signature, unless
        they serve another service's endpoint (a GitHub or Stripe webhook beside KeyPort's) or
        read another service's header."""
        from keyport_lint.analysis.context import is_keyport_related

        key = strict
        if key in self._webhook_flows:
            return self._webhook_flows[key]
        related = self.ctx.analysis(is_keyport_related)
        markers = self.settings.context_markers
        keyport_nodes = {h.node for h, _, _ in self.keyport_handlers()}
        foreign = self.foreign_flows() if related else {}
        seeds: list[Flow] = [flow for _, flow, _ in self.keyport_handlers()]
        for flow in self.flows.values():
            record = self.record(flow)
            if record is None or flow.node in keyport_nodes or id(flow) in foreign:
                continue
            signals = keyport_signals(self.ctx, record)
            name = _flow_name(flow)
            if signals.headers or signals.secret or markers.search(name) or (
                    related and "webhook" in name.lower()):
                seeds.append(flow)
        ours = self._closure(seeds)
        if related and not strict:
            for flow in self.flows.values():
                if id(flow) in ours or id(flow) in foreign or not (
                        flow.hmacs or self.checks(flow)) or self._foreign_headers(flow):
                    continue
                ours.update(self._closure([flow]))
        self._webhook_flows[key] = list(ours.values())
        return self._webhook_flows[key]

    def foreign_flows(self) -> dict[int, Flow]:
        """Endpoints that are not KeyPort's (a GitHub or Stripe webhook in the same module)
        and what they call, unless a KeyPort handler reaches it too."""
        if self._foreign is None:
            keyport_nodes = {h.node for h, _, _ in self.keyport_handlers()}
            seeds = [self.flows[h.node] for h in endpoints(self.ctx)
                     if h.node not in keyport_nodes and h.node in self.flows]
            seeds += [f for f in self.flows.values() if self._foreign_headers(f)]
            foreign = self._closure(seeds)
            ours = self._closure([self.flows[n] for n in keyport_nodes if n in self.flows])
            self._foreign = {k: v for k, v in foreign.items() if k not in ours}
        return self._foreign

    def _foreign_headers(self, flow: Flow) -> bool:
        record = self.record(flow)
        if record is None:
            return False
        for value in record.strings:
            if FOREIGN_SIGNATURE_HEADER.fullmatch(value) and not self._is_header(
                    value, "webhook-headers"):
                return True
        return False

    def _closure(self, seeds: list[Flow]) -> dict[int, Flow]:
        """The seeds, their nested defs, and what they call or are guarded by here."""
        seen: dict[int, Flow] = {}
        stack = list(seeds)
        while stack:
            flow = stack.pop()
            if id(flow) in seen:
                continue
            seen[id(flow)] = flow
            stack.extend(flow.children.values())
            for call in flow.calls:
                target = self._local_flow(call.written, flow)
                if target is not None:
                    stack.append(target)
            for ref in self._pre_refs(flow):
                target = self._local_flow(dotted_name(ref), flow)
                if target is not None:
                    stack.append(target)
        return seen

    def _local_flow(self, written: str, flow: Flow) -> Flow | None:
        if not written:
            return None
        own = self._own_attribute(written, flow, ("self",))
        if own is not None:
            cls = self._outer(flow).cls
            return self._method(cls, own) if cls and "." not in own else None
        if "." in written:
            return None
        scope: Flow | None = flow
        while scope is not None:
            if written in scope.children:
                return scope.children[written]
            scope = scope.parent
        if written in self.module_flows:
            return self.module_flows[written]
        if written in self.web.classes:
            methods = self.class_methods(written)
            return next(iter(methods.values()), None) if methods else None
        return None

