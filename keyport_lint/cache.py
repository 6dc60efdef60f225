"""A content cache of per-file results, so a warm re-run reads files but parses none.

An entry is valid only when everything its result could depend on is unchanged: the file's
bytes, the linter and Python versions, the effective config (extended files and rule files
included), and every project module the file's analysis consulted through the project index,
transitively (recorded by the index itself, memoised answers included) — a change to the module
that defines KEYPORT_API_KEY, or to a verifier elsewhere, invalidates the files that used it,
and so does a change that alters a pre-filter "skip" verdict.
Entries hold only redacted results (messages, excerpts, fingerprints): never a key or secret.
Writes are atomic (temporary file, then rename), so parallel hook runs cannot corrupt it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from keyport_lint import __version__
from keyport_lint.config import Config
from keyport_lint.finding import Finding
from keyport_lint.pipeline.discover import Target
from keyport_lint.pipeline.run import FileOutcome
from keyport_lint.pipeline.source import file_digest

FORMAT = "v1"
PRUNE_AFTER_DAYS = 30
CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by keyport-lint.\n")


def cache_dir_for(cfg: Config, no_cache: bool = False) -> Path | None:
    if no_cache:
        return None
    env = os.environ.get("KEYPORT_LINT_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if cfg.cache_dir:
        return Path(cfg.cache_dir)
    return cfg.root / ".keyport-lint-cache"


class Cache:
    def __init__(self, directory: Path, cfg: Config) -> None:
        self.root = directory
        self.dir = directory / FORMAT
        self.salt = hashlib.sha256(
            f"{__version__}\0{sys.version}\0{cfg.fingerprint()}".encode()).hexdigest()
        self._hashes: dict[Path, str | None] = {}
        self.writable = True
        self.warnings: list[str] = []

    def content_hash(self, path: Path) -> str | None:
        if path not in self._hashes:
            self._hashes[path] = file_digest(path)
        return self._hashes[path]

    def _entry(self, target: Target) -> Path:
        name = hashlib.sha256(str(target.path).encode("utf-8", "surrogatepass")).hexdigest()
        return self.dir / name[:2] / f"{name}.json"

    # -- lookups ---------------------------------------------------------------------------
    def get(self, target: Target) -> FileOutcome | None:
        entry = self._entry(target)
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
            if data.get("salt") != self.salt or data.get("display") != target.display:
                return None
            if data.get("hash") != self.content_hash(target.path):
                return None
            for dep, digest in data.get("deps", {}).items():
                if self.content_hash(Path(dep)) != digest:
                    return None
            outcome = FileOutcome(
                display=data["display"],
                findings=[Finding(**f) for f in data["findings"]],
                excerpts={int(k): v for k, v in data["excerpts"].items()},
                carets={k: (v[0], v[1]) for k, v in data.get("carets", {}).items()},
                parsed=False,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, corrupt or foreign: recompute
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used entries survive pruning
        return outcome

    def put(self, target: Target, outcome: FileOutcome) -> None:
        if not self.writable:
            return
        digest = self.content_hash(target.path)
        if digest is None:
            return
        deps = {path: outcome.deps[path] for path in sorted(outcome.deps)}
        data = {
            "salt": self.salt, "display": outcome.display, "hash": digest, "deps": deps,
            "findings": [f.as_dict() for f in outcome.findings],
            "excerpts": {str(k): v for k, v in outcome.excerpts.items()},
            "carets": {k: list(v) for k, v in outcome.carets.items()},
        }
        try:
            self._prepare()
            entry = self._entry(target)
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False)
            os.replace(tmp, entry)
        except OSError as exc:
            self.writable = False
            self.warnings.append(f"cache folder {self.root} is not writable "
                                 f"({exc.strerror or exc}); running without a cache")

    def _prepare(self) -> None:
        if self.dir.is_dir():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.root / ".gitignore").write_text("# created by keyport-lint\n*\n")
        (self.root / "CACHEDIR.TAG").write_text(CACHEDIR_TAG)

    def finish(self) -> list[str]:
        """Prune entries unused for a month, at most once a day."""
        if self.writable and self.dir.is_dir():
            stamp = self.dir / ".last-prune"
            now = time.time()
            try:
                due = not stamp.exists() or now - stamp.stat().st_mtime > 86400
                if due:
                    stamp.touch()
                    for entry in self.dir.glob("*/*.json"):
                        if now - entry.stat().st_mtime > PRUNE_AFTER_DAYS * 86400:
                            entry.unlink()
            except OSError:
                pass
        return self.warnings
