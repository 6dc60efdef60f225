"""Output formats for CI: SARIF (schema-valid, GitHub code scanning's needs), GitHub workflow
commands (exact lines, escaping) and JUnit XML (parses, one testcase per finding)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from keyport_lint.catalog import builtin_rules
from keyport_lint.config import Config
from keyport_lint.finding import Finding
from keyport_lint.pipeline.run import RunResult
from keyport_lint.report import FORMATS, ReportOptions, render
from keyport_lint.report.github import annotation, escape_data, escape_property

from .conftest import KEY, SECRET

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(
    encoding="utf-8"))

ODD = "odd dir/we,ird:name.py"
FILES = {
    "app/client.py": f'from keyport import KeyPort\n\nclient = KeyPort("{KEY}")\n',
    "app/hooks.py": f'import keyport\n\nKEYPORT_WEBHOOK_SECRET = "{SECRET}"\n',
    "web/.env": f"KEYPORT_API_KEY={KEY}\n",
    "plain.py": "x = 1  # keyport-lint: ignore[KP101]\n",
    ODD: f'import keyport\nk = "{KEY}"\nx = 1  # keyport-lint: ignore[KP1%,x]\n',
}


@pytest.fixture
def dirty(project):
    for rel, text in FILES.items():
        project.write(rel, text)
    return project


def _json(project, *args: str) -> dict:
    proc = project.run("check", "--output-format", "json", *args)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def _sarif(project, *args: str) -> dict:
    proc = project.run("check", "--output-format", "sarif", *args)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


# -- SARIF ---------------------------------------------------------------------------------------

def test_sarif_validates_against_the_2_1_0_schema(dirty) -> None:
    doc = _sarif(dirty)
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(doc), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    assert doc["version"] == "2.1.0"


def test_clean_run_sarif_validates_and_has_no_results(project) -> None:
    project.write("app.py", "import os\nKEY = os.environ['KEYPORT_API_KEY']\n")
    proc = project.run("check", "--output-format", "sarif")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft4Validator)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_sarif_driver_lists_every_rule_with_what_code_scanning_shows(dirty) -> None:
    driver = _sarif(dirty)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "keyport-lint" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [r.id for r in builtin_rules()]
    for rule, descriptor in zip(builtin_rules(), driver["rules"]):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == rule.severity
        assert descriptor["helpUri"].endswith(f"docs/rules.md#{rule.id.lower()}")
        tags = descriptor["properties"]["tags"]
        if rule.kind == "diagnostic":
            assert "security" not in tags and "security-severity" not in descriptor["properties"]
        else:
            assert "security" in tags
            assert 0.0 < float(descriptor["properties"]["security-severity"]) <= 10.0


def test_sarif_results_mirror_the_json_findings(dirty) -> None:
    findings = _json(dirty)["findings"]
    run = _sarif(dirty)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(findings)
    for finding, result in zip(findings, run["results"]):
        assert result["ruleId"] == finding["rule"]
        assert rules[result["ruleIndex"]]["id"] == finding["rule"]
        assert result["level"] == finding["severity"]
        assert result["message"]["text"] == f"{finding['message']}; {finding['help']}"
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not artifact["uri"].startswith(("/", "file:"))
        region = location["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (finding["line"],
                                                               finding["column"])
        if (finding["end_line"], finding["end_column"]) > (finding["line"], finding["column"]):
            assert (region["endLine"], region["endColumn"]) == (finding["end_line"],
                                                               finding["end_column"])
        assert result["partialFingerprints"] == {"keyportLint/v1": finding["fingerprint"]}


def test_sarif_uri_is_percent_encoded_relative_path(dirty) -> None:
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in _sarif(dirty)["runs"][0]["results"]}
    assert uris == {"app/client.py", "app/hooks.py", "web/.env", "plain.py",
                    "odd%20dir/we%2Cird%3Aname.py"}


def test_sarif_exact_result_for_a_hardcoded_key(dirty) -> None:
    results = [r for r in _sarif(dirty)["runs"][0]["results"]
               if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               == "app/client.py"]
    (result,) = results
    assert result["ruleId"] == "KP101"
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 19, "endLine": 3, "endColumn": 19 + len(KEY)}
    assert "kp_live_8fK2…" in result["message"]["text"]


def test_sarif_fingerprint_survives_edits_elsewhere_in_the_file(dirty) -> None:
    def fingerprints() -> dict[tuple[str, str], str]:
        return {(r["ruleId"], r["message"]["text"]): r["partialFingerprints"]["keyportLint/v1"]
                for r in _sarif(dirty)["runs"][0]["results"]
                if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "app/client.py"}

    before = fingerprints()
    dirty.write("app/client.py", '"""Billing."""\nimport os\n\n' + FILES["app/client.py"]
                + "\ndef unrelated():\n    return 1\n")
    after = fingerprints()
    assert before == after and before


def test_sarif_reports_run_errors_as_notifications(project) -> None:
    project.write("app.py", "x = 1\n")
    proc = project.run("check", "--output-format", "sarif", "app.py", "missing.py")
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft4Validator)
    (invocation,) = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "missing.py" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_lists_disabled_rules_as_disabled(dirty) -> None:
    driver = _sarif(dirty, "--ignore", "KP104")["runs"][0]["tool"]["driver"]
    enabled = {r["id"]: r["defaultConfiguration"]["enabled"] for r in driver["rules"]}
    assert enabled["KP104"] is False and enabled["KP101"] is True


def test_sarif_message_brackets_escaped_only_when_they_would_form_a_link() -> None:
    from keyport_lint.report.sarif import _text

    assert _text("malformed code list [KP1%,x]") == "malformed code list [KP1%,x]"
    assert _text("see [here](http://x)") == "see \\[here\\](http://x)"


# -- GitHub workflow commands --------------------------------------------------------------------

def test_github_exact_lines(dirty) -> None:
    proc = dirty.run("check", "--output-format", "github")
    assert proc.returncode == 1, proc.stderr
    end = 19 + len(KEY)
    assert proc.stdout.splitlines() == [
        f"::error file=app/client.py,line=3,col=19,endLine=3,endColumn={end},title=KP101::"
        "KeyPort product API key kp_live_8fK2… is hardcoded; load it from the environment or "
        "a secret store, and rotate this key",
        f"::error file=app/hooks.py,line=3,col=27,endLine=3,endColumn={27 + len(SECRET)},"
        "title=KP102::"
        "KeyPort webhook signing secret whsec_4Rt8… is hardcoded; load it from the environment"
        " and roll the secret",
        f"::error file=odd dir/we%2Cird%3Aname.py,line=2,col=6,endLine=2,endColumn={6 + len(KEY)}"
        ",title=KP101::KeyPort product API key kp_live_8fK2… is hardcoded; load it from the "
        "environment or a secret store, and rotate this key",
        "::warning file=odd dir/we%2Cird%3Aname.py,line=3,col=8,title=KP902::"
        "invalid suppression: malformed code list [KP1%25,x]; name the codes it silences, "
        "e.g. # keyport-lint: ignore[KP101]",
        "::warning file=plain.py,line=1,col=8,title=KP901::"
        "unused suppression for KP101: nothing is reported here; remove the code from the "
        "comment (or the whole comment)",
        f"::error file=web/.env,line=1,col=17,endLine=1,endColumn={17 + len(KEY)},title=KP104::"
        "KeyPort key or secret kp_live_8fK2… in a committed text file; take the value out of "
        "this committed file (git rm --cached it and add it to .gitignore), commit a copy with "
        "empty values (.env.example) instead, and rotate the key",
    ]


def test_github_escaping_rules() -> None:
    assert escape_data("100% done\r\nnext::line") == "100%25 done%0D%0Anext::line"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_github_annotation_escapes_injection_attempts() -> None:
    finding = Finding("KP201", "api-key-logged", "error", "a,b:c.py", 4, 2, 6, 9,
                      "line one\n::error::forged 50%")
    assert annotation(finding) == (
        "::error file=a%2Cb%3Ac.py,line=4,endLine=6,title=KP201::"
        "line one%0A::error::forged 50%25")


def test_github_clean_run_prints_nothing(project) -> None:
    project.write("app.py", "x = 1\n")
    proc = project.run("check", "--output-format", "github")
    assert (proc.returncode, proc.stdout) == (0, "")


# -- JUnit ---------------------------------------------------------------------------------------

def test_junit_one_failed_testcase_per_finding(dirty) -> None:
    findings = _json(dirty)["findings"]
    proc = dirty.run("check", "--output-format", "junit")
    assert proc.returncode == 1, proc.stderr
    root = ET.fromstring(proc.stdout)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(findings) == int(suite.get("tests")) == int(suite.get("failures"))
    for finding, case in zip(findings, cases):
        failure = case.find("failure")
        assert failure is not None
        assert failure.get("type") == finding["rule"]
        assert failure.get("message") == finding["message"]
        assert case.get("classname") == finding["path"]
        assert case.get("line") == str(finding["line"])


def test_junit_clean_run_is_one_passing_testcase(project) -> None:
    project.write("app.py", "x = 1\n")
    proc = project.run("check", "--output-format", "junit")
    assert proc.returncode == 0
    root = ET.fromstring(proc.stdout)
    suite = root.find("testsuite")
    assert suite.get("failures") == "0" and suite.get("tests") == "1"
    (case,) = suite.findall("testcase")
    assert case.find("failure") is None and case.find("error") is None


def test_junit_survives_characters_xml_cannot_hold() -> None:
    finding = Finding("KP902", "invalid-suppression", "warning", "a&b<c>.py", 1, 1, 1, 1,
                      'bad \x01\x1b[0m "quoted" & <tag>')
    result = RunResult(findings=[finding], errors=["oops \x00"], files=1)
    text = render("junit", result, ReportOptions(Config(root=Path("."))))
    root = ET.fromstring(text)
    assert root.get("errors") == "1" and root.get("failures") == "1"
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == 'bad \ufffd\ufffd[0m "quoted" & <tag>'


# -- across formats ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_ever_shows_the_full_key_or_secret(dirty, fmt: str) -> None:
    proc = dirty.run("check", "--output-format", fmt, "--statistics")
    assert proc.returncode == 1, proc.stderr
    for secret in (KEY, SECRET, KEY[8:], SECRET[6:]):
        assert secret not in proc.stdout and secret not in proc.stderr


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_deterministic(dirty, fmt: str) -> None:
    def out() -> str:
        text = dirty.run("check", "--output-format", fmt).stdout
        # run statistics (time, what was parsed or came from the cache) may differ
        volatile = ('"seconds"', '"parsed"', '"cached"', '"jobs"', '"walks_per_parsed_file"',
                    "time=")
        return "\n".join(line for line in text.splitlines()
                         if not any(v in line for v in volatile))

    assert out() == out()


def test_json_statistics(dirty) -> None:
    doc = _json(dirty, "--statistics")
    assert doc["statistics"] == [
        {"rule": "KP101", "name": "hardcoded-api-key", "count": 2},
        {"rule": "KP102", "name": "hardcoded-webhook-secret", "count": 1},
        {"rule": "KP104", "name": "key-in-text-file", "count": 1},
        {"rule": "KP901", "name": "unused-suppression", "count": 1},
        {"rule": "KP902", "name": "invalid-suppression", "count": 1},
    ]
    assert "statistics" not in _json(dirty)


def test_text_statistics(dirty) -> None:
    """Only the counts (with -q, not even the verdict): no listing before them."""
    proc = dirty.run("check", "--statistics", "--quiet")
    lines = proc.stdout.splitlines()
    assert "    2  KP101  [error]  hardcoded-api-key" in lines
    assert all(line.startswith(" ") for line in lines), lines
    full = dirty.run("check", "--statistics").stdout.splitlines()
    assert full[-1].startswith("Found 6 findings") and full[:len(lines)] == lines


def test_output_file(dirty) -> None:
    proc = dirty.run("check", "--output-format", "sarif", "--output", "report.sarif")
    assert proc.returncode == 1 and proc.stdout == ""
    doc = json.loads((dirty.root / "report.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft4Validator)


def test_unwritable_output_is_exit_2_with_one_line(dirty) -> None:
    proc = dirty.run("check", "--output", "no/such/dir/report.txt")
    assert proc.returncode == 2
    assert proc.stderr.startswith("keyport-lint: error: cannot write no/such/dir/report.txt")
    assert "Traceback" not in proc.stderr
