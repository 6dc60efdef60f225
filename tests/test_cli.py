"""The `check` command as a user meets it: exit codes, formats, config, suppressions."""

from __future__ import annotations

import json
import os

import pytest

from .conftest import KEY, SECRET

BAD = f'from keyport import KeyPort\n\nclient = KeyPort("{KEY}")\n'
CLEAN = "import os\n\nKEYPORT_API_KEY = os.environ['KEYPORT_API_KEY']\n"


def test_clean_project_exits_zero(project):
    project.write("app.py", CLEAN)
    result = project.run("check", ".")
    assert result.returncode == 0, result.stderr
    assert "All checks passed" in result.stdout


def test_finding_exits_one_with_location_and_excerpt(project):
    project.write("app.py", BAD)
    result = project.run("check", "app.py")
    assert result.returncode == 1
    assert result.stdout.startswith("app.py:3:19: KP101 ")
    assert "3 | client = KeyPort(" in result.stdout
    assert "^" in result.stdout


def test_default_path_is_current_folder(project):
    project.write("pkg/app.py", BAD)
    result = project.run("check")
    assert result.returncode == 1
    assert "pkg/app.py:3:19: KP101" in result.stdout


def test_json_output_shape(project):
    project.write("app.py", BAD)
    result = project.run("check", "--output-format", "json", ".")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["tool"] == "keyport-lint"
    assert set(doc) == {"tool", "version", "findings", "errors", "stats"}
    (finding,) = doc["findings"]
    assert finding["rule"] == "KP101" and finding["name"] == "hardcoded-api-key"
    assert (finding["path"], finding["line"], finding["column"]) == ("app.py", 3, 19)
    assert finding["severity"] == "error" and len(finding["fingerprint"]) >= 16
    assert doc["stats"]["files"] == 1 and doc["stats"]["parsed"] == 1


def test_exit_zero_and_fail_on(project):
    project.write("app.py", "x = 1  # keyport-lint: ignore\n")  # KP902 is a warning
    assert project.run("check", ".").returncode == 1
    assert project.run("check", "--fail-on", "error", ".").returncode == 0
    project.write("bad.py", BAD)
    assert project.run("check", "--fail-on", "error", ".").returncode == 1
    assert project.run("check", "--exit-zero", ".").returncode == 0


def test_select_and_ignore(project):
    project.write("app.py", BAD)
    assert project.run("check", "--select", "KP102", ".").returncode == 0
    assert project.run("check", "--ignore", "KP1", ".").returncode == 0
    assert project.run("check", "--select", "KP1", "--ignore", "KP102", ".").returncode == 1
    result = project.run("check", "--select", "KP1O1", ".")
    assert result.returncode == 2
    assert "unknown rule code or prefix 'KP1O1'" in result.stderr
    assert "did you mean 'KP101'" in result.stderr


def test_output_file(project):
    project.write("app.py", BAD)
    result = project.run("check", "--output-format", "json", "--output", "report.json", ".")
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads((project.root / "report.json").read_text())["findings"]


def test_quiet_prints_findings_only(project):
    project.write("app.py", BAD)
    result = project.run("check", "-q", ".")
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0]]
    assert result.stdout.startswith("app.py:3:19: KP101")


def test_statistics(project):
    project.write("a.py", BAD)
    project.write("b.py", BAD)
    result = project.run("check", "--statistics", ".")
    assert result.stdout.splitlines() == [
        "    2  KP101  [error]  hardcoded-api-key", "",
        "Found 2 findings (2 errors, 0 warnings) in 2 files; 2 files checked."]


def test_colour_only_when_asked(project):
    project.write("app.py", BAD)
    assert "\033[" not in project.run("check", ".").stdout  # NO_COLOR=1 in run_cli
    forced = project.run("check", ".", env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\033[" in forced.stdout


def test_missing_path_is_exit_two(project):
    result = project.run("check", "nope.py")
    assert result.returncode == 2
    assert "nope.py: no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_findings_sorted_and_stable(project):
    project.write("b.py", BAD + f'X = "{KEY}"\n')
    project.write("a.py", BAD)
    project.write("sub/c.py", BAD)
    first = project.run("check", "--output-format", "json", ".").stdout
    second = project.run("check", "--output-format", "json", ".").stdout
    findings = json.loads(first)["findings"]
    keys = [(f["path"], f["line"], f["column"], f["rule"]) for f in findings]
    assert keys == sorted(keys)
    assert [f["path"] for f in findings] == ["a.py", "b.py", "b.py", "sub/c.py"]
    strip = lambda text: [{k: v for k, v in f.items()} for f in json.loads(text)["findings"]]  # noqa: E731
    assert strip(first) == strip(second)


# -- discovery -------------------------------------------------------------------------------

def test_gitignore_honoured_when_walking_but_not_for_explicit_files(project):
    (project.root / ".git").mkdir()
    project.write(".gitignore", ".env\nbuild/\n")
    project.write(".env", f"KEYPORT_API_KEY={KEY}\n")
    project.write("build/gen.py", BAD)
    assert project.run("check", "--allow-empty", ".").returncode == 0
    explicit = project.run("check", ".env")
    assert explicit.returncode == 1 and "KP104" in explicit.stdout


def test_config_exclude_applies_to_explicit_files(project):
    project.write(".keyport-lint.yaml", "exclude: ['vendor/**']\n")
    project.write("vendor/lib.py", BAD)
    assert project.run("check", "--allow-empty", ".").returncode == 0
    assert project.run("check", "--allow-empty", "vendor/lib.py").returncode == 0


# -- suppressions ----------------------------------------------------------------------------

def test_suppression_on_line_and_line_above(project):
    project.write("a.py", f'K = "{KEY}"  # keyport-lint: ignore[KP101]\n')
    project.write("b.py", f'# keyport-lint: ignore[KP101, KP102]\nK = "{KEY}"\n')
    result = project.run("check", "--output-format", "json", ".")
    rules = [(f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"]]
    assert rules == [("b.py", "KP901")]  # KP102 silenced nothing


def test_bare_suppression_is_invalid_and_suppresses_nothing(project):
    project.write("a.py", f'K = "{KEY}"  # keyport-lint: ignore\n')
    result = project.run("check", "--output-format", "json", ".")
    rules = sorted(f["rule"] for f in json.loads(result.stdout)["findings"])
    assert rules == ["KP101", "KP902"]


def test_suppression_of_switched_off_rule_is_not_unused(project):
    project.write("a.py", f'K = "{KEY}"  # keyport-lint: ignore[KP101]\n')
    result = project.run("check", "--ignore", "KP101", ".")
    assert result.returncode == 0, result.stdout


# -- secrets never leave the linter -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_output_contains_a_full_key(project, fmt):
    project.write("a.py", f'K = "{KEY}"\nS = "{SECRET}"  # keyport\n'
                          'KEYPORT_API_KEY = "9fK2mQ9xLp4Zr7Tb1Vn6Wc3Yh5"\n')
    project.write("broken.py", f'KEYPORT_API_KEY = "{KEY}" +\n')
    project.write(".env", f"KEYPORT_API_KEY={KEY}\nKEYPORT_WEBHOOK_SECRET={SECRET}\n")
    stats = ["--statistics"] if fmt == "json" else []
    result = project.run("check", "--output-format", fmt, *stats, ".")
    out = result.stdout + result.stderr
    assert "KP101" in out and "KP102" in out and "KP103" in out and "KP104" in out
    assert "KP900" in out
    for secret in (KEY, SECRET, "9fK2mQ9xLp4Zr7Tb1Vn6Wc3Yh5", KEY[8:], SECRET[6:]):
        assert secret not in out
    assert "kp_live_8fK2…" in out


def test_kp900_message_never_quotes_the_source(project):
    project.write("broken.py", f'def f(:\n    return "{KEY}"\n')
    result = project.run("check", "--output-format", "json", ".")
    # the key in the unparsable text is still KP101 (redacted), besides the KP900
    finding, key_finding = json.loads(result.stdout)["findings"]
    assert finding["rule"] == "KP900" and finding["line"] == 1
    assert "kp_live" not in finding["message"] and "def f" not in finding["message"]
    assert (key_finding["rule"], key_finding["line"]) == ("KP101", 2)
    assert KEY not in result.stdout


def test_undecodable_and_oversized_files_are_kp900_and_the_run_goes_on(project):
    (project.root / "latin.py").write_bytes(b"# keyport\nx = '\xff\xfe'\n")
    project.write(".keyport-lint.yaml", "settings:\n  max-file-size: 100\n")
    project.write("big.py", "KEYPORT = 1\n" + "x = 1\n" * 100)
    project.write("bad.py", BAD)
    result = project.run("check", "--output-format", "json", ".")
    found = sorted((f["path"], f["rule"]) for f in json.loads(result.stdout)["findings"])
    assert found == [("bad.py", "KP101"), ("big.py", "KP900"), ("latin.py", "KP900")]


def test_coding_cookie_bom_and_crlf(project):
    (project.root / "latin1.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nNAME = '\xe9'\nK = '" + KEY.encode() + b"'\n")
    (project.root / "bom.py").write_bytes(b"\xef\xbb\xbfK = '" + KEY.encode() + b"'\n")
    (project.root / "crlf.py").write_bytes(b"x = 1\r\n\r\nK = '" + KEY.encode() + b"'\r\n")
    result = project.run("check", "--output-format", "json", ".")
    found = sorted((f["path"], f["line"], f["column"])
                   for f in json.loads(result.stdout)["findings"])
    assert found == [("bom.py", 1, 6), ("crlf.py", 3, 6), ("latin1.py", 3, 6)]


def test_no_libcst_import_for_files_without_keyport_text(tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    (tmp_path / "plain.py").write_text("import os\nprint(os.getcwd())\n")
    (tmp_path / "page.html").write_text("<p>hello</p>\n")
    code = ("import sys\nfrom keyport_lint.cli import main\n"
            "try:\n    main(['check', '.'])\nexcept SystemExit as e:\n    code = e.code\n"
            "heavy = [m for m in sys.modules if m == 'libcst' or m == 'regex'\n"
            "         or m.startswith('keyport_lint.analysis.')]\n"
            "print('LIBCST' if heavy else 'NO-LIBCST', code, heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    # neither the parser, the analyses nor the pattern engine: a hook run on such a file
    # pays only for start-up and reading it
    assert out.stdout.strip().endswith("NO-LIBCST 0 []"), out.stdout + out.stderr


def test_clean_runs_load_only_what_they_use(tmp_path):
    """A hook run on a file without KeyPort text loads neither the per-file pipeline, findings
    nor fixes, nor TOML; a quiet one not even the redactor; once the cache has the file, not
    the module table or the pre-filter either (start-up is most of such a run)."""
    import os
    import subprocess
    import sys
    import time

    from keyport_lint.pipeline.run import SUPPRESSION_MARKER
    from keyport_lint.suppress import MARKER

    from .conftest import ROOT

    assert SUPPRESSION_MARKER == MARKER
    plain = tmp_path / "project" / "plain.py"
    plain.parent.mkdir()
    plain.write_text("import os\nprint(os.getcwd())\n")
    past = time.time() - 60  # older than the stamp by more than its slack: trusted when warm
    os.utime(plain, (past, past))
    code = ("import sys\nfrom keyport_lint.cli import main\n"
            "try:\n    main(['check', '--quiet', 'plain.py'])\n"
            "except SystemExit as e:\n    code = e.code\n"
            "names = ['keyport_lint.pipeline.checkfile', 'keyport_lint.finding', "
            "'keyport_lint.fix', 'keyport_lint.redact', 'keyport_lint.index', "
            "'keyport_lint.modules', 'keyport_lint.pipeline.prefilter', 'tomllib']\n"
            "print(code, [n for n in names if n in sys.modules])\n")
    env = {"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "XDG_CACHE_HOME": str(tmp_path / "home"),
           "KEYPORT_LINT_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=plain.parent, capture_output=True,
                           text=True, env=env) for _ in range(2)]
    cold, warm = (r.stdout.strip() for r in runs)
    assert cold == "0 ['keyport_lint.index', 'keyport_lint.modules', " \
        "'keyport_lint.pipeline.prefilter']", runs[0].stdout + runs[0].stderr
    # warm: the folder listing the result depends on is still digested (modules.py)
    assert warm in ("0 []", "0 ['keyport_lint.modules']"), runs[1].stdout + runs[1].stderr


def test_suppression_syntax_inside_a_string_is_not_a_suppression(project):
    project.write("a.py", 'HELP = "write # keyport-lint: ignore[KP101] to silence it"\n'
                          f'K = "{KEY}"\n')
    result = project.run("check", "--output-format", "json", ".")
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["KP101"]


# -- text output for people --------------------------------------------------------------------

LOGGED = ("import logging\nfrom keyport import KeyPort\n\n"
          f'KEY = "{KEY}"\nlogging.info("key %s", KEY)\n')


def test_text_layout_headline_excerpt_help_and_blank_lines(project):
    project.write("app.py", LOGGED)
    project.write("clean.py", "x = 1\n")
    out = project.run("check", ".").stdout
    blocks = out.split("\n\n")
    assert blocks[0].splitlines() == [
        "app.py:4:8: KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded",
        "  |",
        '4 | KEY = "kp_live_8fK2…"',
        "  |        ^^^^^^^^^^^^^",
        "  = help: load it from the environment or a secret store, and rotate this key"]
    # [*]: `--fix` masks it (KP101's fix is unsafe, so it has no mark without --unsafe-fixes)
    assert blocks[1].startswith("app.py:5:1: KP201 [*] [error] full KeyPort API key (from ")
    assert blocks[1].splitlines()[-1] == "  = help: log KEY[:12] instead"
    # the verdict counts the files with findings and the files checked
    assert blocks[2] == ("Found 2 findings (2 errors, 0 warnings) in 1 file; 2 files checked.\n"
                         "1 fixable with --fix (1 more with --unsafe-fixes).\n")


def test_help_wraps_at_word_boundaries(project):
    project.write("hook.py", "from flask import Flask, request\napp = Flask(__name__)\n\n"
                  "@app.post('/webhooks/keyport')\ndef keyport_webhook():\n"
                  "    event = request.get_json()\n    return 'ok'\n")
    out = project.run("check", "--select", "KP301", ".", env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "= help:" in line)
    help_lines = lines[start:lines.index("", start)]
    assert len(help_lines) > 1 and all(len(line) <= 100 for line in help_lines)
    words = " ".join(line.replace("  = help:", "").strip() for line in help_lines).split()
    assert "hmac.compare_digest" in words and "timestamp" in words  # no word cut in two


def test_concise_and_grouped_formats(project):
    project.write("a.py", BAD)
    project.write("pkg/b.py", BAD + f'X = "{KEY}"\n')
    concise = project.run("check", "--output-format", "concise", ".").stdout.splitlines()
    assert concise[:3] == [
        "a.py:3:19: KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded",
        "pkg/b.py:3:19: KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded",
        "pkg/b.py:4:6: KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded"]
    assert concise[-2:] == ["Found 3 findings (3 errors, 0 warnings) in 2 files; 2 files checked.",
                            "0 fixable with --fix (3 more with --unsafe-fixes)."]
    grouped = project.run("check", "--output-format", "grouped", ".").stdout.splitlines()
    assert grouped[:6] == [
        "a.py:", "  3:19 KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded", "",
        "pkg/b.py:", "  3:19 KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded",
        "  4:6  KP101 [error] KeyPort product API key kp_live_8fK2… is hardcoded"]


def test_color_flag_beside_no_color_and_force_color(project):
    project.write("app.py", BAD)
    assert "\033[" in project.run("check", "--color", "always", ".").stdout  # NO_COLOR=1 set
    forced = {"NO_COLOR": "", "FORCE_COLOR": "1"}
    assert "\033[" not in project.run("check", "--color", "never", ".", env=forced).stdout
    assert "\033[" not in project.run("check", "--no-color", ".", env=forced).stdout
    assert "\033[" in project.run("check", ".", env=forced).stdout


def test_codes_are_case_insensitive_everywhere(project):
    project.write("app.py", BAD)
    assert project.run("check", "--select", "kp101", ".").returncode == 1
    assert project.run("check", "--ignore", "kp1", ".").returncode == 0
    project.write(".keyport-lint.yaml", "select: [kp1]\nper-file-ignores: {'app.py': [kp101]}\n"
                  "severity: {kp101: warning}\n")
    assert project.run("check", ".").returncode == 0
    project.write(".keyport-lint.yaml", "severity: {kp101: warning}\n")
    result = project.run("check", "--output-format", "json", ".")
    assert [f["severity"] for f in json.loads(result.stdout)["findings"]] == ["warning"]
    project.write(".keyport-lint.yaml", "")
    project.write("app.py", f'K = "{KEY}"  # keyport-lint: ignore[kp101]\n')
    assert project.run("check", ".").returncode == 0


def test_nothing_to_check_is_never_all_checks_passed(project):
    project.write(".keyport-lint.yaml", "exclude: ['vendor/**']\n")
    project.write("vendor/lib.py", BAD)
    result = project.run("check", "vendor/lib.py")
    assert result.returncode == 2
    assert "All checks passed" not in result.stdout
    assert "nothing to check: every path is excluded" in result.stderr
    allowed = project.run("check", "--allow-empty", "vendor")
    assert allowed.returncode == 0 and "All checks passed" not in allowed.stdout
    assert "warning: nothing to check" in allowed.stderr
    doc = json.loads(project.run("check", "--output-format", "json", "vendor").stdout)
    assert "nothing to check" in doc["errors"][0]["message"]
    sarif = json.loads(project.run("check", "--output-format", "sarif", "vendor").stdout)
    (note,) = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "nothing to check" in note["message"]["text"]
    junit = project.run("check", "--output-format", "junit", "vendor").stdout
    assert '<error message="nothing to check' in junit


def test_a_missing_path_next_to_a_clean_file_is_not_all_checks_passed(project):
    project.write("app.py", CLEAN)
    result = project.run("check", "app.py", "nope.py")
    assert result.returncode == 2
    assert "All checks passed" not in result.stdout
    assert "No findings in 1 file checked; the run had 1 error" in result.stdout


def test_ctrl_c_exits_130(project, monkeypatch):
    import keyport_lint.pipeline.project as project_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(project_module, "run_project", interrupted)
    project.write("app.py", CLEAN)
    result = project.run("check", ".")
    assert result.returncode == 130 and "interrupted" in result.stderr


def test_an_internal_error_is_one_line_and_exit_two(project, monkeypatch):
    import keyport_lint.pipeline.project as project_module

    def broken(*args, **kwargs):
        raise RuntimeError("def f(: source text that must not be shown")

    monkeypatch.setattr(project_module, "run_project", broken)
    project.write("app.py", CLEAN)
    result = project.run("check", ".")
    assert result.returncode == 2
    assert result.stderr == ("keyport-lint: internal error: RuntimeError "
                             "(set KEYPORT_LINT_DEBUG=1 for details)\n")


def test_help_lists_exit_codes_and_keeps_summaries_whole(project):
    check_help = project.run("check", "--help").stdout
    assert "Exit codes:" in check_help and "130" in check_help and "--allow-empty" in check_help
    top = project.run("--help").stdout
    commands = top.split("Commands:")[1]
    assert "..." not in commands and all(line.rstrip().endswith(".")
                                         for line in commands.strip().splitlines())
    assert "Check files and folders (default: the current folder)." in top


def test_no_color_is_not_mistaken_for_no_cache(project):
    project.write("app.py", CLEAN)
    assert project.run("check", "--no-color", ".").returncode == 0


# -- advice per file type and CPython's positions -------------------------------------------------

def test_kp104_advice_depends_on_the_file_type(project):
    project.write(".env", f"KEYPORT_API_KEY={KEY}\n")
    project.write("web/app.js", f'const key = "{KEY}";\n')
    project.write("keyport.json", f'{{"api_key": "{KEY}"}}\n')
    doc = json.loads(project.run("check", "--output-format", "json", ".").stdout)
    help_of = {f["path"]: f["help"] for f in doc["findings"] if f["rule"] == "KP104"}
    assert "untracked .env" not in help_of[".env"] and ".gitignore" in help_of[".env"]
    assert "backend" in help_of["web/app.js"]
    assert "environment" in help_of["keyport.json"]


@pytest.mark.parametrize("source", [
    "import keyport\ndef f(:\n    return 1\n",
    "import keyport\nx = (1,\n2,\n",
    "import keyport\nif x\n  y = 1\n",
    "import keyport\nprint('a'\nz = 3\n",
])
def test_kp900_names_the_line_cpython_names(project, source):
    project.write("broken.py", source)
    doc = json.loads(project.run("check", "--output-format", "json", ".").stdout)
    (finding,) = doc["findings"]
    try:
        compile(source, "broken.py", "exec")
    except SyntaxError as exc:
        expected = f"at line {exc.lineno}, column {exc.offset}"
    assert finding["rule"] == "KP900" and expected in finding["message"], finding["message"]


def test_ctrl_c_in_a_real_process_exits_130(tmp_path):
    """SIGINT to the process group, as a terminal sends it, while the run is under way."""
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    # the run says it is under way from inside it, so the signal never lands in start-up,
    # whatever the machine's load (no sleep to guess with); a failure shows its traceback
    code = ("import sys, time\nimport keyport_lint.pipeline.project as p\n"
            "def running(*a, **k):\n"
            "    sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)\n"
            "p.run_project = running\n"
            "from keyport_lint.cli import main\nmain(['check', '.'])\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PYTHONPATH": str(ROOT), "NO_COLOR": "1",
                                 "KEYPORT_LINT_DEBUG": "1"},
                            start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "keyport-lint: interrupted\n"


def test_ctrl_c_while_the_command_line_is_parsed_exits_130(monkeypatch, capsys):
    """click turns Ctrl-C during its own parsing into Abort (exit 1, the findings code)."""
    from keyport_lint import cli as cli_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module.cli, "make_context", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["check", "."])
    assert exit_info.value.code == 130
    assert capsys.readouterr().err.endswith("keyport-lint: interrupted\n")
