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
    """Configs and buffers of one workspace folder. `check` and `reload` run on the server's
    one worker thread, never at the same time; the event loop only reads (`tree` is replaced
    whole on reload, never changed in place) and writes `buffers` (whole entries)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.buffers: dict[Path, str] = {}
        self._workers: dict[int, _Worker] = {}
        self._redactors: dict[int, tuple[Config, Redactor]] = {}
        self.tree: ConfigTree | None = None
        self.config_error: str | None = None
        self.reload()

    # -- configuration -------------------------------------------------------------------
    def reload(self) -> None:
        """Discover the configs again (a config or rule file changed)."""
        self._workers = {}
        try:
            base = load_config(None, cwd=self.root)
            self.tree, self.config_error = ConfigTree(base, self.root), None
        except UserError as exc:
            self.tree, self.config_error = None, exc.render()

    def config_sources(self) -> set[Path]:
        """Every file that shaped a config in use (configs, extended configs, rule files)."""
        tree = self.tree
        if tree is None:
            return set()
        return {p.resolve() for cfg in tree.configs() for p in cfg.sources}

    def shapes_config(self, path: Path) -> bool:
        return is_config_file(path) or path.resolve() in self.config_sources()

    def config_for(self, path: Path | None) -> Config | None:
        tree = self.tree
        if tree is None:
            return None
        if path is None:
            return tree.base
        try:
            return tree.for_file(path)
        except UserError:
            return tree.base

    def redactor(self, path: Path | None = None, cfg: Config | None = None) -> Redactor:
        """The redactor of `cfg`, or of the config governing `path` (the workspace's when
        unknown): every string the server sends or logs goes through one."""
        cfg = cfg or self.config_for(path) or Config(root=self.root)
        known = self._redactors.get(id(cfg))
        if known is None or known[0] is not cfg:
            known = self._redactors[id(cfg)] = (cfg, redactor_for(cfg))
        return known[1]

    # -- checking ------------------------------------------------------------------------
    def check(self, path: Path, text: str) -> Checked:
        """The buffer `text` checked as the file `path`. Raises only on a bug outside the
        rules (the rules' own errors are in `error`, as in a CLI run)."""
        path = path.resolve()
        tree = self.tree
        if tree is None:
            return Checked(path, text, error=self.config_error)
        try:
            cfg = tree.for_file(path)
        except UserError as exc:
            return Checked(path, text, error=exc.render())
        target = buffer_target(path, cfg, self.root, tree.base)
        if target is None:
            return Checked(path, text, config=cfg)
        worker = self._workers.get(id(cfg))
        if worker is None:
            worker = self._workers[id(cfg)] = _Worker(cfg, self.root)
        overlay = dict(self.buffers)  # one copy, taken whole (the loop thread writes to it)
        overlay.pop(path, None)
        worker.project = OverlayIndex(cfg, self.root, overlay)
        outcome = check_text(text, target, cfg, worker)
        return Checked(path, text, outcome.findings, target, cfg,
                       frozenset(Path(p) for p in outcome.deps),
                       "; ".join(outcome.errors) or None)
