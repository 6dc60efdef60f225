"""The project-index summary section `verifier_exports`: which names of a module verify a
webhook signature, computed name by name (the index follows re-exports)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.verification.records import VERIFY_TEXT
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.verification.analysis import Verification
    from keyport_lint.index import ProjectIndex


class VerifierExports(Mapping[str, str]):
    """Project-index summary: which names of a module verify a webhook signature, computed
    name by name as other modules ask (a module is often asked about one helper only).

    Values: raises | returns | unknown | broken (functions), class (middleware, permission
    classes, instances of them), view (a class whose pre-hooks verify, so its subclasses'
    handlers are verified), app (an app object with verifying middleware); key `<middleware>`
    when the module registers a verifying middleware or hook."""

    def __init__(self, ctx: PythonContext) -> None:
        # The index keeps summaries for the run but a module's tree only a few at a time, so
        # the analysis is asked for through the index, never held: holding it would keep the
        # module's tree alive as long as the summary (an evicted module asked again about a
        # new name is parsed again, like any module the index let go).
        self._project = ctx.project
        self._path = None if ctx.path is None or self._project is None else \
            self._project.real_path(ctx.path)
        self._held = _verification(ctx) if self._project is None or self._path is None \
            else None
        self._memo: dict[str, str | None] = {}

    @property
    def analysis(self) -> Verification:
        if self._held is not None:
            return self._held
        assert self._project is not None and self._path is not None
        ctx = self._project.context(self._path)
        assert ctx is not None  # it parsed once; the index keeps its text for the run
        return _verification(ctx)

    def _names(self) -> list[str]:
        a = self.analysis
        return [*a.module_flows, *a.web.classes, *a.web.module_assigns, *a.web.apps,
                "<middleware>"]

    def _compute(self, name: str) -> str | None:
        a = self.analysis
        if name == "<middleware>":
            return "app" if a.module_pre_verified() else None
        if name in a.module_flows:
            return a.mode(a.module_flows[name])
        if name in a.web.classes:
            if a.class_mode(name, prehooks_only=True):
                return "view"
            return "class" if a.class_mode(name) else None
        value = a.web.module_assigns.get(name)
        if isinstance(value, cst.Call):  # verifier = KeyPortVerifier(secret)
            callee = dotted_name(value.func)
            if callee and a.ref_mode(callee, a.facts.resolve(value.func)) not in (
                    None, "broken"):
                return "class"
        if name in a.web.apps and self.get("<middleware>"):
            return "app"
        return None

    def __getitem__(self, name: str) -> str:
        if name not in self._memo:
            self._memo[name] = None  # cycle guard
            self._memo[name] = self._compute(name)
        value = self._memo[name]
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter([n for n in dict.fromkeys(self._names()) if n in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # never compute every name just to test truth
        return True


def verifier_exports(ctx: PythonContext) -> VerifierExports:
    """Memoised per module by the project index (`summary`)."""
    return VerifierExports(ctx)


def _verification(ctx: PythonContext) -> Verification:
    """The module's memoised `verification` analysis (imported late: it imports this)."""
    from keyport_lint.analysis.verification.analysis import verification

    return ctx.analysis(verification)


def lookup_export(project: ProjectIndex, importer: Path, origin: str) -> str | None:
    """What `verifier_exports` says about an import origin, re-exports followed by the
    project index (`from .security import verify` in a package `__init__`)."""
    if project.resolve_origin(importer, origin) is None:
        return None
    return project.lookup(importer, origin, _verifier_section)


def _verifier_section(ctx: PythonContext) -> Mapping[str, str]:
    """`verifier_exports`, for modules whose text can hold a verifier (others answer
    nothing without building the analysis)."""
    if VERIFY_TEXT.search(ctx.text) or (ctx.project is not None
                                        and _configured_token(ctx.project, ctx.text)):
        return ctx.analysis(verifier_exports)
    return {}


def _configured_token(project: ProjectIndex, text: str) -> bool:
    patterns = project.settings.get("verifiers", [])
    return any(t and t in text for t in (re.split(r"[*?\[]", p.rsplit(".", 1)[-1])[0]
                                         for p in patterns))
