"""Baselines: record today's findings, report only new ones; robust to moved lines, multiset
semantics for identical lines, and never a secret or a source line in the file."""

from __future__ import annotations

import json

import pytest

from .conftest import KEY, SECRET, run_cli

CLIENT = f'client = KeyPort("{KEY}")\n'
HEADER = "from keyport import KeyPort\n\n"


def _baseline(project, *args: str, output: str = "baseline.json") -> dict:
    proc = project.run("baseline", "--output", output, *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads((project.root / output).read_text(encoding="utf-8"))


def _new(project, *args: str, baseline: str = "baseline.json") -> list[tuple[str, str, int]]:
    proc = project.run("check", "--output-format", "json", "--baseline", baseline, *args)
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert proc.returncode == (1 if findings else 0)
    return [(f["rule"], f["path"], f["line"]) for f in findings]


@pytest.fixture
def legacy(project):
    project.write("app/client.py", HEADER + CLIENT)
    project.write("app/hooks.py", f'import keyport\n\nKEYPORT_WEBHOOK_SECRET = "{SECRET}"\n')
    project.write("web/.env", f"KEYPORT_API_KEY={KEY}\n")
    project.write("plain.py", "x = 1  # keyport-lint: ignore[KP101]\n")
    return project


def test_round_trip_hides_every_recorded_finding(legacy) -> None:
    doc = _baseline(legacy)
    assert len(doc["entries"]) == 4
    assert _new(legacy) == []
    proc = legacy.run("check", "--baseline", "baseline.json")
    assert proc.returncode == 0
    assert "4 findings in the baseline baseline.json not shown." in proc.stdout


def test_baseline_file_holds_only_rule_path_and_fingerprint(legacy) -> None:
    doc = _baseline(legacy)
    assert set(doc) == {"tool", "version", "format", "entries"}
    assert doc["tool"] == "keyport-lint"
    for entry in doc["entries"]:
        assert set(entry) == {"rule", "path", "fingerprint"}
    assert [(e["rule"], e["path"]) for e in doc["entries"]] == sorted(
        [("KP101", "app/client.py"), ("KP102", "app/hooks.py"), ("KP104", "web/.env"),
         ("KP901", "plain.py")])
    json_fps = sorted(f["fingerprint"] for f in json.loads(
        legacy.run("check", "--output-format", "json").stdout)["findings"])
    assert sorted(e["fingerprint"] for e in doc["entries"]) == json_fps


def test_no_secret_and_no_source_line_in_the_baseline_or_any_output(legacy) -> None:
    proc = legacy.run("baseline", "--output", "baseline.json")
    text = (legacy.root / "baseline.json").read_text(encoding="utf-8")
    outputs = [text, proc.stdout, proc.stderr]
    for fmt in ("text", "json", "sarif", "github", "junit"):
        check = legacy.run("check", "--output-format", fmt, "--baseline", "baseline.json")
        outputs += [check.stdout, check.stderr]
    for output in outputs:
        for secret in (KEY, SECRET, KEY[8:], SECRET[6:], KEY[:20]):
            assert secret not in output
    for source in ("KeyPort(", "KEYPORT_WEBHOOK_SECRET", "kp_live_", "whsec_", "x = 1"):
        assert source not in text


def test_baseline_file_is_deterministic(legacy) -> None:
    first = _baseline(legacy, output="a.json")
    second = _baseline(legacy, output="b.json")
    assert first == second
    assert (legacy.root / "a.json").read_bytes() == (legacy.root / "b.json").read_bytes()


def test_finding_moved_by_edits_above_stays_baselined(legacy) -> None:
    _baseline(legacy)
    legacy.write("app/client.py", '"""Billing client."""\nimport os\nimport sys\n\n'
                 + HEADER + "def helper():\n    return os.getpid()\n\n\n" + CLIENT)
    legacy.write("web/.env", "# comment\nDEBUG=1\n" + f"KEYPORT_API_KEY={KEY}\n")
    assert _new(legacy) == []


def test_reindenting_the_flagged_line_keeps_it_baselined(legacy) -> None:
    _baseline(legacy)
    legacy.write("app/client.py", HEADER + "if True:\n    " + CLIENT.replace(" = ", "  =  "))
    assert _new(legacy) == []


def test_a_new_finding_is_reported_and_old_ones_are_not(legacy) -> None:
    _baseline(legacy)
    legacy.write("app/client.py", HEADER + CLIENT + f'backup = KeyPort("{KEY[:-1]}X")\n')
    legacy.write("app/new.py", HEADER + CLIENT)
    assert _new(legacy) == [("KP101", "app/client.py", 4), ("KP101", "app/new.py", 3)]


def test_identical_lines_are_a_multiset(project) -> None:
    project.write("app.py", HEADER + CLIENT + "\n" + CLIENT)
    doc = _baseline(project)
    assert [e["rule"] for e in doc["entries"]] == ["KP101", "KP101"]
    assert len({e["fingerprint"] for e in doc["entries"]}) == 2
    assert _new(project) == []
    project.write("app.py", HEADER + CLIENT + "\n" + CLIENT + "\n" + CLIENT)
    assert [rule for rule, _, _ in _new(project)] == ["KP101"]  # exactly one is new


def test_fixing_one_identical_line_leaves_the_other_baselined(project) -> None:
    project.write("app.py", HEADER + CLIENT + "\n" + CLIENT)
    _baseline(project)
    project.write("app.py", HEADER + "client = KeyPort(os.environ['KEYPORT_API_KEY'])\n\n"
                  + CLIENT)
    assert _new(project) == []


def test_fixing_one_finding_changes_nothing_else(legacy) -> None:
    before = {(e["rule"], e["path"]): e["fingerprint"] for e in _baseline(legacy)["entries"]}
    legacy.write("app/hooks.py", 'import os\n\nKEYPORT_WEBHOOK_SECRET = os.environ["X"]\n')
    assert _new(legacy) == []
    after = {(e["rule"], e["path"]): e["fingerprint"]
             for e in _baseline(legacy, output="after.json")["entries"]}
    del before[("KP102", "app/hooks.py")]
    assert after == before


def test_same_line_in_another_file_is_new(legacy) -> None:
    _baseline(legacy)
    legacy.write("app/copy.py", HEADER + CLIENT)
    assert _new(legacy) == [("KP101", "app/copy.py", 3)]


def test_baseline_honours_select_and_paths(legacy) -> None:
    doc = _baseline(legacy, "app", "--select", "KP101")
    assert [(e["rule"], e["path"]) for e in doc["entries"]] == [("KP101", "app/client.py")]
    assert sorted(_new(legacy)) == [("KP102", "app/hooks.py", 3), ("KP104", "web/.env", 1),
                                    ("KP901", "plain.py", 1)]


def test_baseline_works_for_a_precommit_style_run_on_one_file(legacy) -> None:
    _baseline(legacy)
    assert _new(legacy, "app/client.py") == []


def test_other_formats_with_a_baseline(legacy) -> None:
    _baseline(legacy)
    legacy.write("app/new.py", HEADER + CLIENT)
    doc = json.loads(legacy.run("check", "--output-format", "json", "--baseline",
                                "baseline.json").stdout)
    assert doc["baseline"] == {"file": "baseline.json", "baselined": 4}
    sarif = json.loads(legacy.run("check", "--output-format", "sarif", "--baseline",
                                  "baseline.json").stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["baselineState"] == "new"
    github = legacy.run("check", "--output-format", "github", "--baseline", "baseline.json")
    assert github.stdout.count("::error") == 1 and "app/new.py" in github.stdout


def test_missing_baseline_is_exit_2_naming_the_file(legacy) -> None:
    proc = legacy.run("check", "--baseline", "nope.json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("keyport-lint: error: nope.json: baseline file not found")
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("content, why", [
    ("{not json", "not valid JSON"),
    ("[]", "not a keyport-lint baseline"),
    ('{"tool": "ruff", "entries": []}', "not a keyport-lint baseline"),
    ('{"tool": "keyport-lint", "entries": {}}', "entries"),
    ('{"tool": "keyport-lint", "entries": [{"rule": "KP101"}]}', "entry 1"),
    ('{"tool": "keyport-lint", "format": 99, "entries": []}', "format 99"),
    ("\udcff", "cannot read baseline"),
])
def test_corrupt_baseline_is_exit_2_naming_the_file(legacy, content: str, why: str) -> None:
    path = legacy.root / "bad.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(content, encoding="utf-8")
    proc = legacy.run("check", "--baseline", "bad.json")
    assert proc.returncode == 2
    assert proc.stderr.startswith("keyport-lint: error: bad.json")
    assert why in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_baseline_with_a_bad_path_writes_nothing(legacy) -> None:
    proc = legacy.run("baseline", "--output", "baseline.json", "app", "missing")
    assert proc.returncode == 2
    assert "missing" in proc.stderr
    assert not (legacy.root / "baseline.json").exists()


def test_baseline_needs_an_output(legacy) -> None:
    proc = legacy.run("baseline")
    assert proc.returncode == 2 and "--output" in proc.stderr


def test_baseline_used_from_another_folder_warns(legacy) -> None:
    """Without a config or a repository there is nothing to anchor paths at but the folder
    the run starts in: a baseline made elsewhere matches nothing, and the run says so."""
    _baseline(legacy)
    proc = run_cli("check", ".", "--baseline", "../baseline.json", cwd=legacy.root / "app")
    assert proc.returncode == 1
    assert "none of the paths in the baseline" in proc.stderr


@pytest.mark.parametrize("anchor", [".keyport-lint.yaml", ".git"])
def test_baseline_matches_from_any_subfolder(legacy, anchor) -> None:
    """Paths are anchored at the config's folder (or the repository root), not the cwd."""
    if anchor == ".git":
        (legacy.root / ".git").mkdir()
    else:
        legacy.write(anchor, "fail-on: warning\n")
    _baseline(legacy)
    proc = run_cli("check", ".", "--baseline", "../baseline.json", cwd=legacy.root / "app")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "none of the paths" not in proc.stderr
    # and a baseline made in a subfolder matches a run from the root
    made = run_cli("baseline", ".", "--output", "../sub.json", cwd=legacy.root / "app")
    assert made.returncode == 0, made.stderr
    assert {e["path"] for e in json.loads((legacy.root / "sub.json").read_text())["entries"]} \
        == {"app/client.py", "app/hooks.py"}
    assert _new(legacy, "app", baseline="sub.json") == []


def test_stale_entries_are_noted_and_update_drops_them(legacy) -> None:
    _baseline(legacy)
    legacy.write("app/client.py", HEADER + "import os\nclient = KeyPort(os.environ['K'])\n")
    proc = legacy.run("check", "--baseline", "baseline.json", ".")
    assert proc.returncode == 0, proc.stdout
    assert "1 baseline entry in baseline.json no longer matches a finding" in proc.stdout
    assert "keyport-lint baseline --update --output baseline.json" in proc.stdout
    # a hook run on other files does not call the entries of unchecked files stale
    only = legacy.run("check", "--baseline", "baseline.json", "app/hooks.py")
    assert "no longer match" not in only.stdout
    # --update drops the stale entry and adds nothing: a new finding stays new
    legacy.write("new.py", HEADER + CLIENT)
    upd = legacy.run("baseline", "--update", "--output", "baseline.json", ".")
    assert upd.returncode == 0, upd.stderr
    assert "Dropped 1 stale entry; kept 3" in upd.stderr
    entries = json.loads((legacy.root / "baseline.json").read_text())["entries"]
    assert sorted(e["path"] for e in entries) == ["app/hooks.py", "plain.py", "web/.env"]
    assert _new(legacy) == [("KP101", "new.py", 3)]
    assert "no longer match" not in legacy.run("check", "--baseline", "baseline.json",
                                               ".").stdout


def test_empty_baseline_reports_everything(legacy) -> None:
    (legacy.root / "empty.json").write_text('{"tool": "keyport-lint", "entries": []}',
                                            encoding="utf-8")
    assert len(_new(legacy, baseline="empty.json")) == 4
