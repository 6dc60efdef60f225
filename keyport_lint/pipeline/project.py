"""A run over a tree that may hold several configs (a monorepo): discover once, group the files
by the config that governs each (the nearest above it), check each group under its own config
(its exclude, rules, settings, project root and cache), and merge the results.

With one config — the usual case — this is exactly one `run` over the discovered files.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.errors import UserError
from keyport_lint.pipeline.discover import Target, discover, display_path
from keyport_lint.pipeline.run import RunResult, default_jobs, run

if TYPE_CHECKING:
    from keyport_lint.config import Config, ConfigTree

PROGRESS_AFTER_SECONDS = 1.0


def discover_project(paths: list[str], tree: ConfigTree
                     ) -> tuple[list[Target], list[str]]:
    """The files to check, sorted, and run-level errors (see `groups`)."""
    groups, errors = _groups(paths, tree)
    targets = [t for _, group in groups for t in group]
    return sorted(targets, key=lambda t: t.display), errors


def _groups(paths: list[str], tree: ConfigTree, warnings: list[str] | None = None
            ) -> tuple[list[tuple[Config, list[Target]]], list[str]]:
    """Walk under the working directory's config (.gitignore, its exclude), then apply each
    file's own config: its `exclude` and file types decide whether the file stays. What the
    walk had to skip (folders it cannot list, special files) goes to `warnings`."""
    tree.name_arguments(paths)
    targets, errors = discover(paths, tree.base, tree.cwd, warnings)
    if tree.explicit:
        return [(tree.base, targets)], errors
    grouped: dict[int, tuple[Config, list[Target]]] = {}
    broken: dict[str, int] = {}
    for target in targets:
        try:
            cfg = tree.for_file(target.file)
        except UserError as exc:  # that sub-project's files go unchecked: an error, exit 2
            if exc.path and Path(exc.path).is_absolute():
                exc.path = display_path(Path(exc.path), tree.cwd)
            broken[exc.render()] = broken.get(exc.render(), 0) + 1
            continue
        grouped.setdefault(id(cfg), (cfg, []))[1].append(target)
    for message, count in broken.items():
        errors.append(f"{message} ({count} file{'s' if count != 1 else ''} under it not "
                      "checked)")
    out = []
    for cfg, group in grouped.values():
        if cfg is not tree.base:  # its own exclude applies to its files
            kept, _ = discover([t.file for t in group], cfg, tree.cwd)
            keep = {t.file for t in kept}
            group = [t for t in group if t.file in keep]
        out.append((cfg, group))
    return out, errors


def run_project(paths: list[str], tree: ConfigTree, jobs: int | None = None,
                no_cache: bool = False, progress: bool = False) -> RunResult:
    from keyport_lint.cache import Cache, cache_dir_for

    skipped: list[str] = []
    groups, errors = _groups(paths, tree, skipped)
    total = sum(len(group) for _, group in groups)
    bar = _Progress(total) if progress else None
    merged = RunResult(errors=list(errors), warnings=skipped)
    try:
        for cfg, group in groups:
            directory = cache_dir_for(cfg, no_cache)
            cache = Cache(directory, cfg) if directory is not None else None
            part = run([], cfg, tree.cwd, jobs=jobs or default_jobs(), cache=cache,
                       targets=group, tick=bar.tick if bar else None)
            _merge(merged, part)
    finally:
        if bar is not None:
            bar.close()
    merged.findings.sort(key=lambda f: f.sort_key())
    return merged


def _merge(into: RunResult, part: RunResult) -> None:
    into.findings += part.findings
    into.errors += part.errors
    into.warnings += part.warnings
    into.files += part.files
    into.parsed += part.parsed
    into.cached += part.cached
    into.walks += part.walks
    into.jobs = max(into.jobs, part.jobs)
    into.seconds = round(into.seconds + part.seconds, 3)
    into.excerpts.update(part.excerpts)
    into.carets.update(part.carets)
    into.anchors.update(part.anchors)
    into.roots.update(part.roots)


class _Progress:
    """click's progress bar on stderr, only on a terminal and only once the run has taken
    about a second: never in pipes, files or CI logs, never for a quick hook run."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.started = time.monotonic()
        self.bar: object | None = None
        self.enabled = total > 0 and sys.stderr.isatty()

    def tick(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.started < PROGRESS_AFTER_SECONDS:
                return
            import click

            self.bar = click.progressbar(length=self.total, label="Checking", file=sys.stderr,
                                         show_pos=True)
            self.bar.__enter__()  # type: ignore[attr-defined]
            self.bar.update(self.done)  # type: ignore[attr-defined]
            return
        self.bar.update(n)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Erase the bar (and show the cursor again) so the report starts on a clean line."""
        if self.bar is not None:
            sys.stderr.write("\r\033[2K\033[?25h")
            sys.stderr.flush()
            self.bar = None
