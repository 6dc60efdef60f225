"""What an expression holds: names, attributes, subscripts, calls of the SDK, HTTP
clients and helpers of the module."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import libcst as cst

from keyport_lint.analysis.facts import evaluated
from keyport_lint.analysis.results.interpreter import _InterpreterState
from keyport_lint.analysis.results.syntax import (
    _http_code,
    _is_text,
    _join,
    _relative,
    _string_of,
    _text,
    _with_default,
)
from keyport_lint.analysis.results.values import (
    BODY,
    BOOL,
    CLASS,
    CLIENT,
    COLLECTION_CALLS,
    COPY_CALLS,
    DICT,
    FUNCTION,
    HELPER,
    HTTP_CLIENT,
    HTTP_OK,
    HTTP_STATUS,
    INSTANCE,
    INT,
    LOOKUP,
    NONE,
    PARAM,
    PARTIAL,
    RAW,
    REQUEST,
    RESPONSE,
    RESULT_KINDS,
    SDK_CALL,
    SDK_RESULT,
    STATUS,
    STR,
    STRING_METHODS,
    TUPLE,
    VALID,
    VALIDATION_KINDS,
    Value,
    segments_text,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.definitions import ClassRecord
    from keyport_lint.analysis.results.events import _Unit


_PROPERTIES = frozenset({"property", "cached_property"})
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


class _Evaluate(_InterpreterState):
    """What expressions hold."""

    # -- evaluation ------------------------------------------------------------------------------
    def ev(self, node: cst.CSTNode | None) -> Value | None:
        if node is None:
            return None
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = None  # cycles (walrus in its own value) evaluate to nothing
        value = self._eval(node)
        self.memo[key] = value
        if value is not None and value.is_validation:
            self.f.results.append(value)
        return value

    def _eval(self, node: cst.CSTNode) -> Value | None:
        if type(node) is cst.Name:
            return self._lookup(node.value)
        if type(node) in _STRINGS:
            return self._http(Value(STR, url=self._segments(node)))
        if type(node) is cst.Integer:
            try:
                return Value(INT, number=int(evaluated(node)))
            except (ValueError, TypeError):
                return None
        if type(node) is cst.Await:
            return self.ev(node.expression)
        if type(node) is cst.NamedExpr:
            return self.ev(node.value)
        if type(node) is cst.Attribute:
            return self._attribute(node)
        if type(node) is cst.Subscript:
            return self._subscript(node)
        if type(node) is cst.Call:
            return self._call(node)
        if type(node) is cst.BinaryOperation:
            if (type(node.operator) is cst.Add or type(node.operator) is cst.Modulo):
                self._ev_left_spine(node)
                left, right = self.ev(node.left), self.ev(node.right)
                if _is_text(left) or _is_text(right):
                    return self._http(Value(STR, url=_text(left) + _text(right)))
            return None
        if type(node) is cst.IfExp:
            body, orelse = self.ev(node.body), self.ev(node.orelse)
            if body is None or orelse is None:
                return body or orelse
            return _join(body, orelse)
        if type(node) is cst.BooleanOperation:
            self._ev_left_spine(node)
            left = self.ev(node.left)
            if type(node.operator) is cst.Or:
                if left is None or left.kind == NONE:
                    return self.ev(node.right)
                return _with_default(left, self.ev(node.right))
            return self.ev(node.right)
        if (type(node) is cst.Tuple or type(node) is cst.List or type(node) is cst.Set):
            return Value(TUPLE, items=tuple(
                None if type(e) is cst.StarredElement else self.ev(e.value)
                for e in node.elements))
        if type(node) is cst.Dict:
            return self._dict(node)
        if (type(node) is cst.Comparison or type(node) is cst.UnaryOperation):
            return Value(BOOL)
        return None

    def _ev_left_spine(self, node: cst.BinaryOperation | cst.BooleanOperation) -> None:
        """Evaluate a left-nested chain (`a + b + … + z`, `a and b and …`) from its deepest
        link up, so each link finds its left operand memoised: a 1,000-term concatenation costs
        no recursion depth."""
        spine: list[cst.CSTNode] = []
        current: cst.CSTNode = node.left
        while isinstance(current, type(node)) and id(current) not in self.memo:
            spine.append(current)
            current = current.left
        for link in reversed(spine):
            self.ev(link)

    def _segments(self, node: cst.CSTNode) -> tuple:
        if type(node) is cst.SimpleString:
            try:
                value = evaluated(node)
            except Exception:  # malformed escapes in odd code
                value = None
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return (value if isinstance(value, str) else None,)
        if type(node) is cst.ConcatenatedString:
            return self._segments(node.left) + self._segments(node.right)
        if type(node) is cst.FormattedString:
            out: list = []
            for part in node.parts:
                if type(part) is cst.FormattedStringText:
                    out.append(part.value)
                elif type(part) is cst.FormattedStringExpression:
                    out.extend(_text(self.ev(part.expression)))
            return tuple(out)
        return (None,)

    def _dict(self, node: cst.Dict) -> Value | None:
        keys = set()
        for element in node.elements:
            if type(element) is cst.StarredDictElement:
                inner = self.ev(element.value)
                if inner is not None and inner.kind in RESULT_KINDS:
                    return inner  # {**result, …}: a copy of the raw result
                continue
            key = _string_of(element.key) if type(element) is cst.DictElement else None
            if key is not None:
                keys.add(key)
        return Value(DICT, keys=frozenset(keys))

    def _attribute(self, node: cst.Attribute) -> Value | None:
        attr = node.attr.value
        base = self.ev(node.value)
        if base is None:
            code = _http_code(self.facts.resolve(node))
            return Value(INT, number=code) if code is not None else None
        if base.kind in (INSTANCE, CLASS) and base.ref is not None:
            return self._member(base.ref, attr)
        if base.kind == RESPONSE:
            if attr in self.ok_attributes:
                return replace(base, kind=HTTP_OK)
            if attr in self.code_attributes:
                return replace(base, kind=HTTP_STATUS)
            if attr in self.raw_attributes:
                return replace(base, kind=RAW)
        return None

    def _member(self, cls: ClassRecord, attr: str, depth: int = 0) -> Value | None:
        method = cls.methods.get(attr)
        unit = self._method_unit(cls, attr)
        if method is not None and method.decorated(_PROPERTIES) and unit is not None:
            return self._export(self._summary(unit.uid))
        found = self._attr(cls, attr)
        if found is not None:
            return found
        if unit is not None:
            return Value(FUNCTION, ref=unit)
        for base in cls.written_bases:
            parent = self._class_named(base)
            if parent is not None and depth < 8:
                found = self._member(parent, attr, depth + 1)
                if found is not None:
                    return found
        return None

    def _class_named(self, name: str) -> ClassRecord | None:
        self.reads.add(("n", 0, name))
        value = self.envs.get(0, {}).get(name)
        return value.ref if value is not None and value.kind == CLASS else None

    def _key(self, node: cst.BaseExpression) -> str | None:
        value = self.ev(node)
        return value.literal if value is not None else None

    def _field(self, base: Value, key: str | None) -> Value | None:
        """`base[key]` / `base.get(key)` on a result (or on a parameter that may be one)."""
        if key not in (STATUS, VALID):
            return None
        if base.kind in RESULT_KINDS:
            sub = (base.param[0], base.param[1], key) if base.param else None
            return replace(base, kind=key, param=sub)
        if base.kind == PARAM and base.param is not None and base.param[2] == "":
            return Value(PARAM, param=(base.param[0], base.param[1], key))
        return None

    def _subscript(self, node: cst.Subscript) -> Value | None:
        base = self.ev(node.value)
        if base is None or len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
            return None
        index = node.slice[0].slice.value
        if base.kind == TUPLE:
            position = self.ev(index)
            if position is not None and position.kind == INT and position.number is not None \
                    and -len(base.items) <= position.number < len(base.items):
                return base.items[position.number]
            return None
        return self._field(base, self._key(index))

    def _call(self, node: cst.Call) -> Value | None:
        func = node.func
        resolved = self.facts.resolve(func)
        if resolved in self.sdk_clients:
            return Value(CLIENT)
        args = node.args
        last = resolved.rsplit(".", 1)[-1]
        through = self._through(node, resolved)
        if through is not None:  # to_thread(f, x), run_in_executor(None, f, x), partial
            return through
        if type(func) is cst.Attribute:
            method = func.attr.value
            receiver = self.ev(func.value)
            if receiver is not None:
                found = self._method(node, receiver, method, args)
                if found is not None:
                    return found
                if receiver.kind in (CLIENT, SDK_RESULT, BODY, STATUS, RESPONSE, RAW, INSTANCE,
                                     CLASS, LOOKUP, HTTP_CLIENT):
                    return None
        else:
            callee = self.ev(func)
            if callee is not None and callee.kind == FUNCTION:
                return self._apply(callee.ref, node)
            if callee is not None and callee.kind == HELPER:  # of another project module
                returned = callee.items[0]
                return replace(returned, site=node) if returned.is_validation else returned
            if callee is not None and callee.kind == CLASS and callee.ref is not None:
                init = self._method_unit(callee.ref, "__init__")
                if init is not None:
                    self._apply(init, node)
                return Value(INSTANCE, ref=callee.ref)
        first = self.ev(args[0].value) if args and not args[0].star else None
        if last in self.parse_calls and first is not None and first.kind in (RAW, RESPONSE):
            return replace(first, kind=BODY)
        if last in COPY_CALLS and first is not None and first.kind in RESULT_KINDS:
            return first
        if last in COLLECTION_CALLS and first is not None and first.kind == TUPLE:
            return first
        if last == "str" and first is not None and first.kind in (STATUS, STR):
            return first
        if last in ("urljoin", "join") and args:
            url: tuple = ()
            for arg in args:
                url += _text(self.ev(arg.value))
            return self._http(Value(STR, url=url))
        base_url = next((a.value for a in args
                         if a.keyword is not None and a.keyword.value == "base_url"), None)
        if base_url is not None:  # httpx.Client(base_url=…), aiohttp.ClientSession(base_url=…)
            return self._http(Value(HTTP_CLIENT, url=_text(self.ev(base_url))))
        if id(node) in self.decorators:
            return None  # @app.post("/api/v1/validate") declares a route, it sends nothing
        if last in self.request_classes or last in self.http_names:
            target = self._url_argument(node)
            if target is None or (target.kind == STR and _relative(target.url)):
                return None  # a path without a host goes to the app itself (test clients)
            if last in self.request_classes:
                return replace(target, kind=REQUEST)
            return self._http(Value(RESPONSE, origin="http", url=target.url, site=node))
        return None

    def _through(self, node: cst.Call, resolved: str) -> Value | None:
        """Calls that run another callable: what that callable returns (with `site` the outer
        call), or a PARTIAL for `functools.partial(f, …)`."""
        args = [a for a in node.args if a.keyword is None and not a.star]
        last = resolved.rsplit(".", 1)[-1]
        if resolved in ("functools.partial", "partial") and args:
            return Value(PARTIAL, ref=(args[0].value, tuple(node.args[1:])))
        if resolved == "asyncio.to_thread" and args:
            fn, rest = args[0].value, tuple(node.args[1:])
        elif last == "run_in_executor" and len(args) >= 2:
            fn, rest = args[1].value, tuple(node.args[2:])
        else:
            callee = self.ev(node.func) if type(node.func) is not cst.Attribute else None
            if callee is None or callee.kind != PARTIAL:
                return None
            fn, bound = callee.ref
            rest = (*bound, *node.args)
        ordered = sorted(rest, key=lambda a: a.keyword is not None or bool(a.star))
        try:
            call = cst.Call(func=fn, args=[a.with_changes(comma=cst.MaybeSentinel.DEFAULT)
                                           for a in ordered])
        except cst.CSTValidationError:
            return None
        self.keep.append(call)
        found = self.ev(call)
        return replace(found, site=node) if found is not None and found.site is not None \
            else found

    def _method(self, node: cst.Call, receiver: Value, method: str,
                args: Any) -> Value | None:
        kind = receiver.kind
        if kind == CLIENT:
            if method in self.validate_methods:
                return Value(SDK_RESULT, origin="sdk", site=node)
            if method in self.lookup_methods:
                return Value(LOOKUP)
            if method in ("close", "__enter__", "__exit__"):
                return None
            return Value(SDK_CALL)
        if method in STRING_METHODS and kind in (RAW, STATUS, PARAM):
            return receiver
        if kind in RESULT_KINDS or (kind == PARAM and receiver.param and receiver.param[2] == ""):
            if method == "get" and args:
                found = self._field(receiver, self._key(args[0].value))
                fallback = self.ev(args[1].value) if len(args) > 1 else None
                return _with_default(found, fallback)
            if method == "copy" and kind in RESULT_KINDS:
                return receiver
            return None
        if kind == RESPONSE:
            if method == "json":
                return replace(receiver, kind=BODY)
            if method in self.raw_methods:
                return replace(receiver, kind=RAW)
            if method == "getcode":
                return replace(receiver, kind=HTTP_STATUS)
            return None
        if kind == HTTP_CLIENT and method in self.http_names:
            target = self._url_argument(node)
            if target is None:
                return None
            url = receiver.url + target.url if _relative(target.url) else target.url
            return self._http(Value(RESPONSE, origin="http", url=url, site=node))
        if kind == STR:
            if method in ("format", "rstrip", "lstrip", "strip", "replace"):
                return receiver
            if method == "join" and args:
                joined = self.ev(args[0].value)
                if joined is not None and joined.kind == TUPLE:
                    parts: tuple = ()
                    for item in joined.items:
                        parts += _text(item)
                    return self._http(Value(STR, url=parts))
            return None
        if kind in (INSTANCE, CLASS) and receiver.ref is not None:
            member = self._member(receiver.ref, method)
            if member is not None and member.kind == FUNCTION:
                return self._apply(member.ref, node)
        return None

    def _url_argument(self, node: cst.Call) -> Value | None:
        """The URL (or prepared request) a request-sending call is given."""
        candidates = [a.value for a in node.args[:2] if a.keyword is None and not a.star]
        candidates += [a.value for a in node.args
                       if a.keyword is not None and a.keyword.value in ("url", "request")]
        for candidate in candidates:
            value = self.ev(candidate)
            if value is None:
                continue
            if value.kind == REQUEST:
                return value
            if value.kind == STR and ("/" in segments_text(value.url) or value.conditional):
                return value
            if value.kind == PARAM and value.param is not None and value.param[2] == "":
                return self._http(Value(STR, url=(value.param[:2],)))
        return None

    # -- helpers of the module -------------------------------------------------------------------
    def _arguments(self, callee: _Unit, node: cst.Call) -> dict[int, tuple]:
        """parameter index -> (argument expression, Value) for one call."""
        names = [name for name, _ in callee.params]
        out: dict[int, tuple] = {}
        position = 0
        for arg in node.args:
            if arg.star:
                break
            if arg.keyword is None:
                out[position] = (arg.value, self.ev(arg.value))
                position += 1
            elif arg.keyword.value in names:
                out[names.index(arg.keyword.value)] = (arg.value, self.ev(arg.value))
        return out

    def _apply(self, callee: _Unit, node: cst.Call) -> Value | None:
        """The value a call of a module function returns, with its parameters substituted."""
        args = self._arguments(callee, node)
        for index, (_, value) in args.items():
            exported = self._export(value)
            if exported is not None and (exported.is_validation or exported.kind == CLIENT) \
                    and (callee.uid, index) not in self.bound:  # the first binding stays
                self.bound[(callee.uid, index)] = exported
                self.changed[("b", callee.uid, index)] = self.now
        summary = self._summary(callee.uid)
        if summary is None:
            return None
        return self._substitute(summary, callee.uid, args, node)

    def _substitute(self, value: Value | None, uid: int, args: dict,
                    site: cst.CSTNode) -> Value | None:
        if value is None:
            return None
        if value.param is not None and value.param[0] == uid:
            arg = args.get(value.param[1], (None, None))[1]
            if arg is None:
                return None
            return self._field(arg, value.param[2]) if value.param[2] else arg
        url = value.url
        if any(isinstance(s, tuple) for s in url):
            new: list = []
            for s in url:
                if isinstance(s, tuple) and s[0] == uid:
                    arg = args.get(s[1], (None, None))[1]
                    if arg is not None and arg.kind == STR:
                        new.extend(arg.url)
                    elif arg is not None and arg.kind == PARAM and arg.param:
                        new.append(arg.param[:2])
                    else:
                        new.append(None)
                else:
                    new.append(None if isinstance(s, tuple) else s)
            url = tuple(new)
        items = tuple(self._substitute(i, uid, args, site) for i in value.items)
        out = replace(value, url=url, items=items, param=None)
        if out.kind in VALIDATION_KINDS:
            out = replace(out, site=site)
        return self._http(out)

    # -- bindings --------------------------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression, value: Value | None) -> None:
        if type(target) is cst.Name:
            self.env[target.value] = value
        elif (type(target) is cst.Tuple or type(target) is cst.List):
            items = value.items if value is not None and value.kind == TUPLE else ()
            for position, element in enumerate(target.elements):
                if type(element) is cst.StarredElement or len(items) != len(target.elements):
                    self._bind(element.value, None)
                else:
                    self._bind(element.value, items[position])
        elif type(target) is cst.Attribute:
            base = self.ev(target.value)
            if base is not None and base.kind in (INSTANCE, CLASS) and base.ref is not None:
                exported = self._export(value)
                if exported is not None and exported.kind != NONE:
                    self._set_attr(base.ref, target.attr.value, exported)
            self._hand_on(value)
        elif type(target) is cst.Subscript:
            self._hand_on(value)

