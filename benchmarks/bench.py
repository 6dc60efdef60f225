"""keyport-lint against its peers (ruff, bandit), timed as whole processes.

Why whole processes: a user waits for start-up, imports, worker processes and output, not for
one function. Every tool gets the same explicit list of .py files, runs several times after a
warm-up, alternating with its peer in the same run (so a busy machine slows both alike), and
the report gives medians and the ratio keyport-lint / peer next to its target.

Besides the peers, each case has floors: small scripts in this folder that do the least the
case needs (start-up + read + one token search; start-up + one `stat` per file; `import click`;
start-up + `import libcst` + parsing), so a ratio to a floor says how much the linter adds.

    pip install -e '.[bench]' && python benchmarks/bench.py          # the full benchmark
    python benchmarks/bench.py --smoke                               # offline, a few seconds

The full run writes benchmarks/results.json (or `--json PATH`); a smoke run writes figures
only to a `--json PATH` it is given, never to that file.

Standard library only, besides the peers themselves. Linux: CPU time and peak memory come from
wait4() and /proc.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
DJANGO = "django==5.1.4"
STRIPE = "stripe==16.1.0"  # a large package: the one-staged-file case
STAGED_FILE = "stripe/_request_options.py"
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"  # the full benchmark's figures, committed
PEER_PINS = {"ruff": "0.17.6", "bandit": "1.9.4"}  # keep in step with the `bench` extra
DENSE_MIN_FILES = 2000
SMOKE_DENSE_MIN_FILES = 50
SMOKE_SAMPLE_FILES = 40
KEYPORT_FIXTURE = "KP201/bad_sinks.py"  # the one-file case with KeyPort text
PLAIN_MODULE = "colorsys.py"  # the one-file case without: a small stdlib module
SKIPPED_STDLIB_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TIMED_SAMPLE_S = 0.02  # /proc polling while timing: cheap enough not to disturb the tools
MEMORY_SAMPLE_S = 0.005  # the memory case polls harder (and reads PSS), untimed
_HAS_PROC = os.path.isdir("/proc/self")


# -- measuring one process tree ---------------------------------------------------------------

class TreeSampler(threading.Thread):
    """Polls /proc for every process of the wrapper's session (the tool and its workers) and
    keeps the peak of their summed RSS (and PSS, which counts pages shared after fork once).
    The kernel keeps no such figure: ru_maxrss is the largest single process only, so it serves
    as a floor for runs too short to be sampled."""

    def __init__(self, sid: int, before: set[str], interval: float, pss: bool) -> None:
        super().__init__(daemon=True)
        self.sid, self.before, self.interval, self.pss = sid, before, interval, pss
        self.members: set[str] = set()
        self.others: set[str] = {str(sid)}  # the wrapper itself does not count
        self.peak_rss = 0
        self.peak_pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return
        for pid in pids:
            if pid in self.members or pid in self.others or pid in self.before:
                continue
            (self.members if self._session(pid) == self.sid else self.others).add(pid)
        rss = pss = 0
        for pid in list(self.members):
            if self.pss:
                got = _smaps_rollup(pid)
                rss += got[0]
                pss += got[1]
            else:
                rss += _statm_rss(pid)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    @staticmethod
    def _session(pid: str) -> int | None:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
            return int(stat[stat.rindex(b")") + 2:].split()[3])  # state ppid pgrp session
        except (OSError, ValueError, IndexError):
            return None


def _statm_rss(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _smaps_rollup(pid: str) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


@dataclass
class Sample:
    """One timed process tree."""

    wall: float
    cpu: float  # user + system of the child and every descendant it reaped
    rss: int  # peak summed RSS of the tree (bytes)
    pss: int = 0  # peak summed PSS, memory case only
    returncode: int = 0
    stderr: str = ""


# A fresh, small process forks the tool and reports wait4()'s figures. Why not wait4() here:
# Linux carries a process's peak RSS across exec, so a tool spawned straight from this process
# would inherit this process's size as its ru_maxrss; forked from this wrapper it inherits only
# the wrapper's few MB. Wall time runs from fork to reap, without the wrapper's own start-up.
WRAPPER = """
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as handle:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "maxrss_kib": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}, handle)
"""


def measure(cmd: list[str], cwd: Path, env: dict[str, str], interval: float = TIMED_SAMPLE_S,
            pss: bool = False) -> Sample:
    """Run `cmd` once under the wrapper; the tree's memory is polled from here meanwhile."""
    fd, report = tempfile.mkstemp(prefix="kl-bench-", suffix=".json")
    os.close(fd)
    try:
        with tempfile.TemporaryFile() as err:
            before = {p for p in os.listdir("/proc") if p.isdigit()}
            proc = subprocess.Popen([sys.executable, "-S", "-I", "-c", WRAPPER, report, *cmd],
                                    cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
            sampler = TreeSampler(proc.pid, before, interval, pss)
            sampler.start()
            wrapper_code = proc.wait()
            sampler.done.set()
            sampler.join()
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
        try:
            got = json.loads(Path(report).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            got = {"wall": 0.0, "cpu": 0.0, "maxrss_kib": 0, "code": wrapper_code or 255}
    finally:
        os.unlink(report)
    peak_rss = max(got["maxrss_kib"] * 1024, sampler.peak_rss)
    return Sample(got["wall"], got["cpu"], peak_rss, sampler.peak_pss, got["code"],
                  stderr[-2000:])


# -- tools --------------------------------------------------------------------------------------

@dataclass
class Tool:
    name: str
    base: list[str]  # the command before the file list
    version: str
    parallelism: str
    env: dict[str, str] = field(default_factory=dict)
    ok_codes: tuple[int, ...] = (0, 1)
    takes_files: bool = True  # False: the command alone (`python -c "import click"`)
    alone: bool = False  # run on the case's files copied alone into an empty folder


def _script(name: str) -> str | None:
    """The peer's own executable next to this interpreter, not a version-manager shim (a
    pyenv shim adds tens of milliseconds, which would swamp ruff's one-file run)."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


def _version(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60,
                             env=env)
    except (OSError, subprocess.SubprocessError):
        return "?"
    found = re.search(r"\d+(?:\.\d+)+", out.stdout or out.stderr)
    return found.group(0) if found else "?"


def keyport_lint_tool(jobs: int) -> Tool:
    # PYTHONPATH pins the runs to this checkout, whatever keyport-lint is installed elsewhere
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path}
    base = [sys.executable, "-m", "keyport_lint"]
    return Tool("keyport-lint", [*base, "check", "--quiet", "--exit-zero"],
                _version(base, {**os.environ, **env}),
                f"--jobs default: {jobs} processes, the parent and {jobs - 1} worker(s) "
                f"(the usable cores)", env)


def keyport_lint_variants(main: Tool) -> dict[str, Tool]:
    """keyport-lint at --jobs 1 (does --jobs N pay?), and on a file alone in an empty folder
    (what a one-file hook run in a large project should cost)."""
    return {
        "keyport-lint -j1": Tool("keyport-lint -j1", [*main.base, "--jobs", "1"], main.version,
                                 "one process", main.env),
        "keyport-lint alone": Tool("keyport-lint alone", main.base, main.version,
                                   "the same files alone in an empty folder", main.env,
                                   alone=True),
    }


def floor_tools(jobs: int, tokens_file: Path) -> dict[str, Tool]:
    """The floors: what a process must at least do for each case, in CPython."""
    py = sys.executable
    return {
        "floor read": Tool("floor read", [py, str(HERE / "floor_read.py"), str(tokens_file)],
                           "-", "start-up + read + lower() + one token search per file"),
        "floor stat": Tool("floor stat", [py, str(HERE / "floor_stat.py")], "-",
                           "start-up + one stat per file"),
        "floor click": Tool("floor click", [py, "-c", "import click"], "-",
                            "start-up + import click", takes_files=False),
        "floor parse": Tool("floor parse", [py, str(HERE / "floor_parse.py")], "-",
                            "start-up + import libcst + parse_module of every file"),
        f"floor parse -j{jobs}": Tool(f"floor parse -j{jobs}",
                                      [py, str(HERE / "floor_parse.py"), "--jobs", str(jobs)],
                                      "-", f"the same over {jobs} forked processes"),
    }


def prefilter_tokens(scratch: Path, env: dict[str, str]) -> Path:
    """The pre-filter's tokens for Python files, as this checkout computes them."""
    out = scratch / "tokens.txt"
    code = ("from pathlib import Path\n"
            "from keyport_lint.config import Config\n"
            "from keyport_lint.pipeline.prefilter import build_prefilter\n"
            "cfg = Config(root=Path('.'))\n"
            "pf = build_prefilter(cfg.enabled_rules(), cfg.settings)\n"
            "print('\\n'.join(sorted({t for tokens, _ in pf.triggered.get('python', [])"
            " for t in tokens})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=scratch, check=True)
    out.write_text(done.stdout, encoding="utf-8")
    return out


def peer_tools(notes: list[str], wanted: set[str]) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    ruff = _script("ruff") if "ruff" in wanted else None
    if ruff:
        tools["ruff"] = Tool("ruff", [ruff, "check", "--no-cache", "--isolated", "--select", "S"],
                             _version([ruff]), "multi-threaded (one thread per core)")
    bandit = _script("bandit") if "bandit" in wanted else None
    if bandit:
        tools["bandit"] = Tool("bandit", [bandit, "-q"], _version([bandit]), "one process")
    for name, pin in PEER_PINS.items():
        if name not in wanted:
            notes.append(f"{name} left out (--peers): its comparisons are skipped")
        elif name not in tools:
            notes.append(f"{name} is not installed: its comparisons are skipped "
                         f"(pip install -e '.[bench]')")
        elif tools[name].version != pin:
            notes.append(f"{name} {tools[name].version} is installed; the bench extra pins {pin}")
    return tools


# -- the trees --------------------------------------------------------------------------------

def py_files(root: Path) -> list[str]:
    """Sorted .py paths relative to `root`: the one list every tool is given."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file())


def _complete(folder: Path) -> bool:
    return (folder / ".bench-complete").is_file()


def _mark_complete(folder: Path) -> None:
    (folder / ".bench-complete").write_text("ok\n")


def django_tree(cache: Path) -> Path:
    """The Django package, unpacked from its wheel; downloaded once into the cache folder."""
    return wheel_tree(cache, DJANGO)


def wheel_tree(cache: Path, requirement: str) -> Path:
    """A package's .py files, unpacked from its wheel; downloaded once into the cache folder."""
    name, version = requirement.split("==")
    target = cache / f"{name}-{version}"
    if _complete(target):
        return target
    downloads = cache / "downloads"
    wheels = sorted(downloads.glob(f"{name.capitalize()}-{version}-*.whl")) + sorted(
        downloads.glob(f"{name}-{version}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", requirement, "--no-deps",
                        "--only-binary=:all:", "--quiet", "-d", str(downloads)], check=True)
        wheels = sorted(p for p in downloads.glob("*.whl") if version in p.name)
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheels[0]) as wheel:
        for member in wheel.namelist():
            if member.startswith(f"{name}/") and member.endswith(".py"):
                wheel.extract(member, target)
    _mark_complete(target)
    return target


def stdlib_files(limit: int | None = None) -> tuple[Path, list[Path]]:
    """The running interpreter's standard library without its test folders."""
    src = Path(sysconfig.get_paths()["stdlib"])
    found: list[Path] = []
    for folder, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_STDLIB_DIRS)
        found += [Path(folder) / f for f in sorted(files) if f.endswith(".py")]
    if limit is not None:  # smoke: a few small top-level modules
        top = [p for p in found if p.parent == src and p.stat().st_size < 8000]
        found = top[:limit]
    return src, found


def stdlib_tree(cache: Path, limit: int | None = None) -> Path:
    """A copy of the standard library: the original may sit in a folder a parent repository's
    .gitignore hides (pyenv ignores versions/), and every tool should see plain files."""
    tag = f"{sys.implementation.name}-{platform.python_version()}"
    target = cache / (f"stdlib-{tag}" if limit is None else f"stdlib-sample-{tag}")
    if _complete(target):
        return target
    shutil.rmtree(target, ignore_errors=True)
    src, files = stdlib_files(limit)
    for path in files:
        dest = target / path.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    _mark_complete(target)
    return target


def dense_tree(cache: Path, min_files: int) -> Path:
    """The project's own fixtures, copied until there are `min_files` files; each copy ends
    in its own comment line so no two files are byte-identical."""
    sources = sorted(FIXTURES.rglob("*.py"))
    if not sources:
        raise RuntimeError(f"no fixtures under {FIXTURES}")
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(FIXTURES).as_posix().encode() + b"\0" + path.read_bytes())
    copies = -(-min_files // len(sources))
    target = cache / f"dense-{copies}x-{digest.hexdigest()[:12]}"
    if _complete(target):
        return target
    shutil.rmtree(target, ignore_errors=True)
    for n in range(copies):
        for path in sources:
            text = path.read_bytes()
            if text and not text.endswith(b"\n"):
                text += b"\n"
            dest = target / f"copy{n:03d}" / path.relative_to(FIXTURES)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(text + f"# bench copy {n}\n".encode())
    _mark_complete(target)
    return target


def one_file(cache: Path, name: str, source: Path) -> Path:
    """A folder holding one file, as a pre-commit hook on one staged file sees it."""
    folder = cache / "one-file" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(source, folder / source.name)
    return folder


def count_lines(root: Path, files: list[str]) -> int:
    return sum((root / f).read_bytes().count(b"\n") for f in files)


# -- cases ---------------------------------------------------------------------------------------

@dataclass
class Comparison:
    peer: str
    target: float | None  # the maximum ratio; None: shown for reference only
    label: str
    metric: str = "wall"  # or "cpu": user + system of the whole process tree; "rss": its peak


@dataclass
class Case:
    id: str
    title: str
    root: Path
    files: list[str]
    comparisons: list[Comparison]
    warm: bool = False  # keyport-lint reuses one primed cache instead of a fresh one per run


@dataclass
class Bench:
    runs: int
    warmup: int
    tools: dict[str, Tool]
    scratch: Path
    notes: list[str] = field(default_factory=list)
    failed: bool = False

    def command(self, tool: Tool, files: list[str]) -> list[str]:
        cmd = [*tool.base, *files] if tool.takes_files else list(tool.base)
        size = sum(len(a) + 1 for a in cmd)
        size += sum(len(k) + len(v) + 2 for k, v in os.environ.items())
        if size > os.sysconf("SC_ARG_MAX") - 4096:
            raise RuntimeError(f"{len(files)} paths exceed the argument limit for {tool.name}")
        return cmd

    def fresh_cache(self) -> str:
        return tempfile.mkdtemp(prefix="kl-cache-", dir=self.scratch)

    def env_for(self, tool: Tool, cache_dir: str | None) -> dict[str, str]:
        env = {**os.environ, **tool.env, "NO_COLOR": "1"}
        env.pop("KEYPORT_LINT_CACHE_DIR", None)
        # bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set (as on a
        # shared machine) every run would compile the checkout's modules from source, while
        # click, libcst and the standard library load theirs compiled; a scratch prefix keeps
        # the checkout clean and every tool's warm-up run fills it
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.scratch / "pycache")
        if cache_dir is not None:
            env["KEYPORT_LINT_CACHE_DIR"] = cache_dir
        return env

    def run_once(self, case: Case, tool: Tool, warm_cache: str | None, *,
                 interval: float = TIMED_SAMPLE_S, pss: bool = False) -> Sample:
        cache_dir = None
        if tool.name.startswith("keyport-lint"):
            cache_dir = (warm_cache if tool.name == "keyport-lint" else None) or \
                self.fresh_cache()
        root, files = case.root, case.files
        if tool.alone:
            root, files = self.alone_copy(case)
        sample = measure(self.command(tool, files), root, self.env_for(tool, cache_dir),
                         interval, pss)
        if cache_dir is not None and cache_dir != warm_cache:
            shutil.rmtree(cache_dir, ignore_errors=True)
        if sample.returncode not in tool.ok_codes:
            self.failed = True
            tail = sample.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
            self.notes.append(f"{case.id}: {tool.name} exited {sample.returncode}: {tail[0]}")
        return sample

    def alone_copy(self, case: Case) -> tuple[Path, list[str]]:
        """The case's files copied, flat, into an empty folder (made once per case)."""
        folder = self.scratch / "alone" / case.id
        if not folder.is_dir():
            folder.mkdir(parents=True)
            for name in case.files:
                shutil.copyfile(case.root / name, folder / Path(name).name)
        return folder, [Path(name).name for name in case.files]

    def info(self, case: Case, cache_dir: str | None) -> dict[str, object]:
        """One untimed keyport-lint run with JSON output: how many files it parsed, how many
        came from the cache, how many workers it used. It also serves as a warm-up."""
        tool = self.tools["keyport-lint"]
        out = self.scratch / "info.json"
        own = cache_dir or self.fresh_cache()
        cmd = [*tool.base, "--output-format", "json", "--output", str(out), *case.files]
        done = subprocess.run(cmd, cwd=case.root, env=self.env_for(tool, own),
                              capture_output=True, text=True)
        if own != cache_dir:
            shutil.rmtree(own, ignore_errors=True)
        if done.returncode != 0:
            self.failed = True
            self.notes.append(f"{case.id}: keyport-lint exited {done.returncode}: "
                              f"{done.stderr.strip()[-300:]}")
            return {}
        data = json.loads(out.read_text(encoding="utf-8"))
        stats = dict(data.get("stats", {}))
        stats["findings"] = len(data.get("findings", []))
        return stats

    def run_case(self, case: Case) -> dict[str, object]:
        """Alternate the tools (A B C A B C …) so drift on a shared machine hits all alike."""
        peers = dict.fromkeys(c.peer for c in case.comparisons if c.peer in self.tools)
        names = ["keyport-lint", *peers]
        missing = list(dict.fromkeys(c.peer for c in case.comparisons
                                     if c.peer not in self.tools))
        warm_cache = None
        if case.warm:
            warm_cache = self.fresh_cache()
            self.run_once(case, self.tools["keyport-lint"], warm_cache)  # prime the cache
        stats = self.info(case, warm_cache)  # keyport-lint's first warm-up
        for round_ in range(self.warmup):
            for name in names:
                if name != "keyport-lint" or round_ > 0:
                    self.run_once(case, self.tools[name], warm_cache)
        samples: dict[str, list[Sample]] = {name: [] for name in names}
        for _ in range(self.runs):
            for name in names:
                samples[name].append(self.run_once(case, self.tools[name], warm_cache))
        if warm_cache:
            shutil.rmtree(warm_cache, ignore_errors=True)
        mine = samples["keyport-lint"]
        comparisons = []
        for comp in case.comparisons:
            entry: dict[str, object] = {"peer": comp.peer, "target": comp.target,
                                        "label": comp.label, "reference": comp.target is None}
            entry["metric"] = comp.metric
            if comp.peer in samples:
                theirs = samples[comp.peer]
                pick = METRICS[comp.metric]
                ratio = _median([pick(s) for s in mine]) / max(
                    _median([pick(s) for s in theirs]), 1e-9)
                if comp.metric == "rss":  # the two figures, not only their ratio
                    entry["mine_mb"] = round(_median([s.rss for s in mine]) / MB, 1)
                    entry["theirs_mb"] = round(_median([s.rss for s in theirs]) / MB, 1)
                pairs = [pick(a) / max(pick(b), 1e-9) for a, b in zip(mine, theirs)]
                entry.update(ratio=round(ratio, 3), pair_ratios=[round(r, 3) for r in pairs],
                             pair_ratio_median=round(_median(pairs), 3),
                             met=None if comp.target is None else ratio <= comp.target)
            else:
                entry.update(ratio=None, met=None, skipped=f"{comp.peer} not run")
            comparisons.append(entry)
        return {
            "id": case.id, "title": case.title, "root": str(case.root),
            "files": len(case.files), "lines": count_lines(case.root, case.files),
            "keyport_lint_cache": "warm (primed once)" if case.warm else "cold (fresh per run)",
            "keyport_lint_stats": stats,
            "tools": {name: _summary(s) for name, s in samples.items()},
            "comparisons": comparisons,
            "skipped_peers": missing,
        }

    def memory_case(self, case: Case, limit_mb: float) -> dict[str, object]:
        """Peak memory of keyport-lint's whole process tree at the default --jobs."""
        tool = self.tools["keyport-lint"]
        for _ in range(self.warmup):
            self.run_once(case, tool, None)
        samples = [self.run_once(case, tool, None, interval=MEMORY_SAMPLE_S, pss=True)
                   for _ in range(self.runs)]
        peak_rss = max(s.rss for s in samples) / MB
        peak_pss = max(s.pss for s in samples) / MB
        return {
            "id": case.id, "title": case.title, "files": len(case.files),
            "lines": count_lines(case.root, case.files),
            "peak_rss_mb": round(peak_rss, 1), "peak_pss_mb": round(peak_pss, 1),
            "median_rss_mb": round(_median([s.rss for s in samples]) / MB, 1),
            "rss_runs_mb": [round(s.rss / MB, 1) for s in samples],
            "pss_runs_mb": [round(s.pss / MB, 1) for s in samples],
            "target_mb": limit_mb, "met": peak_rss < limit_mb,
            "how": "summed RSS of every process in the tree, polled every "
                   f"{MEMORY_SAMPLE_S * 1000:.0f} ms (at least the largest process's ru_maxrss); "
                   "PSS counts pages shared after fork once",
        }


METRICS = {"wall": lambda s: s.wall, "cpu": lambda s: s.cpu, "rss": lambda s: float(s.rss)}


def _split(value: str) -> set[str]:
    return {v.strip() for v in value.split(",") if v.strip()}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _summary(samples: list[Sample]) -> dict[str, object]:
    return {
        "wall_median_s": round(_median([s.wall for s in samples]), 4),
        "cpu_median_s": round(_median([s.cpu for s in samples]), 4),
        "peak_rss_mb": round(max((s.rss for s in samples), default=0) / MB, 1),
        "wall_s": [round(s.wall, 4) for s in samples],
        "cpu_s": [round(s.cpu, 4) for s in samples],
        "rss_mb": [round(s.rss / MB, 1) for s in samples],
        "returncodes": sorted({s.returncode for s in samples}),
    }


# -- plan, table, JSON ---------------------------------------------------------------------------

def plan(smoke: bool, cache: Path, notes: list[str], jobs: int
         ) -> tuple[list[Case], Case | None]:
    """The cases of issues 9 and 13 (the full run) or their small offline stand-ins (--smoke).
    Targets: clean trees ≤ 1.5× the read floor and ≤ 3× ruff; the warm run ≤ 1.5× the stat
    floor and faster than ruff cold; one staged file in a large project ≤ 1.5× the same file
    alone; one file without KeyPort text ≤ 2× `import click`, with KeyPort text ≤ 1.3× the
    parse floor; --jobs N faster than --jobs 1 on the dense tree with < 1.3× its CPU and
    ≤ 1.5× its peak memory (medians of each run's peak summed RSS)."""
    cases: list[Case] = []
    no_kp = "cold, no KeyPort code"
    if smoke:
        sample = stdlib_tree(cache, SMOKE_SAMPLE_FILES)
        big = [("stdlib-sample", "stdlib sample, cold", sample)]
        warm_root = None  # the dense tree, below: there the cache has entries to serve
    else:
        big = []
        try:
            big.append(("django", "Django 5.1.4, cold", django_tree(cache)))
        except (OSError, subprocess.CalledProcessError, zipfile.BadZipFile, IndexError) as exc:
            notes.append(f"Django could not be fetched ({type(exc).__name__}): its cases are "
                         "skipped")
        big.append(("stdlib", f"stdlib {platform.python_version()} (no tests), cold",
                    stdlib_tree(cache)))
        warm_root = big[0][2] if big[0][0] == "django" else None
    for ident, title, root in big:
        cases.append(Case(ident, title, root, py_files(root), [
            Comparison("floor read", 1.5, f"{no_kp}: {ident} vs the read floor"),
            Comparison("ruff", 3.0, f"{no_kp}: {ident} vs ruff --select S"),
            Comparison("bandit", None, f"{ident} vs bandit")]))
    dense = dense_tree(cache, SMOKE_DENSE_MIN_FILES if smoke else DENSE_MIN_FILES)
    cases.append(Case("dense", "KeyPort-dense (fixtures copied), cold", dense, py_files(dense), [
        Comparison("bandit", 0.5, "KeyPort-dense tree vs bandit"),
        Comparison("keyport-lint -j1", 1.0, f"dense: --jobs {jobs} vs --jobs 1, wall"),
        Comparison("keyport-lint -j1", 1.3, f"dense: --jobs {jobs} vs --jobs 1, CPU", "cpu"),
        Comparison("keyport-lint -j1", 1.5, f"dense: peak memory, --jobs {jobs} vs --jobs 1",
                   "rss"),
        Comparison("floor parse", None, "dense vs parse floor, one process"),
        Comparison(f"floor parse -j{jobs}", None, f"dense vs parse floor, {jobs} processes"),
        Comparison("ruff", None, "KeyPort-dense tree vs ruff")]))
    staged = _staged_case(cache, smoke, notes)
    if staged is not None:
        cases.append(staged)
    stdlib_src = Path(sysconfig.get_paths()["stdlib"])
    plain_src = stdlib_src / PLAIN_MODULE
    if "keyport" in plain_src.read_text(encoding="utf-8").lower():
        raise RuntimeError(f"{plain_src} mentions KeyPort; pick another plain file")
    plain = one_file(cache, "plain", plain_src)
    keyport = one_file(cache, "keyport", FIXTURES / KEYPORT_FIXTURE)
    cases.append(Case("one-file-plain", f"one file, no KeyPort text ({PLAIN_MODULE})", plain,
                      py_files(plain), [
                          Comparison("floor click", 2.0, "one file without KeyPort text vs "
                                     "`import click`"),
                          Comparison("ruff", 8.0, "one file without KeyPort text vs ruff"),
                          Comparison("bandit", None, "one file without KeyPort text vs bandit")]))
    cases.append(Case("one-file-keyport", f"one file, KeyPort text ({KEYPORT_FIXTURE})", keyport,
                      py_files(keyport), [
                          Comparison("floor parse", 1.3, "one file with KeyPort text vs the "
                                     "parse floor"),
                          Comparison("bandit", 2.5, "one file with KeyPort text vs bandit"),
                          Comparison("ruff", None, "one file with KeyPort text vs ruff")]))
    if smoke:
        warm_root = dense
    if warm_root is not None:
        ident = "warm-" + ("dense" if smoke else "django")
        cases.append(Case(ident, f"{'dense' if smoke else 'Django'}: keyport-lint warm, "
                          "ruff cold", warm_root, py_files(warm_root), [
                              Comparison("floor stat", 1.5, "warm re-run vs the stat floor"),
                              Comparison("ruff", 1.0, "warm re-run vs ruff cold")], warm=True))
    mem_root = big[-1][2]
    memory = Case("memory-" + big[-1][0], f"peak memory, {big[-1][1].split(',')[0]}", mem_root,
                  py_files(mem_root), [])
    return cases, memory


def _staged_case(cache: Path, smoke: bool, notes: list[str]) -> Case | None:
    """One file named in a large project (a pre-commit run on one staged file) against the
    same file alone in an empty folder: following its imports must stay cheap."""
    if smoke:
        root = stdlib_tree(cache, SMOKE_SAMPLE_FILES)
        files = py_files(root)[:1]
        title = f"one staged file in the stdlib sample ({files[0]})"
    else:
        try:
            root = wheel_tree(cache, STRIPE)
        except (OSError, subprocess.CalledProcessError, zipfile.BadZipFile, IndexError) as exc:
            notes.append(f"stripe could not be fetched ({type(exc).__name__}): the staged-file "
                         "case is skipped")
            return None
        files = [STAGED_FILE]
        title = f"one staged file in {STRIPE.replace('==', ' ')} ({Path(STAGED_FILE).name})"
    return Case("staged-file", title, root, files, [
        Comparison("keyport-lint alone", 1.5, "one staged file in a large project vs alone")])


def _fmt_s(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def render_table(report: dict[str, Any]) -> str:
    m = report["machine"]
    tools = report["tools"]
    lines = [
        f"keyport-lint benchmark · {report['date']}" + ("  (SMOKE: not a measurement)"
                                                         if report["smoke"] else ""),
        f"machine: {m['cores']} cores ({m['usable_cores']} usable) · {m['platform']} · "
        f"Python {m['python']}",
        f"runs: {report['runs']} timed per tool after {report['warmup']} warm-up, alternating "
        "A B A B; wall and CPU are medians; CPU = user+sys of the whole process tree; "
        "peak MB = largest summed RSS of the tree",
        "tools:",
    ]
    for name, tool in tools.items():
        files = " FILES…" if tool.get("takes_files", True) else ""
        lines.append(f"  {name} {tool['version']}: {tool['parallelism']}; "
                     f"`{' '.join(tool['command'])}{files}`")
    header = f"{'case':<44} {'files':>6} {'lines':>8}  {'tool':<13} {'wall s':>8} {'cpu s':>8} " \
             f"{'peak MB':>8}  {'ratio':>7}  {'target':>7}  met"
    lines += ["", header, "-" * len(header)]
    for case in report["cases"]:
        stats = case["keyport_lint_stats"]
        first = True
        for name, summary in case["tools"].items():
            comps = [c for c in case["comparisons"] if c["peer"] == name]
            ratio, target, met = _ratio_cells(comps[0] if comps else None)
            title = case["title"] if first else ""
            counts = (f"{case['files']:>6} {case['lines']:>8}" if first else " " * 15)
            lines.append(f"{title:<44} {counts}  {name:<13} {_fmt_s(summary['wall_median_s']):>8} "
                         f"{_fmt_s(summary['cpu_median_s']):>8} {summary['peak_rss_mb']:>8.1f}  "
                         f"{ratio:>7}  {target:>7}  {met}")
            for comp in comps[1:]:  # the same peer judged on CPU or memory
                ratio, target, met = _ratio_cells(comp)
                what = {"cpu": "CPU", "rss": "peak memory", "wall": "wall"}[comp["metric"]]
                if comp["metric"] == "rss" and comp.get("ratio") is not None:
                    what += f" {comp['mine_mb']:.0f} / {comp['theirs_mb']:.0f} MB"
                lines.append(f"{'':<62}{'':<13} {what:>35}  {ratio:>7}  {target:>7}  {met}")
            first = False
        for peer in case["skipped_peers"]:
            lines.append(f"{'':<62}{peer:<13} skipped (see notes)")
        if stats:
            lines.append(f"{'':<62}(keyport-lint parsed {stats.get('parsed', '?')} of "
                         f"{stats.get('files', '?')} files, {stats.get('cached', 0)} from the "
                         f"cache, {stats.get('jobs', '?')} process(es), "
                         f"{stats.get('findings', '?')} findings)")
    memory = report.get("memory")
    if memory:
        lines.append(f"{memory['title']:<44} {memory['files']:>6} {memory['lines']:>8}  "
                     f"{'keyport-lint':<13} peak {memory['peak_rss_mb']:.1f} MB RSS "
                     f"({memory['peak_pss_mb']:.1f} MB PSS), max of {len(memory['rss_runs_mb'])} "
                     f"run(s)  target < {memory['target_mb']:g} MB  "
                     f"{'yes' if memory['met'] else 'NO'}")
    lines += ["", "targets:"]
    for item in report["targets"]:
        shown = item["measured"]
        state = {True: "met", False: "NOT met", None: "not measured"}[item["met"]]
        lines.append(f"  {item['label']:<52} {shown:>18}  target {item['target']:<9} {state}")
    for note in report["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def _ratio_cells(comp: dict | None) -> tuple[str, str, str]:
    """Ratio, target and verdict as the table shows them (blank when not measured)."""
    if comp is None or comp.get("ratio") is None:
        return "", "", ""
    target = "(ref)" if comp["target"] is None else f"≤ {comp['target']:g}×"
    met = "" if comp["met"] is None else ("yes" if comp["met"] else "NO")
    return f"{comp['ratio']:.2f}×", target, met


def targets_summary(cases: list[dict[str, Any]], memory: dict[str, Any] | None
                    ) -> list[dict[str, object]]:
    out = []
    for case in cases:
        for comp in case["comparisons"]:
            if comp["target"] is None:
                continue
            measured = "-" if comp["ratio"] is None else f"{comp['ratio']:.2f}×"
            if comp["ratio"] is not None and comp.get("metric") == "rss":
                measured = f"{comp['mine_mb']:.0f}/{comp['theirs_mb']:.0f} MB {measured}"
            out.append({"case": case["id"], "label": comp["label"],
                        "target": f"≤ {comp['target']:g}×", "measured": measured,
                        "ratio": comp["ratio"], "met": comp["met"]})
    if memory:
        out.append({"case": memory["id"],
                    "label": "peak memory of the process tree, default --jobs",
                    "target": f"< {memory['target_mb']:g} MB",
                    "measured": f"{memory['peak_rss_mb']:.0f} MB RSS", "ratio": None,
                    "met": memory["met"]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=None, help="timed runs per tool (default 5)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed runs per tool first (default 1)")
    parser.add_argument("--json", default=None,
                        help="where to write the figures (default benchmarks/results.json; "
                             "with --smoke, nowhere unless given, and never that file)")
    parser.add_argument("--smoke", action="store_true",
                        help="offline, on small local trees, 1 run: proves the script works")
    parser.add_argument("--peers", default="ruff,bandit",
                        help="comma-separated peers to compare with (default: ruff,bandit)")
    parser.add_argument("--cases", default="",
                        help="comma-separated case ids to run (default: all)")
    parser.add_argument("--cache-dir", default=os.environ.get(
        "KEYPORT_LINT_BENCH_CACHE", str(Path.home() / ".cache" / "keyport-lint-bench")),
        help="where Django and the generated trees are kept between runs")
    args = parser.parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.smoke else 5)
    warmup = args.warmup if args.warmup is not None else (0 if args.smoke else 1)
    if runs < 1 or warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    out = json_path(args.json, args.smoke)
    if out is not None and args.smoke and out.resolve() == RESULTS.resolve():
        parser.error(f"a --smoke run does not write {RESULTS.relative_to(REPO)}: its figures "
                     "are the full benchmark's (give another --json path)")
    if not _HAS_PROC or not hasattr(os, "wait4"):
        print("bench.py needs Linux (/proc and wait4) for CPU time and peak memory",
              file=sys.stderr)
        return 2

    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="keyport-lint-bench-") as tmp:
        scratch = Path(tmp)
        cache = scratch / "trees" if args.smoke else Path(args.cache_dir).expanduser()
        cache.mkdir(parents=True, exist_ok=True)
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        tools = {"keyport-lint": keyport_lint_tool(jobs), **peer_tools(notes, _split(args.peers))}
        bench = Bench(runs, warmup, tools, scratch, notes)
        tools.update(keyport_lint_variants(tools["keyport-lint"]))
        tools.update(floor_tools(jobs, prefilter_tokens(scratch, tools["keyport-lint"].env)))
        cases, memory_case = plan(args.smoke, cache, notes, jobs)
        wanted = _split(args.cases)
        known = {c.id for c in cases} | ({memory_case.id} if memory_case else set())
        if wanted - known:
            parser.error(f"unknown case(s) {', '.join(sorted(wanted - known))}; "
                         f"known: {', '.join(sorted(known))}")
        results = []
        for case in cases:
            if wanted and case.id not in wanted:
                continue
            print(f"… {case.id}: {len(case.files)} files", file=sys.stderr, flush=True)
            results.append(bench.run_case(case))
        memory = None
        if memory_case is not None and (not wanted or memory_case.id in wanted):
            print(f"… {memory_case.id}: {len(memory_case.files)} files", file=sys.stderr,
                  flush=True)
            memory = bench.memory_case(memory_case, 100.0)
    report: dict[str, Any] = {
        "schema": 1,
        "smoke": args.smoke,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cores": os.cpu_count(), "usable_cores": jobs,
                    "platform": f"{platform.system()} {platform.machine()}",
                    "python": platform.python_version()},
        "runs": runs, "warmup": warmup,
        "tools": {name: {"version": t.version, "parallelism": t.parallelism,
                         "command": [Path(t.base[0]).name, *t.base[1:]],
                         "takes_files": t.takes_files}
                  for name, t in tools.items()},
        "cases": results,
        "memory": memory,
        "targets": targets_summary(results, memory),
        "notes": notes,
    }
    print(render_table(report), end="")
    if out is None:
        print("smoke run: figures not written (--json PATH keeps them)", file=sys.stderr)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        print(f"figures written to {out}", file=sys.stderr)
    return 1 if bench.failed else 0


def json_path(given: str | None, smoke: bool) -> Path | None:
    """Where the figures go: the committed results file is the full benchmark's, so a smoke
    run (small trees, one run, proving the script works) writes only where it is told."""
    if given is not None:
        return Path(given)
    return None if smoke else RESULTS


if __name__ == "__main__":
    sys.exit(main())
