"""`keyport-lint rules`, `explain`, `init`, and the generated rules reference."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from keyport_lint import docs
from keyport_lint.catalog import builtin_rules, settings_schema
from keyport_lint.config import Config, load_config
from keyport_lint.ruleinfo import settings_used
from keyport_lint.starter import starter_text, uncommented
from keyport_lint.testing import is_case_file

from .conftest import FIXTURES, ROOT, run_cli

RULES = builtin_rules()
CODES = [r.id for r in RULES]


# -- rules ---------------------------------------------------------------------------------------

def test_rules_table_lists_every_rule(project) -> None:
    proc = project.run("rules")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "enabled"]
    rows = [line.split() for line in lines[1:]]
    assert rows == [[r.id, r.name, r.severity, "yes"] for r in RULES]


def test_rules_reflects_the_config(project) -> None:
    project.write(".keyport-lint.yaml", "ignore: [KP104]\nseverity: {KP901: error}\n")
    proc = project.run("rules", "--ignore", "KP102")
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()[1:]
            if line.startswith("KP")}
    assert rows["KP104"][3] == "no" and rows["KP102"][3] == "no"
    assert rows["KP101"][3] == "yes"
    assert rows["KP901"][2] == "error*"
    assert "* severity changed by the config" in proc.stdout


def test_rules_select(project) -> None:
    proc = project.run("rules", "--select", "KP9", "--output-format", "json")
    enabled = {r["code"]: r["enabled"] for r in json.loads(proc.stdout)["rules"]}
    assert enabled == {c: c.startswith("KP9") for c in CODES}


def test_rules_json(project) -> None:
    proc = project.run("rules", "--output-format", "json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["tool"] == "keyport-lint"
    assert [r["code"] for r in doc["rules"]] == CODES
    for row, rule in zip(doc["rules"], RULES):
        assert row["name"] == rule.name and row["severity"] == rule.severity
        assert row["enabled"] is True and row["help_uri"] == rule.help_uri


def test_rules_lists_user_rules(project) -> None:
    project.write(".keyport-lint.yaml", """\
rules:
  - {id: ACME001, kind: secret-pattern, name: acme-key-hardcoded,
     pattern: "acme_[0-9a-f]{32}", message: "ACME key {match} is hardcoded",
     rationale: "ACME keys are secrets too."}
""")
    proc = project.run("rules")
    assert "ACME001  acme-key-hardcoded" in proc.stdout
    proc = project.run("explain", "acme001")
    assert proc.returncode == 0, proc.stderr
    assert "ACME keys are secrets too." in proc.stdout


def test_rules_with_a_bad_config_is_exit_2(project) -> None:
    project.write(".keyport-lint.yaml", "selct: [KP1]\n")
    proc = project.run("rules")
    assert proc.returncode == 2
    assert ".keyport-lint.yaml:1" in proc.stderr and "did you mean 'select'" in proc.stderr


# -- explain -------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", CODES)
def test_explain_every_rule(project, code: str) -> None:
    rule = next(r for r in RULES if r.id == code)
    proc = project.run("explain", code)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"{rule.id} {rule.name}\n")
    assert rule.rationale.split()[0] in out and "Why" in out
    assert " ".join(rule.rationale.split())[-40:] in " ".join(out.split())
    for key, label in (("bad", "Bad"), ("good", "Good")):
        assert rule.examples.get(key), f"{code} has no {key} example"
        assert f"\n{label}\n" in out
        for line in rule.examples[key].splitlines():
            # example keys are fake but key-shaped: shown redacted, like any key
            assert redact(line.strip()) in out
    for example in rule.examples.values():
        assert not re.search(r"(kp_live_|whsec_)[A-Za-z0-9_-]{16,}", out), example
    assert "Configuration" in out
    for name in settings_used(rule):
        assert f"    {name} (" in out
    assert f"ignore[{code}]" in out
    assert rule.help_uri in out


def redact(text: str) -> str:
    from keyport_lint.pipeline.run import redactor_for

    return redactor_for(Config(root=Path(".")))(text)


@pytest.mark.parametrize("code", CODES)
def test_explain_json_every_rule(project, code: str) -> None:
    proc = project.run("explain", code, "--output-format", "json")
    doc = json.loads(proc.stdout)
    assert doc["code"] == code
    assert {s["name"] for s in doc["settings"]} == set(
        settings_used(next(r for r in RULES if r.id == code)))


def test_explain_accepts_lower_case_and_names(project) -> None:
    assert project.run("explain", "kp101").stdout == project.run("explain", "KP101").stdout
    assert project.run("explain", "hardcoded-api-key").stdout.startswith("KP101 ")


def test_explain_shows_the_settings_the_secret_rules_use(project) -> None:
    out = project.run("explain", "KP101").stdout
    for name in ("key-patterns", "placeholder-words", "min-entropy", "prefix-max"):
        assert f"    {name} (" in out
    assert "whsec_" not in out.split("Configuration")[1]  # KP101 does not use secret-patterns
    assert "    context-markers (" in project.run("explain", "KP102").stdout
    out = project.run("explain", "KP103").stdout
    for name in ("key-names", "secret-names", "api-hosts"):
        assert f"    {name} (" in out
    assert "Rule parameters (rules/kp1-secrets.yaml:" in out


def test_explain_shows_config_values(project) -> None:
    project.write(".keyport-lint.yaml", "settings:\n  prefix-max: 10\n"
                  "severity: {KP101: warning}\nignore: [KP101]\n")
    out = project.run("explain", "KP101").stdout
    assert "severity warning (built-in: error)" in out
    assert "disabled by the config" in out
    assert "prefix-max (int) (changed by the config)" in out
    assert "value: 10" in out


@pytest.mark.parametrize("code, hint", [
    ("KP10", "did you mean KP101, KP102, KP103, KP104?"),
    ("KP1", "KP1 is a prefix"),
    ("KP1011", "did you mean 'KP101'?"),
    ("hardcoded-api-kee", "did you mean 'hardcoded-api-key'?"),
    ("nonsense", "`keyport-lint rules` lists them"),
])
def test_explain_unknown_code_is_exit_2_with_a_hint(project, code: str, hint: str) -> None:
    proc = project.run("explain", code)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"keyport-lint: error: unknown rule code '{code}'")
    assert hint in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


# -- init ----------------------------------------------------------------------------------------

def _findings(cwd: Path) -> list[dict]:
    proc = run_cli("check", "--output-format", "json", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


@pytest.fixture
def fixture_project(project):
    """A project holding one bad fixture of every rule: findings of every rule (all ~190
    fixture files would only make these tests slower, not stricter)."""
    for code_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        first = sorted(p for p in code_dir.iterdir()
                       if p.name.startswith("bad") and is_case_file(p))[0]
        target = project.root / "src" / code_dir.name / first.name
        if first.is_dir():
            shutil.copytree(first, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(first, target)
    return project


def test_init_writes_a_config_that_changes_nothing(fixture_project) -> None:
    before = _findings(fixture_project.root)
    assert {f["rule"] for f in before} >= {"KP101", "KP102", "KP103", "KP104", "KP900",
                                            "KP901", "KP902"}
    proc = fixture_project.run("init")
    assert proc.returncode == 0, proc.stderr
    config = fixture_project.root / ".keyport-lint.yaml"
    assert config.is_file()
    assert _findings(fixture_project.root) == before
    for fmt in ("text", "sarif"):
        proc = fixture_project.run("check", "--output-format", fmt)
        assert proc.returncode == 1, proc.stderr


def test_init_config_loads_to_the_defaults(project) -> None:
    assert project.run("init").returncode == 0
    with_file = load_config(cwd=project.root)
    assert with_file.path == (project.root / ".keyport-lint.yaml").resolve()
    assert with_file.fingerprint() == Config(root=project.root).fingerprint()


def test_init_refuses_to_overwrite_without_force(project) -> None:
    project.write(".keyport-lint.yaml", "ignore: [KP104]\n")
    proc = project.run("init")
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert (project.root / ".keyport-lint.yaml").read_text() == "ignore: [KP104]\n"
    proc = project.run("init", "--force")
    assert proc.returncode == 0
    assert (project.root / ".keyport-lint.yaml").read_text().startswith("## keyport-lint")


def test_init_refuses_when_a_yml_config_exists(project) -> None:
    project.write(".keyport-lint.yml", "ignore: [KP104]\n")
    proc = project.run("init")
    assert proc.returncode == 2 and ".keyport-lint.yml already exists" in proc.stderr
    assert not (project.root / ".keyport-lint.yaml").exists()


def test_init_below_an_existing_config_extends_it(fixture_project) -> None:
    fixture_project.write(".keyport-lint.yaml", "ignore: [KP104]\nexclude: ['src/KP902/**']\n")
    sub = fixture_project.root / "src"
    before = _findings(sub)
    assert not any(f["rule"] in ("KP104", "KP902") for f in before)
    proc = run_cli("init", cwd=sub)
    assert proc.returncode == 0, proc.stderr
    assert "extends ../.keyport-lint.yaml" in proc.stdout
    assert 'extend: "../.keyport-lint.yaml"' in (sub / ".keyport-lint.yaml").read_text()
    assert _findings(sub) == before


def test_init_next_to_a_pyproject_config_extends_it(fixture_project) -> None:
    fixture_project.write("pyproject.toml", '[tool.keyport-lint]\nignore = ["KP104"]\n')
    before = _findings(fixture_project.root)
    assert not any(f["rule"] == "KP104" for f in before)
    assert fixture_project.run("init").returncode == 0
    assert _findings(fixture_project.root) == before


def test_init_writes_a_short_starter_and_full_the_reference(project) -> None:
    assert project.run("init").returncode == 0
    short = (project.root / ".keyport-lint.yaml").read_text(encoding="utf-8")
    assert len(short.splitlines()) <= 40 and "init --full" in short
    cfg = load_config(cwd=project.root)
    assert cfg.fingerprint() == Config(root=project.root).fingerprint()  # changes nothing
    (project.root / ".keyport-lint.yaml").write_text(uncommented(short), encoding="utf-8")
    on = load_config(cwd=project.root)  # every example, switched on, is valid
    assert on.exclude and on.per_file_ignores and "acme_licensing_key" in on.settings["key-names"]
    assert project.run("init", "--full", "--force").returncode == 0
    full = (project.root / ".keyport-lint.yaml").read_text(encoding="utf-8")
    assert full == starter_text(full=True) and len(full.splitlines()) > 100


def test_every_example_in_the_starter_config_is_valid(tmp_path: Path) -> None:
    """Switching on every commented example gives a config that loads."""
    text = uncommented(starter_text(full=True))
    assert "\nsettings:\n" in text and "\nselect: [KP1, KP9]\n" in text
    path = tmp_path / ".keyport-lint.yaml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path, cwd=tmp_path)
    assert cfg.select == ["KP1", "KP9"]
    for name, spec in settings_schema().items():
        assert cfg.settings[name] == spec.default, name  # the settings examples are no-ops


def test_starter_config_documents_every_setting() -> None:
    text = starter_text(full=True)
    for name in settings_schema():
        assert re.search(rf"^#   {re.escape(name)}: ", text, re.M), name


# -- generated reference -------------------------------------------------------------------------

def test_rules_reference_is_current() -> None:
    """docs/rules.md and README's table match rules/*.yaml (`python -m keyport_lint.docs`)."""
    assert docs.main(["--check"]) == 0, "run: python -m keyport_lint.docs"


def test_rules_markdown_command_prints_the_reference(project) -> None:
    proc = project.run("rules", "--output-format", "markdown")
    assert proc.stdout == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_help_uri_has_an_anchor_in_the_reference() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^#+ (\S+)$", text, re.M))
    for rule in RULES:
        assert rule.help_uri.endswith(f"docs/rules.md#{rule.id.lower()}")
        assert rule.id in headings  # GitHub's anchor for "### KP101" is #kp101


def test_readme_has_the_ci_sections() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Use in CI" in text and "## pre-commit" in text
    # the workflow uses the repository's Action, which uploads the SARIF (test_readme_e2e.py
    # runs both as written)
    assert "uses: your-team/keyport-lint@" in text and "ci/keyport-lint.gitlab-ci.yml" in text
    assert "upload-sarif" in (ROOT / "action.yml").read_text(encoding="utf-8")
    assert "id: keyport-lint" in text
    assert docs.START in text and docs.END in text


def test_readme_precommit_hook_id_matches_the_hook_definition() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: keyport-lint" in hooks

