"""`check --fix`, `--unsafe-fixes`, `--diff`: what is written, what is printed, what is never
written (a key, a file that does not parse, a file without findings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyport_lint.finding import Edit, Finding, Fix
from keyport_lint.fix.apply import apply_fixes
from keyport_lint.testing import case_config, fixed_pair, fixed_text, is_case_file

from .conftest import FIXTURES, KEY, SECRET

LOGGED = ("import logging\nimport os\n\nlog = logging.getLogger(__name__)\n"
          'KEY = os.environ["KEYPORT_API_KEY"]\nlog.info("key %s", KEY)\n')
HARDCODED = f'from keyport import KeyPort\n\nclient = KeyPort("{KEY}")\n'


def test_fix_writes_safe_fixes_and_reports_what_remains(project):
    project.write("app.py", LOGGED)
    project.write("keys.py", HARDCODED)
    result = project.run("check", "--fix", ".")
    assert (project.root / "app.py").read_text() == LOGGED.replace('KEY)', 'KEY[:12])')
    assert (project.root / "keys.py").read_text() == HARDCODED  # unsafe: not without the flag
    assert "fixed 1 finding in 1 file (1 remaining)" in result.stderr
    assert "keys.py:3:19: KP101 [error]" in result.stdout and "app.py" not in result.stdout
    assert result.returncode == 1  # what remains still fails


def test_unsafe_fixes_also_apply_unsafe_ones_and_never_write_the_key(project):
    project.write("keys.py", HARDCODED)
    result = project.run("check", "--fix", "--unsafe-fixes", ".")
    text = (project.root / "keys.py").read_text()
    assert text == ("import os\nfrom keyport import KeyPort\n\n"
                    'client = KeyPort(os.environ["KEYPORT_API_KEY"])\n')
    assert KEY not in result.stdout + result.stderr
    assert result.returncode == 0 and "All checks passed" in result.stdout


def test_config_unsafe_fixes_and_unfixable(project):
    project.write("keys.py", HARDCODED)
    project.write("app.py", LOGGED)
    project.write(".keyport-lint.yaml", "unsafe-fixes: true\nunfixable: [KP2]\n")
    project.run("check", "--fix", "--no-unsafe-fixes", ".")
    assert (project.root / "keys.py").read_text() == HARDCODED  # the flag wins
    project.run("check", "--fix", ".")
    assert "os.environ" in (project.root / "keys.py").read_text()
    assert (project.root / "app.py").read_text() == LOGGED  # KP2 is unfixable here
    project.write(".keyport-lint.yaml", "fixable: [KP9]\n")
    project.write("keys.py", HARDCODED)
    out = project.run("check", "--unsafe-fixes", "--fix", ".")
    assert (project.root / "keys.py").read_text() == HARDCODED
    assert "[*]" not in out.stdout


def test_diff_writes_nothing_and_exits_1_only_when_there_would_be_changes(project):
    project.write("app.py", LOGGED)
    result = project.run("check", "--diff", ".")
    assert result.returncode == 1
    assert (project.root / "app.py").read_text() == LOGGED
    assert result.stdout.splitlines()[:2] == ["--- a/app.py", "+++ b/app.py"]
    assert '-log.info("key %s", KEY)' in result.stdout
    assert '+log.info("key %s", KEY[:12])' in result.stdout
    assert "would fix 1 finding in 1 file" in result.stderr
    project.write("app.py", LOGGED.replace("KEY)", "KEY[:12])"))
    clean = project.run("check", "--diff", ".")
    assert clean.returncode == 0 and clean.stdout == ""


def test_text_marks_fixable_findings_and_counts_them(project):
    project.write("app.py", LOGGED)
    project.write("keys.py", HARDCODED)
    out = project.run("check", ".").stdout
    assert "app.py:6:1: KP201 [*] [error]" in out
    assert "keys.py:3:19: KP101 [error]" in out  # unsafe: no mark without --unsafe-fixes
    assert out.rstrip().endswith("1 fixable with --fix (1 more with --unsafe-fixes).")
    unsafe = project.run("check", "--unsafe-fixes", ".").stdout
    assert "keys.py:3:19: KP101 [*] [error]" in unsafe
    assert unsafe.rstrip().endswith("2 fixable with --fix --unsafe-fixes.")


def test_json_and_sarif_carry_the_fix(project):
    project.write("app.py", LOGGED)
    doc = json.loads(project.run("check", "--output-format", "json", ".").stdout)
    fix = doc["findings"][0]["fix"]
    assert fix["applicability"] == "safe"
    assert fix["edits"] == [{"line": 6, "column": 23, "end_line": 6, "end_column": 23,
                             "content": "[:12]"}]
    sarif = json.loads(project.run("check", "--output-format", "sarif", ".").stdout)
    change = sarif["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 6, "startColumn": 23, "endLine": 6, "endColumn": 23},
        "insertedContent": {"text": "[:12]"}}]


def test_the_cache_carries_fixes(project):
    project.write("app.py", LOGGED)
    first = project.run("check", "--output-format", "json", ".").stdout
    second = json.loads(project.run("check", "--output-format", "json", ".").stdout)
    assert second["stats"]["cached"] == 1
    assert json.loads(first)["findings"][0]["fix"] == second["findings"][0]["fix"]


def test_stdin_fix_prints_the_fixed_source(project):
    result = project.run("check", "--stdin-filename", "app.py", "--fix", "-", stdin=LOGGED)
    assert result.stdout == LOGGED.replace("KEY)", "KEY[:12])")
    assert result.returncode == 0
    diff = project.run("check", "--stdin-filename", "app.py", "--diff", "-", stdin=LOGGED)
    assert diff.returncode == 1 and "+log.info(\"key %s\", KEY[:12])" in diff.stdout


def test_text_files_get_no_fix(project):
    project.write(".env", f"KEYPORT_API_KEY={KEY}\n")
    project.write("static/app.js", "fetch('https://api.keyport.sbs/api/v1/validate')\n")
    doc = json.loads(project.run("check", "--output-format", "json", "--unsafe-fixes",
                                 ".").stdout)
    assert doc["findings"] and all(f["fix"] is None for f in doc["findings"])


def test_crlf_bom_and_permissions_are_kept(project):
    path = project.root / "app.py"
    path.write_bytes(b"\xef\xbb\xbf" + LOGGED.replace("\n", "\r\n").encode())
    path.chmod(0o640)
    project.run("check", "--fix", ".")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b'KEY[:12])\r\n' in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_fix_that_would_not_parse_is_dropped_and_overlaps_wait():
    text = "x = 1\ny = 2\n"
    bad = Finding("KP201", "n", "error", "a.py", 1, 1, 1, 2, "m",
                  fix=Fix("safe", "t", (Edit(1, 1, 1, 2, "("),)))
    good = Finding("KP201", "n", "error", "a.py", 2, 5, 2, 6, "m",
                   fix=Fix("safe", "t", (Edit(2, 5, 2, 6, "3"),)))
    over = Finding("KP201", "n", "error", "a.py", 2, 5, 2, 6, "m",
                   fix=Fix("safe", "t", (Edit(2, 5, 2, 6, "4"),)))
    applied = apply_fixes(text, [bad, good, over])
    assert applied.text == "x = 1\ny = 3\n"
    assert applied.broken == [bad] and applied.deferred == [over]


def test_a_file_that_would_not_parse_is_never_written(project, monkeypatch):
    from keyport_lint.fix import mask

    def breaks(finding, fc):
        return Fix("safe", "t", (Edit(finding.line, 1, finding.line, 1, "(("),))

    monkeypatch.setattr(mask, "fix", breaks)
    project.write("app.py", LOGGED)
    result = project.run("check", "--fix", "--no-cache", ".")
    assert (project.root / "app.py").read_text() == LOGGED
    assert "KP201 fix dropped: the result would not parse" in result.stderr


def _pairs() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.py") if fixed_pair(p) is not None)


def test_every_fixable_rule_has_a_fixed_pair():
    codes = {p.parent.name for p in _pairs()}
    assert codes >= {"KP101", "KP102", "KP103", "KP201", "KP202", "KP304", "KP402", "KP403",
                     "KP901", "KP902"}
    assert not any(is_case_file(p) for p in FIXTURES.rglob("*.fixed.py"))


@pytest.mark.parametrize("case", sorted(p for p in FIXTURES.glob("*/good_*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_never_changes_a_file_without_a_finding(case: Path):
    codes = {case.parent.name}
    assert fixed_text(case, case.parent, case_config(case, codes), codes) == case.read_text()


def test_no_fix_writes_or_shows_a_secret(project):
    project.write("hook.py",
                  f'KEYPORT_WEBHOOK_SECRET = "{SECRET}"\nprint(KEYPORT_WEBHOOK_SECRET)\n')
    doc = project.run("check", "--output-format", "json", "--unsafe-fixes", ".").stdout
    assert SECRET not in doc
    project.run("check", "--fix", "--unsafe-fixes", ".")
    assert SECRET not in (project.root / "hook.py").read_text()


def test_pre_commit_fix_hook_applies_safe_fixes(project):
    """The `keyport-lint-fix` hook as pre-commit runs it: its entry plus the staged files."""
    import shlex

    from keyport_lint.yamlio import load_yaml

    from .conftest import ROOT

    hooks = load_yaml((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"), "hooks")
    hook = next(h for h in hooks if h["id"] == "keyport-lint-fix")
    program, *args = shlex.split(hook["entry"])
    assert program == "keyport-lint" and "--unsafe-fixes" not in args
    project.write("app.py", LOGGED)
    project.write("keys.py", HARDCODED)
    result = project.run(*args, "app.py", "keys.py")
    assert (project.root / "app.py").read_text() != LOGGED  # modified: pre-commit says so
    assert (project.root / "keys.py").read_text() == HARDCODED  # unsafe: left alone
    assert result.returncode == 1  # KP101 remains


# -- user rules: `fix:` templates, and test-rules checks .fixed.py pairs --------------------------

ACME = "acme_sk_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
USER_RULES = """\
rules:
  - id: ACME001
    kind: secret-pattern
    message: "Acme key {match}"
    pattern: 'acme_sk_[0-9a-f]{32}'
    fix:
      replace: 'os.environ["ACME_KEY"]'
      imports: [os]
  - id: ACME002
    kind: forbidden-call
    context: any
    message: "{call} without a timeout"
    calls: [requests.get]
    conditions: [{keyword: timeout, missing: true}]
    fix:
      replace: '{callee}({args}, timeout=10)'
      applicability: safe
      title: add a timeout
"""


def test_user_rule_fix_templates_and_test_rules_pairs(project):
    project.write(".keyport-lint.yaml", USER_RULES)
    bad = (f'import requests\n\nKEY = "{ACME}"  # expect: ACME001\n'
           'requests.get("https://acme.test", headers={"k": KEY})  # expect: ACME002\n')
    project.write("cases/bad_acme.py", bad)
    project.write("cases/bad_acme.fixed.py", (
        'import os\nimport requests\n\nKEY = os.environ["ACME_KEY"]  # expect: ACME001\n'
        'requests.get("https://acme.test", headers={"k": KEY}, timeout=10)'
        '  # expect: ACME002\n'))
    result = project.run("test-rules", "cases/bad_acme.py")
    assert result.returncode == 0, result.stdout + result.stderr
    project.write("cases/bad_acme.fixed.py", bad)  # a wrong expectation fails
    result = project.run("test-rules", "cases/bad_acme.py")
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["bad_acme.py:1: fix differs from bad_acme.fixed.py"]
    out = project.run("check", "--output-format", "json", "cases/bad_acme.py").stdout
    assert ACME not in out


def test_user_rule_fix_is_validated(project):
    project.write(".keyport-lint.yaml", USER_RULES.replace("applicability: safe",
                                                           "applicability: maybe"))
    result = project.run("check", ".")
    assert result.returncode == 2
    assert "fix: applicability must be 'safe' or 'unsafe'" in result.stderr
    assert ".keyport-lint.yaml:" in result.stderr
    project.write(".keyport-lint.yaml", USER_RULES.replace(
        """'os.environ["ACME_KEY"]'""", "'{match}'"))
    result = project.run("check", ".")
    assert result.returncode == 2 and "has no placeholders" in result.stderr


def test_mask_slices_text_and_wraps_anything_else_in_str(project):
    """`pair[:12]` on a tuple would still show the key: only known text is sliced directly."""
    project.write("app.py", LOGGED + 'pair = (KEY, 1)\nlog.info("%s", pair)\n'
                  'log.info("%s", KEY.encode())\n')
    project.run("check", "--fix", ".")
    text = (project.root / "app.py").read_text()
    assert 'log.info("key %s", KEY[:12])' in text
    assert 'log.info("%s", str(pair)[:12])' in text
    assert 'log.info("%s", KEY.encode())' in text  # a call's result: no single right edit


def test_unused_suppression_in_a_file_that_was_not_parsed(project):
    """No selected rule can fire in this file, so it is never parsed; its stale comment is
    still fixed (from its lines alone)."""
    import json

    project.write("util.py", "import os\n\nprint(os.getcwd())  # keyport-lint: ignore[KP101]\n")
    doc = json.loads(project.run("check", "--select", "KP101,KP901", "--output-format", "json",
                                 "--no-cache", ".").stdout)
    assert doc["stats"]["parsed"] == 0 and doc["findings"][0]["fix"] is not None
    result = project.run("check", "--fix", "--select", "KP101,KP901", ".")
    assert (project.root / "util.py").read_text() == "import os\n\nprint(os.getcwd())\n"
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_symbolic_link_is_never_written_through(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "target.py"
    outside.write_text(LOGGED, encoding="utf-8")
    (project.root / "app.py").symlink_to(outside)
    result = project.run("check", "--fix", "app.py")
    assert outside.read_text(encoding="utf-8") == LOGGED
    assert (project.root / "app.py").is_symlink()
    assert "app.py: not fixed: it is a symbolic link" in result.stderr


def test_a_template_that_would_copy_a_key_gives_no_fix(project):
    """`{args}` copies source text; when that text holds a key, the run drops the fix."""
    import json

    project.write(".keyport-lint.yaml", USER_RULES)
    project.write("app.py", f'import requests\n\nrequests.get("https://acme.test", '
                            f'headers={{"k": "{ACME}"}})\n')
    doc = json.loads(project.run("check", "--output-format", "json", "--no-cache",
                                 ".").stdout)
    call = [f for f in doc["findings"] if f["rule"] == "ACME002"]
    assert call and call[0]["fix"] is None
    project.run("check", "--fix", "--unsafe-fixes", "--select", "ACME002", ".")
    assert ACME in (project.root / "app.py").read_text()  # unchanged: nothing copied
    assert ACME not in json.dumps(doc)


@pytest.mark.parametrize("before, after", [
    # one of two codes unused: the list is trimmed
    (f'X = "{KEY}"  # keyport-lint: ignore[KP101, KP201]\n',
     f'X = "{KEY}"  # keyport-lint: ignore[KP101]\n'),
    # alone on the line above: the line goes
    ('import os\n# keyport-lint: ignore[KP101]\nX = os.environ["KEYPORT_API_KEY"]\n',
     'import os\nX = os.environ["KEYPORT_API_KEY"]\n'),
    # another comment after it stays
    ('import os\nX = os.environ["KEYPORT_API_KEY"]  # keyport-lint: ignore[KP101]  # why\n',
     'import os\nX = os.environ["KEYPORT_API_KEY"]  # why\n'),
])
def test_unused_suppressions_are_trimmed_or_removed(project, before, after):
    project.write("app.py", "from keyport import KeyPort\n" + before)
    project.run("check", "--fix", ".")
    assert (project.root / "app.py").read_text() == "from keyport import KeyPort\n" + after
