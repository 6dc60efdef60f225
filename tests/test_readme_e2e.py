"""The README, followed as written by a new user: a scratch project in a temporary git
repository, the quick start (clone, `pip install .`, check), the pre-commit snippet, the GitHub
workflow with the repository's own Action (its shell steps run here) and the GitLab template.

Only the placeholders a user fills in are replaced: the repository URL (by a local copy of this
checkout, committed and tagged like a release) and, for the Action, the runner's variables.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from keyport_lint import __version__

from .conftest import KEY, ROOT
from .offline import bash, environment, scratch_project, source_repository

README = (ROOT / "README.md").read_text(encoding="utf-8")
TAG = f"v{__version__}"
PLACEHOLDER_URL = "https://git.example.com/your-team/keyport-lint.git"
PROJECT_FILES = {
    "billing/__init__.py": "",
    "billing/client.py": ("import logging\nimport os\n\nfrom keyport import KeyPort\n\n"
                          f'KEYPORT_API_KEY = "{KEY}"\n'
                          "client = KeyPort(KEYPORT_API_KEY)\n"
                          'logging.info("using key %s", KEYPORT_API_KEY)\n'),
    "billing/webhooks.py": ("from flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
                            "@app.post('/webhooks/keyport')\ndef keyport_webhook():\n"
                            "    event = request.get_json()\n"
                            "    if event['type'] == 'license.revoked':\n"
                            "        revoke(event['data'])\n    return 'ok'\n"),
    ".env": f"KEYPORT_API_KEY={KEY}\n",
    "app.py": "import os\n\nKEY = os.environ['KEYPORT_API_KEY']\n",
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def block(marker: str) -> str:
    """The fenced block after `<!-- readme-test: marker -->` in README.md."""
    match = re.search(rf"<!-- readme-test: {marker} -->\n```\w*\n(.*?)```", README, re.S)
    assert match, f"README has no block marked {marker}"
    return match.group(1)


def test_ci_runs_exactly_the_contributor_command_the_readme_shows():
    section = README.split("## Developing keyport-lint", 1)[1]
    command = re.search(r"```sh\n(.*?)\n```", section, re.S).group(1).strip()
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert script[-1] == command


def test_one_version_source_and_a_changelog_entry():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject
    assert 'path = "keyport_lint/__init__.py"' in pyproject
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {__version__}\n" in changelog


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("readme")
    env = environment(base)
    repo = source_repository(base, TAG)
    return base, env, repo


def _check_output(text: str) -> None:
    assert "billing/client.py:6:20: KP101 [error] KeyPort product API key kp_live_8fK2… is " \
        "hardcoded" in text, text
    assert "= help: load it from the environment or a secret store" in text
    assert KEY not in text


@pytest.mark.slow
def test_quick_start_as_written(world):
    base, env, repo = world
    script = block("quickstart")
    assert PLACEHOLDER_URL in script
    work = base / "quickstart"
    scratch_project(work / "path/to/your/project", PROJECT_FILES)
    result = bash(script.replace(PLACEHOLDER_URL, str(repo)), cwd=work, env=env)
    # the last command is the check: exit 1, findings on stdout
    assert result.returncode == 1, result.stdout + result.stderr
    _check_output(result.stdout)
    assert result.stdout.rstrip().splitlines()[-2:] == [
        "Found 4 findings (4 errors, 0 warnings) in 3 files; 5 files checked.",
        "1 fixable with --fix (1 more with --unsafe-fixes)."]
    assert (work / ".venv/bin/keyport-lint").exists()


@pytest.mark.slow
def test_pip_install_from_git_as_written(world):
    base, env, repo = world
    lines = [line.split("#")[0].strip() for line in README.splitlines()
             if line.startswith('python -m pip install "git+$KEYPORT_LINT_REPO')]
    assert len(lines) == 2
    venv = base / "git-install"  # one environment: the tag line then resolves and builds
    script = "\n".join([f'KEYPORT_LINT_REPO="file://{repo}"', f"python3 -m venv {venv}",
                         f". {venv}/bin/activate", lines[0], "keyport-lint --version", lines[1],
                         "keyport-lint --version"])
    result = bash(script, cwd=base, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(f"version {__version__}") == 2
    assert f"(to revision {TAG})" in result.stdout


@pytest.mark.slow
def test_pre_commit_snippet_as_written(world):
    base, env, repo = world
    config = block("pre-commit")
    assert PLACEHOLDER_URL in config and f"rev: {TAG}" in config
    project = scratch_project(base / "hooked", {
        **PROJECT_FILES, ".pre-commit-config.yaml": config.replace(PLACEHOLDER_URL, str(repo))})
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    result = bash("python3 -m pre_commit run --all-files", cwd=project, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "keyport-lint" in out and "Failed" in out
    _check_output(out)
    # a commit whose staged files are all excluded passes (the hook passes --allow-empty)
    (project / ".keyport-lint.yaml").write_text("exclude: ['billing/**', '.env']\n")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    result = bash("python3 -m pre_commit run --files billing/client.py", cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def _expand(value: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs."):]]
        step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        assert step, f"the test runner does not know the expression {expr!r}"
        return outputs.get(step.group(1), {}).get(step.group(2), "")
    return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))


def _outputs(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return {k: v for k, v in pairs}


@pytest.mark.slow
def test_github_workflow_and_action_steps_as_written(world):
    base, env, repo = world
    workflow = yaml.safe_load(block("github-workflow"))
    steps = workflow["jobs"]["keyport-lint"]["steps"]
    uses = [s["uses"] for s in steps]
    assert uses[:2] == ["actions/checkout@v4", "actions/cache@v4"]
    # the cache and the key that authenticates its entries (without it they are ignored)
    assert steps[1]["with"]["path"].split() == [".keyport-lint-cache", "~/.cache/keyport-lint"]
    assert uses[2] == f"your-team/keyport-lint@{TAG}"
    action = yaml.safe_load((repo / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update({k: str(v) for k, v in steps[2].get("with", {}).items()})
    workspace = scratch_project(base / "workspace", PROJECT_FILES)  # actions/checkout
    runner_temp = base / "runner-temp"
    runner_temp.mkdir()
    outputs: dict[str, dict[str, str]] = {}
    codes = []
    for i, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:  # upload-sarif: check what it would upload
            assert step["uses"].startswith("github/codeql-action/upload-sarif@")
            assert inputs["upload-sarif"] == "true"
            assert outputs["check"]["sarif-written"] == "true"
            sarif = workspace / _expand(step["with"]["sarif_file"], inputs, outputs)
            assert any(r["ruleId"] == "KP101" for r in
                       __import__("json").loads(sarif.read_text())["runs"][0]["results"])
            continue
        assert step["shell"] == "bash"
        out_file = runner_temp / f"output-{i}"
        out_file.touch()
        step_env = {**env, "GITHUB_ACTION_PATH": str(repo), "RUNNER_TEMP": str(runner_temp),
                    "GITHUB_OUTPUT": str(out_file), "GITHUB_WORKSPACE": str(workspace),
                    **{k: _expand(v, inputs, outputs) for k, v in step.get("env", {}).items()}}
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                 step["run"]], cwd=workspace, env=step_env, capture_output=True,
                                text=True, timeout=600)
        codes.append(result.returncode)
        if "id" in step:
            outputs[step["id"]] = _outputs(out_file)
        if step.get("id") == "check":
            _check_output(result.stdout)  # the findings are readable in the job log
    assert codes == [0, 0, 1]  # installed; ran (exit code kept); the job fails on findings
    assert outputs["check"]["exit-code"] == "1"


@pytest.mark.slow
def test_gitlab_template_as_written(world):
    base, env, repo = world
    include = yaml.safe_load(block("gitlab-include"))
    remote = include["include"][0]["remote"]
    assert remote.endswith(f"/-/raw/{TAG}/ci/keyport-lint.gitlab-ci.yml")
    template = yaml.safe_load((repo / "ci/keyport-lint.gitlab-ci.yml").read_text())
    job = template["keyport-lint"]
    assert ".keyport-lint-cache/" in job["cache"]["paths"]
    assert ".cache/keyport-lint/" in job["cache"]["paths"]
    assert job["variables"]["XDG_CACHE_HOME"] == "$CI_PROJECT_DIR/.cache"
    variables = {**job["variables"], **include["keyport-lint"]["variables"]}
    assert variables["KEYPORT_LINT_REPO"] == PLACEHOLDER_URL
    variables["KEYPORT_LINT_REPO"] = f"file://{repo}"
    project = scratch_project(base / "gitlab-project", PROJECT_FILES)
    image_python = base / "gitlab-image"  # stands for the job image's Python
    subprocess.run([str(base / "bin" / "python3"), "-m", "venv", str(image_python)],
                   check=True, env=env)
    job_env = {**env, **{k: str(v) for k, v in variables.items()},
               "PATH": f"{image_python}/bin:{env['PATH']}"}
    codes = []
    log = ""
    for line in job["script"]:
        result = bash(line, cwd=project, env=job_env)
        codes.append(result.returncode)
        log += result.stdout + result.stderr
        if result.returncode:
            break
    assert codes == [0, 0, 1], log  # the job fails on findings
    _check_output(log)
    report = ET.parse(project / job["artifacts"]["reports"]["junit"]).getroot()
    assert int(report.get("failures")) == 4
    assert (project / "keyport-lint.sarif").exists()
