"""The benchmark script still works: its smoke mode runs offline on small local trees.

No time is asserted: CI machines are shared and noisy; the figures are for people to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_smoke_run_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEYPORT_LINT_BENCH_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke",
                           "--json", str(out)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "targets:" in done.stdout and "floor read" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {"schema", "smoke", "date", "machine", "runs", "warmup", "tools", "cases", "memory",
            "targets", "notes"} <= set(report)
    assert report["smoke"] is True and report["runs"] == 1
    assert report["machine"]["cores"] >= 1 and report["machine"]["python"]
    assert "keyport-lint" in report["tools"]
    ids = {case["id"] for case in report["cases"]}
    assert {"dense", "one-file-plain", "one-file-keyport", "warm-dense", "staged-file"} <= ids
    floors = {c["peer"] for case in report["cases"] for c in case["comparisons"]}
    assert {"floor read", "floor stat", "floor click", "floor parse", "keyport-lint -j1",
            "keyport-lint alone"} <= floors
    for case in report["cases"]:
        assert case["files"] >= 1
        assert {"keyport-lint"} <= set(case["tools"])
        for summary in case["tools"].values():
            assert {"wall_median_s", "cpu_median_s", "peak_rss_mb", "wall_s"} <= set(summary)
        for comp in case["comparisons"]:
            assert {"peer", "target", "ratio", "met"} <= set(comp)
            if comp["peer"] not in report["tools"]:  # peers are optional in smoke mode
                assert comp["ratio"] is None and comp["peer"] in case["skipped_peers"]
    dense = next(case for case in report["cases"] if case["id"] == "dense")
    assert dense["files"] >= 50 and dense["keyport_lint_stats"]["parsed"] > 0
    memory = next(c for c in dense["comparisons"] if c["metric"] == "rss")  # issue 12
    assert memory["peer"] == "keyport-lint -j1" and memory["target"] == 1.5
    assert memory["mine_mb"] > 0 and memory["theirs_mb"] > 0 and memory["ratio"] > 0
    assert any(t["label"] == memory["label"] and t["target"] == "≤ 1.5×"
               for t in report["targets"])
    assert "peak memory" in done.stdout and f"{memory['theirs_mb']:.0f} MB" in done.stdout
    warm = next(case for case in report["cases"] if case["id"] == "warm-dense")
    assert warm["keyport_lint_stats"]["cached"] > 0
    assert report["memory"]["peak_rss_mb"] > 0
    assert any(t["label"].startswith("peak memory") for t in report["targets"])


def _bench_module():
    import importlib.util

    name = "keyport_lint_bench_script"
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_a_smoke_run_never_writes_the_committed_results(tmp_path: Path) -> None:
    """The committed results file holds the full benchmark's figures: a smoke run writes only
    where `--json` tells it, and is refused that file."""
    bench = _bench_module()
    committed = ROOT / "benchmarks" / "results.json"
    assert committed == bench.RESULTS
    assert bench.json_path(None, smoke=True) is None  # no --json: nothing written
    assert bench.json_path(None, smoke=False) == committed
    assert bench.json_path(str(tmp_path / "r.json"), smoke=True) == tmp_path / "r.json"
    before = committed.read_bytes() if committed.exists() else None
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEYPORT_LINT_BENCH_CACHE": str(tmp_path)}
    for given in (str(committed), os.path.relpath(committed, tmp_path)):
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke",
                               "--json", given], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2 and "does not write benchmarks/results.json" in done.stderr
    assert (committed.read_bytes() if committed.exists() else None) == before
