"""The command line in CI and in monorepos: reports next to the console, a summary on stderr,
configuration discovered per file, --show-settings and --show-files, the progress bar."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from .conftest import KEY, run_cli

BAD = f'from keyport import KeyPort\n\nclient = KeyPort("{KEY}")\n'
LOGGED = f'import logging\nimport keyport\n\nKEY = "{KEY}"\nlogging.info(KEY)\n'


def test_output_file_leaves_a_one_line_summary_on_stderr(project):
    project.write("app.py", BAD)
    result = project.run("check", "--output-format", "sarif", "--output", "out.sarif", ".")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "keyport-lint: Found 1 finding (1 error, 0 warnings) in 1 file; 1 file checked. "
        "Report: out.sarif"]
    assert json.loads((project.root / "out.sarif").read_text())["runs"][0]["results"]


def test_reports_next_to_the_console_output(project):
    project.write("app.py", BAD)
    result = project.run("check", "--report", "sarif:out/ks.sarif", "--report", "junit:ks.xml",
                         "--report", "json:ks.json", ".")
    assert result.returncode == 2  # out/ does not exist: a clear error, no traceback
    assert "cannot write out/ks.sarif" in result.stderr
    (project.root / "out").mkdir()
    result = project.run("check", "--report", "sarif:out/ks.sarif", "--report", "junit:ks.xml",
                         "--report", "json:ks.json", ".")
    assert result.returncode == 1
    assert result.stdout.startswith("app.py:3:19: KP101 [error]")  # the console still shows it
    sarif = json.loads((project.root / "out/ks.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "KP101"
    assert ET.parse(project.root / "ks.xml").getroot().get("failures") == "1"
    assert json.loads((project.root / "ks.json").read_text())["findings"][0]["help"]
    bad = project.run("check", "--report", "yaml:x.yaml", ".")
    assert bad.returncode == 2 and "FORMAT:FILE" in bad.stderr


def test_a_text_report_file_lists_run_errors(project):
    project.write("app.py", BAD)
    project.run("check", "--output", "report.txt", ".", "missing.py")
    text = (project.root / "report.txt").read_text()
    assert "error: missing.py: no such file or directory" in text


# -- monorepos -------------------------------------------------------------------------------------

def monorepo(project):
    (project.root / ".git").mkdir()
    project.write(".keyport-lint.yaml", "ignore: [KP104]\n")
    project.write("svc-a/.keyport-lint.yaml", "extend: ../.keyport-lint.yaml\nselect: [kp2]\n"
                  "exclude: ['generated/**']\n")
    project.write("svc-a/app.py", LOGGED)
    project.write("svc-a/generated/client.py", BAD)
    project.write("svc-b/pyproject.toml", "[tool.keyport-lint]\nselect = ['KP1']\n")
    project.write("svc-b/app.py", LOGGED)
    project.write("top.py", LOGGED)
    project.write(".env", f"KEYPORT_API_KEY={KEY}\n")
    return project


def _found(result) -> list[tuple[str, str]]:
    return [(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"]]


def test_each_file_is_checked_under_the_nearest_config(project):
    repo = monorepo(project)
    expected = [("svc-a/app.py", "KP201"), ("svc-b/app.py", "KP101"),
                ("top.py", "KP101"), ("top.py", "KP201")]
    assert _found(repo.run("check", "--output-format", "json", ".")) == expected
    # the same from a sub-project, and with the file named explicitly (as pre-commit does)
    sub = run_cli("check", "--output-format", "json", ".", cwd=repo.root / "svc-a")
    assert _found(sub) == [("app.py", "KP201")]
    hook = repo.run("check", "--output-format", "json", "svc-a/app.py",
                    "svc-a/generated/client.py", "svc-b/app.py")
    assert _found(hook) == [("svc-a/app.py", "KP201"), ("svc-b/app.py", "KP101")]
    # --config governs every file
    forced = repo.run("check", "--output-format", "json", "--config", ".keyport-lint.yaml", ".")
    assert ("svc-a/generated/client.py", "KP101") in _found(forced)


def test_show_files_lists_what_would_be_checked(project):
    repo = monorepo(project)
    result = repo.run("check", "--show-files")
    assert result.returncode == 0
    listed = result.stdout.splitlines()
    assert "svc-a/app.py" in listed and "top.py" in listed and ".env" in listed
    assert "svc-a/generated/client.py" not in listed  # svc-a's own exclude


def test_show_settings_names_where_each_value_comes_from(project):
    repo = monorepo(project)
    result = repo.run("check", "--select", "KP2,KP1", "--show-settings", "svc-a/app.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Settings for svc-a/app.py"
    assert lines[1] == "config: svc-a/.keyport-lint.yaml (extends .keyport-lint.yaml)"
    assert 'select: ["KP2", "KP1"]  # command line (--select)' in lines
    assert 'ignore: ["KP104"]  # .keyport-lint.yaml:1' in lines
    assert 'exclude: ["/generated/**"]  # svc-a/.keyport-lint.yaml:3' in lines or \
        'exclude: ["generated/**"]  # svc-a/.keyport-lint.yaml:3' in lines
    assert "settings.prefix-max: 12  # default" in lines
    other = repo.run("check", "--show-settings", "svc-b/app.py").stdout.splitlines()
    assert other[1] == "config: svc-b/pyproject.toml"
    assert 'select: ["KP1"]  # svc-b/pyproject.toml:2' in other


def test_progress_bar_only_on_a_terminal_after_a_second(monkeypatch):
    import io

    from keyport_lint.pipeline import project as project_module

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock = [100.0]
    monkeypatch.setattr(project_module.time, "monotonic", lambda: clock[0])
    for stream, expect in ((io.StringIO(), False), (Tty(), True)):
        monkeypatch.setattr(project_module.sys, "stderr", stream)
        bar = project_module._Progress(10)
        bar.tick(3)  # the first second: nothing yet
        assert stream.getvalue() == ""
        clock[0] += 1.5
        bar.tick(3)
        bar.close()
        assert ("Checking" in stream.getvalue()) is expect
        assert not expect or stream.getvalue().endswith("\r\033[2K\033[?25h")  # erased


def test_no_progress_bar_in_pipes(project):
    for i in range(30):
        project.write(f"m{i}.py", BAD)
    result = project.run("check", "-q", ".", process=True)
    assert "Checking" not in result.stderr and result.stderr == ""


def test_a_broken_sub_project_config_is_an_error_and_the_rest_is_checked(project):
    repo = monorepo(project)
    repo.write("svc-b/pyproject.toml", "[tool.keyport-lint]\nselect = 'KP1\n")
    result = repo.run("check", "--output-format", "concise", ".")
    assert result.returncode == 2
    assert "error: svc-b/pyproject.toml" in result.stderr and "invalid TOML" in result.stderr
    assert "(2 files under it not checked)" in result.stderr  # app.py and pyproject.toml
    assert "top.py:4:8: KP101" in result.stdout and "svc-a/app.py:5:1: KP201" in result.stdout
    assert "All checks passed" not in result.stdout


def test_a_tree_outside_the_working_folder_is_rooted_at_the_path_named(tmp_path):
    """No config, no repository: the project root is the working folder only when it holds
    the files. Checked from elsewhere, a monorepo's imports resolve inside the tree named on
    the command line, never against packages of the folder the command was typed in."""
    import shutil

    from .conftest import FIXTURES

    tree, elsewhere = tmp_path / "tree", tmp_path / "elsewhere"
    shutil.copytree(FIXTURES / "KP301" / "good_monorepo", tree)
    decoy = elsewhere / "libs" / "keyport_common"  # same package name, no verifier in it
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("")
    (decoy / "webhooks.py").write_text("def verify_keyport_signature(request):\n    pass\n")
    inside = run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=tree)
    outside = run_cli("check", "--no-cache", "--output-format", "json", "../tree",
                      cwd=elsewhere)
    assert inside.returncode == 0 and _found(inside) == []
    assert outside.returncode == 0, outside.stdout
    assert _found(outside) == []
