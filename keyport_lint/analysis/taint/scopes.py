"""The state of the pass over one module: scopes, records of functions and classes, and the
symbol tables the statements, expressions, calls and the solver share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from keyport_lint.analysis.definitions import (
    VAR_KEYWORD,
    VAR_POSITIONAL,
    ClassRecord,
    FunctionRecord,
    Parameter,
    Record,
    module_definitions,
)
from keyport_lint.analysis.facts import ModuleFacts, module_facts
from keyport_lint.analysis.taint.sinks import _fn
from keyport_lint.analysis.taint.values import EXPAND_BUDGET
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.summaries import _Analyzer
    from keyport_lint.analysis.taint.values import Key, Site, Sym, TaintConfig


@dataclass(eq=False)
class _Func:
    """The pass's view of a def's record (`definition`)."""

    qual: str
    node: cst.FunctionDef
    params: list[str]  # positional order, the bound `self` excluded
    cls: str = ""
    self_name: str = ""
    bound: tuple[Parameter, ...] = ()  # the named parameters a caller passes
    stars: tuple[str, ...] = ()  # `*args`, `**kwargs`

    @staticmethod
    def of(record: FunctionRecord, owner: str) -> _Func:
        """`owner`: the class qual of the scope the def is in."""
        bound, stars = [], []
        for param in record.bound:
            if param.kind in _STARS:
                stars.append(param.name)
            else:
                bound.append(param)
        return _Func(record.qualname, record.node, [p.name for p in bound],  # type: ignore[arg-type]
                     owner, record.self_name, tuple(bound), tuple(stars))


_STARS = (VAR_POSITIONAL, VAR_KEYWORD)


@dataclass(eq=False)
class _CallInfo:
    kind: str  # local | import
    target: str  # function qual, or import origin
    members: tuple[str, ...] = ()
    positional: list[frozenset] = field(default_factory=list)
    keywords: dict[str, frozenset] = field(default_factory=dict)
    mapped: dict[str, frozenset] = field(default_factory=dict)  # local: parameter -> taint


class _Scope:
    __slots__ = ("aliases", "cls", "consts", "dotted", "env", "func", "globals", "handles",
                 "kind", "parent", "qual", "record", "self_name")

    def __init__(self, kind: str, qual: str = "", parent: _Scope | None = None,
                 cls: str = "", self_name: str = "", func: cst.FunctionDef | None = None,
                 record: FunctionRecord | None = None) -> None:
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
        self.record = record  # the def whose body this is: its nested defs and classes

    def local(self, name: str) -> Record | None:
        """The def or class a function's body binds to `name` (the last of it)."""
        record = self.record
        if record is None:
            return None
        return record.functions.get(name) or record.classes.get(name)


def _compiled(config: TaintConfig, related: bool) -> tuple[Any, ...]:
    """The configuration's patterns, compiled once per configuration (kept by its
    analyzer, one per configuration) rather than per module."""
    from keyport_lint.settings import Settings

    families = [(f, Settings.names_regex(list(f.names)),
                 Settings.names_regex(list(f.generic_names) if related else []),
                 [re.compile(p) for p in f.literals]) for f in config.families]
    out = (families,
           [(f, _fn(f.calls)) for f in config.families if f.calls],
           _fn(config.env_reads),
           _fn(p for p in config.propagators if not p.startswith(".")),
           {p[1:] for p in config.propagators if p.startswith(".")},
           _fn(p for p in config.sanitizers if not p.startswith(".")),
           _fn(p[1:] for p in config.sanitizers if p.startswith(".")),
           re.compile("|".join(f"(?:{p})" for p in config.sanitizer_names) or r"(?!x)x",
                      re.IGNORECASE),
           re.compile("|".join(f"(?:{p})" for p in config.config_files) or r"(?!x)x",
                      re.IGNORECASE),
           _fn(config.config_loaders))
    return out


class _ModuleState:
    """What the pass over one module records, shared by its statements, expressions, calls
    and solver (mixins of `_Module`)."""

    def __init__(self, ctx: PythonContext, config: TaintConfig, analyzer: _Analyzer) -> None:
        from keyport_lint.analysis.context import is_keyport_related

        self.ctx = ctx
        self.cfg = config
        self.analyzer = analyzer
        self.module_scope = _Scope("module")
        self.facts: ModuleFacts = ctx.analysis(module_facts)
        self.definitions = module_definitions(ctx)
        self.related = bool(ctx.analysis(is_keyport_related))
        self.prefix_max = config.prefix_max
        self.suffix_max = config.suffix_max
        compiled = analyzer.compiled.get(self.related)
        if compiled is None:
            compiled = analyzer.compiled[self.related] = _compiled(config, self.related)
        (self.families, self.source_calls, self.env_reads, self.props_dotted,
         self.props_methods, self.san_dotted, self.san_methods, self.san_names,
         self.config_files, self.config_loaders) = compiled
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
        self.classes: dict[str, ClassRecord] = {}  # by qualname, as the pass reaches them
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

    if TYPE_CHECKING:  # implemented by the mixins below
        def _assign(self, target: cst.BaseExpression, value: frozenset, value_node: cst.CSTNode,
                    scope: _Scope, *, exact: bool, augmented: bool = False) -> None: ...
        def _call(self, node: cst.Call, scope: _Scope) -> frozenset: ...
        def _callee(self, func: cst.CSTNode, scope: _Scope) -> str: ...
        def _callee_from_dotted(self, dotted: str, scope: _Scope) -> str: ...
        def _const(self, name: str, scope: _Scope) -> Any: ...
        def _foreign(self, head: str) -> bool: ...
        def _index_key(self, node: cst.Subscript, scope: _Scope) -> Key: ...
        def _is_import(self, name: str, scope: _Scope) -> bool: ...
        def _is_self(self, name: str, scope: _Scope) -> bool: ...
        def _mentions_config_file(self, node: cst.CSTNode, scope: _Scope,
                                  depth: int = 0) -> bool: ...
        def _name_sources(self, name: str, node: cst.CSTNode, desc: str, kind: str = "name",
                          foreign: bool = False) -> frozenset: ...
        def _opaque(self, node: cst.CSTNode | None, scope: _Scope) -> bool: ...
        def _store(self, scope: _Scope, dotted: str, value: frozenset, target: cst.CSTNode,
                   value_node: cst.CSTNode | None, *, weak: bool = False, item: bool = False,
                   container: cst.CSTNode | None = None) -> None: ...
        def eval(self, node: cst.CSTNode | None, scope: _Scope) -> frozenset: ...

