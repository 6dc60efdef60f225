"""Entry points: one computation per file and configuration, and the per-module summary
the project index hands to importers."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from keyport_lint.analysis.taint.calls import _Calls
from keyport_lint.analysis.taint.expressions import _Expressions
from keyport_lint.analysis.taint.sinks import TaintResult
from keyport_lint.analysis.taint.solver import _Solver
from keyport_lint.analysis.taint.statements import _Statements
from keyport_lint.analysis.taint.values import (
    EMPTY,
    GET,
    MAX_IMPORT_DEPTH,
    Exported,
    Label,
    Source,
    _apply_path,
)
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.values import TaintConfig


class _Module(_Statements, _Expressions, _Calls, _Solver):
    """The pass over one module and the solver of its symbols."""

    def __init__(self, ctx: PythonContext, config: TaintConfig, analyzer: _Analyzer) -> None:
        super().__init__(ctx, config, analyzer)
        self.foreign_heads = {}


class _Analyzer:
    """One per configuration: the per-file computation (memoised by `ctx.analysis`) and the
    per-module summary handed to the project index."""

    def __init__(self, config: TaintConfig) -> None:
        self.config = config
        self.depth = 0
        # name -> the families it names, by whether generic names count (KeyPort-related code)
        self.name_families: dict[bool, dict[tuple[str, bool], tuple[str, ...]]] = {
            False: {}, True: {}}
        self.compute = self._compute  # stable bound methods: memo keys
        self.summarize = self._summarize
        # the configuration's patterns compiled, by whether generic names count (see `scopes`)
        self.compiled: dict[bool, tuple[Any, ...]] = {}

    def _compute(self, ctx: PythonContext) -> TaintResult:
        module = _Module(ctx, self.config, self)
        module.run()
        ctx.walks += 1
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
        here = None
        for i in range(len(members), -1, -1):
            candidate = ".".join((origin, *members[:i]))
            resolved = project.resolve_origin(path, candidate)
            if resolved is None:
                continue
            module_path, _ = resolved
            if here is None:
                here = path.resolve()
            if module_path == here:
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
        from keyport_lint.analysis.positions import node_spans

        spans = node_spans(ctx, nodes.values())
        lines = {key: span[0] for key, span in spans.items()}

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
