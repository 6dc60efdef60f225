"""The language server's view of a workspace, without any protocol: configs discovered per file
as the CLI does, open buffers, and one check of one buffer through the shared pipeline
(`pipeline/buffer.py`).

Other project modules are read through the project index; an open buffer shadows its file on
disk, so an unsaved edit to `settings.py` already changes what `views.py` is told. Each check
gets a fresh index (its memos are per run; a one-file check reads only what the file imports),
and records the modules it consulted, so a change to one re-checks the open files that used it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from keyport_lint.config import CONFIG_NAMES, Config, ConfigTree, load_config
from keyport_lint.errors import UserError
from keyport_lint.finding import Finding
from keyport_lint.index import ProjectIndex
from keyport_lint.pipeline.buffer import buffer_target, check_text
from keyport_lint.pipeline.discover import Target
from keyport_lint.pipeline.run import _Worker, redactor_for
from keyport_lint.redact import Redactor
from keyport_lint.settings import marker_regex


class OverlayIndex(ProjectIndex):
    """The project index, with the editor's open buffers in place of their files on disk."""

    def __init__(self, cfg: Config, cwd: Path, overlay: Mapping[Path, str]) -> None:
        super().__init__(cfg.root, cfg.settings, marker_regex(cfg.settings), cwd)
        self.overlay = overlay

    def text(self, path: Path) -> str | None:
        if path in self.overlay:
            self._touch([path])
            return self.overlay[path]
        return super().text(path)

    def content_hash(self, path: Path) -> str | None:
        if path in self.overlay:
            return hashlib.sha256(self.overlay[path].encode("utf-8", "surrogatepass")).hexdigest()
        return super().content_hash(path)


@dataclass
class Checked:
    """One check of one buffer: redacted findings, and what the check depended on."""

    path: Path
    text: str  # the buffer as checked (code actions compute their edits against it)
    findings: list[Finding] = field(default_factory=list)
    target: Target | None = None  # None: excluded, or a file type keyport-lint does not read
    config: Config | None = None
    deps: frozenset[Path] = frozenset()  # project modules the check consulted
    error: str | None = None  # redacted: an internal error in a rule, or a config error


def is_config_file(path: Path) -> bool:
    return path.name in CONFIG_NAMES or path.name == "pyproject.toml"


class Session:
    """Configs and buffers of one workspace folder. `check` is called from one worker thread
    at a time; the lock keeps a config reload from swapping the tree under a running check."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.buffers: dict[Path, str] = {}
        self._lock = threading.RLock()
        self._workers: dict[int, _Worker] = {}
        self.tree: ConfigTree | None = None
        self.config_error: str | None = None
        self.reload()

    # -- configuration -------------------------------------------------------------------
    def reload(self) -> None:
        """Discover the configs again (a config or rule file changed)."""
        with self._lock:
            self._workers.clear()
            try:
                base = load_config(None, cwd=self.root)
                self.tree = ConfigTree(base, self.root)
                self.config_error = None
            except UserError as exc:
                self.tree = None
                self.config_error = exc.render()

    def config_sources(self) -> set[Path]:
        """Every file that shaped a config in use (configs, extended configs, rule files)."""
        with self._lock:
            if self.tree is None:
                return set()
            return {p.resolve() for cfg in self.tree.configs() for p in cfg.sources}

    def shapes_config(self, path: Path) -> bool:
        return is_config_file(path) or path.resolve() in self.config_sources()

    def redactor(self, path: Path | None = None) -> Redactor:
        """The redactor of the config governing `path` (the workspace's when unknown): every
        string the server sends or logs goes through one."""
        with self._lock:
            cfg: Config | None = None
            if self.tree is not None:
                try:
                    cfg = self.tree.for_file(path) if path is not None else self.tree.base
                except UserError:
                    cfg = self.tree.base
            return redactor_for(cfg or Config(root=self.root))

    def config_for(self, path: Path) -> Config | None:
        with self._lock:
            if self.tree is None:
                return None
            try:
                return self.tree.for_file(path)
            except UserError:
                return None

    # -- checking ------------------------------------------------------------------------
    def check(self, path: Path, text: str) -> Checked:
        """The buffer `text` checked as the file `path`. Raises only on a bug outside the
        rules (the rules' own errors are in `error`, as in a CLI run)."""
        path = path.resolve()
        with self._lock:
            if self.tree is None:
                return Checked(path, text, error=self.config_error)
            try:
                cfg = self.tree.for_file(path)
            except UserError as exc:
                return Checked(path, text, error=exc.render())
            target = buffer_target(path, cfg, self.root, self.tree.base)
            if target is None:
                return Checked(path, text, config=cfg)
            worker = self._workers.get(id(cfg))
            if worker is None:
                worker = self._workers[id(cfg)] = _Worker(cfg, self.root)
            overlay = {p: t for p, t in self.buffers.items() if p != path}
            worker.project = OverlayIndex(cfg, self.root, overlay)
            outcome = check_text(text, target, cfg, worker)
        return Checked(path, text, outcome.findings, target, cfg,
                       frozenset(Path(p) for p in outcome.deps), outcome.error)
