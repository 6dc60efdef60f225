"""A content cache of per-file results, so a warm re-run reads files but parses none.

An entry is valid only when everything its result could depend on is unchanged: the exact bytes
analysed (results are filed under their hash, taken as they were read), the linter and Python
versions, the effective config (extended files and rule files included), and every project
module the file's analysis consulted through the project index, transitively — module texts by
hash, and the folder listings that import resolution read, so a module created later (one a
file's imports looked for, or one that shadows another) is seen.

No one else can write it: every file is authenticated (HMAC-SHA256) with a random key kept in
the user's cache home (`$XDG_CACHE_HOME/keyport-lint/key`, else `~/.cache/keyport-lint/key`),
outside the project, so entries a repository ships (committed, or copied from another machine)
are never trusted. Entries of the wrong shape are misses, never errors. Entries hold only
redacted results and digests; a file whose path may hold a key is not cached at all.
Writes are atomic (temporary file, then rename); temporary files of a run that died mid-write
are removed by the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyport_lint import __version__
from keyport_lint.cachefiles import (
    CACHEDIR_TAG,
    GITIGNORE,
    check_cache_folder,
    key_file,
    load_key,
    remove_orphaned_temps,
    write_atomic,
)
from keyport_lint.config import Config
from keyport_lint.pipeline.discover import Target
from keyport_lint.pipeline.outcome import FileOutcome
from keyport_lint.pipeline.source import file_digest

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.modules import DepTree

FORMAT = "v2"
PRUNE_AFTER_DAYS = 30
STAMP_SLACK_NS = 2_000_000_000  # a file changed this soon after its stamp may share its mtime


def cache_dir_for(cfg: Config, no_cache: bool = False) -> Path | None:
    if no_cache:
        return None
    env = os.environ.get("KEYPORT_LINT_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if cfg.cache_dir:
        return Path(cfg.cache_dir)
    return cfg.root / ".keyport-lint-cache"


def _encode(outcome: FileOutcome) -> dict:
    return {
        "display": outcome.display,
        "findings": [f.as_dict() for f in outcome.findings],
        "excerpts": {str(k): v for k, v in outcome.excerpts.items()},
        "carets": {k: list(v) for k, v in outcome.carets.items()},
    }


def _decode(data: Any) -> FileOutcome:
    """Shape-checked: anything unexpected raises ValueError (a miss)."""
    if not isinstance(data, dict) or not isinstance(data.get("display"), str):
        raise ValueError("bad entry")
    findings = data.get("findings")
    excerpts = data.get("excerpts", {})
    carets = data.get("carets", {})
    if not isinstance(findings, list) or not isinstance(excerpts, dict) or \
            not isinstance(carets, dict):
        raise ValueError("bad entry")
    try:
        return FileOutcome(
            display=data["display"],
            findings=[_finding(f) for f in findings],
            excerpts={int(k): _str(v) for k, v in excerpts.items()},
            carets={_str(k): (int(v[0]), int(v[1])) for k, v in carets.items()},
            parsed=False,
        )
    except (TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ValueError("bad entry") from exc


def _finding(data: Any) -> Finding:
    from keyport_lint.finding import Finding
    from keyport_lint.fix import fix_from_dict

    if not isinstance(data, dict):
        raise ValueError("bad finding")
    finding = Finding(**{**data, "fix": fix_from_dict(data.get("fix"))})
    for name in ("rule", "name", "severity", "path", "message"):
        if not isinstance(getattr(finding, name), str):
            raise ValueError("bad finding")
    for name in ("line", "column", "end_line", "end_column"):
        if not isinstance(getattr(finding, name), int):
            raise ValueError("bad finding")
    return finding


def _only(values: Iterable[Any], kind: type, allowed: set[Any] | None = None) -> bool:
    """Every value of exactly this type (bool is no int here), and in `allowed` if given."""
    found = set(values) if allowed is not None else set(map(type, values))
    if allowed is not None:
        return found <= allowed and _only(found, kind)
    return found <= {kind}


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def path_digest(path: str) -> str:
    """Stamps (its first 32 digits) and entries are keyed by a digest of the path, not the
    path."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()


class Cache:
    """Two layers. Parsed files get one entry each, filed under the hash of the bytes analysed.
    In front of that, a stamps file per config maps each path's digest to (size, mtime, content
    hash) and, for files the pre-filter settled, their whole (usually empty) outcome: a warm run
    then neither reads nor hashes an unchanged file. A stamp is trusted only when the file's
    mtime is older than the stamp by a margin, so an edit within the same clock tick is seen.
    Dependencies are checked once per distinct path or folder per run."""

    def __init__(self, directory: Path, cfg: Config) -> None:
        check_cache_folder(directory)
        self.root = directory
        self.dir = directory / FORMAT
        self.salt = hashlib.sha256(
            f"{__version__}\0fixes-1\0{sys.version}\0{cfg.fingerprint()}".encode()).hexdigest()
        self.warnings: list[str] = []
        key = load_key()
        self.key = key or b""
        self.writable = key is not None
        if key is None:
            self.warnings.append(f"the cache key cannot be kept in {key_file().parent}; "
                                 "running without a cache")
        self.started_ns = time.time_ns()
        self.stamps_file = self.dir / f"stamps-{self.salt[:20]}.json"
        self._current: dict[str, str] = {}  # dependency -> its digest now ("-": absent)
        self._seen: dict[str, tuple[int, int]] = {}  # path -> (size, mtime) discovery took
        self._digests: dict[str, str] = {}  # path -> path_digest(path)
        self._dirty = False
        self._secret_check = _SecretCheck(cfg)
        self._load_stamps()  # a cache file with a bad MAC is a miss, not an error
        try:  # the entry folders there are (one listing): no `open` of entries never written
            self._shards: set[str] = {n for n in os.listdir(self.dir) if len(n) == 2}
        except OSError:
            self._shards = set()

    def _digest(self, path: str) -> str:
        """`path_digest`, once per path and run (a file's stamp, entry and dependents ask)."""
        found = self._digests.get(path)
        if found is None:
            found = self._digests[path] = path_digest(path)
        return found

    def _path_key(self, path: str) -> str:
        return self._digest(path)[:32]

    # -- authenticated files ---------------------------------------------------------------
    def _mac(self, payload: bytes) -> str:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest()

    def _authentic(self, mac: bytes, payload: bytes) -> bool:
        return hmac.compare_digest(mac, self._mac(payload).encode())

    def _read(self, path: Path) -> Any:
        """The JSON in an authenticated file, or None (missing, foreign, tampered, corrupt)."""
        if not self.key:
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        mac, _, payload = raw.partition(b"\n")
        if not self._authentic(mac, payload):
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return None

    def _write(self, path: Path, data: object) -> None:
        payload = json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode()
        write_atomic(path, self._mac(payload).encode() + b"\n" + payload, self.dir)

    # -- stamps ----------------------------------------------------------------------------
    def _load_stamps(self) -> None:
        self._group_ok: dict[int, bool] = {}
        self._pair_ok: dict[int, bool] = {}
        self._stamps: dict[str, list] = {}
        self._pairs: list[tuple[str, str]] = []
        # a group: (pair indices, child group indices) — import closures shared as a graph
        self._groups: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        data = self._read(self.stamps_file)
        if data is None:
            return  # missing, foreign or tampered: start afresh
        try:
            stamps, pairs, groups = data["stamps"], data["pairs"], data["groups"]
            if not (isinstance(stamps, dict) and isinstance(pairs, list)
                    and isinstance(groups, list)):
                raise TypeError
            # shapes checked a whole column at a time (thousands of entries, every warm run)
            if not (_only(pairs, list) and _only(map(len, pairs), int, {2})
                    and _only(chain.from_iterable(pairs), str)
                    and _only(groups, list) and _only(map(len, groups), int, {2})):
                raise TypeError
            members = [g[0] for g in groups]
            children = [g[1] for g in groups]
            if not (_only(members, list) and _only(children, list)):
                raise TypeError
            n_pairs, n_groups = len(pairs), len(groups)
            every = list(chain.from_iterable(members))
            if not _only(every, int) or (every and (min(every) < 0 or max(every) >= n_pairs)):
                raise ValueError("bad group")
            for g, below in enumerate(children):  # children are stored after their parent
                if below and (not _only(below, int) or min(below) <= g or
                              max(below) >= n_groups):
                    raise ValueError("bad group")
        except (TypeError, KeyError, IndexError, ValueError):
            return
        self._pairs = list(map(tuple, pairs))
        self._groups = [(tuple(m), tuple(c)) for m, c in zip(members, children)]
        self._stamps = {k: v for k, v in stamps.items()
                        if isinstance(v, list) and len(v) == 5 and isinstance(v[0], int)
                        and isinstance(v[1], int) and isinstance(v[2], str)
                        and isinstance(v[3], int)}

    def current(self, dep: str) -> str:
        """A dependency's digest now, once per run: a file's content hash (from its stamp when
        that can be trusted) or a folder's listing ("dir:" keys); "-" when absent."""
        found = self._current.get(dep)
        if found is None:
            if dep.startswith("dir:"):
                from keyport_lint.modules import listing_digest

                found = listing_digest(dep[4:])
            else:
                found = self._content_hash(dep, self._seen.get(dep)) or "-"
            self._current[dep] = found
        return found

    def note_stats(self, targets: list[Target]) -> None:
        """The stats discovery took of the files named on the command line: a dependency
        that is one of them is not stat'ed again (a hook names every file)."""
        self._seen.update((t.file, t.stat) for t in targets if t.stat is not None)

    def _content_hash(self, path: str, seen: tuple[int, int] | None = None) -> str | None:
        """`seen`: (size, mtime) discovery took this run, which spares a second `stat`."""
        key = self._path_key(path)
        if seen is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
            seen = (st.st_size, st.st_mtime_ns)
        size, mtime_ns = seen
        rec = self._stamps.get(key)
        if rec and rec[0] == size and rec[1] == mtime_ns and mtime_ns < rec[3] - STAMP_SLACK_NS:
            return str(rec[2])
        try:
            st = os.stat(path)  # hash only with a stat taken before the read
        except OSError:
            return None
        digest = file_digest(path)
        if digest is not None:
            self._stamp(key, st.st_size, st.st_mtime_ns, digest)
        return digest

    def _stamp(self, key: str, size: int, mtime_ns: int, digest: str) -> None:
        rec = self._stamps.get(key)
        if rec and rec[0] == size and rec[1] == mtime_ns and rec[2] == digest:
            return
        self._stamps[key] = [size, mtime_ns, digest, self.started_ns, None]
        self._dirty = True

    def _group_valid(self, group: int) -> bool:
        """Every dependency of the group and of the groups below unchanged; each group and
        each dependency is checked once per run."""
        ok = self._group_ok
        todo = [group]
        while todo:
            top = todo[-1]
            if top in ok:
                todo.pop()
                continue
            members, children = self._groups[top]
            missing = [c for c in children if c not in ok]
            if missing:
                todo.extend(missing)
                continue
            todo.pop()
            ok[top] = all(ok[c] for c in children) and self._pairs_valid(members)
        return ok[group]

    def _pairs_valid(self, members: tuple[int, ...]) -> bool:
        """Groups share pairs (a folder listing, a common module): each is compared once."""
        known = self._pair_ok
        for i in members:
            valid = known.get(i)
            if valid is None:
                dep, digest = self._pairs[i]
                valid = known[i] = self.current(dep) == digest
            if not valid:
                return False
        return True

    # -- lookups ---------------------------------------------------------------------------
    def settled(self, target: Target) -> FileOutcome | None:
        """A file the pre-filter settled last time, unchanged (one `stat`, no read)."""
        path = target.file
        rec = self._stamps.get(self._path_key(path))
        if not rec or not isinstance(rec[4], dict):
            return None
        digest = self._current.get(path)
        if digest is None:
            digest = self._current[path] = self._content_hash(path, target.stat) or "-"
        if digest != rec[2]:
            return None
        try:
            light = rec[4]
            group = light.get("group")
            if not isinstance(group, int) or not 0 <= group < len(self._groups):
                return None
            outcome = _decode(light)
            if outcome.display != target.display or not self._group_valid(group):
                return None
        except (ValueError, TypeError, IndexError):
            return None
        return outcome

    def _entry(self, target: Target) -> Path:
        name = self._digest(target.file)
        return self.dir / name[:2] / f"{name}.json"

    def get(self, target: Target, digest: str) -> FileOutcome | None:
        """The result filed for exactly these bytes (`digest`), if nothing it used changed."""
        path = target.file
        if path not in self._current:
            self._current[path] = digest
        if self._digest(path)[:2] not in self._shards:
            return None  # no entry folder of that name: nothing was ever filed there
        data = self._read(self._entry(target))
        if data is None:
            return None  # missing, foreign or tampered
        try:
            if data.get("salt") != self.salt or data.get("display") != target.display or \
                    data.get("hash") != digest:
                return None
            deps = data.get("deps", {})
            if not isinstance(deps, dict) or not all(
                    isinstance(v, str) and self.current(_str(k)) == v for k, v in deps.items()):
                return None
            outcome = _decode(data)
        except (AttributeError, ValueError, TypeError):
            return None  # missing, corrupt, foreign or of the wrong shape: recompute
        with contextlib.suppress(OSError):
            os.utime(self._entry(target))  # recently used entries survive pruning
        return outcome

    def put(self, target: Target, digest: str, outcome: FileOutcome,
            stat: tuple[int, int] | None = None) -> None:
        """File `outcome` under `digest`, the hash of the bytes it was computed from; `stat`
        is (size, mtime) as seen before those bytes were read (a later edit then shows)."""
        if not self.writable:
            return
        path = target.file
        if self._secret_check.any([path, target.display, *outcome.deps]):
            return  # a key in a path: not even its digest-keyed result is kept
        if not outcome.parsed:  # settled by the pre-filter: kept in the stamps file
            if stat is None:
                return
            key = self._path_key(path)
            self._stamp(key, stat[0], stat[1], digest)
            rec = self._stamps[key]
            if rec[2] != digest:
                return
            light = _encode(outcome)
            light["group"] = self._group_of(outcome.deps, outcome.closures)
            if rec[4] != light:  # an unchanged outcome needs no write
                rec[4] = light
                self._dirty = True
            return
        data = {"salt": self.salt, "hash": digest, "deps": dict(sorted(outcome.deps.items())),
                **_encode(outcome)}
        try:
            self._prepare()
            entry = self._entry(target)
            entry.parent.mkdir(parents=True, exist_ok=True)
            self._write(entry, data)
        except OSError as exc:
            self._unwritable(exc)

    def _group_of(self, deps: dict[str, str], closures: list[DepTree]) -> int:
        """The group for a file: its own dependencies, and its closures' groups below."""
        if not hasattr(self, "_pair_index"):
            self._pair_index = {p: i for i, p in enumerate(self._pairs)}
            self._group_index = {g: i for i, g in enumerate(self._groups)}
            self._tree_groups: dict[int, int] = {}
        children = tuple(sorted({self._tree_group(t) for t in closures}))
        return self._intern(tuple(sorted(deps.items())), children)

    def _intern(self, pairs: tuple[tuple[str, str], ...], children: tuple[int, ...]) -> int:
        members = []
        for pair in pairs:
            i = self._pair_index.get(pair)
            if i is None:
                i = self._pair_index[pair] = len(self._pairs)
                self._pairs.append(pair)
            members.append(i)
        group = (tuple(members), children)
        g = self._group_index.get(group)
        if g is None:
            g = self._group_index[group] = len(self._groups)
            self._groups.append(group)
        return g

    def _tree_group(self, tree: DepTree) -> int:
        done = self._tree_groups
        found = done.get(id(tree))
        if found is not None:  # closures are shared: most files meet theirs interned already
            return found
        from keyport_lint.closure import fold_groups  # only runs that store closures need it
        return fold_groups(tree, done, lambda top: self._intern(
            top.pairs, tuple(sorted({done[id(c)] for c in top.children}))))

    def _unwritable(self, exc: OSError) -> None:
        self.writable = False
        self.warnings.append(f"cache folder {self.root} is not writable "
                             f"({exc.strerror or exc}); running without a cache")

    def _prepare(self) -> None:
        if self.dir.is_dir():
            return
        check_cache_folder(self.root)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.root / ".gitignore").write_text(GITIGNORE)
        (self.root / "CACHEDIR.TAG").write_text(CACHEDIR_TAG)

    def finish(self) -> list[str]:
        """Save the stamps (only the dependency groups still used); prune entries unused for a
        month, at most once a day; remove temporary files of runs that died mid-write."""
        if self.writable and self._dirty:
            try:
                self._prepare()
                self._write(self.stamps_file, self._compact())
            except OSError as exc:
                self._unwritable(exc)
        if self.writable and self.dir.is_dir():
            remove_orphaned_temps(self.dir)
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

    def _compact(self) -> dict:
        """Only the groups still used, numbered so that a group comes before its children
        (loading checks that order, so a stored graph can hold no cycle)."""
        pairs: list[tuple[str, str]] = []
        pair_map: dict[int, int] = {}
        order: list[int] = []
        seen: set[int] = set()
        roots = [rec[4]["group"] for rec in self._stamps.values()
                 if isinstance(rec[4], dict) and isinstance(rec[4].get("group"), int)]
        # children after parents: reverse post-order of the (acyclic) group graph
        post: list[int] = []
        for root in roots:
            if root in seen:
                continue
            todo: list[tuple[int, int]] = [(root, 0)]
            seen.add(root)
            while todo:
                node, k = todo.pop()
                children = self._groups[node][1]
                if k < len(children):
                    todo.append((node, k + 1))
                    child = children[k]
                    if child not in seen:
                        seen.add(child)
                        todo.append((child, 0))
                else:
                    post.append(node)
        order = post[::-1]
        group_map = {old: new for new, old in enumerate(order)}
        groups = []
        for old in order:
            members, children = self._groups[old]
            out = []
            for i in members:
                if i not in pair_map:
                    pair_map[i] = len(pairs)
                    pairs.append(self._pairs[i])
                out.append(pair_map[i])
            groups.append([out, sorted(group_map[c] for c in children)])
        for rec in self._stamps.values():
            light = rec[4]
            if isinstance(light, dict) and isinstance(light.get("group"), int):
                light["group"] = group_map[light["group"]]
        return {"stamps": self._stamps, "pairs": pairs, "groups": groups}


class _SecretCheck:
    """Could this text (a path) hold a key? Literal tokens first; the redactor decides."""

    def __init__(self, cfg: Config) -> None:
        from keyport_lint.kinds.base import literal_trigger

        self.cfg = cfg
        patterns = list(cfg.settings["key-patterns"]) + list(cfg.settings["secret-patterns"])
        patterns += [r.params["pattern"] for r in cfg.rules
                     if r.kind == "secret-pattern" and r.params.get("pattern")]
        tokens = [literal_trigger(p) for p in patterns]
        self.tokens: tuple[str, ...] | None = None if None in tokens else tuple(
            t for t in tokens if t)
        self._redact: Any = None
        self._known: dict[str, bool] = {}  # dependency paths recur across files: judged once

    def any(self, texts: list[str]) -> bool:
        known = self._known
        for text in texts:
            found = known.get(text)
            if found is None:
                found = known[text] = self._holds_key(text)
            if found:
                return True
        return False

    def _holds_key(self, text: str) -> bool:
        if self.tokens is not None and not any(t in text.lower() for t in self.tokens):
            return False
        if self._redact is None:
            from keyport_lint.pipeline.run import redactor_for

            self._redact = redactor_for(self.cfg)
        return bool(self._redact(text) != text)
