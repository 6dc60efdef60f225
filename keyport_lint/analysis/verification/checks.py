"""Verification calls and comparisons: which outcome a failing check has, and which side
of a comparison is the received signature."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.handlers import string_value
from keyport_lint.analysis.verification.records import (
    COMPARE_CALLS,
    CONVERSIONS,
    HANDSHAKE_WORDS,
    HEADER_GETTERS,
    HMAC_CALLS,
    MAX_DEPTH,
    PASS_THROUGH,
    SIDE_CONSTS,
    SIGNATURE_FUNCTION_WORDS,
    SIGNATURE_SIDES,
    Check,
    _flow_name,
    _last,
    _strongest,
    _subscript_key,
    _unwrap,
)
from keyport_lint.analysis.verification.state import _VerificationState

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.records import Flow, IfRecord


class _Checks(_VerificationState):
    """Outcomes of checks and sides of comparisons."""

    # checks -----------------------------------------------------------------------------------
    def checks(self, flow: Flow) -> list[Check]:
        """What decides, in this function, whether a delivery is genuine."""
        key = id(flow)
        if key in self._checks:
            return self._checks[key]
        self._checks[key] = []
        out: list[Check] = []
        if self._words(_flow_name(flow).replace(".", "_")) & HANDSHAKE_WORDS:
            return out  # a WebSocket or TLS handshake check verifies no webhook delivery
        for call in flow.calls:
            if call.written and self._words(call.written.rsplit(".", 1)[-1]) & HANDSHAKE_WORDS:
                continue
            if call.resolved in COMPARE_CALLS or call.written.endswith(".compare_digest"):
                out.append(Check(call.node, "compare-digest", "returns", call.use, call.seq,
                                 call.tries))
                continue
            if call.resolved in HMAC_CALLS or not call.written:
                continue
            mode = self.ref_mode(call.written, call.resolved, flow)
            if mode is not None and mode != "class":  # constructing a class verifies nothing
                out.append(Check(call.node, "verifier", mode, call.use, call.seq, call.tries))
        for node, seq, use in flow.comparisons:
            if self.signature_comparison(node, flow) and self._has_digest(node, flow):
                out.append(Check(node, "comparison", "returns", use, seq, ()))
        out.sort(key=lambda c: c.seq)
        self._checks[key] = out
        return out

    def outcome(self, check: Check, flow: Flow) -> tuple[str, cst.CSTNode | None]:
        """How a failing check ends: raises | returns | ok | ignored | not-stopping | broken,
        with the node to report for ignored (the call) and not-stopping (the `if`)."""
        use = check.use
        guard = check.kind == "verifier" and check.mode in ("raises", "unknown")
        if check.kind == "verifier" and check.mode == "broken":
            return "broken", None
        if use.kind == "stmt":
            return ("raises", None) if guard else ("ignored", check.node)
        if use.kind == "return":
            return "returns", None
        if use.kind == "tested":
            return "ok", None
        if use.kind == "test" and use.test is not None:
            result = self._branch(use.test, use.negated)
            if result == "not-stopping" and guard:
                return "raises", None
            return result, use.test.node if result == "not-stopping" else None
        if use.kind == "assign" and use.name:
            if guard:
                return "raises", None
            return self._assigned_outcome(use.name, check, flow)
        return ("raises", None) if guard else ("ok", None)

    def _branch(self, record: IfRecord, negated: bool) -> str:
        if negated:
            failing = record.body
            if failing.raises:
                return "raises"
            return "returns" if failing.returns else "not-stopping"
        if record.orelse is not None and record.orelse.stops:
            return "raises" if record.orelse.raises else "returns"
        if record.orelse is not None and not record.body.stops:
            return "not-stopping"
        return "returns" if record.body.returns else "ok"

    def _assigned_outcome(self, name: str, check: Check, flow: Flow
                          ) -> tuple[str, cst.CSTNode | None]:
        worst: tuple[str, cst.CSTNode | None] | None = None
        for record in flow.ifs:
            if record.seq < check.seq or name not in record.names:
                continue
            result = self._branch(record, record.names[name])
            if result in ("raises", "returns", "ok"):
                return result, None
            worst = worst or (result, record.node)
        if name in flow.returned:
            return "returns", None
        if any(seq >= check.seq for seq in flow.tested.get(name, [])):
            return "ok", None
        return worst or ("ignored", check.node)

    # KP304 ------------------------------------------------------------------------------------
    def signature_comparison(self, node: cst.Comparison, flow: Flow) -> bool:
        """`==`, `!=`, `is`, `in` between a computed digest and a received signature (or two
        signature values); None, literals and header-name constants are not signatures. Values
        known only by their names (`received_sig == expected_sig`) count when the function is
        about signatures too, so a `signature` of something else is not mistaken for one."""
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot,
                                            cst.In, cst.NotIn)):
                sides = {self.side(left, flow), self.side(target.comparator, flow)}
                # a signature read from the request is evidence enough; otherwise (a computed
                # digest, values known by their names) only where the function is about
                # signatures: a cache comparing content digests is not
                if sides <= SIGNATURE_SIDES and (
                        "signature" in sides or self._about_signatures(flow)):
                    return True
            left = target.comparator
        return False

    def _about_signatures(self, flow: Flow) -> bool:
        return bool(self._words(_flow_name(flow).replace(".", "_")) & SIGNATURE_FUNCTION_WORDS)

    def _has_digest(self, node: cst.Comparison, flow: Flow) -> bool:
        sides = [self.side(node.left, flow)] + [self.side(t.comparator, flow)
                                                for t in node.comparisons]
        return "digest" in sides or len([s for s in sides if s in SIGNATURE_SIDES]) >= 2

    def side(self, expr: cst.BaseExpression, flow: Flow, depth: int = 0) -> str | None:
        """One side of a comparison: digest (an HMAC or hash computed here), signature (read
        from the signature header), weak (only its name says signature), const, or None."""
        if depth > MAX_DEPTH:
            return None
        expr = _unwrap(expr)
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float,
                             cst.Ellipsis)):
            return "const"
        if isinstance(expr, cst.Name):
            if expr.value in ("None", "True", "False"):
                return "const"
            assigned = self._assigned(expr.value, flow)
            if assigned:
                found = _strongest([self.side(v, f, depth + 1) for v, f in assigned])
                if found is not None:
                    return found
            elif expr.value in self.constants:
                return "const"
            elif expr.value in flow.params and self._header_param(
                    flow.params[expr.value].node):
                return "signature"  # FastAPI: x_keyport_signature: str = Header(...)
            return self._named(expr.value)
        if isinstance(expr, (cst.Set, cst.List, cst.Tuple)):  # `in` over rotated digests
            return _strongest([self.side(e.value, flow, depth + 1) for e in expr.elements],
                              consts=False)
        if isinstance(expr, (cst.SetComp, cst.ListComp, cst.GeneratorExp)):
            return _strongest([self.side(expr.elt, flow, depth + 1)], consts=False)
        if isinstance(expr, cst.FormattedString):
            return _strongest([self.side(p.expression, flow, depth + 1) for p in expr.parts
                               if isinstance(p, cst.FormattedStringExpression)], consts=False)
        if isinstance(expr, cst.BinaryOperation):
            sides = [self.side(expr.left, flow, depth + 1), self.side(expr.right, flow, depth + 1)]
            if sides == ["const", "const"]:
                return "const"
            return _strongest(sides, consts=False)
        if isinstance(expr, cst.Attribute):
            return self._named(expr.attr.value)
        if isinstance(expr, cst.Subscript):
            key = _subscript_key(expr)
            if key is not None:
                if self._is_header(key, "webhook-signature-headers") or key.lower() in (
                        "signature", "sig"):
                    return "signature"
                if self._is_header(key, "webhook-headers"):
                    return None
            return self.side(expr.value, flow, depth + 1)
        if isinstance(expr, cst.Call):
            return self._call_side(expr, flow, depth)
        return None

    def _header_param(self, param: cst.Param) -> bool:
        """A parameter the framework fills from the signature header (`Header(...)`, named
        after the header or given it as `alias=`)."""
        default = param.default
        if not isinstance(default, cst.Call) or _last(default.func) != "Header":
            return False
        header = param.name.value.replace("_", "-")
        for arg in default.args:
            if arg.keyword is not None and arg.keyword.value == "alias":
                header = string_value(arg.value) or header
        return self._is_header(header, "webhook-signature-headers")

    def _call_side(self, expr: cst.Call, flow: Flow, depth: int) -> str | None:
        written = dotted_name(expr.func)
        resolved = self.facts.resolve(expr.func).lstrip(".") if written else ""
        last = _last(expr.func)
        if resolved in HMAC_CALLS or last in ("hexdigest", "digest"):
            return "digest"
        if resolved in SIDE_CONSTS:
            return "const"
        if isinstance(expr.func, cst.Attribute) and last in PASS_THROUGH:
            return self.side(expr.func.value, flow, depth + 1)
        if resolved in CONVERSIONS and expr.args:
            return self.side(expr.args[0].value, flow, depth + 1)
        if last in HEADER_GETTERS and expr.args:
            key = string_value(expr.args[0].value) or self._constant(expr.args[0].value)
            if key is not None:
                if self._is_header(key, "webhook-signature-headers") or key.lower() in (
                        "signature", "sig"):
                    return "signature"
                return None
        if last in ("split", "partition", "rpartition", "rsplit") and isinstance(
                expr.func, cst.Attribute):
            return self.side(expr.func.value, flow, depth + 1)
        local = self._local_flow(written, flow) if written else None
        if local is not None and local is not flow and local.definition is not None and any(
                self.side(_unwrap(v), local, depth + 1) == "digest"
                for v in local.definition.returns):
            return "digest"  # a helper of this module returning an HMAC digest
        if self._words(last) & (self._sig_words | {"sign", "signed"}):
            return "weak"
        return None

