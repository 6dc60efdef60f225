"""Issue 18, isolation: an internal error in one rule on one file is a KP903 finding of its own;
every other rule's findings on that file stand, the run goes on and ends with a run error."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keyport_lint.config import Config
from keyport_lint.kinds import get_kind
from keyport_lint.pipeline.run import run

from .conftest import KEY, ROOT

APP = textwrap.dedent(f'''\
    import logging
    import os

    from flask import Flask, request

    log = logging.getLogger(__name__)
    app = Flask(__name__)
    KEYPORT_API_KEY = "{KEY}"
    log.info("key %s", os.environ["KEYPORT_API_KEY"])


    @app.post("/keyport/webhook")
    def keyport_webhook():
        event = request.get_json()
        return "", 204
    ''')
OTHER = f'import keyport\nclient = keyport.KeyPort("{KEY}")\n'


def _run(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return run([str(tmp_path)], Config(root=tmp_path), cwd=tmp_path)


def _rules(result) -> list[tuple[str, str]]:
    return [(f.path, f.rule) for f in result.findings]


def _boom(exc: BaseException):
    def check_python(rule, ctx):
        raise exc
    return check_python


def test_a_failing_rule_is_a_finding_and_the_others_stand(tmp_path, monkeypatch) -> None:
    clean = _run(tmp_path, {"app.py": APP, "other.py": OTHER})
    assert ("app.py", "KP201") in _rules(clean) and ("app.py", "KP301") in _rules(clean)
    monkeypatch.setattr(get_kind("taint"), "check_python", _boom(TypeError("secret text")))
    result = _run(tmp_path, {})
    rules = _rules(result)
    # every taint rule (KP201, KP202, KP501) failed; nothing else was lost
    assert [r for r in rules if r[1] != "KP903"] == [r for r in _rules(clean)
                                                    if r[1] not in ("KP201", "KP202", "KP501")]
    crashes = [f for f in result.findings if f.rule == "KP903"]
    assert {f.path for f in crashes} == {"app.py", "other.py"}
    app = [f for f in crashes if f.path == "app.py"]
    # the rules that failed the same way share one finding naming each of them
    assert [f.message.split(" (")[0] for f in app] == [
        "internal error in rules KP201, KP202, KP501"]
    assert all(f.line == 1 and f.column == 1 and f.severity == "error" for f in app)
    assert all("TypeError at test_isolation.py:" in f.message for f in app)
    assert not any("secret text" in f.message for f in crashes)
    # the run knows it failed: one run-level error per failure, naming file and rule
    assert len(result.errors) == len(crashes)
    assert "app.py: internal error in rules KP201, KP202, KP501 (TypeError" in result.errors[0]


def test_different_failures_in_one_file_are_each_reported(tmp_path, monkeypatch) -> None:
    """One string per file, each failure overwriting the last, lost all but one."""
    monkeypatch.setattr(get_kind("taint"), "check_python", _boom(TypeError()))
    monkeypatch.setattr(get_kind("secret-pattern"), "check_python", _boom(RecursionError()))
    result = _run(tmp_path, {"app.py": APP})
    crashes = [f.message for f in result.findings if f.rule == "KP903"]
    assert len(crashes) == 2 and len(result.errors) == 2
    assert any("RecursionError" in m for m in crashes) and any("TypeError" in m for m in crashes)


@pytest.mark.parametrize("exc, shown", [
    (RecursionError("maximum recursion depth exceeded"), "RecursionError"),
    (MemoryError(), "MemoryError"),
])
def test_recursion_and_memory_errors_are_findings_never_silence(tmp_path, monkeypatch, exc,
                                                                shown) -> None:
    monkeypatch.setattr(get_kind("secret-pattern"), "check_python", _boom(exc))
    slot = 'KEYPORT_API_KEY = "Xo6pQ2rT9vW4yZ8aB3cD7e"\n'
    result = _run(tmp_path, {"other.py": OTHER + slot})
    crashes = [f for f in result.findings if f.rule == "KP903"]
    assert [f.message.split(" (")[0] for f in crashes] == ["internal error in rule KP101"]
    assert all(shown in f.message for f in crashes)
    assert ("other.py", "KP103") in _rules(result)  # key-slot is another kind: it ran
    assert result.errors


def test_a_failing_shared_analysis_fails_only_the_rules_that_use_it(tmp_path,
                                                                    monkeypatch) -> None:
    import keyport_lint.kinds._webhook_findings as verification

    calls = []

    def broken(ctx):
        calls.append(ctx.display)
        raise KeyError("source text")

    monkeypatch.setattr(verification, "webhook_findings", broken)
    result = _run(tmp_path, {"app.py": APP})
    crashes = [f for f in result.findings if f.rule == "KP903"]
    kp3 = sorted(r.id for r in Config(root=tmp_path).rules if r.kind == "webhook-verification")
    # one KP903 names every KP3 rule and the analysis; the analysis ran once
    assert [f.message.split(" (")[0] for f in crashes] == [
        "internal error in rules " + ", ".join(kp3)]
    assert all("in shared analysis broken" in f.message for f in crashes)
    assert calls == ["app.py"]
    assert {"KP101", "KP201"} <= {f.rule for f in result.findings}


def test_an_internal_error_cannot_be_suppressed_inline(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(get_kind("secret-pattern"), "check_python", _boom(ValueError()))
    result = _run(tmp_path, {"other.py": "# keyport-lint: ignore[KP903]\n" + OTHER})
    assert "KP903" in {f.rule for f in result.findings}


def test_a_stage_outside_the_rules_fails_one_file_only(tmp_path, monkeypatch) -> None:
    import keyport_lint.pipeline.checkfile as checkfile

    real = checkfile.find_suppressions

    def broken(text, lines, kind="text"):
        if "client" in text:
            raise IndexError
        return real(text, lines, kind)

    monkeypatch.setattr(checkfile, "find_suppressions", broken)
    result = _run(tmp_path, {"app.py": APP, "other.py": OTHER})
    assert ("app.py", "KP101") in _rules(result)
    assert [f.message.split(" (")[0] for f in result.findings if f.path == "other.py"] == [
        "internal error in the pipeline"]


def test_debug_reraises_with_the_traceback(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(get_kind("secret-pattern"), "check_python", _boom(ValueError("x")))
    monkeypatch.setenv("KEYPORT_LINT_DEBUG", "1")
    with pytest.raises(ValueError):
        _run(tmp_path, {"other.py": OTHER})


def test_the_cli_reports_every_finding_and_exits_2(tmp_path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    script = ("import sys; from keyport_lint.kinds import get_kind; from keyport_lint.cli "
              "import main\n"
              "def boom(rule, ctx): raise TypeError\n"
              "get_kind('taint').check_python = boom\n"
              "main(['check', '--output-format', 'json', '--no-cache', '.'])\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          timeout=300)
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    rules = [f["rule"] for f in doc["findings"]]
    assert "KP101" in rules and "KP301" in rules and rules.count("KP903") == 1
    assert "internal error in rules KP201, KP202, KP501" in proc.stderr
    assert "Traceback" not in proc.stderr
