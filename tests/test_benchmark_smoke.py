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
