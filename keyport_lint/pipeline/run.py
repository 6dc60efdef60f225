"""The whole run: discover → per-file pipeline (cached, in worker processes when it pays) →
redaction and fingerprints → one RunResult.

Everything that leaves `process_file` is already redacted, so worker results, the cache and
every output format only ever see redacted text.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyport_lint.errors import debugging
from keyport_lint.pipeline.discover import Target, discover
from keyport_lint.pipeline.outcome import FileOutcome, anchored_path, redacted
from keyport_lint.pipeline.source import Source, SourceError, read_source
from keyport_lint.settings import marker_regex

if TYPE_CHECKING:  # imported where used: a run served by the cache, or over clean files,
    # never loads the per-file pipeline, findings, fixes or the redactor
    from keyport_lint.catalog import Rule
    from keyport_lint.config import Config
    from keyport_lint.finding import Finding
    from keyport_lint.index import ProjectIndex
    from keyport_lint.modules import DepTree
    from keyport_lint.pipeline.prefilter import PreFilter
    from keyport_lint.redact import Redactor

SUPPRESSION_MARKER = "keyport-lint"  # suppress.MARKER: no suppression comment without it

PARALLEL_MIN_FILES = 8  # files to parse; below this, worker start-up costs more than it saves
BATCH_FILES = 4  # files per task sent to a worker
AHEAD = 2  # batches queued per worker: it never waits for the parent, which takes the rest


class RunResult:
    def __init__(self, findings: list[Finding] | None = None, errors: list[str] | None = None,
                 warnings: list[str] | None = None, files: int = 0, parsed: int = 0,
                 cached: int = 0, walks: int = 0, jobs: int = 1, seconds: float = 0.0) -> None:
        self.findings = findings if findings is not None else []
        self.errors = errors if errors is not None else []
        self.warnings = warnings if warnings is not None else []
        self.files, self.parsed, self.cached, self.walks = files, parsed, cached, walks
        self.jobs, self.seconds = jobs, seconds
        self.excerpts: dict[tuple[str, int], str] = {}  # redacted lines
        # display path -> path relative to its config's folder (baselines), for every file
        self.anchors: dict[str, str] = {}
        self.roots: dict[str, Path] = {}  # display path -> its config's folder
        self.carets: dict[tuple[str, int, int], tuple[int, int]] = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is RunResult and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RunResult({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def redactor_for(cfg: Config) -> Redactor:
    """Every secret shape in force: built-in settings plus user secret-pattern rules,
    selected or not: a match is redacted whether its rule runs, is ignored or suppressed."""
    from keyport_lint.redact import redactor_from

    return redactor_from(cfg.settings, [
        rule.params["pattern"] for rule in cfg.rules
        if rule.kind == "secret-pattern" and rule.params.get("pattern")])


def default_jobs() -> int:
    """The cores this process may use (never more workers than that)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Worker:
    """Per-process state: built once, then every file in that process reuses it."""

    def __init__(self, cfg: Config, cwd: Path) -> None:
        self.cfg = cfg
        self.cwd = cwd
        self.want_deps = True  # dependencies matter only to the cache
        self.listings: dict[str, Any] = {}  # folder listings discovery made
        self.targets: frozenset[str] = frozenset()  # the files this run checks
        # a worker process is sent every file's text: modules it reads (for a digest, a
        # summary) are not kept for a pipeline that never asks for them
        self.reads_ahead = True

    # built on first use: a warm run served wholly by the cache needs none of them
    @cached_property
    def project(self) -> ProjectIndex:
        from keyport_lint.index import ProjectIndex

        project = ProjectIndex(self.cfg.root, self.cfg.settings,
                               marker_regex(self.cfg.settings), self.cwd)
        project.table.seed(self.listings, self.targets)  # each folder listed once per run
        project.table.configured_roots = tuple(self.cfg.src)
        if not self.reads_ahead:
            project.table.read_ahead_budget = 0
        return project

    def become_worker(self) -> None:
        """In a worker process: texts come from the parent, so none is read ahead here."""
        self.reads_ahead = False
        if "project" in vars(self):  # inherited from the parent, built already
            self.project.table.read_ahead_budget = 0

    @cached_property
    def prefilter(self) -> PreFilter:
        from keyport_lint.pipeline.prefilter import build_prefilter

        return build_prefilter(self.cfg.enabled_rules(), self.cfg.settings)

    @cached_property
    def redact(self) -> Redactor:
        return redactor_for(self.cfg)

    def source(self, target: Target) -> Source | SourceError:
        """The file's text, read once per run: the module table may have read it already
        while following another file's imports."""
        ahead = self.project.table.take(target.file, target.display, target.kind)
        if ahead is not None:
            return ahead
        try:
            return read_source(target.path, target.display, target.kind,
                               self.cfg.settings["max-file-size"])
        except SourceError as exc:
            return exc

    def active_rules(self, target: Target, source: Source | SourceError) -> list[Rule] | None:
        """The pre-filter's verdict: the rules that can fire in this file."""
        if isinstance(source, SourceError):
            return None
        table = self.project.table
        path = target.file
        if target.kind == "python":
            module = table.learn(path, source)
            keyport_text = lambda: module.keyport  # noqa: E731
        else:
            keyport_text = lambda: table.text_is_keyport(source)  # noqa: E731
        return self.prefilter.rules_for(
            source.text, target.kind, lambda: table.reaches_keyport(path), source.lower,
            keyport_text)

    def process(self, target: Target, source: Source | SourceError | None = None,
                active: list[Rule] | None = None, consulted_before: set[Any] | None = None
                ) -> FileOutcome:
        """`consulted_before`: what the caller's pre-filter verdict (`active`) consulted."""
        if source is None:
            source = self.source(target)
        if active is None and not isinstance(source, SourceError):
            with self.project.recording() as before:
                active = self.active_rules(target, source)
            consulted_before = (consulted_before or set()) | before
        if active == [] and isinstance(source, Source) and \
                SUPPRESSION_MARKER not in source.lower:
            # no rule can fire and no suppression is there to judge: nothing to run
            outcome = FileOutcome(target.display)
            outcome.deps, outcome.closures = self.dependencies(consulted_before or set(),
                                                               target.file)
            return outcome
        from keyport_lint.pipeline.checkfile import FileResult, check_file, internal_error

        with self.project.recording() as consulted:
            try:
                fr = check_file(target, self.cfg, self.prefilter, self.project, source, active)
            except Exception as exc:  # a stage outside the rules failed: this file only
                if debugging():
                    raise
                fr = FileResult(target.display)
                internal_error(fr, self.prefilter.enabled, "the pipeline", exc)
        consulted |= consulted_before or set()
        outcome = redacted(fr, self.redact, anchored_path(target.file, self.cfg.anchor_root))
        outcome.deps, outcome.closures = self.dependencies(consulted, target.file)
        if outcome.parsed:  # one entry file per parsed file: its dependencies listed flat
            for tree in outcome.closures:
                outcome.deps.update(tree.flatten())
            outcome.closures = []
            outcome.deps.pop(target.file, None)
        return outcome

    def dependencies(self, consulted: set[Any], own: str
                     ) -> tuple[dict[str, str], list[DepTree]]:
        """What a result depends on besides its own bytes: module texts by digest ("-": the
        file is absent or unreadable), folder listings ("dir:" keys, absences included), and
        the import closures its reachability answer walked (as shared trees)."""
        table = self.project.table
        deps: dict[str, str] = {}
        closures: list[DepTree] = []
        if not self.want_deps:
            return deps, closures
        from keyport_lint.modules import ClosureDeps

        for item in consulted:
            if isinstance(item, ClosureDeps):
                closures.append(table.tree(item))
                continue
            dep, digest = table.pair(item)
            if dep != own:
                deps[dep] = digest
        return deps, closures


_STATE: _Worker | None = None


def _init_worker(cfg: Config | None, cwd: Path | None, parent: int | None = None) -> None:
    """In each worker: die with the parent, whatever signal ends it; build state only when
    the process was not forked from a parent that has it."""
    global _STATE
    _die_with_parent(parent)
    if _STATE is None and cfg is not None and cwd is not None:
        _STATE = _Worker(cfg, cwd)
    if _STATE is not None:
        _STATE.become_worker()


def _die_with_parent(parent: int | None = None) -> None:
    """Linux: the kernel kills this process when its parent dies (SIGTERM, SIGKILL, a crash);
    no orphaned worker keeps running, or holds files open, after the run is gone. `parent`:
    the pid that started the pool, so a parent that died before this ran is seen too."""
    if not sys.platform.startswith("linux"):
        return
    import signal

    parent = parent or os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no libc
        return
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(1)


Task = tuple[int, Target, "Source | SourceError", "list[str] | None"]
Settle = Callable[[int, FileOutcome], None]


def _check_batch(state: _Worker, items: list[Task]) -> list[tuple[int, FileOutcome]]:
    """A batch of files: each comes with the text and the pre-filter verdict the parent has."""
    if not items:
        return []  # a run the cache served builds no pre-filter
    rules = state.prefilter.enabled
    return [(i, state.process(target, source,
                              None if active_ids is None else [rules[r] for r in active_ids]))
            for i, target, source, active_ids in items]


def _process_items(items: list[Task]) -> list[tuple[int, FileOutcome]]:
    """In a worker: a batch with the state inherited from the parent (or built at start)."""
    assert _STATE is not None
    return _check_batch(_STATE, items)


def run(paths: list[str], cfg: Config, cwd: Path | None = None, jobs: int = 1,
        cache: object | None = None, targets: list[Target] | None = None,
        tick: Callable[[int], None] | None = None) -> RunResult:
    """Check `paths`. `jobs` > 1 spreads files over worker processes when there are enough
    (never more than the usable cores); `cache` (a keyport_lint.cache.Cache) skips files whose
    result cannot have changed. `targets`: files already discovered (one config's share of a
    monorepo run); `tick(n)`: n more files done (the progress bar)."""
    started = time.perf_counter()
    cwd = cwd or Path.cwd()
    warnings: list[str] = []
    errors: list[str] = []
    listings: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    if targets is None:
        targets, errors = discover(paths, cfg, cwd, warnings, listings)
    result = RunResult(errors=list(errors), warnings=warnings, files=len(targets))
    result.anchors = {t.display: anchored_path(t.file, cfg.anchor_root) for t in targets}
    result.roots = dict.fromkeys(result.anchors, cfg.root)
    jobs = max(1, min(jobs, default_jobs()))
    outcomes = _process_all(targets, cfg, jobs, result, cwd, cache, listings,
                            tick or (lambda n: None))
    for outcome in outcomes:
        result.parsed += outcome.parsed
        result.walks += outcome.walks
        result.errors.extend(outcome.errors)
        result.findings.extend(outcome.findings)
        for line, text in outcome.excerpts.items():
            result.excerpts[(outcome.display, line)] = text
        for where, span in outcome.carets.items():
            line, column = (int(x) for x in where.split(":"))
            result.carets[(outcome.display, line, column)] = (span[0], span[1])
    if cache is not None:
        result.warnings.extend(cache.finish())  # type: ignore[attr-defined]
    result.findings.sort(key=lambda f: f.sort_key())
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _process_all(targets: list[Target], cfg: Config, jobs: int, result: RunResult, cwd: Path,
                 cache: Any, listings: dict[str, Any] | None = None,
                 tick: Callable[[int], None] = lambda n: None) -> list[FileOutcome]:
    """Every file is read once here and judged by the pre-filter; files that need parsing are
    checked in `jobs` processes once there are enough of them (worker processes get their
    text and verdict; this process takes a share too), while the rest (most files of a real
    repository) are settled here."""
    worker = _Worker(cfg, cwd)
    worker.want_deps = cache is not None
    worker.listings = listings or {}
    worker.targets = frozenset(t.file for t in targets)
    out: dict[int, FileOutcome] = {}
    digests: dict[int, tuple[str, tuple[int, int]]] = {}  # what the cache files results under
    verdict_deps: dict[int, dict[str, str]] = {}  # what a verdict made here consulted
    heavy: list[Task] = []
    pool = _Pool(cfg, jobs, cwd, worker) if jobs > 1 else None
    if cache is not None:
        cache.note_stats(targets)

    def settle(i: int, outcome: FileOutcome) -> None:
        """A result, wherever it was computed: into the cache, then kept for the report."""
        outcome.deps.update(verdict_deps.pop(i, {}))
        _store(cache, targets[i], digests.pop(i, None), outcome)
        out[i] = outcome
        tick(1)

    for i, target in enumerate(targets):
        hit = cache.settled(target) if cache is not None else None
        if hit is not None:
            out[i] = hit
            result.cached += 1
            tick(1)
            continue
        source = worker.source(target)
        if isinstance(source, Source):
            digests[i] = (source.digest, source.stat)
            hit = cache.get(target, source.digest) if cache is not None else None
            if hit is not None:
                out[i] = hit
                result.cached += 1
                tick(1)
                continue
        with worker.project.recording() as consulted:
            try:
                active = worker.active_rules(target, source)
            except Exception:  # checked again in `process`, where it becomes a KP903
                if debugging():
                    raise
                active = None
        if pool is not None and active and isinstance(source, Source) and \
                target.kind == "python":
            deps, trees = worker.dependencies(consulted, target.file)
            for tree in trees:
                deps.update(tree.flatten())
            if deps:
                verdict_deps[i] = deps
            heavy.append((i, target, source.without_lower(), [r.id for r in active]))
            if len(heavy) >= (pool.batch_size(len(targets)) if pool.used
                              else PARALLEL_MIN_FILES):
                pool.add(heavy, settle)
                heavy = []
            continue
        settle(i, worker.process(target, source, active, consulted))
    if pool is not None and (pool.used or len(heavy) >= PARALLEL_MIN_FILES):
        pool.add(heavy, settle)
        heavy = []
        pool.finish(settle)
        if pool.started:
            result.jobs = jobs
        if pool.failed:
            result.warnings.append(pool.failed)
    for i, outcome in _check_batch(worker, heavy):  # too few to be worth a worker
        settle(i, outcome)
    return [out[i] for i in range(len(targets))]


def _store(cache: Any, target: Target, read: tuple[str, tuple[int, int]] | None,
           outcome: FileOutcome) -> None:
    """Filed under the hash of the bytes analysed, with the stat taken before reading them.
    Then the outcome keeps only what the report needs: its dependencies (hundreds of module
    and folder digests per parsed file in a large tree) matter to the cache alone, and the
    parent holds every file's outcome until the run ends."""
    if cache is not None and read is not None and not outcome.errors:
        cache.put(target, read[0], outcome, read[1])
    outcome.deps, outcome.closures = {}, []


#: analyses and kinds the workers need: imported once in the parent, before forking
PRELOAD = ("libcst", "keyport_lint.pipeline.checkfile", "keyport_lint.pipeline.parse",
           "keyport_lint.context",
           "keyport_lint.analysis.facts", "keyport_lint.analysis.context",
           "keyport_lint.analysis.taint", "keyport_lint.analysis.handlers",
           "keyport_lint.analysis.verification", "keyport_lint.analysis.results",
           "keyport_lint.analysis.placeholders")


class _Pool:
    """`--jobs N`: N processes check files, this one and N - 1 workers forked on first use
    (after libcst and the analyses are imported here). This one works too: peak memory is the
    sum over processes, each with an interpreter, libcst, the analyses and a project index, so
    an idle parent costs one more for nothing. Workers are fed a few batches ahead, this
    process takes the rest, and each result is settled as soon as it arrives."""

    def __init__(self, cfg: Config, jobs: int, cwd: Path, parent: _Worker) -> None:
        self.cfg, self.jobs, self.cwd, self.parent = cfg, jobs, cwd, parent
        self.workers = max(1, jobs - 1)
        self.executor: Any = None
        self.pending: deque[list[Task]] = deque()  # batches no process has taken yet
        self.running: list[Any] = []  # futures of batches handed to workers
        self.started = False
        self.failed = ""  # why workers could not start (then everything runs here)

    @property
    def used(self) -> bool:
        """Files were offered to the pool (started or not: it owes their results)."""
        return self.started or bool(self.failed or self.pending or self.running)

    def batch_size(self, total: int) -> int:
        """Files read before the pool is offered them: fewer round trips, small enough to
        keep every process busy (parse cost varies a hundredfold between files)."""
        return max(PARALLEL_MIN_FILES // 2, min(16, total // (self.jobs * 8) or 1))

    def add(self, items: list[Task], settle: Settle) -> None:
        """Offer files; past a few waiting batches this process checks some before reading on."""
        for k in range(0, len(items), BATCH_FILES):
            self.pending.append(items[k:k + BATCH_FILES])
        self._pump(settle)
        while len(self.pending) > self.workers * AHEAD:
            self._check_here(settle)
            self._pump(settle)

    def _check_here(self, settle: Settle) -> None:
        """One batch here, from the far end of the queue (workers take the near end)."""
        for i, outcome in _check_batch(self.parent, self.pending.pop()):
            settle(i, outcome)

    def finish(self, settle: Settle) -> None:
        """Check what is left, here and in the workers, until every result is settled."""
        from concurrent.futures import FIRST_COMPLETED, wait

        try:
            while self.pending or self.running:
                self._pump(settle)
                if self.pending:
                    self._check_here(settle)
                elif self.running:
                    wait(self.running, return_when=FIRST_COMPLETED)
        finally:
            if self.executor is not None:
                self.executor.shutdown()

    def _pump(self, settle: Settle) -> None:
        """Settle the batches workers finished; keep each worker `AHEAD` batches ahead."""
        if self.running:
            still = []
            for future in self.running:
                if future.done():
                    for i, outcome in future.result():
                        settle(i, outcome)
                else:
                    still.append(future)
            self.running = still
        if self.failed:
            return
        while self.pending and len(self.running) < self.workers * AHEAD:
            batch = self.pending.popleft()
            try:
                self.running.append(self._submit(batch))
            except (OSError, ImportError) as exc:  # no fork, no semaphores: here it is
                self.pending.appendleft(batch)
                self.failed = (f"worker processes unavailable ({type(exc).__name__}); "
                               "running in one process")
                return

    def _submit(self, batch: list[Task]) -> Any:
        if self.executor is not None:
            return self.executor.submit(_process_items, batch)
        import gc
        import importlib
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _STATE
        forking = "fork" in multiprocessing.get_all_start_methods()
        if forking:
            for name in PRELOAD:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
            _STATE = self.parent  # inherited by every forked worker
        context = multiprocessing.get_context("fork" if forking else None)
        executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_init_worker,
            initargs=(None, None, os.getpid()) if forking else (self.cfg, self.cwd, os.getpid()))
        # the first submit forks the workers: objects alive now are left out of every later
        # collection, so no worker's collector writes to (and copies) the pages it shares
        gc.freeze()
        try:
            future = executor.submit(_process_items, batch)
        finally:
            gc.unfreeze()
        self.executor = executor
        self.started = True
        return future
