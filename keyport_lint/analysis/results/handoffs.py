"""Bindings, returns, reads and calls: how a result moves between names and functions,
and KeyPort calls inside `try`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.results.interpreter import _InterpreterState
from keyport_lint.analysis.results.syntax import _interesting, _strings, _text
from keyport_lint.analysis.results.values import (
    BODY,
    BOOL,
    CLASS,
    CLIENT,
    DICT,
    DICT_METHODS,
    FUNCTION,
    INSTANCE,
    INT,
    NONE,
    PARAM,
    RAW,
    RESPONSE,
    RESULT_KINDS,
    SDK_CALL,
    SDK_RESULT,
    STATUS,
    STR,
    TUPLE,
    VALID,
    Handled,
    Value,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.results.events import _Unit


class _Handoffs(_InterpreterState):
    """Bindings, returns, reads and calls."""

    def _on_assign(self, node: cst.CSTNode, tries: tuple) -> None:
        if type(node) is cst.Assign:
            value = self.ev(node.value)
            for target in node.targets:
                self._bind(target.target, value)
        elif type(node) is cst.AnnAssign:
            value = self.ev(node.value) if node.value is not None else None
            if value is None and self._is_client_type(node.annotation.annotation):
                value = Value(CLIENT)
            if node.value is not None or value is not None:
                self._bind(node.target, value)
        elif type(node) is cst.AugAssign:
            if type(node.target) is cst.Name:
                value = self.ev(node.target)
                if value is not None and value.kind == STR and isinstance(node.operator,
                                                                          cst.AddAssign):
                    url = value.url + _text(self.ev(node.value))
                    self.env[node.target.value] = self._http(Value(STR, url=url))
                else:
                    self.env[node.target.value] = None
        elif type(node) is cst.NamedExpr:
            self._bind(node.target, self.ev(node.value))
        elif type(node) is cst.WithItem and node.asname is not None:
            self._bind(node.asname.name, self.ev(node.item))

    def _on_unbind(self, node: cst.BaseExpression, tries: tuple) -> None:
        self._bind(node, None)

    def _on_def(self, node: cst.FunctionDef, tries: tuple) -> None:
        self.env[node.name.value] = Value(FUNCTION, ref=self.unit_of.get(id(node)))

    def _on_class(self, node: cst.ClassDef, tries: tuple) -> None:
        unit = self.unit_of.get(id(node))
        self.env[node.name.value] = Value(CLASS, ref=unit.cls if unit else None)

    def _on_except(self, node: cst.CSTNode, tries: tuple) -> None:
        name = getattr(node, "name", None)
        if name is not None and type(name.name) is cst.Name:
            self.env[name.name.value] = None

    # -- handing on: returned, stored, passed --------------------------------------------------
    def _hand_on(self, value: Value | None, returned: bool = False) -> None:
        """The status or result leaves this function's hands: whoever gets it may branch."""
        if value is None:
            return
        if value.kind in (TUPLE,):
            for item in value.items:
                self._hand_on(item, returned)
            return
        if value.kind == DICT:
            return
        if value.param is not None and not returned:
            self._note_param(value.param, everything=True)
        if value.is_validation and value.kind in (SDK_RESULT, BODY, STATUS, RESPONSE, RAW):
            self.f.handling.append(Handled(self.index, everything=True))
            if value.site is not None:
                self.f.checked_sites.add(id(value.site))

    def _contained(self, node: cst.BaseExpression) -> list:
        """Values in an expression and its displays (not through formatting or other calls)."""
        if (type(node) is cst.Tuple or type(node) is cst.List or type(node) is cst.Set):
            return [v for e in node.elements for v in self._contained(e.value)]
        if type(node) is cst.Dict:
            out = []
            for element in node.elements:
                out += self._contained(element.value)
            return out
        value = self.ev(node)
        return [value] if value is not None else []

    def _on_return(self, node: cst.Return, tries: tuple) -> None:
        value = self.ev(node.value) if node.value is not None else None
        self.f.returns.append((node, value))
        if node.value is not None:
            for inner in self._contained(node.value):
                self._hand_on(inner, returned=True)

    # -- tests -------------------------------------------------------------------------------------
    def _on_attribute(self, node: cst.Attribute, tries: tuple) -> None:
        base = self.ev(node.value)
        if base is None or not base.is_validation:
            return
        attr = node.attr.value
        if base.kind in RESULT_KINDS and attr not in DICT_METHODS and not attr.startswith("__"):
            self.f.attribute_reads.append((node, base))
        elif base.kind == RESPONSE and attr in self.ok_attributes:
            self.f.http_tests.append((node, base))

    def _on_subscript(self, node: cst.Subscript, tries: tuple) -> None:
        value = self.ev(node)
        if value is not None:
            self._read(node.value, value)
            return
        if len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index:
            self._lookup_by_status(self.ev(node.value), self.ev(node.slice[0].slice.value))

    def _read(self, base: cst.BaseExpression, value: Value) -> None:
        """A valid flag or status read from a result: the result is looked at."""
        if value.kind in (VALID, STATUS) and value.is_validation:
            if type(base) is cst.Name:
                self.f.checked_names.add(base.value)
            if value.kind == VALID and value.site is not None:
                self.f.checked_sites.add(id(value.site))

    def _lookup_by_status(self, mapping: Value | None, key: Value | None) -> None:
        """`MESSAGES[status]`: a mapping keyed by statuses tells them apart."""
        if key is None or not (key.kind == STATUS or (key.kind == PARAM and key.param)):
            return
        if mapping is not None and mapping.kind == DICT:
            strings, unknown = mapping.keys, False
        elif mapping is None or mapping.kind not in (STR, TUPLE, INT, BOOL, NONE):
            strings, unknown = frozenset(), True
        else:
            return
        if key.param is not None:
            self._note_param(key.param, strings, unknown)
        if key.is_validation:
            self.f.handling.append(Handled(self.index, statuses=strings, everything=unknown))
            if key.site is not None:
                self.f.checked_sites.add(id(key.site))

    def _quiet(self, node: cst.Call) -> bool:
        """Logging, printing and formatting: handing the status to these is not handling it."""
        resolved = self.facts.resolve(node.func) or dotted_name(node.func)
        if not resolved:
            return False
        return bool(self.quiet.fullmatch(resolved)
                    or self.quiet.fullmatch(resolved.rsplit(".", 1)[-1]))

    def _on_call(self, node: cst.Call, tries: tuple) -> None:
        value = self.ev(node)
        func = node.func
        guard = tries[-1] if tries else None
        # KeyPort calls, for KP405
        receiver = self.ev(func.value) if type(func) is cst.Attribute else None
        callee = self._local_callee(func, receiver)
        marker = self._keyport_call(node, value, receiver, callee)
        if marker is not None:
            self.markers[id(node)] = marker
            if marker.kind == SDK_CALL or (marker.endpoint and not marker.conditional):
                self.f.keyport_calls.append((node, guard))
        # raise_for_status(): an HTTP-only gate unless valid/status is checked too
        if type(func) is cst.Attribute and func.attr.value == "raise_for_status" \
                and receiver is not None and receiver.kind == RESPONSE and receiver.is_validation:
            self.f.http_tests.append((node, receiver))
        if type(func) is cst.Attribute and func.attr.value == "get" and node.args:
            if value is not None and receiver is not None:
                self._read(func.value, value)
            elif value is None:
                self._lookup_by_status(receiver, self.ev(node.args[0].value))
        if dotted_name(func) == "bool" and len(node.args) == 1:
            self._truth(node.args[0].value)
        if type(func) is cst.Attribute and func.attr.value in ("startswith", "endswith") \
                and receiver is not None and node.args \
                and (receiver.kind == STATUS or (receiver.kind == PARAM and receiver.param)):
            strings, unknown = _strings(self.ev(node.args[0].value))
            test = str.startswith if func.attr.value == "startswith" else str.endswith
            matched = frozenset(k for k in self.known if any(test(k, t) for t in strings))
            self._record_statuses(node, receiver, matched, unknown, exact=False)
        self._pass_arguments(node, callee)

    def _keyport_call(self, node: cst.Call, value: Value | None, receiver: Value | None,
                      callee: _Unit | None) -> Value | None:
        """What KeyPort request this call makes, if any (SDK call, API request, or a helper's)."""
        func = node.func
        if receiver is not None and receiver.kind == CLIENT and type(func) is cst.Attribute:
            return None if func.attr.value in ("close", "__enter__", "__exit__") \
                else Value(SDK_CALL)
        if value is not None and value.kind == RESPONSE and value.site is node \
                and (value.endpoint or value.conditional) and callee is None:
            return value
        if callee is not None:
            args = self._arguments(callee, node)
            self.reads.add(("e", callee.uid))
            for escape in self.escapes.get(callee.uid, ()):
                marker = self._substitute(escape, callee.uid, args, node)
                if marker is not None and (marker.kind == SDK_CALL or marker.endpoint
                                           or marker.conditional):
                    return marker
        return None

    def _local_callee(self, func: cst.BaseExpression, receiver: Value | None) -> _Unit | None:
        if type(func) is cst.Attribute:
            if receiver is not None and receiver.kind in (INSTANCE, CLASS) and receiver.ref:
                member = self._member(receiver.ref, func.attr.value)
                if member is not None and member.kind == FUNCTION:
                    return member.ref
            return None
        callee = self.ev(func)
        if callee is not None and callee.kind == FUNCTION:
            return callee.ref
        if callee is not None and callee.kind == CLASS and callee.ref is not None:
            return self._method_unit(callee.ref, "__init__")
        return None

    def _pass_arguments(self, node: cst.Call, callee: _Unit | None) -> None:
        """Statuses and results handed to another function: handled if it may branch on them."""
        produced = self.memo.get(id(node))
        if produced is not None and produced.is_validation:
            return  # a transformation (json.loads, dict(result)): the value stays here
        if not any(_interesting(v) for arg in node.args for v in self._contained(arg.value)):
            return
        if self._quiet(node):
            return
        if type(node.func) is cst.Attribute:
            receiver = self.memo.get(id(node.func.value))
            if receiver is not None and receiver.kind in (SDK_RESULT, BODY, STATUS, RESPONSE,
                                                          RAW, CLIENT, DICT, STR):
                return  # a method of the value itself (result.get, status.lower)
        if callee is not None:
            for index, (expr, _) in self._arguments(callee, node).items():
                for value in self._contained(expr):
                    self._to_local(value, callee, index)
            return
        for arg in node.args:
            for value in self._contained(arg.value):
                self._hand_on(value)

    def _to_local(self, value: Value, callee: _Unit, index: int) -> None:
        if value.param is not None:
            tag = value.param
            self._note_param(tag, forward=(callee.uid, index, ""))
            if tag[2] == "" and value.kind == PARAM:
                self._note_param((tag[0], tag[1], STATUS), forward=(callee.uid, index, STATUS))
        if not value.is_validation:
            return
        if value.kind in (STATUS, SDK_RESULT, BODY):
            subs = [""] if value.kind == STATUS else ["", STATUS]
            for sub in subs:
                statuses, everything = self.resolve_param((callee.uid, index, sub))
                if value.kind != STATUS and sub == "":
                    statuses = frozenset()  # the dict itself compared: not a status
                self.f.handling.append(Handled(self.index, statuses=statuses,
                                               everything=everything))
            if value.site is not None:
                self.f.checked_sites.add(id(value.site))
        elif value.kind in (RESPONSE, RAW) and value.site is not None:
            self.f.checked_sites.add(id(value.site))

    def resolve_param(self, tag: tuple, seen: set | None = None) -> tuple[frozenset, bool]:
        """(statuses told apart, handed on) for one parameter of a function of the module,
        following it into the helpers it is passed to."""
        seen = set() if seen is None else seen
        self.reads.add(("p", tag))
        handling = self.param_handling.get(tag)
        if tag in seen or handling is None:
            return frozenset(), False
        seen.add(tag)
        statuses, everything = set(handling.statuses), handling.everything
        for forward in handling.forwards:
            more, handed = self.resolve_param(forward, seen)
            statuses |= more
            everything = everything or handed
        return frozenset(statuses), everything

