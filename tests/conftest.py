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
            stdin: str | None = None, process: bool = False
            ) -> subprocess.CompletedProcess[str]:
    """Run the linter as a user would, in this process through click's CliRunner (a process
    costs ~0.3 s of start-up per call); `process=True` where a real process is the point."""
    if process:
        return run_process(*args, cwd=cwd, env=env, stdin=stdin)
    from click.testing import CliRunner

    from keyport_lint.cli import cli

    before = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", **(env or {})},
                                    input=stdin, prog_name="keyport-lint")
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout,
                                       result.stderr)


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None,
                stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The linter in a separate process (`python -m keyport_lint`)."""
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
