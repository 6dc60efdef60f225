"""End to end: the package as pip installs it (a wheel, not editable) and as pre-commit runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import KEY, ROOT
from .offline import COPY_IGNORE, environment


def _run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_ENV,
                          timeout=600, **kw)


_ENV: dict[str, str] = {}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (no --system-site-packages: from inside a venv that would see the base
    interpreter, without hatchling) with keyport-lint installed from a copy of the source as
    pip builds it; the dependencies and the build backend come from this interpreter's
    packages (tests/offline.py), so no network is needed."""
    base = tmp_path_factory.mktemp("venv")
    _ENV.clear()
    _ENV.update(environment(base))
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=base)
    assert made.returncode == 0, made.stderr
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=COPY_IGNORE)
    pip = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(src)], cwd=base)
    assert pip.returncode == 0, pip.stderr
    shutil.rmtree(src)  # the installed command must not depend on the source tree
    return venv


@pytest.mark.slow
def test_installed_console_script_checks_a_project(installed, tmp_path):
    (tmp_path / "app.py").write_text(f'from keyport import KeyPort\nc = KeyPort("{KEY}")\n')
    (tmp_path / ".env").write_text(f"KEYPORT_API_KEY={KEY}\n")
    exe = installed / "bin" / "keyport-lint"
    result = _run([str(exe), "check", "--output-format", "json", "."], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    rules = sorted(f["rule"] for f in json.loads(result.stdout)["findings"])
    assert rules == ["KP101", "KP104"]
    assert KEY not in result.stdout


@pytest.mark.slow
def test_installed_package_ships_the_rule_yaml(installed, tmp_path):
    code = ("import keyport_lint.catalog as c, json;"
            "print(json.dumps([str(c.rules_dir()), [r.id for r in c.builtin_rules()]]))")
    result = _run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rules_dir, ids = json.loads(result.stdout)
    assert str(installed) in rules_dir and rules_dir.endswith("keyport_lint/rules")
    assert {"KP101", "KP102", "KP103", "KP104", "KP900"} <= set(ids)


@pytest.mark.slow
def test_python_dash_m_matches_console_script(installed, tmp_path):
    (tmp_path / "app.py").write_text("x = 1\n")
    a = _run([str(installed / "bin" / "keyport-lint"), "--version"], cwd=tmp_path)
    b = _run([str(installed / "bin" / "python"), "-m", "keyport_lint", "--version"], cwd=tmp_path)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and "keyport-lint" in a.stdout


# pre-commit itself (it pip-installs the hook from a tagged repository) is exercised as the
# README shows it, in tests/test_readme_e2e.py::test_pre_commit_snippet_as_written.
