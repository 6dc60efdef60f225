"""Users write rules in YAML (issue 8): every kind, every guarantee, every error path."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from keyport_lint.kinds import get_kind, kind_names

from .conftest import KEY, ROOT, run_cli

EXAMPLES = sorted(p for p in (ROOT / "examples" / "user-rules").iterdir() if p.is_dir())
ACME = "acme_sk_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
ACME_RULE = ("rules:\n  - id: ACME001\n    kind: secret-pattern\n"
             "    message: \"Acme key {match}\"\n    pattern: 'acme_sk_[0-9a-f]{32}'\n")


def findings(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


# -- the worked examples of the README -----------------------------------------------------------

@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_readme_example_passes_test_rules(example: Path) -> None:
    result = run_cli("test-rules", ".", cwd=example)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_readme_shows_the_example_verbatim(example: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    assert (example / ".keyport-lint.yaml").read_text().rstrip() in readme


def test_test_rules_reports_missing_and_unexpected(project) -> None:
    project.write(".keyport-lint.yaml", ACME_RULE)
    project.write("case.py", f'A = "{ACME}"\nB = 1  # expect: ACME001\n')
    result = project.run("test-rules", "case.py")
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["case.py:1: unexpected ACME001",
                                          "case.py:2: missing ACME001"]


def test_test_rules_sidecar_and_next_line_markers(project) -> None:
    project.write(".keyport-lint.yaml", ACME_RULE)
    project.write("cases/conf.json", f'{{\n  "acme": "{ACME}"\n}}\n')
    project.write("cases/conf.json.expect.yaml", "2: [ACME001]\n")
    project.write("cases/doc.py", f'"""Docs.\n\n# expect: ACME001\n{ACME}\n"""\n')
    result = project.run("test-rules", "cases")
    assert result.returncode == 0, result.stdout + result.stderr


def test_builtin_rules_examples_pass() -> None:
    result = run_cli("test-rules", "--examples", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# -- a user rule behaves like a built-in one -----------------------------------------------------

def test_user_rule_fires_in_a_file_without_keyport_text(project) -> None:
    project.write(".keyport-lint.yaml", ACME_RULE)
    project.write("plain.py", f'TOKEN = "{ACME}"\n')
    result = project.run("check", "--output-format", "json", ".")
    assert [(f["rule"], f["line"]) for f in findings(result)] == [("ACME001", 1)]


def test_user_rule_follows_select_ignore_severity_suppression_and_baseline(project) -> None:
    project.write(".keyport-lint.yaml", ACME_RULE + "severity: {ACME001: warning}\n")
    project.write("a.py", f'TOKEN = "{ACME}"\n')
    project.write("b.py", f'TOKEN = "{ACME}"  # keyport-lint: ignore[ACME001]\n')
    result = project.run("check", "--output-format", "json", ".")
    assert [(f["path"], f["severity"]) for f in findings(result)] == [("a.py", "warning")]
    assert project.run("check", "--select", "KP1", ".").returncode == 0
    assert project.run("check", "--ignore", "ACME", ".").returncode == 0
    assert project.run("check", "--fail-on", "error", ".").returncode == 0
    assert project.run("baseline", "--output", "base.json", ".").returncode == 0
    assert project.run("check", "--baseline", "base.json", ".").returncode == 0
    listed = project.run("rules").stdout
    assert re.search(r"ACME001\s+acme001\s+warning", listed) or "ACME001" in listed
    explained = project.run("explain", "ACME001")
    assert explained.returncode == 0 and "ACME001" in explained.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_user_secret_is_redacted_in_every_format(project, fmt) -> None:
    project.write(".keyport-lint.yaml", ACME_RULE)
    project.write("a.py", f'TOKEN = "{ACME}"\n')
    result = project.run("check", "--output-format", fmt, ".")
    assert ACME not in result.stdout and ACME[8:] not in result.stdout
    assert "acme_sk_4f9a" in result.stdout


def test_user_secret_is_redacted_even_when_ignored(project) -> None:
    project.write(".keyport-lint.yaml", ACME_RULE + "ignore: [ACME001]\n")
    project.write("a.py", f'from keyport import KeyPort\nc = KeyPort("{KEY}")  # {ACME}\n')
    result = project.run("check", ".")
    assert result.returncode == 1 and "KP101" in result.stdout
    assert ACME not in result.stdout


def test_pattern_without_literal_prefix_shows_only_a_hash(project) -> None:
    project.write(".keyport-lint.yaml", "rules:\n  - id: ACME002\n    kind: secret-pattern\n"
                  "    message: \"key {match}\"\n    pattern: '[0-9a-f]{40}'\n")
    secret = "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"
    project.write("a.py", f'TOKEN = "{secret}"\n')
    result = project.run("check", ".")
    assert result.returncode == 1 and "<redacted:" in result.stdout
    assert secret[:10] not in result.stdout


def test_pathological_pattern_on_a_2mb_line_finishes(project) -> None:
    project.write(".keyport-lint.yaml", "rules:\n  - id: ACME003\n    kind: secret-pattern\n"
                  "    message: \"m {match}\"\n    pattern: '(a|aa)+b'\n"
                  "settings:\n  max-file-size: 4000000\n")
    project.write("big.js", "a" * 2_000_000 + "!\n")
    started = time.monotonic()
    result = project.run("check", "--no-cache", ".")
    assert time.monotonic() - started < 60
    assert result.returncode == 2
    assert "ACME003" in result.stderr and "ran longer than" in result.stderr
    assert "Traceback" not in result.stderr


def test_rule_files_globs_and_duplicates(project) -> None:
    project.write("lint/rules/acme.yaml", ACME_RULE)
    project.write(".keyport-lint.yaml", 'rule-files: ["lint/rules/*.yaml"]\n')
    project.write("a.py", f'TOKEN = "{ACME}"\n')
    assert [f["rule"] for f in findings(project.run("check", "--output-format", "json",
                                                    "."))] == ["ACME001"]
    project.write(".keyport-lint.yaml", 'rule-files: ["lint/nothing/*.yaml"]\n')
    result = project.run("check", ".")
    assert result.returncode == 2 and "matches no file" in result.stderr


def test_extending_config_overrides_a_rule_of_the_same_id(project) -> None:
    project.write("base.yaml", ACME_RULE)
    project.write(".keyport-lint.yaml", "extend: base.yaml\n" + ACME_RULE.replace(
        "Acme key {match}", "overridden {match}"))
    project.write("a.py", f'TOKEN = "{ACME}"\n')
    (finding,) = findings(project.run("check", "--output-format", "json", "."))
    assert finding["message"].startswith("overridden ")


@pytest.mark.parametrize("rule, words, line", [
    ("  - id: ACME001\n    kind: secret-patern\n    message: m\n", "did you mean "
     "'secret-pattern'", 3),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: m\n    patern: 'x'\n",
     "unknown field 'patern'", 5),
    ("  - id: ACME001\n    kind: secret-pattern\n", "missing required field 'message'", 2),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: '(x'\n",
     "invalid regex", 5),
    ("  - id: acme1\n    kind: secret-pattern\n    message: m\n    pattern: x\n",
     "invalid rule id", 2),
    ("  - id: KP777\n    kind: secret-pattern\n    message: m\n    pattern: x\n",
     "reserved for built-in rules", 2),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: 'm {oops}'\n    pattern: x\n",
     "unknown placeholder {oops}", 4),
    ("  - id: ACME001\n    kind: forbidden-call\n    message: m\n    calls: requests.get\n",
     "must be a list", 5),
    ("  - id: ACME001\n    kind: diagnostic\n    message: m\n", "reserved for built-in", 3),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: x\n"
     "  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: y\n",
     "duplicate rule id ACME001", 6),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: x\n"
     "    metadata:\n      cwe: 798\n", "metadata.cwe is a CWE id", 7),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: x\n"
     "    metadata:\n      security-severity: 11\n", "from 0 to 10", 7),
    ("  - id: ACME001\n    kind: secret-pattern\n    message: m\n    pattern: x\n"
     "    metadata:\n      severity: high\n", "metadata has only", 7),
])
def test_rule_errors_name_file_and_line(project, rule, words, line) -> None:
    project.write(".keyport-lint.yaml", "rules:\n" + rule)
    project.write("a.py", "x = 1\n")
    result = project.run("check", ".")
    assert result.returncode == 2, result.stdout
    assert f".keyport-lint.yaml:{line}:" in result.stderr, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_rule_metadata_reaches_sarif(project) -> None:
    """CWE ids, security-severity and tags live in the rule's YAML, built-in or user-written."""
    project.write(".keyport-lint.yaml", ACME_RULE + "    metadata:\n      cwe: [CWE-798]\n"
                  "      security-severity: 8.5\n      tags: [acme]\n")
    project.write("a.py", "x = 1\n")
    result = project.run("check", "--output-format", "sarif", "--exit-zero", ".")
    rules = {r["id"]: r for r in json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ACME001"]["properties"]["security-severity"] == "8.5"
    assert rules["ACME001"]["properties"]["tags"] == ["security", "acme", "external/cwe/cwe-798"]
    assert rules["KP101"]["properties"]["security-severity"] == "9.0"
    assert "external/cwe/cwe-798" in rules["KP101"]["properties"]["tags"]


def test_schema_doc_names_every_parameter_and_placeholder() -> None:
    doc = (ROOT / "docs" / "rules-schema.md").read_text()
    for name in sorted(kind_names()):
        kind = get_kind(name)
        if not kind.user_facing:
            continue
        assert f"## `{name}`" in doc
        for param in kind.params:
            assert f"`{param}`" in doc, f"{name}.{param} undocumented"
        for placeholder in kind.placeholders:
            assert f"`{{{placeholder}}}`" in doc, f"{name} {{{placeholder}}} undocumented"
