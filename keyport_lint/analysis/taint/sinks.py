"""Sinks matched against the sites the pass recorded, and the per-module result that
answers `flows(SinkSpec(...))`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from keyport_lint.analysis.nameglobs import Globs, globs
from keyport_lint.analysis.taint.values import Flow

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.summaries import _Module
    from keyport_lint.analysis.taint.values import Exported, SinkSpec, Site


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


def _fn(patterns: Iterable[str]) -> Globs:
    return globs(tuple(patterns))


class TaintResult:
    """The analysis of one module: query flows into sinks, or the taint of returns."""

    def __init__(self, module: _Module) -> None:
        self._m = module
        # the labels of each recorded argument, resolved once: KP201, KP202 and KP501 ask the
        # same sites with their own sinks
        self._resolved: dict[frozenset, list] = {}
        self._flows: dict[tuple, list[Flow]] = {}

    @property
    def sites(self) -> list[Site]:
        return self._m.sites

    def labels(self, atoms: frozenset) -> frozenset:
        """Resolve symbolic taint (as recorded in a Site) to labels."""
        return self._m.resolve(atoms)

    def flows(self, sinks: SinkSpec, functions: set[int] | None = None) -> list[Flow]:
        """One flow per sink node and family: the most specific source reaching it.

        `functions` (ids of FunctionDef nodes) limits `return` sinks to those functions.
        Memoised: rules with the same sinks (KP201 and KP202) share the answer.
        """
        key = (sinks, frozenset(functions) if functions is not None else None)
        found = self._flows.get(key)
        if found is None:
            found = self._flows[key] = self._compute_flows(sinks, functions)
        return list(found)

    def _compute_flows(self, sinks: SinkSpec, functions: set[int] | None) -> list[Flow]:
        spec = sinks._compiled
        best: dict[tuple[int, str], Flow] = {}
        for site in self._m.sites:
            if not self._is_sink(site, spec, functions):
                continue
            for arg, atoms in site.args:
                for label in self._leaking(atoms):
                    flow = Flow(site.node, site.display, site.kind, label, arg)
                    place = (id(site.node), label.source.family)
                    if place not in best or _flow_order(flow) < _flow_order(best[place]):
                        best[place] = flow
        return sorted(best.values(), key=_flow_order)

    def _leaking(self, atoms: frozenset) -> list:
        """The labels of `atoms` that show the secret when written out (memoised)."""
        found = self._resolved.get(atoms)
        if found is None:
            found = [label for label in self._m.resolve(atoms) if label.leaks]
            self._resolved[atoms] = found
        return found

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
