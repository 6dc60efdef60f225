"""Precision on real code: trees with no KeyPort code in them must give zero findings.

The standard library always runs; installed frameworks run when present (the `corpus` extra,
which .ci/run installs). The linter never imports them: it only locates their folders.
"""

from __future__ import annotations

import importlib.util
import json
import sysconfig
from pathlib import Path

import pytest

from .conftest import run_cli

CORPUS = ["django", "flask", "fastapi", "starlette", "requests", "stripe", "click", "pydantic"]


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _scan(path: Path, tmp_path: Path, *extra: str) -> dict:
    config = tmp_path / "corpus.yaml"
    config.write_text("exclude: ['site-packages/']\n")
    result = run_cli("check", "--no-respect-gitignore", "--config", str(config),
                     "--output-format", "json", *extra, str(path), cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_standard_library_gives_no_finding(tmp_path):
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    doc = _scan(stdlib, tmp_path)
    assert doc["stats"]["files"] > 1000
    assert doc["errors"] == []
    assert doc["findings"] == [], [(f["path"], f["line"], f["rule"]) for f in doc["findings"]]


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS)
def test_installed_framework_gives_no_finding(tmp_path, name):
    folder = _package_dir(name)
    if folder is None:
        pytest.skip(f"{name} is not installed (pip install '.[corpus]')")
    doc = _scan(folder, tmp_path)
    assert doc["errors"] == []
    assert doc["findings"] == [], [(f["path"], f["line"], f["rule"]) for f in doc["findings"]]


@pytest.mark.slow
def test_this_repository_passes_its_own_linter():
    """Dogfooding: the repository's own .keyport-lint.yaml excludes only the fixtures, whose
    findings are deliberate, and the rule catalogue's examples."""
    from .conftest import ROOT

    result = run_cli("check", "--no-cache", ".", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
