"""Taint analysis: where the KeyPort key (or the webhook secret) flows, for KP201/KP202 and KP501.

Why this shape:

- **Sources, propagation and sanitisers are data** (`TaintConfig`, built from YAML by the rule
  kind), so a team adds `redact_secret` as a sanitiser without touching Python.
- **One pass over the module, in execution order.** Statements are walked as Python runs them
  (branches joined, loops once), expressions bottom-up; a visitor's fixed child order does not
  fit comprehensions, branch joins or `x = f(x)`. The pass keeps taint *symbolic* where it
  depends on other code: a function's return value, a parameter (from its callers), a module
  global, a class attribute (`self.<attr>` across methods), a call site, an imported name.
- **A small solver** then resolves the symbols (a fixpoint over the symbol table, never a
  second walk of the tree). Return values are resolved per call site (a helper that formats its
  argument taints only the calls that pass the key).
- **Sinks are matched afterwards** against the recorded call sites, raises, returns and stores,
  so log sinks (KP201/KP202) and response sinks (KP501) share one computation per configuration:
  `taint_analysis(ctx, config).flows(SinkSpec(...))`.
- **Across modules** an imported name is resolved through the project index with a per-module
  summary (`summarize` below, passed to `ProjectIndex.lookup`), only when a value actually
  reaches a sink; a one-file run reads only the modules it imports.

A value is described by labels: a source plus a *path*, the keys under which the secret sits
inside a container (`{"Authorization": "Bearer " + key}` has path `("Authorization",)`), so
`headers["Content-Type"]` is clean while `headers` and `headers["Authorization"]` are not.
Attribute fields (paths starting with ".") describe objects (a settings instance); printing the
object itself is not counted (default reprs do not show attributes), reading the field is.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Union

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name, evaluated, module_facts
from keyport_lint.analysis.placeholders import is_placeholder
from keyport_lint.context import PythonContext
from keyport_lint.kinds.base import literal_trigger
from keyport_lint.redact import redact_text

# Bounds: odd or generated code must never make the analysis slow or crash it.
MAX_ATOMS = 48  # atoms kept per value
MAX_OPS = 6  # pending container operations per atom
MAX_PATH = 4  # container nesting tracked
MAX_ROUNDS = 8  # solver iterations
MAX_EVAL_DEPTH = 80  # expression nesting evaluated
MAX_BLOCK_DEPTH = 60  # statement nesting walked
MAX_CALL_DEPTH = 3  # call-site-sensitive return resolution
MAX_IMPORT_DEPTH = 4  # modules summarised transitively for one question
EXPAND_BUDGET = 200_000  # label expansions per module

PUT, GET, RESET = "put", "get", "reset"
Key = Union[str, int, None]
Op = tuple  # (PUT, key) | (GET, key) | (RESET, None)


# -- configuration ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Family:
    """One kind of secret: the names, generic names and literal shapes that hold it."""

    name: str
    names: tuple[str, ...] = ()  # KeyPort-specific names: sources anywhere
    generic_names: tuple[str, ...] = ()  # generic names: sources only in KeyPort-related code
    literals: tuple[str, ...] = ()  # literal shapes (kp_live_…): a matching literal is a source
    config_fields: tuple[str, ...] = ()  # fields of a KeyPort config file (keyport.json) holding it
    calls: tuple[str, ...] = ()  # callees (fnmatch, resolved through imports) that return it


@dataclass(frozen=True)
class TaintConfig:
    """Everything that shapes the analysis (hashable: equal configs share one computation)."""

    families: tuple[Family, ...]
    env_reads: tuple[str, ...] = ()  # callees whose first argument names an env var / setting
    propagators: tuple[str, ...] = ()  # callees (`.method` for methods) passing taint through
    sanitizers: tuple[str, ...] = ()  # callees (`.method` for methods) whose result is clean
    sanitizer_names: tuple[str, ...] = ()  # regexes searched in a callee's last name segment
    config_files: tuple[str, ...] = ()  # regexes of KeyPort config file names (keyport.json)
    config_loaders: tuple[str, ...] = ()  # callees that parse such a file
    prefix_max: int = 12  # a slice with an upper bound at or under this is a loggable prefix
    placeholder_words: tuple[str, ...] = ()
    min_entropy: float = 3.0


@dataclass(frozen=True)
class SinkSpec:
    """Where a tainted value must not go. Patterns:

    - a dotted callee, fnmatch-style, resolved through imports and local aliases
      (`print`, `logging.info`, `warnings.warn`, `flask.jsonify`, `audit.record`);
    - `logger.<method>`: a method of anything logger-like (a receiver named like a logger, or
      bound from a logger factory: `logging.getLogger()`, `structlog.get_logger()`, loguru);
    - `.<method>`: that method on any receiver (`.set_cookie`);
    - `raise`: the message of a raised exception (and of an `assert`);
    - `return`: a returned value (KP501 narrows it to web handlers);
    - `store:<pattern>`: an assignment to an attribute or item (`store:*.headers[]`).
    """

    patterns: tuple[str, ...]
    logger_names: tuple[str, ...] = ()
    logger_factories: tuple[str, ...] = ()

    @property
    def _compiled(self) -> _CompiledSinks:
        return _compile_sinks(self)


# -- values ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where a secret enters: an env read, a name, a literal, a config file field.

    `node` is set for sources in the analysed module (the line is resolved only if reported);
    sources from other modules carry their `module` and `line` instead.
    """

    family: str
    desc: str  # what to call it in a message: KEYPORT_API_KEY, self.api_key, a redacted literal
    kind: str  # env | name | literal | config | param (a parameter marker in summaries)
    node: cst.CSTNode | None = field(default=None, repr=False)
    module: str = ""
    line: int = 0

    @property
    def rank(self) -> int:
        """Which source a message names when several reach a sink: the most specific one."""
        return 1 if self.kind == "name" else 0


@dataclass(frozen=True)
class Sym:
    """A value known only after the pass: resolved by the solver."""

    kind: str  # global | attr | ret | param | inst | call | import | icall
    key: tuple


@dataclass(frozen=True)
class Atom:
    """A symbolic piece of taint: a base with pending container operations."""

    base: Source | Sym
    ops: tuple = ()
    via: str = ""  # the last variable that held exactly the secret (for the fix message)


@dataclass(frozen=True)
class Label:
    """A resolved piece of taint: the secret `source`, under `path` inside the value."""

    source: Source
    path: tuple = ()
    via: str = ""

    @property
    def leaks(self) -> bool:
        """Does writing out the whole value show the secret?"""
        return not self.path or not _is_attr_key(self.path[0])


Taint = frozenset  # frozenset[Atom]
EMPTY: frozenset = frozenset()


def _is_attr_key(key: Key) -> bool:
    return isinstance(key, str) and key.startswith(".")


def _cap(atoms: Iterable[Atom]) -> frozenset:
    result = frozenset(atoms)
    if len(result) > MAX_ATOMS:  # deterministic subset: hash order varies between runs
        result = frozenset(sorted(result, key=repr)[:MAX_ATOMS])
    return result


def _with_op(atom: Atom, op: Op) -> Atom | None:
    """Apply a container operation symbolically; None when it provably drops the secret."""
    ops = atom.ops
    if ops and op[0] == GET and ops[-1][0] == PUT:
        put_key, get_key = ops[-1][1], op[1]
        if isinstance(get_key, int):
            return atom
        if put_key is None or get_key is None or put_key == get_key:
            return Atom(atom.base, ops[:-1], atom.via)
        return None
    if op[0] == RESET and ops and ops[-1][0] == RESET:
        return atom
    if len(ops) >= MAX_OPS:
        return atom
    return Atom(atom.base, (*ops, op), atom.via)


def _map_op(atoms: frozenset, op: Op) -> frozenset:
    return _cap(a for a in (_with_op(x, op) for x in atoms) if a is not None)


def _apply_path(path: tuple, ops: tuple) -> tuple | None:
    for kind, key in ops:
        if kind == PUT:
            path = ((key, *path))[:MAX_PATH]
        elif kind == GET:
            if not path or isinstance(key, int):
                continue
            head = path[0]
            if head is None or key is None or head == key:
                path = path[1:]
            else:
                return None
        elif kind == RESET:
            if path and _is_attr_key(path[0]):
                return None
            path = ()
    return path


def _with_via(atoms: frozenset, name: str) -> frozenset:
    """The value now sits in `name` (only for atoms that are the secret itself)."""
    return _cap(Atom(a.base, a.ops, name) if not any(o[0] == PUT for o in a.ops) else a
                for a in atoms)


# -- results --------------------------------------------------------------------------------------

@dataclass(eq=False)
class Site:
    """A place where a value leaves: a call, a raise, a return, a store."""

    kind: str  # call | raise | return | store
    # what a finding points at: the call, the raise, the return, the assignment target
    node: cst.CSTNode = field(repr=False)
    display: str  # `logger.debug`, `raise ValueError`, `return`, `resp.headers[]`
    callee: str = ""  # resolved dotted callee (calls) or target (stores)
    method: str = ""
    args: list[tuple[cst.CSTNode, frozenset]] = field(default_factory=list, repr=False)
    function: cst.CSTNode | None = field(default=None, repr=False)  # enclosing FunctionDef


@dataclass(frozen=True)
class Flow:
    """A secret reaching a sink."""

    node: cst.CSTNode = field(repr=False)
    sink: str
    kind: str
    label: Label
    arg: cst.CSTNode = field(repr=False)

    @property
    def source(self) -> Source:
        return self.label.source


@dataclass(frozen=True)
class Exported:
    """What an importing module sees of one name: its value, and the value of calling it."""

    value: frozenset = frozenset()  # frozenset[Label]
    call: frozenset = frozenset()  # labels of the call result that do not depend on arguments
    params: tuple[str, ...] = ()
    passthrough: tuple[tuple[str, tuple], ...] = ()  # (parameter, path) reaching the result


class _CompiledSinks:
    def __init__(self, spec: SinkSpec) -> None:
        calls, methods, stores = [], [], []
        self.raises = self.returns = False
        for pattern in spec.patterns:
            if pattern == "raise":
                self.raises = True
            elif pattern == "return":
                self.returns = True
            elif pattern.startswith("store:"):
                stores.append(pattern[len("store:"):])
            elif pattern.startswith("."):
                methods.append(pattern[1:])
            else:
                calls.append(pattern)
        self.calls = _fn(calls)
        self.methods = _fn(methods)
        self.stores = _fn(stores)
        self.logger_names = re.compile(
            "|".join(f"(?:{p})" for p in spec.logger_names) or r"(?!x)x", re.IGNORECASE)
        self.factories = _fn(spec.logger_factories)

    def is_logger(self, receiver: str) -> bool:
        if not receiver:
            return False
        last = receiver.rsplit(".", 1)[-1].rstrip("()")
        return bool(self.logger_names.fullmatch(last) or self.factories.match(receiver))

    def matches_call(self, site: Site) -> bool:
        if site.method and self.methods.match(site.method):
            return True
        if site.callee and self.calls.match(site.callee):
            return True
        if site.method and site.callee:
            receiver = site.callee[: -len(site.method) - 1]
            if self.is_logger(receiver) and self.calls.match(f"logger.{site.method}"):
                return True
        return False


@lru_cache(maxsize=64)
def _compile_sinks(spec: SinkSpec) -> _CompiledSinks:
    return _CompiledSinks(spec)


@lru_cache(maxsize=256)
def _fn_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!x)x")
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _fn(patterns: Iterable[str]) -> re.Pattern[str]:
    return _fn_regex(tuple(patterns))


class TaintResult:
    """The analysis of one module: query flows into sinks, or the taint of returns."""

    def __init__(self, module: _Module) -> None:
        self._m = module

    @property
    def sites(self) -> list[Site]:
        return self._m.sites

    def labels(self, atoms: frozenset) -> frozenset:
        """Resolve symbolic taint (as recorded in a Site) to labels."""
        return self._m.resolve(atoms)

    def flows(self, sinks: SinkSpec, functions: set[int] | None = None) -> list[Flow]:
        """One flow per sink node and family: the most specific source reaching it.

        `functions` (ids of FunctionDef nodes) limits `return` sinks to those functions.
        """
        spec = sinks._compiled
        best: dict[tuple[int, str], Flow] = {}
        for site in self._m.sites:
            if not self._is_sink(site, spec, functions):
                continue
            for arg, atoms in site.args:
                for label in self._m.resolve(atoms):
                    if not label.leaks:
                        continue
                    flow = Flow(site.node, site.display, site.kind, label, arg)
                    key = (id(site.node), label.source.family)
                    if key not in best or _flow_order(flow) < _flow_order(best[key]):
                        best[key] = flow
        return sorted(best.values(), key=_flow_order)

    def exports(self) -> dict[str, Exported]:
        return self._m.exports()

    @staticmethod
    def _is_sink(site: Site, spec: _CompiledSinks, functions: set[int] | None) -> bool:
        if site.kind == "call":
            return spec.matches_call(site)
        if site.kind == "raise":
            return spec.raises
        if site.kind == "return":
            return spec.returns and (functions is None or (
                site.function is not None and id(site.function) in functions))
        if site.kind == "store":
            return bool(spec.stores.match(site.callee))
        return False


def _flow_order(flow: Flow) -> tuple:
    src = flow.label.source
    return (src.rank, bool(src.module), src.kind, src.desc, src.line, flow.sink, flow.label.via)


# -- the pass -------------------------------------------------------------------------------------

@dataclass(eq=False)
class _Func:
    qual: str
    node: cst.FunctionDef
    params: list[str]  # positional order, the bound `self` excluded
    cls: str = ""
    self_name: str = ""


@dataclass(eq=False)
class _Class:
    qual: str
    node: cst.ClassDef
    methods: dict[str, str] = field(default_factory=dict)  # name -> function qual


@dataclass(eq=False)
class _CallInfo:
    kind: str  # local | import
    target: str  # function qual, or import origin
    members: tuple[str, ...] = ()
    positional: list[frozenset] = field(default_factory=list)
    keywords: dict[str, frozenset] = field(default_factory=dict)
    mapped: dict[str, frozenset] = field(default_factory=dict)  # local: parameter -> taint


class _Scope:
    __slots__ = ("aliases", "cls", "consts", "dotted", "env", "func", "funcs", "globals",
                 "handles", "kind", "parent", "qual", "self_name")

    def __init__(self, kind: str, qual: str = "", parent: _Scope | None = None,
                 cls: str = "", self_name: str = "", func: cst.FunctionDef | None = None
                 ) -> None:
        self.kind = kind  # module | class | function
        self.qual = qual
        self.parent = parent  # enclosing function scope (closures), None at module level
        self.cls = cls
        self.self_name = self_name
        self.func = func
        self.env: dict[str, frozenset] = {}
        # dotted env keys (`a.b`) by their head (`a`): binding `a` drops them without scanning
        # every name (a superset: branches restore envs, never the index)
        self.dotted: dict[str, set[str]] = {}
        self.aliases: dict[str, str] = {}
        self.consts: dict[str, Any] = {}
        self.globals: set[str] = set()
        self.handles: set[str] = set()  # names bound to an open KeyPort config file
        self.funcs: dict[str, str] = {}  # nested function name -> qual


class _Module:
    """The pass over one module and the solver of its symbols."""

    def __init__(self, ctx: PythonContext, config: TaintConfig, analyzer: _Analyzer) -> None:
        from keyport_lint.analysis.context import is_keyport_related

        self.ctx = ctx
        self.cfg = config
        self.analyzer = analyzer
        self.facts: ModuleFacts = ctx.analysis(module_facts)
        self.related = bool(ctx.analysis(is_keyport_related))
        self.prefix_max = config.prefix_max
        names = [(f, ctx.settings.names_regex(list(f.names)),
                  ctx.settings.names_regex(list(f.generic_names)) if self.related
                  else ctx.settings.names_regex([]),
                  [re.compile(p) for p in f.literals]) for f in config.families]
        self.families = names
        self.source_calls = [(f, _fn(f.calls)) for f in config.families if f.calls]
        self.env_reads = _fn(config.env_reads)
        self.props_dotted = _fn(p for p in config.propagators if not p.startswith("."))
        self.props_methods = {p[1:] for p in config.propagators if p.startswith(".")}
        self.san_dotted = _fn(p for p in config.sanitizers if not p.startswith("."))
        self.san_methods = _fn(p[1:] for p in config.sanitizers if p.startswith("."))
        self.san_names = re.compile(
            "|".join(f"(?:{p})" for p in config.sanitizer_names) or r"(?!x)x", re.IGNORECASE)
        self.config_files = re.compile(
            "|".join(f"(?:{p})" for p in config.config_files) or r"(?!x)x", re.IGNORECASE)
        self.config_loaders = _fn(config.config_loaders)
        self.markers = ctx.settings.context_markers
        # what the pass records
        self.globals_def: dict[str, set] = {}
        self.attr_def: dict[tuple[str, str], set] = {}
        self.ret_def: dict[str, set] = {}
        self.param_def: dict[tuple[str, str], set] = {}
        self.fallback: dict[Sym, frozenset] = {}
        self.calls: dict[int, _CallInfo] = {}
        self.sites: list[Site] = []
        self.funcs: dict[str, _Func] = {}
        self.classes: dict[str, _Class] = {}
        self.class_aliases: dict[str, dict[str, str]] = {}
        self.top_names: set[str] = set()
        self.top_funcs: dict[str, str] = {}
        self.top_classes: dict[str, str] = {}
        self._depth = 0
        self._block_depth = 0
        self._values: dict[Sym, frozenset] = {}
        self._solved = False
        self._budget = EXPAND_BUDGET
        self._imports: dict[tuple, Any] = {}

    # -- entry ---------------------------------------------------------------------------------
    def run(self) -> None:
        self._prescan(self.ctx.module.body)
        scope = _Scope("module")
        self.module_scope = scope
        self._block(self.ctx.module.body, scope)

    def _prescan(self, body: Iterable[cst.CSTNode]) -> None:
        """Module-level names, functions and classes, known before any function body is walked
        (a function may read a global assigned further down)."""
        stack: list[Iterable[cst.CSTNode]] = [body]
        while stack:  # an explicit stack: `elif` chains nest deeply
            self._prescan_block(stack.pop(), stack)

    def _prescan_block(self, body: Iterable[cst.CSTNode], stack: list) -> None:
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                self.top_funcs[stmt.name.value] = stmt.name.value
            elif isinstance(stmt, cst.ClassDef):
                self.top_classes[stmt.name.value] = stmt.name.value
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    for target in _assign_targets(small):
                        self.top_names.update(_bound_names(target))
            elif isinstance(stmt, (cst.If, cst.Try, cst.TryStar, cst.With, cst.For, cst.While)):
                if isinstance(stmt, cst.For):
                    self.top_names.update(_bound_names(stmt.target))
                if isinstance(stmt, cst.With):
                    for item in stmt.items:
                        if item.asname is not None:
                            self.top_names.update(_bound_names(item.asname.name))
                stack.extend(_blocks(stmt))

    # -- statements ----------------------------------------------------------------------------
    def _block(self, body: Iterable[cst.CSTNode], scope: _Scope) -> None:
        if self._block_depth > MAX_BLOCK_DEPTH:
            return
        self._block_depth += 1
        try:
            for stmt in body:
                self._stmt(stmt, scope)
        finally:
            self._block_depth -= 1

    def _suite(self, suite: cst.BaseSuite | None, scope: _Scope) -> None:
        if suite is not None:
            self._block(suite.body, scope)

    def _stmt(self, stmt: cst.CSTNode, scope: _Scope) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, scope)
        elif isinstance(stmt, cst.If):
            branches: list[dict[str, frozenset]] = []
            node: cst.CSTNode | None = stmt
            while isinstance(node, cst.If):  # `elif` chains iteratively: they can be long
                self.eval(node.test, scope)
                before = dict(scope.env)
                self._suite(node.body, scope)
                branches.append(scope.env)
                scope.env = before
                node = node.orelse
            if node is not None:
                self._suite(node.body, scope)  # type: ignore[attr-defined]
            for env in branches:
                scope.env = _join(env, scope.env)
        elif isinstance(stmt, cst.For):
            items = _map_op(self.eval(stmt.iter, scope), (GET, None))
            before = dict(scope.env)
            self._assign(stmt.target, items, stmt.iter, scope, exact=False)
            self._suite(stmt.body, scope)
            scope.env = _join(before, scope.env)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
        elif isinstance(stmt, cst.While):
            self.eval(stmt.test, scope)
            before = dict(scope.env)
            self._suite(stmt.body, scope)
            scope.env = _join(before, scope.env)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            before = dict(scope.env)
            self._suite(stmt.body, scope)
            after_body = _join(before, scope.env)
            results = []
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
            results.append(scope.env)
            for handler in stmt.handlers:
                scope.env = dict(after_body)
                if handler.type is not None:
                    self.eval(handler.type, scope)
                if handler.name is not None:
                    for name in _bound_names(handler.name.name):
                        scope.env[name] = EMPTY
                self._suite(handler.body, scope)
                results.append(scope.env)
            env = results[0]
            for other in results[1:]:
                env = _join(env, other)
            scope.env = env
            if stmt.finalbody is not None:
                self._suite(stmt.finalbody.body, scope)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, scope)
                if item.asname is not None:
                    self._assign(item.asname.name, value, item.item, scope, exact=False)
            self._suite(stmt.body, scope)
        elif isinstance(stmt, cst.FunctionDef):
            self._function(stmt, scope)
        elif isinstance(stmt, cst.ClassDef):
            self._class(stmt, scope)
        elif isinstance(stmt, cst.Match):
            self.eval(stmt.subject, scope)
            before = dict(scope.env)
            env = dict(before)
            for case in stmt.cases:
                scope.env = dict(before)
                if case.guard is not None:
                    self.eval(case.guard, scope)
                self._suite(case.body, scope)
                env = _join(env, scope.env)
            scope.env = env
        else:  # anything newer: walk its blocks so that sinks inside are still seen
            for block in _blocks(stmt):
                self._block(block, scope)

    def _small(self, small: cst.CSTNode, scope: _Scope) -> None:
        if isinstance(small, cst.Expr):
            self.eval(small.value, scope)
        elif isinstance(small, cst.Assign):
            self._assign_stmt(small, scope)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                value = self.eval(small.value, scope)
                self._assign(small.target, value, small.value, scope,
                             exact=_is_exact(small.value))
            elif scope.kind == "class" and isinstance(small.target, cst.Name):
                name = small.target.value
                sources = self._name_sources(name, small.target, name)
                if sources:
                    self.attr_def.setdefault((scope.cls, name), set()).update(sources)
        elif isinstance(small, cst.AugAssign):
            current = self.eval(small.target, scope)
            value = _map_op(self.eval(small.value, scope), (RESET, None))
            self._assign(small.target, _cap(current | value), small.value, scope, exact=False,
                         augmented=True)
        elif isinstance(small, cst.Return):
            value = self.eval(small.value, scope) if small.value is not None else EMPTY
            if scope.kind == "function":
                self.ret_def.setdefault(scope.qual, set()).update(value)
                if value:
                    self.sites.append(Site("return", small, "return", args=[
                        (small.value, value)], function=scope.func))
        elif isinstance(small, cst.Raise):
            if small.exc is not None:
                value = self.eval(small.exc, scope)
                if small.cause is not None:
                    self.eval(small.cause, scope)
                if value:
                    exc = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
                    display = f"raise {dotted_name(exc)}".rstrip()
                    self.sites.append(Site("raise", small, display, args=[(small.exc, value)],
                                           function=scope.func))
        elif isinstance(small, cst.Assert):
            self.eval(small.test, scope)
            if small.msg is not None:
                value = self.eval(small.msg, scope)
                if value:
                    self.sites.append(Site("raise", small, "assert", args=[(small.msg, value)],
                                           function=scope.func))
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            for item in small.names:
                if isinstance(small, cst.Global):
                    scope.globals.add(item.name.value)
        elif isinstance(small, cst.Del):
            for name in _bound_names(small.target):
                scope.env.pop(name, None)

    def _assign_stmt(self, node: cst.Assign, scope: _Scope) -> None:
        targets = [t.target for t in node.targets]
        value_node = node.value
        # `a, b = key, other`: pairwise, so that `b` stays clean
        if (len(targets) == 1 and isinstance(targets[0], (cst.Tuple, cst.List))
                and isinstance(value_node, (cst.Tuple, cst.List))
                and len(targets[0].elements) == len(value_node.elements)
                and not any(isinstance(e, cst.StarredElement)
                            for e in (*targets[0].elements, *value_node.elements))):
            for target, element in zip(targets[0].elements, value_node.elements):
                value = self.eval(element.value, scope)
                self._assign(target.value, value, element.value, scope,
                             exact=_is_exact(element.value))
            return
        value = self.eval(value_node, scope)
        for target in targets:
            self._assign(target, value, value_node, scope, exact=_is_exact(value_node))

    def _assign(self, target: cst.BaseExpression, value: frozenset, value_node: cst.CSTNode,
                scope: _Scope, *, exact: bool, augmented: bool = False) -> None:
        if isinstance(target, cst.Name):
            name = target.value
            if not augmented and self._opaque(value_node, scope):
                value = _cap(value | self._name_sources(name, target, name))
            if exact:
                value = _with_via(value, name)
            self._bind(scope, name, value, value_node)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._assign(element.value, value, value_node, scope, exact=False)
        elif isinstance(target, cst.StarredElement):
            self._assign(target.value, value, value_node, scope, exact=False)
        elif isinstance(target, cst.Attribute):
            dotted = dotted_name(target)
            head = dotted.split(".", 1)[0] if dotted else ""
            if not augmented and self._opaque(value_node, scope):
                foreign = bool(head) and self._is_import(head, scope) and self._foreign(head)
                value = _cap(value | self._name_sources(target.attr.value, target,
                                                        dotted or target.attr.value,
                                                        foreign=foreign))
            if dotted:
                if exact:
                    value = _with_via(value, dotted)
                self._store(scope, dotted, value, target, value_node)
            else:
                self.eval(target.value, scope)
        elif isinstance(target, cst.Subscript):
            base = dotted_name(target.value)
            key = self._index_key(target, scope)
            if value:
                value = _map_op(value, (PUT, key))
            if base:
                self._store(scope, base, value, target, value_node, weak=True, item=True,
                            container=target.value)
            else:
                self.eval(target.value, scope)
            for element in target.slice:
                if isinstance(element.slice, cst.Index):
                    self.eval(element.slice.value, scope)

    def _bind(self, scope: _Scope, name: str, value: frozenset,
              value_node: cst.CSTNode | None) -> None:
        scope.env[name] = value
        for key in scope.dotted.get(name, ()):
            scope.env.pop(key, None)
        if scope.kind == "module" or name in scope.globals:
            self.globals_def.setdefault(name, set()).update(value)
        elif scope.kind == "class":
            self.attr_def.setdefault((scope.cls, name), set()).update(value)
        # aliases (logger objects, consoles) and constants (env var names, prefix lengths)
        if isinstance(value_node, cst.Call):
            callee = self._callee(value_node.func, scope)
            if callee:
                scope.aliases[name] = callee + "()"
            if self.config_loaders.match(callee or "-") is None and (
                    self._mentions_config_file(value_node, scope)):
                scope.handles.add(name)
        elif isinstance(value_node, (cst.Name, cst.Attribute)):
            callee = self._callee(value_node, scope)
            if callee and callee != name:
                scope.aliases[name] = callee
        else:
            scope.aliases.pop(name, None)
        const = constant_value(value_node) if value_node is not None else None
        if const is not None:
            scope.consts[name] = const
        else:
            scope.consts.pop(name, None)

    def _store(self, scope: _Scope, dotted: str, value: frozenset, target: cst.CSTNode,
               value_node: cst.CSTNode | None, *, weak: bool = False, item: bool = False,
               container: cst.CSTNode | None = None) -> None:
        """`a.b = v`, `a.b[k] = v`, `a.append(v)`: the dotted local, and what it means for a
        module global or a `self` attribute (recorded as puts, so other functions read the
        value back: `self.session.headers` in another method, `settings.api_key` elsewhere)."""
        parts = dotted.split(".")
        head, rest = parts[0], parts[1:]
        is_global = (scope.kind == "module" or head in scope.globals
                     or (head not in scope.env and head in self.top_names)
                     or (scope.kind != "function" and head in scope.env))
        scope.dotted.setdefault(head, set()).add(dotted)
        if weak:
            current = self.eval(container, scope) if container is not None else EMPTY
            scope.env[dotted] = _cap(current | value)
        else:
            scope.env[dotted] = value
        if value:
            suffix = "[]" if item else ""
            resolved = self._callee_from_dotted(dotted, scope) or dotted
            self.sites.append(Site("store", target, dotted + suffix, callee=resolved + suffix,
                                   args=[(value_node or target, value)], function=scope.func))
        if self._is_self(head, scope) and rest:
            puts = value
            for attr in reversed(rest[1:]):
                puts = _map_op(puts, (PUT, "." + attr))
            self.attr_def.setdefault((scope.cls, rest[0]), set()).update(puts)
            if len(rest) == 1 and isinstance(value_node, (cst.Call, cst.Name, cst.Attribute)):
                call = isinstance(value_node, cst.Call)
                callee = self._callee(value_node.func if call else value_node, scope)
                if callee:
                    aliases = self.class_aliases.setdefault(scope.cls, {})
                    aliases["self." + rest[0]] = callee + ("()" if call else "")
            return
        if value and (rest or item) and is_global and not self._is_import(head, scope):
            puts = value
            for attr in reversed(rest):
                puts = _map_op(puts, (PUT, "." + attr))
            self.globals_def.setdefault(head, set()).update(puts)

    def _is_self(self, name: str, scope: _Scope) -> bool:
        return bool(scope.self_name) and name == scope.self_name and bool(scope.cls)

    def _function(self, node: cst.FunctionDef, scope: _Scope) -> None:
        for decorator in node.decorators:
            self.eval(decorator.decorator, scope)
        name = node.name.value
        if scope.kind == "class":
            qual = f"{scope.cls}.{name}"
            self.classes[scope.cls].methods[name] = qual
        elif scope.kind == "function":
            qual = f"{scope.qual}.<locals>.{name}"
            scope.funcs[name] = qual
        else:
            qual = name
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        static = any(dotted_name(d.decorator) in ("staticmethod",) for d in node.decorators)
        self_name = ""
        if scope.kind == "class" and ordered and not static:
            self_name = ordered[0].name.value
            ordered = ordered[1:]
        info = _Func(qual, node, [p.name.value for p in ordered], scope.cls, self_name)
        info.params += [p.name.value for p in params.kwonly_params]
        self.funcs[qual] = info
        inner = _Scope("function", qual, parent=scope if scope.kind == "function" else None,
                       cls=scope.cls if scope.kind == "class" else "",
                       self_name=self_name, func=node)  # `cls.<attr>` reads class attributes
        all_params = [*ordered, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                inner.env[extra.name.value] = EMPTY
        if self_name:
            inner.env[self_name] = EMPTY
        for param in all_params:
            pname = param.name.value
            atoms = {Atom(Sym("param", (qual, pname)), (), pname)}
            atoms |= self._name_sources(pname, param, pname)
            if param.default is not None:
                default = self.eval(param.default, scope)
                if default:
                    self.param_def.setdefault((qual, pname), set()).update(default)
            inner.env[pname] = _cap(atoms)
        self.ret_def.setdefault(qual, set())
        self._suite(node.body, inner)

    def _class(self, node: cst.ClassDef, scope: _Scope) -> None:
        for decorator in node.decorators:
            self.eval(decorator.decorator, scope)
        for base in (*node.bases, *node.keywords):
            self.eval(base.value, scope)
        name = node.name.value
        qual = name if scope.kind == "module" else f"{scope.qual or scope.cls}.{name}"
        self.classes[qual] = _Class(qual, node, {
            stmt.name.value: f"{qual}.{stmt.name.value}" for stmt in node.body.body
            if isinstance(stmt, cst.FunctionDef)})  # callable before they are walked
        if scope.kind == "function":
            scope.funcs[name] = qual
        inner = _Scope("class", qual, cls=qual)
        self._suite(node.body, inner)

    # -- expressions ---------------------------------------------------------------------------
    def eval(self, node: cst.CSTNode | None, scope: _Scope) -> frozenset:
        """The taint of an expression; records the calls, raises and stores inside it."""
        if node is None:
            return EMPTY
        if self._depth > MAX_EVAL_DEPTH:
            return EMPTY
        self._depth += 1
        try:
            return self._eval(node, scope)
        finally:
            self._depth -= 1

    def _eval(self, node: cst.CSTNode, scope: _Scope) -> frozenset:
        if isinstance(node, cst.Name):
            return self._read_name(node.value, node, scope)
        if isinstance(node, cst.Attribute):
            return self._read_attribute(node, scope)
        if isinstance(node, cst.Call):
            return self._call(node, scope)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, scope)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return self._literal(node, scope)
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, scope)
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node, scope)
        if isinstance(node, cst.BooleanOperation):
            return _cap(self.eval(node.left, scope) | self.eval(node.right, scope))
        if isinstance(node, cst.UnaryOperation):
            value = self.eval(node.expression, scope)
            return EMPTY if isinstance(node.operator, cst.Not) else value
        if isinstance(node, cst.Comparison):  # a comparison is a bool: it never leaks
            self.eval(node.left, scope)
            for target in node.comparisons:
                self.eval(target.comparator, scope)
            return EMPTY
        if isinstance(node, cst.IfExp):  # the test only decides: `"set" if key else "missing"`
            self.eval(node.test, scope)
            return _cap(self.eval(node.body, scope) | self.eval(node.orelse, scope))
        if isinstance(node, cst.NamedExpr):
            value = self.eval(node.value, scope)
            self._assign(node.target, value, node.value, scope, exact=_is_exact(node.value))
            return value
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            atoms: set = set()
            for element in node.elements:
                atoms |= self.eval(element.value, scope)
            return _cap(atoms)
        if isinstance(node, cst.Dict):
            return self._dict(node, scope)
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self._comprehension(node, scope)
        if isinstance(node, cst.Await):
            return self.eval(node.expression, scope)
        if isinstance(node, cst.Yield):
            value = node.value
            if isinstance(value, cst.From):
                value = value.item
            result = self.eval(value, scope)
            if scope.kind == "function":
                self.ret_def.setdefault(scope.qual, set()).update(result)
            return EMPTY
        if isinstance(node, cst.Lambda):
            inner = _Scope("function", scope.qual + ".<lambda>", parent=scope
                           if scope.kind == "function" else None, cls=scope.cls,
                           self_name=scope.self_name, func=scope.func)
            for param in node.params.params:
                inner.env[param.name.value] = EMPTY
            self.eval(node.body, inner)
            return EMPTY
        if isinstance(node, cst.StarredElement):
            return self.eval(node.value, scope)
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)):
            return EMPTY
        # unknown or newer expression types: still see the calls inside, never guess taint
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                self.eval(child, scope)
        return EMPTY

    def _binary(self, node: cst.BinaryOperation, scope: _Scope) -> frozenset:
        operands = []
        stack: list[cst.CSTNode] = [node]
        while stack:  # long `a + b + c …` chains without deep recursion
            item = stack.pop()
            if isinstance(item, cst.BinaryOperation) and len(operands) + len(stack) < 10_000:
                stack.append(item.right)
                stack.append(item.left)
            else:
                operands.append(item)
        atoms: set = set()
        for operand in operands:
            atoms |= self.eval(operand, scope)
        return _map_op(_cap(atoms), (RESET, None))

    def _dict(self, node: cst.Dict, scope: _Scope) -> frozenset:
        atoms: set = set()
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = constant_value(element.key)
                if not isinstance(key, (str, int)):
                    key = None
                atoms |= self.eval(element.key, scope)
                atoms |= _map_op(self.eval(element.value, scope), (PUT, key))
            else:
                atoms |= self.eval(element.value, scope)
        return _cap(atoms)

    def _comprehension(self, node: cst.CSTNode, scope: _Scope) -> frozenset:
        inner = _Scope(scope.kind if scope.kind != "class" else "function", scope.qual,
                       parent=scope.parent, cls=scope.cls, self_name=scope.self_name,
                       func=scope.func)
        inner.env = dict(scope.env)
        inner.aliases, inner.consts, inner.globals = scope.aliases, scope.consts, scope.globals
        inner.handles, inner.funcs, inner.dotted = scope.handles, scope.funcs, scope.dotted
        for_in = node.for_in  # type: ignore[attr-defined]
        depth = 0
        while for_in is not None and depth < 20:
            items = _map_op(self.eval(for_in.iter, inner), (GET, None))
            for name in _bound_names(for_in.target):
                inner.env[name] = items
            for cond in for_in.ifs:
                self.eval(cond.test, inner)
            for_in = for_in.inner_for_in
            depth += 1
        if isinstance(node, cst.DictComp):
            return _cap(self.eval(node.key, inner) | _map_op(self.eval(node.value, inner),
                                                                (PUT, None)))
        return self.eval(node.elt, inner)  # type: ignore[attr-defined]

    def _fstring(self, node: cst.FormattedString, scope: _Scope) -> frozenset:
        atoms: set = set()
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression):
                value = self.eval(part.expression, scope)
                if part.format_spec:
                    for spec in part.format_spec:
                        if isinstance(spec, cst.FormattedStringExpression):
                            atoms |= self.eval(spec.expression, scope)
                    if self._precision_ok(part.format_spec):
                        value = EMPTY  # f"{key:.12}" shows only a prefix
                atoms |= value
            elif isinstance(part, cst.FormattedStringText):
                atoms |= self._literal_text(part.value, part)
        return _map_op(_cap(atoms), (RESET, None))

    def _precision_ok(self, spec: Iterable[cst.CSTNode]) -> bool:
        text = "".join(p.value for p in spec if isinstance(p, cst.FormattedStringText))
        match = re.search(r"\.(\d+)s?$", text)
        return bool(match) and int(match.group(1)) <= self.prefix_max

    def _literal(self, node: cst.CSTNode, scope: _Scope) -> frozenset:
        if isinstance(node, cst.ConcatenatedString):
            value = constant_value(node)
            if isinstance(value, str):
                return self._literal_text(value, node)
            atoms: set = set()  # with f-string pieces: each piece on its own
            stack: list[cst.CSTNode] = [node]
            while stack:
                item = stack.pop()
                if isinstance(item, cst.ConcatenatedString):
                    stack.extend((item.right, item.left))
                else:
                    atoms |= self.eval(item, scope)
            return _cap(atoms)
        value = constant_value(node)
        return self._literal_text(value, node) if isinstance(value, str) else EMPTY

    def _literal_text(self, text: str, node: cst.CSTNode) -> frozenset:
        if len(text) < 16:
            return EMPTY
        atoms = set()
        text = text[: self.ctx.settings["max-line-length"]]
        for family, _, _, patterns in self.families:
            for pattern in patterns:
                for match in pattern.finditer(text):
                    found = match.group(0)
                    prefix = literal_trigger(pattern.pattern, min_len=1) or ""
                    random_part = found[len(prefix):] if found.lower().startswith(
                        prefix) else found
                    if is_placeholder(random_part, list(self.cfg.placeholder_words),
                                      self.cfg.min_entropy):
                        continue
                    shown = redact_text(found, found[: len(prefix)], self.prefix_max)
                    atoms.add(Atom(Source(family.name, f"literal {shown}", "literal", node)))
                    break
        return _cap(atoms)

    # -- names, attributes, items --------------------------------------------------------------
    def _name_sources(self, name: str, node: cst.CSTNode, desc: str, kind: str = "name",
                      foreign: bool = False) -> frozenset:
        """A name that holds the secret by its name (KeyPort-specific anywhere, generic only
        in KeyPort-related code and not on another vendor's module)."""
        atoms = set()
        for family, specific, generic, _ in self.families:
            if specific.fullmatch(name) or (not foreign and generic.fullmatch(name)):
                atoms.add(Atom(Source(family.name, desc, kind, node), (),
                               desc if kind == "name" else ""))
        return frozenset(atoms)

    def _read_name(self, name: str, node: cst.CSTNode, scope: _Scope) -> frozenset:
        if name in ("None", "True", "False"):
            return EMPTY
        s: _Scope | None = scope
        while s is not None:
            if name in s.env:
                return s.env[name]
            if name in s.funcs:
                return EMPTY
            s = s.parent
        if scope.kind == "function" and (name in scope.globals or name in self.top_names):
            return frozenset({Atom(Sym("global", (name,)), (), name)})
        if scope.kind == "class" and name in self.module_scope.env:
            return self.module_scope.env[name]
        if name in self.top_funcs or name in self.top_classes:
            return EMPTY
        origin = self.facts.imports.get(name)
        if origin is not None:
            sym = Sym("import", (origin, ()))
            self._fallback(sym, name, node, name)
            return frozenset({Atom(sym, (), name)})
        if scope.kind != "function" and name in self.top_names:
            return EMPTY  # read before its assignment at module level
        return self._name_sources(name, node, name)

    def _fallback(self, sym: Sym, name: str, node: cst.CSTNode, desc: str,
                  foreign: bool = False) -> None:
        if sym not in self.fallback:
            self.fallback[sym] = self._name_sources(name, node, desc, foreign=foreign)

    def _read_attribute(self, node: cst.Attribute, scope: _Scope) -> frozenset:
        attr = node.attr.value
        dotted = dotted_name(node)
        if dotted:
            s: _Scope | None = scope
            while s is not None:
                if dotted in s.env:
                    return s.env[dotted]
                s = s.parent
        base = node.value
        if isinstance(base, cst.Name) and self._is_self(base.value, scope):
            sym = Sym("attr", (scope.cls, attr))
            self._fallback(sym, attr, node, dotted)
            return frozenset({Atom(sym, (), dotted)})
        head = dotted.split(".", 1)[0] if dotted else ""
        if head and self._is_import(head, scope):
            members = tuple(dotted.split(".")[1:])
            sym = Sym("import", (self.facts.imports[head], members))
            self._fallback(sym, attr, node, dotted, foreign=self._foreign(head))
            return frozenset({Atom(sym, (), dotted)})
        value = _map_op(self.eval(base, scope), (GET, "." + attr))
        if dotted:
            value = _with_via(value, dotted)
        return _cap(value | self._name_sources(attr, node, dotted or attr))

    def _is_import(self, name: str, scope: _Scope) -> bool:
        if name not in self.facts.imports:
            return False
        s: _Scope | None = scope
        while s is not None:
            if name in s.env:
                return False
            s = s.parent
        return name not in self.top_names

    def _foreign(self, head: str) -> bool:
        """Is `head` another vendor's module (`openai`, `stripe`), not KeyPort's or ours?"""
        origin = self.facts.imports.get(head, "")
        if not origin or self.markers.search(origin):
            return False
        project, path = self.ctx.project, self.ctx.path
        if project is not None and path is not None and not origin.startswith("."):
            return project.resolve_origin(path, origin) is None
        return not origin.startswith(".")

    def _subscript(self, node: cst.Subscript, scope: _Scope) -> frozenset:
        value = self.eval(node.value, scope)
        if len(node.slice) != 1:
            for element in node.slice:
                self.eval(getattr(element.slice, "value", None), scope)
            return value
        inner = node.slice[0].slice
        if isinstance(inner, cst.Slice):
            for part in (inner.lower, inner.upper, inner.step):
                self.eval(part, scope)
            upper = self._int(inner.upper, scope)
            if upper is not None and 0 <= upper <= self.prefix_max:
                return EMPTY  # key[:12]: a loggable prefix
            return _map_op(value, (RESET, None)) if value else value
        if not isinstance(inner, cst.Index):
            return value
        self.eval(inner.value, scope)
        key = self._index_key(node, scope)
        result = _map_op(value, (GET, key)) if value else value
        if isinstance(key, str):
            result = _cap(result | self._name_sources(key, node, key, kind="env"))
        return result

    def _index_key(self, node: cst.Subscript, scope: _Scope) -> Key:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        index = node.slice[0].slice.value
        const = constant_value(index)
        if const is None and isinstance(index, cst.Name):
            const = self._const(index.value, scope)
        return const if isinstance(const, (str, int)) and not isinstance(const, bool) else None

    def _const(self, name: str, scope: _Scope) -> Any:
        s: _Scope | None = scope
        while s is not None:
            if name in s.consts:
                return s.consts[name]
            s = s.parent
        return self.module_scope.consts.get(name)

    def _int(self, node: cst.CSTNode | None, scope: _Scope) -> int | None:
        if node is None:
            return None
        value = constant_value(node)
        if value is None and isinstance(node, cst.Name):
            value = self._const(node.value, scope)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    # -- calls ---------------------------------------------------------------------------------
    def _callee(self, func: cst.CSTNode, scope: _Scope) -> str:
        return self._callee_from_dotted(dotted_name(func), scope)

    def _callee_from_dotted(self, dotted: str, scope: _Scope) -> str:
        """Resolved dotted name: local aliases (`log = logging.getLogger()`), `self.<attr>`
        aliases of the class, then the import table."""
        if not dotted:
            return ""
        parts = dotted.split(".")
        tables: list[dict[str, str]] = []
        s: _Scope | None = scope
        while s is not None:
            tables.append(s.aliases)
            s = s.parent
        if scope.cls and scope.self_name and parts[0] == scope.self_name:
            parts = ["self", *parts[1:]]
            tables.append(self.class_aliases.get(scope.cls, {}))
        tables.append(self.module_scope.aliases)
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i])
            for table in tables:
                if prefix in table and table[prefix] != prefix:
                    rest = ".".join(parts[i:])
                    return f"{table[prefix]}.{rest}" if rest else table[prefix]
        if parts[0] == "self":
            return ".".join(parts)
        return _resolve_dotted(self.facts, dotted)

    def _call(self, node: cst.Call, scope: _Scope) -> frozenset:
        func = node.func
        callee = self._callee(func, scope)
        method = func.attr.value if isinstance(func, cst.Attribute) else ""
        receiver = EMPTY
        if method:
            head = dotted_name(func.value).split(".", 1)[0]
            if not (head and self._is_import(head, scope)):
                receiver = self.eval(func.value, scope)
        elif not isinstance(func, cst.Name):
            self.eval(func, scope)
        positional: list[frozenset] = []
        keywords: dict[str, frozenset] = {}
        star: set = set()
        args: list[tuple[cst.CSTNode, frozenset]] = []
        for arg in node.args:
            value = self.eval(arg.value, scope)
            args.append((arg.value, value))
            if arg.star:
                star |= value
            elif arg.keyword is not None:
                keywords[arg.keyword.value] = value
            else:
                positional.append(value)
        if any(v for _, v in args):
            self.sites.append(Site("call", node, dotted_name(func) or "a call", callee, method,
                                   [(a, v) for a, v in args if v], scope.func))
        everything = _cap(set().union(*(v for _, v in args)) | star) if args else EMPTY
        last = (callee or method).rsplit(".", 1)[-1]

        for family, pattern in self.source_calls:
            if callee and pattern.match(callee):
                return frozenset({Atom(Source(family.name, f"{callee}()", "call", node))})
        source = self._env_read(node, callee, method, scope)
        if source is not None:  # `cfg.get("api_key")` is also an item of `cfg`
            if method and receiver and method in self.props_methods:
                source = source | self._method_result(method, receiver, node, positional,
                                                      keywords, everything)
            return _cap(source)
        if self.config_loaders.match(callee or "-") and self._mentions_config_file(node, scope):
            return self._config_source(node)
        if method:
            self._mutate(func, method, node, positional, keywords, scope)
        if (callee and self.san_dotted.match(callee)) or (method and self.san_methods.match(
                method)):
            return EMPTY
        if method and method in self.props_methods:
            return self._method_result(method, receiver, node, positional, keywords, everything)
        if last and self.san_names.search(last):
            return EMPTY
        local = self._local_target(func, scope)
        if local is not None:
            return self._local_call(local, node, positional, keywords, star)
        head = dotted_name(func).split(".", 1)[0]
        if head and self._is_import(head, scope) and not (
                callee and self.props_dotted.match(callee)):
            members = tuple(dotted_name(func).split(".")[1:])
            info = _CallInfo("import", self.facts.imports[head], members, positional, keywords)
            self.calls[id(node)] = info
            return frozenset({Atom(Sym("icall", (id(node),)))})
        if callee and self.props_dotted.match(callee):
            return _map_op(everything, (RESET, None)) if not _keeps_shape(callee) else everything
        return EMPTY

    def _env_read(self, node: cst.Call, callee: str, method: str, scope: _Scope
                  ) -> frozenset | None:
        """`os.getenv("KEYPORT_API_KEY")`, `config("KEYPORT_API_KEY")`, `getattr(settings,
        "KEYPORT_API_KEY")`, `Field(env="KEYPORT_API_KEY")`: the named value is the secret."""
        names: list[tuple[str, cst.CSTNode]] = []
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if callee == "getattr" and len(positional) >= 2:
            names.append((self._str_arg(positional[1].value, scope), positional[1].value))
        elif positional and (self.env_reads.match(callee or "-") or (
                method and self.env_reads.match("." + method))):
            names.append((self._str_arg(positional[0].value, scope), positional[0].value))
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in (
                    "env", "envvar", "env_var", "alias", "validation_alias"):
                names.append((self._str_arg(arg.value, scope), arg.value))
        atoms: set = set()
        for name, _ in names:
            if name:
                atoms |= self._name_sources(name, node, name, kind="env")
        return frozenset(atoms) if atoms else None

    def _str_arg(self, node: cst.CSTNode, scope: _Scope) -> str:
        value = constant_value(node)
        if value is None and isinstance(node, cst.Name):
            value = self._const(node.value, scope)
        return value if isinstance(value, str) else ""

    def _mentions_config_file(self, node: cst.CSTNode, scope: _Scope, depth: int = 0) -> bool:
        """Does this call read a KeyPort config file (`open("keyport.json")`, a handle bound
        to one, `Path(...) / "keyport.json"`)?"""
        if depth > 4:
            return False
        if isinstance(node, cst.Name):
            s: _Scope | None = scope
            while s is not None:
                if node.value in s.handles:
                    return True
                s = s.parent
            value = self._const(node.value, scope)
            return isinstance(value, str) and bool(self.config_files.search(value))
        value = constant_value(node)
        if isinstance(value, str):
            return bool(self.config_files.search(value))
        children: list[cst.CSTNode] = []
        if isinstance(node, cst.Call):
            children = [node.func, *(a.value for a in node.args)]
        elif isinstance(node, cst.Attribute):
            children = [node.value]
        elif isinstance(node, cst.BinaryOperation):
            children = [node.left, node.right]
        elif isinstance(node, cst.FormattedString):
            return bool(self.config_files.search("".join(
                p.value for p in node.parts if isinstance(p, cst.FormattedStringText))))
        return any(self._mentions_config_file(c, scope, depth + 1) for c in children)

    def _config_source(self, node: cst.Call) -> frozenset:
        atoms = set()
        for family, _, _, _ in self.families:
            for fieldname in family.config_fields:
                source = Source(family.name, f"{fieldname} in the KeyPort config file",
                                "config", node)
                atoms.add(Atom(source, ((PUT, fieldname),)))
        return frozenset(atoms)

    def _mutate(self, func: cst.Attribute, method: str, node: cst.Call,
                positional: list[frozenset], keywords: dict[str, frozenset],
                scope: _Scope) -> None:
        """`headers.update({...})`, `parts.append(key)`: the receiver now holds the value."""
        if method not in _MUTATORS:
            return
        target = dotted_name(func.value)
        if not target or self._is_import(target.split(".", 1)[0], scope):
            return
        added: set = set()
        if method in ("setdefault",) and len(positional) >= 2:
            key = constant_value(node.args[0].value)
            added |= _map_op(positional[1], (PUT, key if isinstance(key, (str, int)) else None))
        elif method == "insert" and len(positional) >= 2:
            added |= positional[1]
        elif method not in ("setdefault", "insert"):
            for value in positional:
                added |= value
        for name, value in keywords.items():
            added |= _map_op(value, (PUT, name))
        if added:
            self._store(scope, target, _cap(added), func.value, node, weak=True,
                        container=func.value)

    def _method_result(self, method: str, receiver: frozenset, node: cst.Call,
                       positional: list[frozenset], keywords: dict[str, frozenset],
                       everything: frozenset) -> frozenset:
        if method in ("get", "pop", "setdefault"):
            key = constant_value(node.args[0].value) if node.args else None
            key = key if isinstance(key, (str, int)) and not isinstance(key, bool) else None
            result = _map_op(receiver, (GET, key))
            for extra in positional[1:]:
                result |= extra
            return _cap(result)
        if method in ("items", "values"):
            return _map_op(receiver, (GET, None))
        if method in _SHAPE_METHODS:
            return _cap(receiver | everything)
        return _map_op(_cap(receiver | everything), (RESET, None))

    def _local_target(self, func: cst.CSTNode, scope: _Scope) -> tuple[str, str] | None:
        """(func | class, qual) of a call to this module's function, method or class."""
        if isinstance(func, cst.Name):
            name = func.value
            s: _Scope | None = scope
            while s is not None:
                if name in s.funcs:
                    qual = s.funcs[name]
                    return ("class", qual) if qual in self.classes else ("func", qual)
                if name in s.env:
                    return None
                s = s.parent
            if name in self.top_funcs:
                return ("func", self.top_funcs[name])
            if name in self.top_classes:
                return ("class", self.top_classes[name])
            return None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            base, method = func.value.value, func.attr.value
            owner = scope.cls if self._is_self(base, scope) else self.top_classes.get(base)
            if owner and method in self._methods(owner):
                return ("func", f"{owner}.{method}")
        return None

    def _methods(self, qual: str) -> set[str]:
        cls = self.classes.get(qual)
        if cls is not None:
            return set(cls.methods)
        node = next((s for s in self.ctx.module.body
                     if isinstance(s, cst.ClassDef) and s.name.value == qual), None)
        return {s.name.value for s in node.body.body if isinstance(s, cst.FunctionDef)
                } if node is not None else set()

    def _local_call(self, target: tuple[str, str], node: cst.Call,
                    positional: list[frozenset], keywords: dict[str, frozenset],
                    star: set) -> frozenset:
        kind, qual = target
        info = _CallInfo("local", qual, (), positional, keywords)
        if kind == "class":
            init, fields = self._class_shape(qual)
            if init:
                info.target = f"{qual}.__init__"
                self._map_args(info, info.target, star)
            else:  # dataclass, pydantic model, NamedTuple: fields by position and name
                for i, value in enumerate(positional):
                    if i < len(fields) and value:
                        self.attr_def.setdefault((qual, fields[i]), set()).update(value)
                for name, value in keywords.items():
                    if value:
                        self.attr_def.setdefault((qual, name), set()).update(value)
            return frozenset({Atom(Sym("inst", (qual,)))})
        self._map_args(info, qual, star)
        self.calls[id(node)] = info
        return frozenset({Atom(Sym("call", (id(node),)))})

    def _map_args(self, info: _CallInfo, qual: str, star: set) -> None:
        func = self.funcs.get(qual)
        # a function defined further down is not walked yet: read its parameters
        node_params = func.params if func is not None else self._find_def(qual)
        if node_params is None:
            return
        for i, value in enumerate(info.positional):
            if i < len(node_params):
                info.mapped[node_params[i]] = value
        for name, value in info.keywords.items():
            if name in node_params:
                info.mapped[name] = value
        if star:
            for name in node_params:
                info.mapped[name] = _cap(info.mapped.get(name, EMPTY) | star)
        for name, value in info.mapped.items():
            if value:
                self.param_def.setdefault((qual, name), set()).update(value)

    def _class_shape(self, qual: str) -> tuple[bool, list[str]]:
        """(has `__init__`, annotated fields) of a class, walked yet or not."""
        cls = self.classes.get(qual)
        if cls is not None and cls.node is not None:
            body = cls.node.body.body
        else:
            body = next((s.body.body for s in self.ctx.module.body
                         if isinstance(s, cst.ClassDef) and s.name.value == qual), ())
        init, fields = False, []
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
                init = True
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        fields.append(small.target.value)
        return init, fields

    def _find_def(self, qual: str) -> list[str] | None:
        """Parameters of a module-level function or method not walked yet."""
        head, _, method = qual.partition(".")
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.FunctionDef) and not method and stmt.name.value == head:
                params = stmt.params
                return [p.name.value for p in (*params.posonly_params, *params.params,
                                               *params.kwonly_params)]
            if isinstance(stmt, cst.ClassDef) and method and stmt.name.value == head:
                for inner in stmt.body.body:
                    if isinstance(inner, cst.FunctionDef) and inner.name.value == method:
                        params = inner.params
                        ordered = [*params.posonly_params, *params.params]
                        static = any(dotted_name(d.decorator) == "staticmethod"
                                     for d in inner.decorators)
                        if not static:
                            ordered = ordered[1:]
                        return [p.name.value for p in (*ordered, *params.kwonly_params)]
        return None

    def _opaque(self, node: cst.CSTNode | None, scope: _Scope) -> bool:
        """Is a clean-looking value unknown (a call, an attribute), rather than known clean (a
        literal, a prefix, a sanitiser)? A key-named name assigned an unknown value holds it."""
        if node is None:
            return True
        if isinstance(node, cst.Await):
            node = node.expression
        if isinstance(node, cst.Name):
            if node.value in ("None", "True", "False"):
                return False
            s: _Scope | None = scope
            while s is not None:
                if node.value in s.env:
                    return False
                s = s.parent
            return True
        if isinstance(node, cst.Call):
            callee = self._callee(node.func, scope)
            method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
            last = (callee or method).rsplit(".", 1)[-1]
            return not ((callee and self.san_dotted.match(callee)) or (
                method and self.san_methods.match(method)) or (
                last and self.san_names.search(last)))
        if isinstance(node, cst.Subscript):
            return not any(isinstance(e.slice, cst.Slice) for e in node.slice)
        return isinstance(node, cst.Attribute)

    # -- solving -------------------------------------------------------------------------------
    def _defs(self, sym: Sym) -> Iterable[Atom] | None:
        kind, key = sym.kind, sym.key
        if kind == "global":
            return self.globals_def.get(key[0])
        if kind == "attr":
            return self.attr_def.get(key)
        if kind == "ret":
            return self.ret_def.get(key[0])
        if kind == "param":
            return self.param_def.get(key, ())
        if kind == "inst":
            qual = key[0]
            atoms = []
            for (cls, attr) in self.attr_def:
                if cls == qual:
                    atoms.append(Atom(Sym("attr", (cls, attr)), ((PUT, "." + attr),)))
            return atoms
        return None

    def _solve(self) -> None:
        if self._solved:
            return
        self._solved = True
        syms = ([Sym("global", (n,)) for n in self.globals_def]
                + [Sym("attr", k) for k in self.attr_def]
                + [Sym("ret", (q,)) for q in self.ret_def]
                + [Sym("param", k) for k in self.param_def]
                + [Sym("inst", (c,)) for c in self.classes])
        values = {s: EMPTY for s in syms}
        self._values = values
        for _ in range(MAX_ROUNDS):
            changed = False
            for sym in syms:
                defs = self._defs(sym)
                new = self._expand(frozenset(defs or ()), None, 0)
                if new != values[sym]:
                    values[sym] = new
                    changed = True
            if not changed:
                break

    def resolve(self, atoms: frozenset) -> frozenset:
        """Labels of symbolic taint."""
        if not atoms:
            return EMPTY
        self._solve()
        return self._expand(atoms, None, 0)

    def _expand(self, atoms: frozenset, subst: tuple[str, dict[str, frozenset]] | None,
                depth: int) -> frozenset:
        labels: set = set()
        for atom in atoms:
            base = atom.base
            # an argument substituted for a parameter keeps the caller's name for it
            outer = isinstance(base, Sym) and base.kind == "param" and subst is not None
            for label in self._base_labels(base, subst, depth):
                if self._budget <= 0:
                    break
                self._budget -= 1
                path = _apply_path(label.path, atom.ops)
                if path is None:
                    continue
                if path:  # inside a container: the container's name is no fix
                    via = label.via
                elif outer:
                    via = label.via or atom.via
                else:
                    via = atom.via or label.via
                labels.add(Label(label.source, path, via))
        return _cap(labels)

    def _base_labels(self, base: Source | Sym, subst: tuple[str, dict[str, frozenset]] | None,
                     depth: int) -> Iterable[Label]:
        if isinstance(base, Source):
            return (Label(base),)
        kind = base.kind
        if kind == "param" and subst is not None and base.key[0] == subst[0]:
            return subst[1].get(base.key[1], EMPTY)
        if kind == "call":
            info = self.calls.get(base.key[0])
            if info is None:
                return EMPTY
            if depth >= MAX_CALL_DEPTH or self._budget <= 0:
                return self._values.get(Sym("ret", (info.target,)), EMPTY)
            args = {name: self._expand(value, subst, depth) for name, value in
                    info.mapped.items()}
            return self._expand(frozenset(self.ret_def.get(info.target, ())),
                                (info.target, args), depth + 1)
        if kind == "import":
            return self._import_value(base, None, subst, depth)
        if kind == "icall":
            info = self.calls.get(base.key[0])
            if info is None:
                return EMPTY
            return self._import_value(Sym("import", (info.target, info.members)), info, subst,
                                      depth)
        if self._defs(base) is not None:  # assigned in this module: its assignments decide
            return self._values.get(base, EMPTY)
        fallback = self.fallback.get(base)  # never assigned here: the name alone decides
        return self._expand(fallback, None, depth) if fallback else EMPTY

    def _import_value(self, sym: Sym, call: _CallInfo | None,
                      subst: tuple[str, dict[str, frozenset]] | None, depth: int
                      ) -> Iterable[Label]:
        """An imported name (or the result of calling it), from the other module's summary."""
        origin, members = sym.key
        cache_key = (origin, members, call is not None)
        if cache_key not in self._imports:
            self._imports[cache_key] = self.analyzer.lookup(self.ctx, origin, members,
                                                            call is not None)
        found = self._imports[cache_key]
        if found is None:  # not a module of the project: the name alone decides
            fallback = self.fallback.get(sym)
            return self._expand(fallback, None, depth) if fallback else EMPTY
        labels, exported = found
        if call is None or exported is None:
            return labels
        result = set(labels)
        args: dict[str, frozenset] = {}
        for i, value in enumerate(call.positional):
            if i < len(exported.params):
                args[exported.params[i]] = value
        for name, value in call.keywords.items():
            args[name] = value
        for param, path in exported.passthrough:
            value = args.get(param)
            if not value:
                continue
            for label in self._expand(value, subst, depth):
                result.add(Label(label.source, (*path, *label.path)[:MAX_PATH], label.via))
        return _cap(result)

    # -- summaries for importers ---------------------------------------------------------------
    def exports(self) -> dict[str, Exported]:
        """Module-level names, functions and classes whose value or result holds a secret."""
        self._solve()
        out: dict[str, Exported] = {}
        everything: set = set()
        for name, defs in self.globals_def.items():
            labels = self._expand(frozenset(defs), None, 0)
            if labels:
                out[name] = Exported(value=labels)
                everything |= {Label(x.source, ((f".{name}", *x.path))[:MAX_PATH], x.via)
                               for x in labels}
        for name, qual in self.top_funcs.items():
            func = self.funcs.get(qual)
            if func is None:
                continue
            markers = {p: frozenset({Label(Source("", p, "param"))}) for p in func.params}
            result = self._expand(frozenset(self.ret_def.get(qual, ())), (qual, markers), 0)
            plain = frozenset(x for x in result if x.source.kind != "param")
            passthrough = tuple(sorted({(x.source.desc, x.path) for x in result
                                        if x.source.kind == "param"}, key=repr))
            if plain or passthrough:
                out[name] = Exported(call=plain, params=tuple(func.params),
                                     passthrough=passthrough)
        for name, qual in self.top_classes.items():
            inst = self._values.get(Sym("inst", (qual,)), EMPTY)
            if inst:
                out[name] = Exported(value=inst, call=inst)
        if everything:
            out["*"] = Exported(value=_cap(everything))
        return out


def _join(a: dict[str, frozenset], b: dict[str, frozenset]) -> dict[str, frozenset]:
    """Environments after two branches: a name holds whatever either branch left in it."""
    result = dict(a)
    for name, value in b.items():
        current = result.get(name)
        result[name] = value if current is None or current is value else _cap(current | value)
    return result


def _resolve_dotted(facts: ModuleFacts, dotted: str) -> str:
    """`ModuleFacts.resolve` for an already dotted name (`get_logger().info` included)."""
    head, _, rest = dotted.partition(".")
    called = head.endswith("()")
    origin = facts.imports.get(head[:-2] if called else head)
    if origin is None:
        return dotted
    origin += "()" if called else ""
    return f"{origin}.{rest}" if rest else origin


_MUTATORS = frozenset({"append", "extend", "update", "add", "insert", "setdefault",
                       "appendleft", "extendleft"})
_SHAPE_METHODS = frozenset({"copy", "items", "values"})
_SHAPE_CALLS = re.compile(r"(?:builtins\.)?(?:dict|list|tuple|set|frozenset|sorted|reversed)$|"
                          r"copy\.(?:deep)?copy$|collections\..*|types\.SimpleNamespace$")


def _keeps_shape(callee: str) -> bool:
    return bool(_SHAPE_CALLS.match(callee))


def constant_value(node: cst.CSTNode | None) -> Any:
    """The value of a literal (str, int), or None."""
    try:
        if isinstance(node, cst.SimpleString):
            value = evaluated(node)
            return value.decode("latin-1") if isinstance(value, bytes) else value
        if isinstance(node, cst.ConcatenatedString):  # iteratively: chains can be long
            pieces, stack = [], [node]
            while stack:
                item = stack.pop()
                if isinstance(item, cst.ConcatenatedString):
                    stack.extend((item.right, item.left))
                elif isinstance(item, cst.SimpleString):
                    piece = constant_value(item)
                    if not isinstance(piece, str):
                        return None
                    pieces.append(piece)
                else:  # an f-string piece: not a constant
                    return None
            return "".join(pieces)
        if isinstance(node, cst.Integer):
            return int(evaluated(node))
        if (isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus)
                and isinstance(node.expression, cst.Integer)):
            return -int(evaluated(node.expression))
    except Exception:  # malformed escapes or numbers in odd code
        return None
    return None


def _is_exact(node: cst.CSTNode | None) -> bool:
    """Is the value the secret itself (a read), not something built from it?"""
    if isinstance(node, cst.Await):
        node = node.expression
    if isinstance(node, (cst.Name, cst.Attribute, cst.SimpleString, cst.ConcatenatedString)):
        return True
    if isinstance(node, cst.BooleanOperation):  # `a or b` is one of them
        return _is_exact(node.left) and _is_exact(node.right)
    if isinstance(node, cst.IfExp):
        return _is_exact(node.body) and _is_exact(node.orelse)
    if isinstance(node, cst.Subscript):
        return not any(isinstance(e.slice, cst.Slice) for e in node.slice)
    if isinstance(node, cst.Call):  # `get_key()`, `os.getenv(…)`: mostly the value itself
        return not (isinstance(node.func, cst.Attribute)
                    and node.func.attr.value in ("format", "format_map", "join", "replace"))
    return False


def _assign_targets(small: cst.CSTNode) -> list[cst.BaseExpression]:
    if isinstance(small, cst.Assign):
        return [t.target for t in small.targets]
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return [small.target]
    return []


def _bound_names(target: cst.CSTNode) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _bound_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _bound_names(target.value)


def _blocks(stmt: cst.CSTNode) -> Iterator[Iterable[cst.CSTNode]]:
    """The statement lists directly inside a compound statement."""
    for child in stmt.children:
        if isinstance(child, cst.BaseSuite):
            yield child.body
        elif isinstance(child, (cst.Else, cst.Finally, cst.ExceptHandler,
                                cst.ExceptStarHandler, cst.MatchCase)):
            yield from _blocks(child)
        elif isinstance(child, cst.If):
            yield [child]


# -- the memoised entry points --------------------------------------------------------------------

class _Analyzer:
    """One per configuration: the per-file computation (memoised by `ctx.analysis`) and the
    per-module summary handed to the project index."""

    def __init__(self, config: TaintConfig) -> None:
        self.config = config
        self.depth = 0
        self.compute = self._compute  # stable bound methods: memo keys
        self.summarize = self._summarize

    def _compute(self, ctx: PythonContext) -> TaintResult:
        module = _Module(ctx, self.config, self)
        module.run()
        return TaintResult(module)

    def _summarize(self, ctx: PythonContext) -> dict[str, Exported]:
        """What a project module exports that holds a secret (for `ProjectIndex.lookup`)."""
        if self.depth >= MAX_IMPORT_DEPTH:
            return {}
        self.depth += 1
        try:
            exports = ctx.analysis(self.compute).exports()
        finally:
            self.depth -= 1
        return _localise(ctx, exports) if exports else {}

    def lookup(self, ctx: PythonContext, origin: str, members: tuple[str, ...], call: bool
               ) -> tuple[frozenset, Exported | None] | None:
        """Labels of an imported name (`origin` plus attribute `members`), or None when it is
        not a module of the project (then the name alone decides)."""
        project, path = ctx.project, ctx.path
        if project is None or path is None:
            return None
        for i in range(len(members), -1, -1):
            candidate = ".".join((origin, *members[:i]))
            resolved = project.resolve_origin(path, candidate)
            if resolved is None:
                continue
            module_path, _ = resolved
            if module_path == path.resolve():
                return None
            text = project.text(module_path) or ""
            if not (project.is_keyport_text(module_path)
                    or project.reaches_keyport(module_path, text)):
                return EMPTY, None  # a project module that cannot hold the key
            exported = project.lookup(path, candidate, self.summarize)
            rest = members[i:]
            if exported is None:
                return EMPTY, None
            if call and not rest:
                return exported.call, exported
            labels = exported.value
            for attr in rest:
                labels = frozenset(
                    Label(x.source, p, x.via) for x in labels
                    if (p := _apply_path(x.path, ((GET, "." + attr),))) is not None)
            return (labels, None) if not call else (EMPTY, None)
        return None


def _localise(ctx: PythonContext, exports: dict[str, Exported]) -> dict[str, Exported]:
    """Replace source nodes (valid only inside this module's tree) by module and line."""
    nodes = {id(x.source.node): x.source.node for e in exports.values()
             for x in (*e.value, *e.call) if x.source.node is not None}
    lines: dict[int, int] = {}
    if nodes:
        from libcst.metadata import PositionProvider

        positions = cst.MetadataWrapper(ctx.module, unsafe_skip_copy=True).resolve(
            PositionProvider)
        for key, node in nodes.items():
            try:
                lines[key] = positions[node].start.line
            except KeyError:
                lines[key] = 0

    def convert(labels: frozenset) -> frozenset:
        out = set()
        for x in labels:
            src = x.source
            if src.node is not None:
                src = Source(src.family, src.desc, src.kind, None, ctx.display,
                             lines.get(id(src.node), 0))
            out.add(Label(src, x.path))  # its variable names mean nothing to an importer
        return frozenset(out)

    return {name: Exported(convert(e.value), convert(e.call), e.params, e.passthrough)
            for name, e in exports.items()}


@lru_cache(maxsize=32)
def _analyzer(config: TaintConfig) -> _Analyzer:
    return _Analyzer(config)


def taint_analysis(ctx: PythonContext, config: TaintConfig) -> TaintResult:
    """The taint of one module under `config`, computed once per file and configuration."""
    return ctx.analysis(_analyzer(config).compute)


def summarizer(config: TaintConfig) -> Callable[[PythonContext], dict[str, Exported]]:
    """The per-module summary function for `ProjectIndex.lookup` under `config`."""
    return _analyzer(config).summarize


def origin_text(source: Source) -> str | None:
    """`KEYPORT_API_KEY, config/settings.py line 4` for sources of other modules (local
    sources get their line when reported: see `context.NodeLine`)."""
    if source.node is not None:
        return None
    where = f"{source.module} line {source.line}" if source.line else source.module
    return f"{source.desc}, {where}" if where else source.desc


__all__ = [
    "Atom",
    "Exported",
    "Family",
    "Flow",
    "Label",
    "SinkSpec",
    "Site",
    "Source",
    "TaintConfig",
    "TaintResult",
    "origin_text",
    "summarizer",
    "taint_analysis",
]
