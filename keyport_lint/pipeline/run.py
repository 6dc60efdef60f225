"""The whole run: discover → per-file pipeline (cached, in worker processes when it pays) →
redaction and fingerprints → one RunResult.

Everything that leaves `process_file` is already redacted, so worker results, the cache and
every output format only ever see redacted text.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from keyport_lint.catalog import Rule
from keyport_lint.config import Config
from keyport_lint.finding import Finding, Fix
from keyport_lint.index import ProjectIndex
from keyport_lint.pipeline.checkfile import FileResult, check_file, load
from keyport_lint.pipeline.discover import Target, discover
from keyport_lint.pipeline.prefilter import PreFilter, build_prefilter
from keyport_lint.pipeline.source import Source, SourceError
from keyport_lint.redact import Redactor
from keyport_lint.settings import marker_regex

WHITESPACE = re.compile(r"\s+")
PARALLEL_MIN_FILES = 8  # files to parse; below this, worker start-up costs more than it saves


@dataclass
class FileOutcome:
    """One file's redacted result: what workers return and the cache stores."""

    display: str
    findings: list[Finding] = field(default_factory=list)
    excerpts: dict[int, str] = field(default_factory=dict)
    parsed: bool = False
    error: str | None = None
    deps: dict[str, str] = field(default_factory=dict)  # consulted module -> content hash
    # "line:column" -> caret start and end in the redacted excerpt (redaction moves columns)
    carets: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    parsed: int = 0
    cached: int = 0
    jobs: int = 1
    seconds: float = 0.0
    excerpts: dict[tuple[str, int], str] = field(default_factory=dict)  # redacted lines
    # display path -> path relative to its config's folder (baselines), for every file checked
    anchors: dict[str, str] = field(default_factory=dict)
    roots: dict[str, Path] = field(default_factory=dict)  # display path -> its config's folder
    carets: dict[tuple[str, int, int], tuple[int, int]] = field(default_factory=dict)


def redactor_for(cfg: Config) -> Redactor:
    """Every secret shape in force: built-in settings plus user secret-pattern rules,
    selected or not: a match is redacted whether its rule runs, is ignored or suppressed."""
    patterns = list(cfg.settings["key-patterns"]) + list(cfg.settings["secret-patterns"])
    for rule in cfg.rules:
        if rule.kind == "secret-pattern" and rule.params.get("pattern"):
            patterns.append(rule.params["pattern"])
    return Redactor(patterns, cfg.settings["prefix-max"])


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Worker:
    """Per-process state: built once, then every file in that process reuses it."""

    def __init__(self, cfg: Config, cwd: Path) -> None:
        self.cfg = cfg
        self.project = ProjectIndex(cfg.root, cfg.settings, marker_regex(cfg.settings), cwd)
        self.prefilter: PreFilter = build_prefilter(cfg.enabled_rules(), cfg.settings)
        self.redact = redactor_for(cfg)

    def active_rules(self, target: Target, source: Source | SourceError) -> list[Rule] | None:
        """The pre-filter's verdict: the rules that can fire in this file."""
        if isinstance(source, SourceError):
            return None
        text = source.text
        return self.prefilter.rules_for(
            text, target.kind, lambda: self.project.reaches_keyport(target.path, text))

    def process(self, target: Target, source: Source | SourceError | None = None,
                active: list[Rule] | None = None, consulted_before: set[Path] | None = None
                ) -> FileOutcome:
        """`consulted_before`: modules the caller's pre-filter verdict (`active`) read."""
        with self.project.recording() as consulted:
            fr = check_file(target, self.cfg, self.prefilter, self.project, source, active)
        consulted |= consulted_before or set()
        outcome = redacted(fr, self.redact, anchored_path(target.path, self.cfg.anchor_root))
        own = target.path.resolve()
        for path in consulted:
            digest = self.project.content_hash(path)
            if path != own and digest is not None:
                outcome.deps[str(path)] = digest
        return outcome


_STATE: _Worker | None = None


def _init_worker(cfg: Config, cwd: Path) -> None:
    global _STATE
    _STATE = _Worker(cfg, cwd)


def _process_items(items: list[tuple[int, Target]]) -> list[tuple[int, FileOutcome]]:
    assert _STATE is not None
    return [(i, _STATE.process(t)) for i, t in items]


def run(paths: list[str], cfg: Config, cwd: Path | None = None, jobs: int = 1,
        cache: object | None = None, targets: list[Target] | None = None,
        tick: Callable[[int], None] | None = None) -> RunResult:
    """Check `paths`. `jobs` > 1 spreads files over worker processes when there are enough;
    `cache` (a keyport_lint.cache.Cache) skips files whose result cannot have changed.
    `targets`: files already discovered (one config's share of a monorepo run); `tick(n)`:
    n more files done (the progress bar)."""
    started = time.perf_counter()
    cwd = cwd or Path.cwd()
    errors: list[str] = []
    if targets is None:
        targets, errors = discover(paths, cfg, cwd)
    tick = tick or (lambda n: None)
    result = RunResult(errors=list(errors), files=len(targets))
    result.anchors = {t.display: anchored_path(t.path, cfg.anchor_root) for t in targets}
    result.roots = dict.fromkeys(result.anchors, cfg.root)
    outcomes: dict[str, FileOutcome] = {}
    todo: list[Target] = []
    for target in targets:
        hit = cache.get(target) if cache is not None else None  # type: ignore[attr-defined]
        if hit is not None:
            outcomes[target.display] = hit
            result.cached += 1
            tick(1)
        else:
            todo.append(target)
    if todo:
        fresh = _process_all(todo, cfg, jobs, result, cwd, tick)
        for target, outcome in zip(todo, fresh):
            outcomes[target.display] = outcome
            if cache is not None and outcome.error is None:
                cache.put(target, outcome)  # type: ignore[attr-defined]
    for target in targets:
        outcome = outcomes[target.display]
        result.parsed += outcome.parsed
        if outcome.error:
            result.errors.append(outcome.error)
        result.findings.extend(outcome.findings)
        for line, text in outcome.excerpts.items():
            result.excerpts[(outcome.display, line)] = text
        for where, span in outcome.carets.items():
            line, column = (int(x) for x in where.split(":"))
            result.carets[(outcome.display, line, column)] = (span[0], span[1])
    if cache is not None:
        result.warnings.extend(cache.finish())  # type: ignore[attr-defined]
    result.findings.sort(key=Finding.sort_key)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _process_all(todo: list[Target], cfg: Config, jobs: int, result: RunResult, cwd: Path,
                 tick: Callable[[int], None]) -> list[FileOutcome]:
    """Files that need parsing go to worker processes once there are enough of them; the
    rest (most files of a real repository) are settled here by the pre-filter alone, while
    the workers parse."""
    worker = _Worker(cfg, cwd)
    out: dict[int, FileOutcome] = {}
    heavy: list[int] = []
    parallel = _Pool(cfg, jobs, cwd) if jobs > 1 else None
    for i, target in enumerate(todo):
        source = load(target, cfg)
        with worker.project.recording() as consulted:
            active = worker.active_rules(target, source)
        if parallel is not None and active and target.kind == "python":
            heavy.append(i)
            if len(heavy) >= PARALLEL_MIN_FILES:
                parallel.submit([(j, todo[j]) for j in heavy])
                heavy = []
            continue
        out[i] = worker.process(target, source, active, consulted)
        tick(1)
    if parallel is not None:
        if parallel.started:
            parallel.submit([(j, todo[j]) for j in heavy])
            heavy = []
        try:
            out.update(parallel.collect(tick))
            if parallel.started:
                result.jobs = jobs
        except (OSError, ImportError) as exc:  # no fork, no semaphores: one process it is
            result.warnings.append(f"worker processes unavailable ({type(exc).__name__}); "
                                   "running in one process")
            heavy = [j for j in range(len(todo)) if j not in out]
    for i in heavy:
        out[i] = worker.process(todo[i])
        tick(1)
    return [out[i] for i in range(len(todo))]


class _Pool:
    """Worker processes, started on first use (fork where available: no re-import cost)."""

    def __init__(self, cfg: Config, jobs: int, cwd: Path) -> None:
        self.cfg, self.jobs, self.cwd = cfg, jobs, cwd
        self.executor: object | None = None
        self.futures: list[object] = []
        self.started = False

    def submit(self, items: list[tuple[int, Target]]) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if not items:
            return
        if self.executor is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self.executor = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=context, initializer=_init_worker,
                initargs=(self.cfg, self.cwd))
            self.started = True
        # one file per task: parse cost varies a hundredfold between files
        for item in items:
            self.futures.append(self.executor.submit(_process_items, [item]))  # type: ignore

    def collect(self, tick: Callable[[int], None]) -> dict[int, FileOutcome]:
        out: dict[int, FileOutcome] = {}
        try:
            for future in self.futures:
                out.update(future.result())  # type: ignore[attr-defined]
                tick(1)
        finally:
            if self.executor is not None:
                self.executor.shutdown()  # type: ignore[attr-defined]
        return out


def anchored_path(path: Path, root: Path) -> str:
    """The file's path relative to its config's folder: what fingerprints and baselines use,
    so they match whichever subfolder the run starts from."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # symlinks between them
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _redacted_fix(fix: Fix | None, redact: Redactor, secrets: set[str]) -> Fix | None:
    """Fixes copy no source text; should an edit or title still hold a secret, the fix is
    dropped (a redacted edit would write `…` into the file)."""
    if fix is None:
        return None
    texts = [fix.title, *(e.content for e in fix.edits)]
    return fix if all(redact(t, secrets) == t for t in texts) else None


def redacted(fr: FileResult, redact: Redactor, anchor: str | None = None) -> FileOutcome:
    """Fingerprints and redaction for one file; raw lines and secrets stop here.

    `anchor`: the path fingerprints hash (see `anchored_path`); the display path otherwise."""
    outcome = FileOutcome(fr.display, parsed=fr.parsed,
                          error=redact(fr.error, fr.secrets) if fr.error else None)
    seen: dict[tuple[str, str], int] = {}
    for finding in fr.findings:
        raw_line = fr.lines.get(finding.line, "")
        normalised = WHITESPACE.sub(" ", redact.hashed(raw_line, fr.secrets)).strip()
        occurrence = seen.get((finding.rule, normalised), 0)
        seen[(finding.rule, normalised)] = occurrence + 1
        digest = hashlib.sha256(
            f"{finding.rule}\0{anchor or finding.path}\0{normalised}\0{occurrence}".encode(
                "utf-8", "surrogatepass")).hexdigest()[:20]
        outcome.findings.append(finding.with_(
            message=redact(finding.message, fr.secrets), help=redact(finding.help, fr.secrets),
            fingerprint=digest, fix=_redacted_fix(finding.fix, redact, fr.secrets)))
        if raw_line:
            shown = redact(raw_line, fr.secrets)
            outcome.excerpts[finding.line] = shown
            if shown != raw_line:
                end = finding.end_column if finding.end_line == finding.line else len(raw_line) + 1
                start = len(redact(raw_line[:finding.column - 1], fr.secrets)) + 1
                stop = len(redact(raw_line[:max(end - 1, 0)], fr.secrets)) + 1
                outcome.carets[f"{finding.line}:{finding.column}"] = (start, max(stop, start + 1))
    return outcome
