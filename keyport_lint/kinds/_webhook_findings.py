"""KP301–KP307 findings of kind `webhook-verification`, computed once per module from the
shared verification analysis (which only answers where and how verification happens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.handlers import Handler, classify_read, whole_regex
from keyport_lint.analysis.verification.analysis import verification
from keyport_lint.analysis.verification.records import JSON_LOADS, _flow_name
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.analysis import Verification
    from keyport_lint.analysis.verification.records import Flow


@dataclass(eq=False)
class WebhookFinding:
    check: str  # unverified | order | ignored | compare | parsed-body | timestamp | swallowed
    node: cst.CSTNode
    fields: dict[str, str]
    length: int | None = None


def webhook_findings(ctx: PythonContext) -> list[WebhookFinding]:
    """Every KP3 finding of the module, computed once and split by the rules' `check`."""
    from keyport_lint.analysis.context import is_keyport_related

    analysis = ctx.analysis(verification)
    out: list[WebhookFinding] = []
    related = ctx.analysis(is_keyport_related)
    context = analysis.webhook_flows() if related or analysis.keyport_handlers() else []

    for handler, flow, processes in analysis.keyport_handlers():
        fields = {"handler": handler.qualname}
        checks = analysis.checks(flow)
        before = analysis.pre_verified(handler, flow)
        if not checks and not before and processes and not analysis.project_middleware():
            out.append(WebhookFinding("unverified", handler.node, fields, _def_length(handler)))
        if checks and not before:
            first = _parsed_use_before(analysis, handler, flow, checks[0].seq)
            if first is not None:
                out.append(WebhookFinding("order", handler.node,
                                          {**fields, "detail": first}, _def_length(handler)))

    reported: set[int] = set()
    for flow in context:
        for check in analysis.checks(flow):
            result, node = analysis.outcome(check, flow)
            if result in ("ignored", "not-stopping") and node is not None \
                    and id(node) not in reported:
                reported.add(id(node))
                out.append(WebhookFinding("ignored", node, {"handler": _flow_name(flow)}))
        out.extend(_swallowed(analysis, flow))

    if related:
        foreign = analysis.foreign_flows()
        for flow in [analysis.module, *analysis.flows.values()]:
            if id(flow) in foreign:
                continue
            for node, _, _ in flow.comparisons:
                if analysis.signature_comparison(node, flow):
                    out.append(WebhookFinding("compare", node, {"handler": _flow_name(flow)}))

    markers = whole_regex(ctx.settings, "signed-response-markers")
    for flow in analysis.webhook_flows(strict=True) if context else []:
        name = _flow_name(flow)
        if markers.search(name) and "webhook" not in name.lower():
            continue
        for record in flow.hmacs:
            parts = analysis.message_parts(record, flow)
            if parts is None:
                continue
            if "parsed" in parts:
                out.append(WebhookFinding("parsed-body", record.node, {"handler": name}))
            if "timestamp" not in parts and "unknown" not in parts and any(
                    p in parts for p in ("raw", "parsed", "body")):
                out.append(WebhookFinding("timestamp", record.node, {"handler": name}))
    return out


def _def_length(handler: Handler) -> int:
    node = handler.node
    prefix = "async def " if node.asynchronous is not None else "def "
    return len(prefix) + len(node.name.value)


def _parsed_use_before(analysis: Verification, handler: Handler, flow: Flow, verified_at: int
                       ) -> str | None:
    """The first parsed payload read that is used before the first verification, as text for
    the message; HMAC-feeding reads are KP305's business, not KP302's."""
    table = analysis.settings["web-request-reads"]
    hmac_names = _hmac_names(analysis, flow)
    parsed: list[tuple[int, str, str]] = []  # (seq, assigned name, description)
    for read in flow.attr_reads:
        if read.root not in handler.request_roots or read.seq >= verified_at or read.in_hmac \
                or (read.stmt_target and read.stmt_target in hmac_names):
            continue
        kind = classify_read(table, handler.framework, read.attr)
        if kind in ("parsed", "form"):
            parsed.append((read.seq, read.target, f"{read.root}.{read.attr}"))
    for call in flow.calls:
        if call.resolved in JSON_LOADS and call.seq < verified_at:
            parsed.append((call.seq, call.target, call.resolved))
    for param in handler.body_params:
        parsed.append((flow.seq, param.name.value,
                       f"the parsed body parameter {param.name.value}"))
    for seq, target, description in sorted(parsed):
        if target and target in hmac_names:
            continue
        if not target:
            return description
        for load in flow.loads:
            if load.name == target and seq < load.seq < verified_at and not load.in_hmac \
                    and load.target not in hmac_names:
                return description
    return None


def _hmac_names(analysis: Verification, flow: Flow) -> set[str]:
    """Names whose values end up in an HMAC message (directly or through assignments)."""
    out: set[str] = set()
    stack: list[cst.BaseExpression] = []
    for record in flow.hmacs:
        if record.message is not None:
            stack.append(record.message)
        stack.extend(record.updates)
    guard = 0
    while stack and guard < 200:
        guard += 1
        expr = stack.pop()
        for name in _names_in(expr):
            if name not in out:
                out.add(name)
                for value, _, _ in flow.assigns.get(name, []):
                    stack.append(value)
    return out


def _names_in(expr: cst.CSTNode, depth: int = 0) -> list[str]:
    if depth > 10:
        return []
    if isinstance(expr, cst.Name):
        return [expr.value]
    out: list[str] = []
    for child in expr.children:
        if isinstance(child, cst.Attribute):
            out.extend(_names_in(child.value, depth + 1))
        elif isinstance(child, cst.CSTNode):
            out.extend(_names_in(child, depth + 1))
    if isinstance(expr, cst.Attribute):
        return _names_in(expr.value, depth + 1)
    return out


def _swallowed(analysis: Verification, flow: Flow) -> list[WebhookFinding]:
    """KP307: a verification call inside a `try` whose broad `except` carries on."""
    errors = whole_regex(analysis.settings, "webhook-verification-errors")
    out = []
    done: set[int] = set()
    for check in analysis.checks(flow):
        if check.kind == "comparison" or not check.tries:
            continue
        for record in check.tries:
            if id(record) in done:
                continue
            for types, block in record.handlers:
                catches = not types or any(
                    errors.fullmatch(t) or errors.fullmatch(t.rsplit(".", 1)[-1])
                    for t in types)
                if not catches or block.stops:
                    continue
                if block.assigns and any(r.seq > check.seq and set(r.names) & block.assigns
                                         for r in flow.ifs):
                    continue  # except: ok = False … later: if not ok: abort()
                done.add(id(record))
                out.append(WebhookFinding("swallowed", check.node,
                                          {"handler": _flow_name(flow)}))
                break
    return out
