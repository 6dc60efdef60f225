"""`check --stdin-filename PATH -`: the text from standard input, reported as if it were PATH."""

from __future__ import annotations

import json

from tests.conftest import KEY

SOURCE = f'KEY = "{KEY}"\n'


def test_reports_as_the_named_path_in_every_format(project):
    project.write(".keyport-lint.yaml", "select: [KP1]\n")
    text = project.run("check", "--stdin-filename", "app/settings.py", "-", stdin=SOURCE)
    assert text.returncode == 1
    assert "app/settings.py:1:8: KP101 [error]" in text.stdout
    assert KEY not in text.stdout + text.stderr
    for fmt in ("json", "sarif", "concise", "github", "junit", "grouped"):
        out = project.run("check", "--output-format", fmt, "--stdin-filename",
                          "app/settings.py", "-", stdin=SOURCE)
        assert out.returncode == 1, fmt
        assert "app/settings.py" in out.stdout, fmt
        assert KEY not in out.stdout, fmt
    data = json.loads(project.run("check", "--output-format", "json", "--stdin-filename",
                                  "app/settings.py", "-", stdin=SOURCE).stdout)
    assert [(f["rule"], f["line"], f["column"]) for f in data["findings"]] == [("KP101", 1, 8)]
    # nothing was written: the text is not the file on disk
    assert not (project.root / ".keyport-lint-cache").exists()
    assert not (project.root / "app").exists()


def test_config_exclude_and_per_file_ignores_follow_the_path(project):
    project.write(".keyport-lint.yaml",
                  'exclude: ["vendor/**"]\nper-file-ignores: {"tests/**": [KP101]}\n')
    excluded = project.run("check", "--output-format", "json", "--stdin-filename",
                           "vendor/lib.py", "-", stdin=SOURCE)
    assert excluded.returncode == 0, excluded.stderr
    assert json.loads(excluded.stdout)["findings"] == []
    ignored = project.run("check", "--stdin-filename", "tests/test_x.py", "-", stdin=SOURCE)
    assert ignored.returncode == 0
    assert "All checks passed (1 file checked)" in ignored.stdout
    # the nearest config governs: a sub-project's own config applies to its path
    project.write("sub/.keyport-lint.yaml", "ignore: [KP101]\n")
    sub = project.run("check", "--stdin-filename", "sub/app.py", "-", stdin=SOURCE)
    assert sub.returncode == 0, sub.stdout


def test_other_modules_come_from_disk(project):
    """The project index resolves imports from the named path: the key defined in a sibling
    module reaches print() in the text read from standard input (KP201)."""
    project.write("app/__init__.py", "")
    settings = project.write("app/settings.py",
                             "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    text = "from app.settings import TOKEN\n\nprint(TOKEN)\n"
    out = project.run("check", "--select", "KP201", "--output-format", "concise",
                      "--stdin-filename", "app/views.py", "-", stdin=text)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "app/views.py:3:" in out.stdout and "KP201" in out.stdout
    settings.write_text("TOKEN = 'not a key'\n", encoding="utf-8")
    alone = project.run("check", "--select", "KP201", "--stdin-filename", "app/views.py",
                        "-", stdin=text)
    assert alone.returncode == 0, alone.stdout


def test_text_files_and_undecodable_input(project):
    env_text = f"KEYPORT_API_KEY={KEY}\n"
    out = project.run("check", "--output-format", "concise", "--stdin-filename", ".env", "-",
                      stdin=env_text)
    assert out.returncode == 1 and "KP104" in out.stdout and KEY not in out.stdout
    skipped = project.run("check", "--stdin-filename", "notes.txt", "-", stdin=env_text)
    assert skipped.returncode == 0  # not a file type keyport-lint reads: nothing to report
    bad = project.run("check", "--output-format", "concise", "--stdin-filename", "x.py", "-",
                      stdin="# -*- coding: nonsense -*-\nKEY = 1\n")
    assert "KP900" in bad.stdout and bad.returncode == 1


def test_usage_errors(project):
    out = project.run("check", "-", stdin=SOURCE)
    assert out.returncode == 2 and "--stdin-filename" in out.stderr
    out = project.run("check", "--stdin-filename", "a.py", "other.py", stdin=SOURCE)
    assert out.returncode == 2 and "standard input only" in out.stderr
    # without `-`, --stdin-filename alone reads standard input too (as ruff does)
    out = project.run("check", "--stdin-filename", "a.py", stdin=SOURCE)
    assert out.returncode == 1 and "a.py:1:8" in out.stdout
