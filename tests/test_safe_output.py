"""Issue 19, safe output: nothing in a checked tree or a config can write terminal escapes,
extra lines or CI workflow commands into the text output or stderr; ids and config values are
checked before use."""

from __future__ import annotations

import pytest

from .conftest import KEY

BODY = f'import keyport\nclient = keyport.KeyPort("{KEY}")\n'


def test_a_file_name_cannot_become_a_workflow_command(project) -> None:
    project.write("::error title=Deploy approved::ok.py", BODY)
    project.write("##vso[task.setvariable variable=x]y.py", BODY)
    proc = project.run("check", "--no-cache", ".")
    assert proc.returncode == 1
    lines = (proc.stdout + proc.stderr).splitlines()
    assert any("./::error title=Deploy approved::ok.py:2:" in line for line in lines)
    assert any(line.startswith("./##vso[") for line in lines)
    assert not any(line.lstrip().startswith(("::", "##")) for line in lines), lines


def test_control_characters_in_paths_are_escaped(project) -> None:
    project.write("evil\x1b[2J\nname.py", BODY)
    project.write("rtl\u202egnp.py", BODY)
    proc = project.run("check", "--no-cache", ".")
    assert proc.returncode == 1
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    assert "evil\\x1b[2J\\nname.py:2:" in proc.stdout
    assert "rtl\\u202egnp.py:2:" in proc.stdout


def test_stderr_lines_cannot_be_split_by_an_argument(project) -> None:
    proc = project.run("check", "missing\n::error title=x::owned")
    assert proc.returncode == 2
    assert not any(line.startswith("::") for line in proc.stderr.splitlines()), proc.stderr
    assert "missing\\n::error" in proc.stderr


def test_a_rule_id_with_a_trailing_newline_is_refused(project) -> None:
    project.write(".keyport-lint.yaml", 'rules:\n  - id: "ACME001\\n"\n    kind: secret-pattern\n'
                  "    message: m\n    pattern: 'acme_[0-9a-f]{32}'\n")
    proc = project.run("check", ".")
    assert proc.returncode == 2
    assert ".keyport-lint.yaml:2: invalid rule id" in proc.stderr


def test_a_suppression_code_with_a_trailing_newline_is_no_code() -> None:
    from keyport_lint.suppress import CODE

    assert CODE.match("KP101") and not CODE.match("KP101\n")


@pytest.mark.parametrize("config, words", [
    ("settings:\n  max-line-length: 0\n", "max-line-length must be at least 100"),
    ("settings:\n  max-line-length: -5\n", "max-line-length must be at least 100"),
    ("settings:\n  min-entropy: 99\n", "min-entropy must be at most 8"),
    ("settings:\n  min-entropy: -1.5\n", "min-entropy must be at least 0"),
    ("settings:\n  prefix-max: -1\n", "prefix-max must be at least 0"),
    ("settings:\n  max-file-size: 0\n", "max-file-size must be at least 1"),
    ("settings:\n  key-patterns: ['(?:kp_live_)?']\n", "matches the empty string"),
    ("settings:\n  secret-patterns: {replace: ['x*']}\n", "matches the empty string"),
    ("rules:\n  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: 'a?'\n",
     "matches the empty string"),
    ("rules:\n  - id: ACME001\n    kind: secret-pattern\n    message: m\n"
     "    pattern: 'acme_[0-9a-f]{32}'\n    min-entropy: 40\n", "min-entropy must be between"),
])
def test_config_values_are_range_checked(project, config, words) -> None:
    project.write(".keyport-lint.yaml", config)
    project.write("app.py", "x = 1\n")
    proc = project.run("check", ".")
    assert proc.returncode == 2, proc.stdout
    assert ".keyport-lint.yaml:" in proc.stderr and words in proc.stderr, proc.stderr
