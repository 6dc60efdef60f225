"""One source text checked as if it were the file at a given path: `check --stdin-filename`
and the language server share this entry point.

The path decides everything the file would get on disk (its config, `exclude`,
per-file-ignores, the project root the index reads other modules from); only the text comes
from the caller. Nothing is cached: the text is not the file on disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.pipeline.discover import Target, display_path, file_kind, gitignore_spec
from keyport_lint.pipeline.outcome import FileOutcome, anchored_path
from keyport_lint.pipeline.run import RunResult, _Worker
from keyport_lint.pipeline.source import Source, SourceError, decode

if TYPE_CHECKING:
    from keyport_lint.config import Config, ConfigTree


@dataclass
class BufferRun:
    """A check of one text: the report's input, and the decoded text (what `--fix` rewrites
    and prints instead of the report)."""

    result: RunResult
    text: str | None  # None when the input could not be decoded
    target: Target | None  # None: excluded, or not a file type keyport-lint reads


def buffer_target(path: Path, cfg: Config, cwd: Path, base: Config | None = None
                  ) -> Target | None:
    """The target the file at `path` would be, whether or not it exists on disk; None when
    discovery would skip it (not a type keyport-lint reads, or excluded by the config that
    governs it or by the working folder's config, as for a file named on the command line)."""
    kind = file_kind(path, cfg)
    if kind is None:
        return None
    for config in (cfg, base) if base is not None and base is not cfg else (cfg,):
        if is_excluded(path, config):
            return None
    return Target(path, display_path(path, cwd), kind, True)


def is_excluded(path: Path, cfg: Config) -> bool:
    """Config `exclude` (gitignore patterns relative to the config's folder) on the file or a
    folder above it; a file outside the config's folder is not excluded by it."""
    if not cfg.exclude:
        return False
    try:
        parts = path.relative_to(cfg.root).parts
    except ValueError:
        try:
            parts = path.resolve().relative_to(cfg.root.resolve()).parts
        except ValueError:
            return False
    spec = gitignore_spec(tuple(cfg.exclude))
    folders = ("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    return any(spec.match_file(f) for f in folders) or spec.match_file("/".join(parts))


def absolute(filename: str, cwd: Path) -> Path:
    given = Path(filename)
    return Path(os.path.normpath(given if given.is_absolute() else cwd / given))


def check_text(text: str | SourceError, target: Target, cfg: Config, worker: _Worker
               ) -> FileOutcome:
    """The text through the whole per-file pipeline, redacted, with the project modules it
    consulted (`deps`). `worker` holds the config's pre-filter, project index and redactor
    (the server keeps one per config; its index may read open buffers instead of the disk)."""
    source = text if isinstance(text, SourceError) else Source(
        target.path, target.display, target.kind, text)
    return worker.process(target, source)


def decode_input(data: bytes, kind: str, max_size: int) -> str | SourceError:
    """Bytes as the file on disk would be decoded (cookie, BOM), within the size limit."""
    if len(data) > max_size:
        return SourceError(f"input is {len(data)} bytes, over the {max_size}-byte limit "
                           "(settings.max-file-size)")
    try:
        return decode(data, kind)
    except SourceError as exc:
        return exc


def run_buffer(data: bytes, filename: str, tree: ConfigTree) -> BufferRun:
    """`check --stdin-filename FILENAME -`: a RunResult for the one text, as if it were
    FILENAME (an excluded FILENAME gives an empty result: zero files, no error)."""
    cwd = tree.cwd
    path = absolute(filename, cwd)
    cfg = tree.for_file(path)
    target = buffer_target(path, cfg, cwd, tree.base)
    result = RunResult()
    if target is None:
        return BufferRun(result, None, None)
    text = decode_input(data, target.kind, cfg.settings["max-file-size"])
    outcome = check_text(text, target, cfg, _Worker(cfg, cwd))
    result.files = 1
    result.parsed = int(outcome.parsed)
    result.errors.extend(outcome.errors)
    result.findings = sorted(outcome.findings, key=lambda f: f.sort_key())
    result.excerpts = {(outcome.display, line): t for line, t in outcome.excerpts.items()}
    for where, span in outcome.carets.items():
        line, column = (int(x) for x in where.split(":"))
        result.carets[(outcome.display, line, column)] = (span[0], span[1])
    result.anchors = {target.display: anchored_path(target.path, cfg.anchor_root)}
    result.roots = {target.display: cfg.root}
    return BufferRun(result, None if isinstance(text, SourceError) else text, target)
