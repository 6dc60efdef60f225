"""Installing keyport-lint the way users do (`pip install .`, `pip install git+…`, pre-commit,
the Action), offline and inside or outside a virtual environment.

Every new virtual environment sees this interpreter's installed packages through PYTHONPATH
— a folder of links to them, without keyport-lint itself, pip or setuptools — so pip finds
the dependencies and the build backend (hatchling, from the `test` extra) installed, and
builds without isolation and without an index. Nothing comes from the base interpreter, so
this works when the suite runs inside a venv (`--system-site-packages` there would see the
base interpreter, without hatchling).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .conftest import ROOT

SKIP = ("keyport_lint", "keyport-lint", "_keyport_lint", "__editable__", "pip", "setuptools",
        "_distutils_hack", "distutils-precedence", "pkg_resources", "__pycache__")
COPY_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".pytest_cache",
                                     ".hypothesis", "build", "dist", ".keyport-lint-cache",
                                     ".venv", ".mypy_cache", ".ruff_cache")
GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c",
       "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]


def deps_folder(base: Path) -> Path:
    """Links to every package this interpreter has, except keyport-lint and pip's own."""
    folder = base / "site-deps"
    folder.mkdir(exist_ok=True)
    paths = sysconfig.get_paths()
    for site_dir in {Path(paths["purelib"]), Path(paths["platlib"])}:
        if not site_dir.is_dir():
            continue
        for entry in site_dir.iterdir():
            name = entry.name.lower()
            if name.endswith(".pth") or name.startswith(SKIP):
                continue
            link = folder / entry.name
            if not link.exists():
                link.symlink_to(entry)
    return folder


def environment(base: Path) -> dict[str, str]:
    """The environment every command of an install-as-a-user test runs in."""
    bin_dir = base / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("python3", "python"):  # what a user's PATH would offer, this interpreter
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("PIP_")}
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(deps_folder(base)),
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling for "do not isolate the build"
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
        "HOME": str(base / "home"),
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1",
    })
    (base / "home").mkdir(exist_ok=True)
    return env


def source_repository(base: Path, tag: str) -> Path:
    """This checkout, copied and committed as a git repository with a release tag: what a
    user clones, pins in pre-commit or uses as the Action."""
    repo = base / "keyport-lint-repo"
    shutil.copytree(ROOT, repo, ignore=COPY_IGNORE)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "release"], ["tag", tag]):
        subprocess.run([*GIT, *cmd], cwd=repo, check=True, capture_output=True)
    return repo


def scratch_project(path: Path, files: dict[str, str]) -> Path:
    """A user's project in a fresh git repository, its files staged."""
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text, encoding="utf-8")
    subprocess.run([*GIT, "init", "-q"], cwd=path, check=True, capture_output=True)
    subprocess.run([*GIT, "add", "-A"], cwd=path, check=True, capture_output=True)
    return path


def bash(script: str, cwd: Path, env: dict[str, str], timeout: int = 600
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
