"""One file through the pipeline: read → pre-filter → parse → rules → suppressions.

Pure with respect to its inputs, so it can run in worker processes and its result can be cached.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keyport_lint.catalog import Rule
from keyport_lint.config import Config
from keyport_lint.context import LINE_BREAK, FileContext, PythonContext, TextContext
from keyport_lint.errors import debugging, describe
from keyport_lint.finding import Finding
from keyport_lint.kinds import get_kind
from keyport_lint.pipeline.discover import Target, gitignore_spec
from keyport_lint.pipeline.prefilter import PreFilter
from keyport_lint.pipeline.source import Source, SourceError, read_source
from keyport_lint.suppress import Suppression, apply_suppressions, find_suppressions

if TYPE_CHECKING:
    from keyport_lint.index import ProjectIndex


@dataclass
class FileResult:
    display: str
    findings: list[Finding] = field(default_factory=list)
    parsed: bool = False
    secrets: set[str] = field(default_factory=set)  # literal values to redact in any output
    lines: dict[int, str] = field(default_factory=dict)  # raw text of reported lines
    walks: int = 0  # whole-module tree walks and passes the analyses made
    errors: list[str] = field(default_factory=list)  # run-level: internal errors (KP903)
    text: str = ""  # the source, kept while findings are redacted (keys split over lines)


# findings about the whole file: their line 1 is a place to stand, not an excerpt to show
FILE_LEVEL = frozenset({"KP900", "KP903"})


def load(target: Target, cfg: Config) -> Source | SourceError:
    try:
        return read_source(target.path, target.display, target.kind,
                           cfg.settings["max-file-size"])
    except SourceError as exc:
        return exc


def check_file(target: Target, cfg: Config, prefilter: PreFilter,
               project: ProjectIndex | None = None,
               source: Source | SourceError | None = None,
               active: list[Rule] | None = None) -> FileResult:
    """`source` is the already loaded file and `active` the pre-filter's verdict on it, when
    the caller computed them already."""
    result = FileResult(target.display)
    rules = prefilter.enabled
    settings = cfg.settings
    if source is None:
        source = load(target, cfg)
    if isinstance(source, SourceError):
        if _raw_may_matter(target, prefilter):
            _diagnostic(result, rules, "KP900", reason=str(source))
        return result
    text = source.text

    if active is None:
        active = prefilter.rules_for(
            text, target.kind,
            (lambda: project.reaches_keyport(target.path, text)) if project is not None
            else None)
    ctx: FileContext | None = None
    if active:
        if target.kind == "python":
            from keyport_lint.pipeline.parse import ParseFailure, parse_python

            # a module an earlier file's questions made the project index parse: reuse it
            reused = project.reuse(target.path, text, target.display) if project else None
            try:
                module = reused.module if reused is not None else parse_python(
                    text, settings["max-python-lines"])
            except ParseFailure as exc:
                _diagnostic(result, rules, "KP900", reason=f"cannot parse: {exc}")
                module = None
                # keys in an unparsable file are still keys: read as text, as KP104 would
                active = [r for r in active if get_kind(r.kind).name == "secret-pattern"]
                if active:
                    ctx = TextContext(target.display, text, settings, project,
                                      path=target.path)
            if module is not None:
                result.parsed = True
                ctx = reused or PythonContext(target.display, text, module, settings, project,
                                              path=target.path)
        else:
            ctx = TextContext(target.display, text, settings, project, path=target.path)
    if ctx is not None:
        ctx.hold()
    try:
        if ctx is not None:
            _run_rules(ctx, active, "python" if isinstance(ctx, PythonContext) else "text",
                       result, rules)
            try:
                result.findings.extend(ctx.finish())
            except Exception as exc:  # placing findings needs position metadata: deep code
                if debugging():
                    raise
                result.findings.extend(ctx.findings)  # those placed already
                pending = ctx.pending_rules() if isinstance(ctx, PythonContext) else []
                if pending:
                    internal_error(result, rules, _rules_named(pending), exc)
            result.walks = ctx.walks if isinstance(ctx, PythonContext) else 0
            result.secrets |= ctx.secrets

        lines = ctx.lines if ctx is not None else LINE_BREAK.split(text)
        suppressions = find_suppressions(text, lines, target.kind)
        file_ignores = _file_ignores(target, cfg) if result.findings or suppressions else []
        # a file that could not be checked has no findings to judge its suppressions by
        unchecked = any(f.rule in ("KP900", "KP903") for f in result.findings)
        findings = [f for f in result.findings if not _matches_any(f.rule, file_ignores)]
        unsuppressed = list(findings)
        findings = apply_suppressions(findings, suppressions)
        findings += [f for f in _suppression_diagnostics(suppressions, rules, cfg, target.display,
                                                         file_ignores, judge_unused=not unchecked)
                     if not _matches_any(f.rule, file_ignores)]
        result.findings = sorted((f.with_(severity=cfg.severity_of(rules[f.rule]))
                                  for f in findings if f.rule in rules), key=Finding.sort_key)
        if target.kind == "python" and not unchecked:
            from keyport_lint.fix import attach_fixes
            from keyport_lint.fix.base import FixContext

            py = ctx if isinstance(ctx, PythonContext) else None
            result.findings = attach_fixes(result.findings, lambda: FixContext(
                text, lines, py, cfg, suppressions, unsuppressed, file_ignores))
            result.walks = py.walks if py is not None else 0  # fixes may add a position pass
        if unchecked:  # text that did not parse or decode is never shown, not even redacted
            return result
        for finding in result.findings:
            if 0 < finding.line <= len(lines) and finding.rule not in FILE_LEVEL:
                result.lines[finding.line] = lines[finding.line - 1]
        if result.findings:
            result.text = text
        return result
    finally:
        if ctx is not None:
            positions = sys.modules.get("keyport_lint.analysis.positions")
            if positions is not None:  # placed and fixed: this file's positions are done
                ctx.forget(positions.module_positions)
            ctx.let_go()  # its analyses, unless the project index keeps it


def _run_rules(ctx: FileContext, active: list[Rule], kind: str, result: FileResult,
               rules: dict[str, Rule]) -> None:
    """Each rule alone: one that raises (a bug, RecursionError, MemoryError, a pattern out of
    time, a shared analysis it needs that failed) fails alone; the others' findings on this
    file stand. Rules that failed the same way (one shared analysis) share one KP903."""
    from keyport_lint.analysis.context import is_keyport_related

    failed: dict[str, list[str]] = {}  # what went wrong -> rules it stopped
    for rule in active:
        try:
            if rule.context == "keyport" and not ctx.analysis(is_keyport_related):
                continue
            implementation = get_kind(rule.kind)
            if kind == "python":
                implementation.check_python(rule, ctx)  # type: ignore[arg-type]
            else:
                implementation.check_text(rule, ctx)  # type: ignore[arg-type]
        except Exception as exc:  # a bug in a rule must not stop the run or leak source
            if debugging():
                raise
            failed.setdefault(describe(exc), []).append(rule.id)
    for what, ids in failed.items():
        internal_error(result, rules, _rules_named(ids), what)


def _rules_named(ids: list[str]) -> str:
    return f"rule {ids[0]}" if len(ids) == 1 else "rules " + ", ".join(ids)


def internal_error(result: FileResult, rules: dict[str, Rule], where: str,
                   exc: BaseException | str) -> None:
    """KP903 at the file's first line, and a run-level error so the run exits 2 even when
    KP903 is ignored: the gate cannot pass on a file it could not check."""
    what = exc if isinstance(exc, str) else describe(exc)
    result.errors.append(f"{result.display}: internal error in {where} ({what})")
    _diagnostic(result, rules, "KP903", where=where, error=what)


def _raw_may_matter(target: Target, prefilter: PreFilter) -> bool:
    """For a file that cannot be decoded or is too large: could it hold a finding at all?"""
    try:
        with open(target.path, "rb") as handle:
            data = handle.read(64 * 1024 * 1024).lower()
    except OSError:
        return True  # unreadable: we cannot know, so say so
    tokens = {t for tokens, _ in prefilter.triggered.get(target.kind, []) for t in tokens}
    if prefilter.always.get(target.kind):
        return True
    return any(t.encode("utf-8") in data for t in tokens)


def _diagnostic(result: FileResult, rules: dict[str, Rule], code: str, line: int = 1,
                column: int = 1, **fields: str) -> None:
    rule = rules.get(code)
    if rule is None:
        return
    ctx = FileContext(result.display, "", None)  # type: ignore[arg-type]
    ctx.report_at(rule, line, column, line, column, **fields)
    result.findings.extend(ctx.findings)


def _file_ignores(target: Target, cfg: Config) -> list[str]:
    """Codes and prefixes that config `per-file-ignores` switches off for this file."""
    if not cfg.per_file_ignores:
        return []
    try:
        rel = target.path.relative_to(cfg.root).as_posix()
    except ValueError:
        rel = target.display
    ignored: list[str] = []
    for pattern, codes in cfg.per_file_ignores.items():
        if gitignore_spec((pattern,)).match_file(rel):
            ignored.extend(codes)
    return ignored


def _matches_any(code: str, prefixes: Sequence[str]) -> bool:
    return any(code.startswith(p) for p in prefixes)


def _suppression_diagnostics(suppressions: list[Suppression], rules: dict[str, Rule],
                             cfg: Config, display: str, file_ignores: Sequence[str] = (),
                             judge_unused: bool = True) -> list[Finding]:
    """KP902 for malformed suppressions; KP901 for codes that silenced nothing, except codes
    switched off here (select/ignore, per-file-ignores) and in files that could not be checked."""
    out: list[Finding] = []
    known = set(cfg.rule_ids())
    result = FileResult(display)
    for sup in suppressions:
        if not sup.raw_ok:
            _diagnostic(result, rules, "KP902", sup.line, sup.column, reason=sup.problem)
            continue
        unknown = [c for c in sup.codes if c not in known]
        if unknown:
            _diagnostic(result, rules, "KP902", sup.line, sup.column,
                        reason=f"unknown rule code {unknown[0]}")
            continue
        if not judge_unused:
            continue
        unused = [c for c in sup.codes
                  if c not in sup.used and cfg.is_enabled(c) and c != "KP901"
                  and not _matches_any(c, file_ignores)]
        if unused:
            _diagnostic(result, rules, "KP901", sup.line, sup.column, codes=", ".join(unused))
    out.extend(result.findings)
    return out


