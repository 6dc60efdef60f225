"""Config discovery, merging and errors that name file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyport_lint.config import load_config
from keyport_lint.errors import UserError

from .conftest import KEY

BAD = f'from keyport import KeyPort\n\nclient = KeyPort("{KEY}")\n'


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(root: Path, cwd: Path | None = None) -> UserError:
    with pytest.raises(UserError) as info:
        load_config(cwd=cwd or root)
    return info.value


def test_nearest_config_walking_up(tmp_path):
    write(tmp_path, ".keyport-lint.yaml", "ignore: [KP104]\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    cfg = load_config(cwd=sub)
    assert cfg.path == (tmp_path / ".keyport-lint.yaml").resolve()
    assert not cfg.is_enabled("KP104") and cfg.is_enabled("KP101")
    assert cfg.root == tmp_path.resolve()


def test_pyproject_table_and_yaml_wins_in_same_folder(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.keyport-lint]\n'
                                      'ignore = ["KP103"]\n')
    assert not load_config(cwd=tmp_path).is_enabled("KP103")
    write(tmp_path, ".keyport-lint.yaml", "ignore: [KP104]\n")
    cfg = load_config(cwd=tmp_path)
    assert cfg.is_enabled("KP103") and not cfg.is_enabled("KP104")


def test_pyproject_without_table_is_skipped(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(cwd=tmp_path).path is None


def test_unknown_key_names_file_line_and_hint(tmp_path):
    write(tmp_path, ".keyport-lint.yaml", "ignore: [KP104]\nselct: [KP1]\n")
    err = error_of(tmp_path)
    assert err.render() == (".keyport-lint.yaml:2: unknown key 'selct' — did you mean "
                            "'select'?")


def test_unknown_key_in_pyproject_names_its_line(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.keyport-lint]\n'
                                      'ignore = ["KP103"]\nfail_on = "error"\n')
    err = error_of(tmp_path)
    assert err.line == 6 and "did you mean 'fail-on'" in err.message


@pytest.mark.parametrize("text, line, words", [
    ("select: KP1\n", 1, "must be a list"),
    ("fail-on: never\n", 1, "fail-on must be 'error' or 'warning'"),
    ("settings:\n  key-names: ['(unclosed']\n", 2, "invalid regex"),
    ("settings:\n  prefix-max: twelve\n", 2, "must be an integer"),
    ("settings:\n  key-nmaes: [x]\n", 2, "did you mean 'key-names'"),
    ("select: [KP1]\n  ignore: [\n", 2, "invalid YAML"),
    ("severity:\n  KP101: fatal\n", 2, "must be 'error' or 'warning'"),
    ("ignore: [KP999]\n", 1, "unknown rule code or prefix 'KP999'"),
    ("per-file-ignores:\n  'tests/**': KP101\n", 2, "must be a list"),
])
def test_config_errors_name_the_line(tmp_path, text, line, words):
    write(tmp_path, ".keyport-lint.yaml", text)
    err = error_of(tmp_path)
    assert err.path == ".keyport-lint.yaml"
    assert err.line == line, err.render()
    assert words in err.message


def test_settings_lists_extend_and_replace(tmp_path):
    write(tmp_path, ".keyport-lint.yaml",
          "settings:\n  key-names: ['acme_keyport_token']\n"
          "  placeholder-words: {replace: [sample]}\n  prefix-max: 10\n")
    cfg = load_config(cwd=tmp_path)
    assert "acme_keyport_token" in cfg.settings["key-names"]
    assert any("keyport_" in p for p in cfg.settings["key-names"][:-1])
    assert cfg.settings["placeholder-words"] == ["sample"]
    assert cfg.settings["prefix-max"] == 10


def test_extend_chain_merges_and_child_wins(tmp_path):
    write(tmp_path, "base.yaml", "ignore: [KP104]\nsettings:\n  key-names: ['base_name']\n"
                                 "severity: {KP103: warning}\n")
    write(tmp_path, "svc/.keyport-lint.yaml", "extend: ../base.yaml\n"
                                              "settings:\n  key-names: ['child_name']\n")
    cfg = load_config(cwd=tmp_path / "svc")
    assert not cfg.is_enabled("KP104")
    assert {"base_name", "child_name"} <= set(cfg.settings["key-names"])
    assert cfg.severity == {"KP103": "warning"}


def test_extend_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "extend: b.yaml\n")
    write(tmp_path, "b.yaml", "extend: a.yaml\n")
    with pytest.raises(UserError, match="cycle"):
        load_config(tmp_path / "a.yaml", cwd=tmp_path)


def test_severity_override_and_per_file_ignores(project):
    project.write(".keyport-lint.yaml", "severity: {KP101: warning}\n"
                                        "per-file-ignores: {'tests/**': [KP101]}\n")
    project.write("app.py", BAD)
    project.write("tests/test_app.py", BAD)
    result = project.run("check", "--output-format", "json", ".")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["path"], f["severity"]) for f in findings] == [("app.py", "warning")]
    assert project.run("check", "--fail-on", "error", ".").returncode == 0


def test_bad_config_is_exit_two_without_traceback(project):
    project.write(".keyport-lint.yaml", "selct: [KP1]\n")
    project.write("app.py", BAD)
    result = project.run("check", ".")
    assert result.returncode == 2
    assert result.stderr.strip() == ("keyport-lint: error: .keyport-lint.yaml:1: unknown key "
                                     "'selct' — did you mean 'select'?")


def test_explicit_config_flag(project):
    project.write("ci/strict.yaml", "ignore: [KP101]\n")
    project.write("app.py", BAD)
    assert project.run("check", "--config", "ci/strict.yaml", ".").returncode == 0
    missing = project.run("check", "--config", "nope.yaml", ".")
    assert missing.returncode == 2 and "nope.yaml: config file not found" in missing.stderr


def test_user_key_name_setting_reaches_rules(project):
    project.write(".keyport-lint.yaml", "settings:\n  key-names: ['licensing_token']\n")
    project.write("app.py", 'LICENSING_TOKEN = "9fK2mQ9xLp4Zr7Tb1Vn6Wc3Yh5"\n')
    result = project.run("check", "--output-format", "json", ".")
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["KP103"]
