"""The abstract interpreter's state: units replayed in rounds until helper summaries,
class attributes and parameter bindings settle."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name
from keyport_lint.analysis.results.syntax import _join, _ParamHandling, _patterns, _string_of
from keyport_lint.analysis.results.values import (
    BOOL,
    CLASS,
    CLIENT,
    HELPER,
    HTTP_CLIENT,
    INSTANCE,
    MAX_ESCAPES,
    MAX_ROUNDS,
    NONE,
    PARAM,
    REQUEST,
    STR,
    FunctionResults,
    ResultsAnalysis,
    Value,
    segments_text,
    success_statuses,
)
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.definitions import ClassRecord
    from keyport_lint.analysis.results.events import _Collector, _Unit

_ABSENT = object()  # a name a unit's environment does not bind (unlike one bound to None)


def _shareable(value: Value | None) -> Value | None:
    """A value another module can use: a client or a validation value, without the nodes
    of this module (its call site)."""
    if value is None or not (value.kind in (CLIENT, HTTP_CLIENT) or value.is_validation):
        return None
    if value.ref is not None or any(not isinstance(i, Value) for i in value.items):
        return None
    return replace(value, site=None, items=tuple(_shareable(i) for i in value.items))


class _InterpreterState:
    """What the interpreter knows across units and rounds; the mixins (`evaluate.py`,
    `branches.py`, `handoffs.py`) replay the events against it."""

    def __init__(self, ctx: PythonContext, facts: ModuleFacts, collector: _Collector) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.imported: dict[str, Value | None] = {}
        self.facts = facts
        self.units = collector.units
        self.sdk_clients = set(settings["sdk-clients"])
        self.validate_methods = set(settings["sdk-validate-methods"])
        self.lookup_methods = set(settings["sdk-lookup-methods"])
        self.request_classes = frozenset(settings["http-request-classes"])
        self.raw_attributes = frozenset(settings["http-raw-body-attributes"])
        self.raw_methods = frozenset(settings["http-raw-body-methods"])
        self.ok_attributes = frozenset(settings["http-ok-attributes"])
        self.code_attributes = frozenset(settings["http-status-attributes"])
        self.parse_calls = frozenset(settings["json-parse-calls"])
        self.validate_paths = list(settings["validate-paths"])
        self.api_marks = list(settings["api-paths"]) + list(settings["api-hosts"])
        self.http_names = set(settings["http-call-names"])
        self.quiet = _patterns(tuple(settings["non-handling-calls"]))
        self._success = success_statuses(settings)
        self.known = frozenset(s for group in settings["status-categories"].values()
                               for s in group)
        self.unit_of = {id(u.node): u for u in self.units}
        # values a class body binds, by class (the interpreter's state, not the record's)
        self.class_attrs: dict[ClassRecord, dict[str, Value]] = {}
        self.decorators = collector.decorators
        self.summaries: dict[int, Value | None] = {}
        self.escapes: dict[int, tuple] = {}
        self.bound: dict[tuple, Value] = {}
        self.param_handling: dict[tuple, _ParamHandling] = {}
        self.envs: dict[int, dict] = {}
        self.results: dict[int, FunctionResults] = {}
        self.values: dict[int, Value] = {}
        # per unit, reset by _run_unit
        self.unit: _Unit = self.units[0]
        self.f = FunctionResults(self.unit.node, self.unit.name)
        self.env: dict[str, Value | None] = {}
        self.memo: dict[int, Value | None] = {}
        self.index = 0
        self.tested: set[int] = set()
        self.markers: dict[int, Value] = {}  # id(call) -> what a KeyPort call is, for summaries
        self.handlers: dict[str, Any] = {}  # event tag -> its `_on_<tag>` method
        self.keep: list[cst.CSTNode] = []  # calls made up for one unit (memo keys: ids stay theirs)
        # Replaying a unit again is needed only when something it read from the other units
        # (a summary, escapes, a parameter binding, a class attribute, a name of an enclosing
        # environment, a parameter's handling) changed since it last ran: its replay is a
        # function of those. Each run gets a tick; each change of shared state the tick of the
        # run that made it; a unit whose reads all changed before its last run keeps its results.
        self.now = 0  # the tick of the running unit
        self.ticks = 0
        self.reads: set[tuple] = set()  # keys of shared state the running unit read
        self.changed: dict[tuple, int] = {}  # key -> tick of its last change
        self.last: dict[int, tuple[int, set[tuple], dict[int, Value]]] = {}

    # -- driver --------------------------------------------------------------------------------
    def run(self) -> ResultsAnalysis:
        previous: Any = None
        for _ in range(MAX_ROUNDS):
            self.values = {}
            for unit in self.units:
                self._run_unit(unit)
            state = (dict(self.summaries), dict(self.escapes), dict(self.bound),
                     {cls: dict(attrs) for cls, attrs in self.class_attrs.items()},
                     dict(self.envs.get(0, {})))
            if state == previous:
                break
            previous = state
        return self._analysis()

    def _analysis(self) -> ResultsAnalysis:
        guarded: dict[int, tuple] = {}
        for f in self.results.values():
            for call, guard in f.keyport_calls:
                if guard is not None:
                    guarded.setdefault(id(guard), (guard, []))[1].append(call)
        return ResultsAnalysis(
            functions=[self.results[u.uid] for u in self.units],
            guarded_calls=list(guarded.values()),
            exports=self._exports(),
            _values=self.values,
        )

    def _exports(self) -> dict[str, Value]:
        """Module-level names holding a client or a result, and module-level functions
        returning one (helpers, factories), as an importing module sees them: no call sites,
        units or parameters of this module."""
        module = self.units[0]
        out: dict[str, Value] = {}
        for name, value in self.envs.get(module.uid, {}).items():
            shared = _shareable(self._export(value))
            if shared is not None:
                out[name] = shared
        for unit in self.units:
            if unit.kind == "function" and unit.parent is module:
                returned = _shareable(self._export(self.summaries.get(unit.uid)))
                if returned is not None:
                    out[unit.name] = Value(HELPER, items=(returned,))
        return out

    def _run_unit(self, unit: _Unit) -> None:
        last = self.last.get(unit.uid)
        if last is not None:
            tick, reads, values = last
            changed = self.changed
            if all(changed.get(key, -1) < tick for key in reads):
                self.values.update(values)  # the same inputs: the same results as last time
                return
        self.now = self.ticks
        self.ticks += 1
        self.reads = set()
        self.keep = []
        self.unit = unit
        self.f = FunctionResults(unit.node, unit.name)
        self.env = {}
        self.memo = {}
        self.tested = set()
        self.markers = {}
        if unit.kind == "function":
            self._bind_params(unit)
        handlers = self.handlers
        for self.index, (tag, node, tries) in enumerate(unit.events):
            handler = handlers.get(tag)
            if handler is None:
                handler = handlers[tag] = getattr(self, f"_on_{tag}")
            handler(node, tries)
        if unit.kind == "class" and unit.cls is not None:
            for name, value in self.env.items():
                exported = self._export(value)
                if exported is not None:
                    self._set_attr(unit.cls, name, exported)
        self.f.values = dict(self.env)
        self._set_env(unit.uid, self.env)
        self.results[unit.uid] = self.f
        values = {k: v for k, v in self.memo.items() if v is not None}
        self.values.update(values)
        if unit.kind == "function":
            self._summarise(unit)
        self.last[unit.uid] = (self.now, self.reads, values)
        self.keep = []

    # -- shared state: reads recorded, changes stamped ------------------------------------------
    def _set_env(self, uid: int, env: dict[str, Value | None]) -> None:
        old = self.envs.get(uid)
        self.envs[uid] = env
        for name in env.keys() | (old.keys() if old is not None else ()):
            if old is None or old.get(name, _ABSENT) != env.get(name, _ABSENT):
                self.changed[("n", uid, name)] = self.now

    def _set_attr(self, cls: ClassRecord, name: str, value: Value) -> None:
        attrs = self.class_attrs.setdefault(cls, {})
        if name not in attrs:  # the first value stays
            attrs[name] = value
            self.changed[("a", id(cls), name)] = self.now

    def _attr(self, cls: ClassRecord, name: str) -> Value | None:
        self.reads.add(("a", id(cls), name))
        attrs = self.class_attrs.get(cls)
        return attrs.get(name) if attrs is not None else None

    def _method_unit(self, cls: ClassRecord, name: str) -> _Unit | None:
        """The unit of the def a class binds to `name` (the last def, as Python binds)."""
        record = cls.methods.get(name)
        return self.unit_of.get(id(record.node)) if record is not None else None

    def _summary(self, uid: int) -> Value | None:
        self.reads.add(("s", uid))
        return self.summaries.get(uid)

    def _param(self, tag: tuple) -> _ParamHandling:
        return self.param_handling.setdefault(tag, _ParamHandling())

    def _note_param(self, tag: tuple, statuses: frozenset | set = frozenset(),
                    everything: bool = False, forward: tuple | None = None) -> None:
        """What a function does with a parameter: statuses told apart, handed on, forwarded."""
        handling = self._param(tag)
        changed = False
        if not statuses <= handling.statuses:
            handling.statuses |= statuses
            changed = True
        if everything and not handling.everything:
            handling.everything = True
            changed = True
        if forward is not None and forward not in handling.forwards:
            handling.forwards.add(forward)
            changed = True
        if changed:
            self.changed[("p", tag)] = self.now

    def _bind_params(self, unit: _Unit) -> None:
        if unit.first:
            kind = INSTANCE if unit.first == "self" else CLASS
            self.env[unit.self_name] = Value(kind, ref=unit.cls)
        for index, (name, annotation) in enumerate(unit.params):
            if annotation is not None and self._is_client_type(annotation):
                self.env[name] = Value(CLIENT)
                continue
            tag = (unit.uid, index, "")
            self.reads.add(("b", unit.uid, index))
            bound = self.bound.get((unit.uid, index)) or self._dependency(unit, name)
            self.env[name] = Value(PARAM, param=tag) if bound is None else replace(bound, param=tag)

    def _dependency(self, unit: _Unit, name: str) -> Value | None:
        """FastAPI's `param = Depends(f)` (or `Annotated[…, Depends(f)]`): what `f` returns."""
        node = unit.node
        if type(node) is not cst.FunctionDef:
            return None
        param = next((p for p in [*node.params.params, *node.params.kwonly_params]
                      if p.name.value == name), None)
        if param is None:
            return None
        candidates: list[cst.BaseExpression] = [param.default] if param.default else []
        annotation = param.annotation.annotation if param.annotation else None
        if type(annotation) is cst.Subscript:
            candidates += [e.slice.value for e in annotation.slice[1:]
                           if type(e.slice) is cst.Index]
        for candidate in candidates:
            if type(candidate) is cst.Call and dotted_name(candidate.func).rsplit(
                    ".", 1)[-1] == "Depends" and candidate.args and \
                    candidate.args[0].keyword is None:
                call = cst.Call(func=candidate.args[0].value, args=[])
                self.keep.append(call)
                found = self.ev(call)
                if found is not None and (found.is_validation or found.kind == CLIENT):
                    return found
        return None

    def _summarise(self, unit: _Unit) -> None:
        joined: Value | None = None
        for _, value in self.f.returns:
            if value is None or value.kind == NONE:
                continue
            joined = value if joined is None else _join(joined, value)
            if joined is None:
                break
        if joined is None and unit.returns_annotation is not None \
                and self._is_client_type(unit.returns_annotation):
            joined = Value(CLIENT)
        if self.summaries.get(unit.uid) != joined:
            self.changed[("s", unit.uid)] = self.now
        self.summaries[unit.uid] = joined
        escapes: list[Value] = []
        for call, guard in self.f.keyport_calls:
            marker = self.markers.get(id(call))
            if guard is None and marker is not None and marker not in escapes:
                escapes.append(marker)
        kept = tuple(escapes[:MAX_ESCAPES])
        if self.escapes.get(unit.uid, ()) != kept:
            self.changed[("e", unit.uid)] = self.now
        self.escapes[unit.uid] = kept

    # -- names and exported values ----------------------------------------------------------------

    def _lookup(self, name: str) -> Value | None:
        if name in self.env:
            return self.env[name]
        unit = self.unit.parent
        while unit is not None:
            if unit.kind != "class":
                self.reads.add(("n", unit.uid, name))
                env = self.envs.get(unit.uid, {})
                if name in env:
                    return self._export(env[name])
            unit = unit.parent
        if name in ("True", "False"):
            return Value(BOOL)
        if name == "None":
            return Value(NONE)
        origin = self.facts.imports.get(name)
        return self._imported(origin) if origin is not None else None

    def _imported(self, origin: str) -> Value | None:
        """What an imported name of another project module holds (a client, a result, a
        helper or factory returning one), through the project index."""
        if origin not in self.imported:
            self.imported[origin] = None  # cycle guard
            project, path = self.ctx.project, self.ctx.path
            if project is not None and path is not None:
                from keyport_lint.analysis.results.analysis import results_exports

                self.imported[origin] = project.lookup(path, origin, results_exports)
        return self.imported[origin]

    def _export(self, value: Value | None) -> Value | None:
        """A value leaving its function: parameters mean nothing elsewhere."""
        if value is None or value.kind == PARAM:
            return None
        url = tuple(None if isinstance(s, tuple) else s for s in value.url)
        items = tuple(self._export(i) for i in value.items)
        if url == value.url and items == value.items and value.param is None:
            return value
        return self._http(replace(value, url=url, items=items, param=None))

    def _http(self, value: Value) -> Value:
        """Recompute what a URL reaches after its segments changed."""
        if value.kind not in (STR, REQUEST) and value.origin != "http":
            return value
        text = segments_text(value.url)
        endpoint = ""
        if any(p in text for p in self.validate_paths):
            endpoint = "validate"
        elif any(p in text for p in self.api_marks):
            endpoint = "api"
        conditional = any(isinstance(s, tuple) for s in value.url)
        if endpoint == value.endpoint and conditional == value.conditional:
            return value  # every caller hands over a value of its own: no copy needed
        return replace(value, endpoint=endpoint, conditional=conditional)

    def _is_client_type(self, annotation: cst.BaseExpression) -> bool:
        if type(annotation) is cst.BinaryOperation:
            return self._is_client_type(annotation.left) or self._is_client_type(annotation.right)
        if type(annotation) is cst.Subscript:  # Optional[KeyPort]
            return any(type(e.slice) is cst.Index and self._is_client_type(e.slice.value)
                       for e in annotation.slice)
        if type(annotation) is cst.SimpleString:
            text = _string_of(annotation) or ""
            return text.rsplit(".", 1)[-1] in {c.rsplit(".", 1)[-1] for c in self.sdk_clients}
        return self.facts.resolve(annotation) in self.sdk_clients

    if TYPE_CHECKING:  # implemented by the mixins below
        def _arguments(self, callee: _Unit, node: cst.Call) -> dict[int, tuple]: ...
        def _bind(self, target: cst.BaseExpression, value: Value | None) -> None: ...
        def _export(self, value: Value | None) -> Value | None: ...
        def _field(self, base: Value, key: str | None) -> Value | None: ...
        def _hand_on(self, value: Value | None, returned: bool = False) -> None: ...
        def _http(self, value: Value) -> Value: ...
        def _is_client_type(self, annotation: cst.BaseExpression) -> bool: ...
        def _lookup(self, name: str) -> Value | None: ...
        def _member(self, cls: ClassRecord, attr: str, depth: int = 0) -> Value | None: ...
        def _record_statuses(self, node: cst.CSTNode, status: Value, strings: frozenset,
                             unknown: bool, exact: bool = True) -> None: ...
        def _substitute(self, value: Value | None, uid: int, args: dict,
                        site: cst.CSTNode) -> Value | None: ...
        def _truth(self, expr: cst.BaseExpression) -> None: ...
        def ev(self, node: cst.CSTNode | None) -> Value | None: ...

