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
from keyport_lint.fix import fix_from_dict
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


STAMP_SLACK_NS = 2_000_000_000  # a file changed this soon after its stamp may share its mtime


def _encode(outcome: FileOutcome) -> dict:
    return {
        "display": outcome.display, "deps": dict(sorted(outcome.deps.items())),
        "findings": [f.as_dict() for f in outcome.findings],
        "excerpts": {str(k): v for k, v in outcome.excerpts.items()},
        "carets": {k: list(v) for k, v in outcome.carets.items()},
    }


def _decode(data: dict) -> FileOutcome:
    return FileOutcome(
        display=data["display"],
        findings=[Finding(**{**f, "fix": fix_from_dict(f.get("fix"))})
                  for f in data["findings"]],
        excerpts={int(k): v for k, v in data["excerpts"].items()},
        carets={k: (v[0], v[1]) for k, v in data.get("carets", {}).items()},
        parsed=False,
        deps=dict(data.get("deps", {})),
    )


class Cache:
    """Two layers. Parsed files get one entry each, keyed by content hash. In front of that, a
    stamps file per config maps each path to (size, mtime, content hash) and, for files the
    pre-filter settled, their whole (usually empty) outcome: a warm run then neither reads
    nor hashes an unchanged file, as ruff's cache does. A stamp is trusted only when the file's
    mtime is older than the stamp by a margin, so an edit within the same clock tick is seen."""

    def __init__(self, directory: Path, cfg: Config) -> None:
        self.root = directory
        self.dir = directory / FORMAT
        self.salt = hashlib.sha256(
            f"{__version__}\0fixes-1\0{sys.version}\0{cfg.fingerprint()}".encode()).hexdigest()
        self._hashes: dict[Path, str | None] = {}
        self.writable = True
        self.warnings: list[str] = []
        self.started_ns = time.time_ns()
        self.stamps_file = self.dir / f"stamps-{self.salt[:20]}.json"
        self._stamps: dict[str, list] = self._load_stamps()
        self._dirty = False

    def _load_stamps(self) -> dict[str, list]:
        self._paths: list[str] = []
        self._path_index: dict[str, int] = {}
        try:
            data = json.loads(self.stamps_file.read_text(encoding="utf-8"))
            paths, stamps = data["paths"], data["stamps"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        if not isinstance(paths, list) or not isinstance(stamps, dict):
            return {}
        self._paths = [str(p) for p in paths]
        self._path_index = {p: i for i, p in enumerate(self._paths)}
        return {k: v for k, v in stamps.items() if isinstance(v, list) and len(v) == 5}

    def _deps_key(self, deps: dict[str, str]) -> list:
        """[combined digest, path indices]: a light file's dependencies in a few bytes."""
        indices = []
        for path in sorted(deps):
            if path not in self._path_index:
                self._path_index[path] = len(self._paths)
                self._paths.append(path)
            indices.append(self._path_index[path])
        return [_combined(deps), indices]

    def _light_deps_unchanged(self, key: list) -> bool:
        try:
            digest, indices = key
            current = {self._paths[i]: self.content_hash(Path(self._paths[i])) for i in indices}
        except (ValueError, IndexError, TypeError):
            return False
        return None not in current.values() and _combined(current) == digest

    def content_hash(self, path: Path) -> str | None:
        if path in self._hashes:
            return self._hashes[path]
        key = str(path)
        try:
            st = os.stat(path)
        except OSError:
            self._hashes[path] = None
            return None
        rec = self._stamps.get(key)
        if rec and rec[0] == st.st_size and rec[1] == st.st_mtime_ns and \
                st.st_mtime_ns < rec[3] - STAMP_SLACK_NS:
            digest = rec[2]
        else:
            digest = file_digest(path)
            if digest is not None:
                self._stamps[key] = [st.st_size, st.st_mtime_ns, digest, self.started_ns, None]
                self._dirty = True
        self._hashes[path] = digest
        return digest

    def _deps_unchanged(self, deps: dict) -> bool:
        return all(self.content_hash(Path(dep)) == digest for dep, digest in deps.items())

    def _entry(self, target: Target) -> Path:
        name = hashlib.sha256(str(target.path).encode("utf-8", "surrogatepass")).hexdigest()
        return self.dir / name[:2] / f"{name}.json"

    # -- lookups ---------------------------------------------------------------------------
    def get(self, target: Target) -> FileOutcome | None:
        digest = self.content_hash(target.path)
        if digest is None:
            return None
        rec = self._stamps.get(str(target.path))
        if rec and rec[2] == digest and isinstance(rec[4], dict):
            try:
                light = dict(rec[4])
                deps_key = light.pop("deps_key", None)
                light["deps"] = {}
                outcome = _decode(light)
                if outcome.display == target.display and deps_key is not None and \
                        self._light_deps_unchanged(deps_key):
                    return outcome
            except (ValueError, KeyError, TypeError):
                pass
        entry = self._entry(target)
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
            if data.get("salt") != self.salt or data.get("display") != target.display:
                return None
            if data.get("hash") != digest or not self._deps_unchanged(data.get("deps", {})):
                return None
            outcome = _decode(data)
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
        if not outcome.parsed:  # settled by the pre-filter: kept in the stamps file
            rec = self._stamps.get(str(target.path))
            if rec is not None and rec[2] == digest:
                light = _encode(outcome)
                light["deps_key"] = self._deps_key(light.pop("deps"))
                rec[4] = light
                self._dirty = True
            return
        data = {"salt": self.salt, "hash": digest, **_encode(outcome)}
        try:
            self._prepare()
            entry = self._entry(target)
            entry.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(entry, data)
        except OSError as exc:
            self._unwritable(exc)

    def _unwritable(self, exc: OSError) -> None:
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
        """Save the stamps; prune entries unused for a month, at most once a day."""
        if self.writable and self._dirty:
            try:
                self._prepare()
                _write_atomic(self.stamps_file, {"paths": self._paths, "stamps": self._stamps})
            except OSError as exc:
                self._unwritable(exc)
        if self.writable and self.dir.is_dir():
            stamp = self.dir / ".last-prune"
            now = time.time()
            try:
                due = not stamp.exists() or now - stamp.stat().st_mtime > 86400
                if due:
                    stamp.touch()
                    for entry in [*self.dir.glob("*/*.json"), *self.dir.glob("stamps-*.json")]:
                        if now - entry.stat().st_mtime > PRUNE_AFTER_DAYS * 86400:
                            entry.unlink()
            except OSError:
                pass
        return self.warnings


def _combined(deps: dict[str, str | None]) -> str:
    text = "\0".join(f"{path}\0{digest}" for path, digest in sorted(deps.items()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _write_atomic(path: Path, data: object) -> None:
    """Temporary file, then rename: parallel runs never see a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
