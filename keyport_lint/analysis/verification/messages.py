"""What an HMAC signs: the parts of its message (raw body, parsed body, timestamp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.definitions import POSITIONAL, POSITIONAL_ONLY, Parameter
from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.handlers import classify_read, string_value, whole_regex
from keyport_lint.analysis.verification.records import (
    CONVERSIONS,
    HEADER_GETTERS,
    JSON_DUMPS,
    MAX_DEPTH,
    MODEL_DUMPS,
    PASS_THROUGH,
    _dedupe,
    _last,
    _subscript_key,
    _unwrap,
)
from keyport_lint.analysis.verification.state import _VerificationState

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.records import Flow, HmacRecord


class _Messages(_VerificationState):
    """HMAC message parts."""

    # message parts (KP305, KP306) -----------------------------------------------------------
    def message_parts(self, record: HmacRecord, flow: Flow) -> list[str] | None:
        """Kinds of what an HMAC signs: timestamp | raw | parsed | body | literal | unknown.
        None when the message is not visible (no message argument and no update)."""
        exprs = ([record.message] if record.message is not None else []) + record.updates
        if not exprs:
            return None
        parts: list[str] = []
        for expr in exprs:
            parts.extend(self.parts(expr, flow))
        return parts

    def parts(self, expr: cst.BaseExpression, flow: Flow, depth: int = 0) -> list[str]:
        if depth > MAX_DEPTH:
            return ["unknown"]
        expr = _unwrap(expr)
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            return ["literal"]
        if isinstance(expr, cst.FormattedString):
            out = ["literal"]
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    out.extend(self.parts(part.expression, flow, depth + 1))
            return out
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                return self.parts(expr.left, flow, depth + 1) + self.parts(
                    expr.right, flow, depth + 1)
            if isinstance(expr.operator, cst.Modulo):
                right = expr.right
                items = [e.value for e in right.elements] if isinstance(right, cst.Tuple) \
                    else [right]
                out = self.parts(expr.left, flow, depth + 1)
                for item in items:
                    out.extend(self.parts(item, flow, depth + 1))
                return out
            return ["unknown"]
        if isinstance(expr, cst.Call):
            return self._call_parts(expr, flow, depth)
        if isinstance(expr, cst.Attribute):
            kind = classify_read(self.settings["web-request-reads"], self._framework,
                                 expr.attr.value)
            if kind == "raw":
                return ["raw"]
            if kind in ("parsed", "form"):
                return ["parsed"]
            return [self._name_kind(expr.attr.value, None)]
        if isinstance(expr, cst.Subscript):
            key = _subscript_key(expr)
            if key is not None and self._is_header(key, "webhook-timestamp-headers"):
                return ["timestamp"]
            if key is not None and self._is_header(key, "webhook-headers"):
                return ["unknown"]
            inner = self.parts(expr.value, flow, depth + 1)
            return ["parsed"] if "parsed" in inner else inner
        if isinstance(expr, cst.Name):
            return self._name_parts(expr.value, flow, depth)
        return ["unknown"]

    def _name_parts(self, name: str, flow: Flow, depth: int) -> list[str]:
        scope: Flow | None = flow
        while scope is not None:
            if name in scope.assigns:
                out: list[str] = []
                for value, _, unpacked in scope.assigns[name]:
                    if unpacked:
                        out.append(self._name_kind(name, None))
                    else:
                        out.extend(self.parts(value, scope, depth + 1))
                if out and all(p == "unknown" for p in out):
                    return [self._name_kind(name, None)]
                return _dedupe(out)
            if name in scope.params:
                passed = self._caller_parts(name, scope, depth)
                return passed or [self._name_kind(name, scope.params[name])]
            scope = scope.parent
        if name in self.constants:
            return ["literal"]
        assigned = self.web.module_assigns.get(name)
        if assigned is not None:
            return self.parts(assigned, self.module, depth + 1)
        return [self._name_kind(name, None)]

    def _caller_parts(self, name: str, scope: Flow, depth: int) -> list[str]:
        """What this module's callers pass as parameter `name` of `scope`'s function (a
        helper signing `"%d.%s" % (timestamp, payload)` or `json.dumps(event)` for it); empty
        when no caller is seen."""
        record = scope.definition
        if record is None or depth > MAX_DEPTH:
            return []
        params = [p.name for p in record.params if p.kind in (POSITIONAL_ONLY, POSITIONAL)]
        if name not in params:
            return []
        index = params.index(name)
        bound = bool(record.self_name)
        out: list[str] = []
        for caller in [self.module, *self.flows.values()]:
            for call in caller.calls:
                if call.written.rsplit(".", 1)[-1] != record.name or caller is scope:
                    continue
                method_call = "." in call.written
                position = index - (1 if bound and method_call else 0)
                positional = [a for a in call.node.args if a.keyword is None and not a.star]
                arg = next((a for a in call.node.args
                            if a.keyword is not None and a.keyword.value == name), None)
                if arg is None and 0 <= position < len(positional):
                    arg = positional[position]
                if arg is not None:
                    out.extend(self.parts(arg.value, caller, depth + 1))
        return _dedupe(out)

    def _name_kind(self, name: str, param: Parameter | None) -> str:
        if whole_regex(self.settings, "signed-timestamp-names").fullmatch(name):
            return "timestamp"
        if whole_regex(self.settings, "signed-body-names").fullmatch(name):
            if param is not None and param.annotation:
                head = param.annotation.rsplit(".", 1)[-1]  # resolved: an alias is seen through
                if head in ("bytes", "str", "bytearray", "memoryview"):
                    return "raw"
                if head and head not in ("Optional", "Union", "Any"):
                    return "parsed"
            return "body"
        return "unknown"

    def _call_parts(self, expr: cst.Call, flow: Flow, depth: int) -> list[str]:
        written = dotted_name(expr.func)
        resolved = self.facts.resolve(expr.func).lstrip(".") if written else ""
        last = _last(expr.func)
        func = expr.func
        attr = isinstance(func, cst.Attribute)
        receiver = func.value if isinstance(func, cst.Attribute) else func
        if resolved in JSON_DUMPS:
            return ["parsed"]
        if attr and last in PASS_THROUGH:
            return self.parts(receiver, flow, depth + 1)
        if resolved in CONVERSIONS and expr.args:
            return self.parts(expr.args[0].value, flow, depth + 1)
        if attr and last == "format":
            out = self.parts(receiver, flow, depth + 1)
            for arg in expr.args:
                out.extend(self.parts(arg.value, flow, depth + 1))
            return out
        if attr and last == "join" and expr.args:
            out = self.parts(receiver, flow, depth + 1)
            items = expr.args[0].value
            if isinstance(items, (cst.List, cst.Tuple)):
                for element in items.elements:
                    out.extend(self.parts(element.value, flow, depth + 1))
            else:
                out.extend(self.parts(items, flow, depth + 1))
            return out
        if resolved in ("time.time", "time.time_ns", "datetime.datetime.now"):
            return ["timestamp"]
        if last in HEADER_GETTERS and expr.args:
            key = string_value(expr.args[0].value) or self._constant(expr.args[0].value)
            if key is not None and self._is_header(key, "webhook-timestamp-headers"):
                return ["timestamp"]
            if key is not None and self._is_header(key, "webhook-headers"):
                return ["unknown"]
            if key is not None:
                return [self._name_kind(key.replace("-", "_").lower(), None)]
        if attr:
            kind = classify_read(self.settings["web-request-reads"], self._framework, last)
            if kind == "raw":
                return ["raw"]
            if kind in ("parsed", "form"):
                return ["parsed"]
            if last in MODEL_DUMPS:
                return ["parsed"]
        return ["unknown"]

