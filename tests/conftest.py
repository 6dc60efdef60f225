from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

# A realistic key for tests; never a real one.
KEY = "kp_live_8fK2mQ9xLp4Zr7Tb1Vn6Wc3Yh5Jd0Sa2"  # keyport-lint: ignore[KP101]
SECRET = "whsec_4Rt8Yu2Io6Pa0Sd3Fg7Hj1Kl5Zx9Cv"  # keyport-lint: ignore[KP102]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the linter as a user would: a separate process."""
    # PYTHONPATH pins the subprocess to this checkout (worktrees, editable installs elsewhere)
    full_env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "keyport_lint", *args], cwd=cwd,
                          capture_output=True, text=True, env=full_env, input=stdin,
                          timeout=300)


@pytest.fixture(autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The cache's HMAC key lives in the user's cache home: never the real one in tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))


@pytest.fixture
def project(tmp_path: Path):
    """A throwaway project folder: write(relpath, text) creates files."""

    class Project:
        root = tmp_path

        def write(self, rel: str, text: str) -> Path:
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path

        def run(self, *args: str, **kw):
            return run_cli(*args, cwd=tmp_path, **kw)

    return Project()
