"""The status-handling kind (KP401–KP405): messages, positions, pre-filter, configuration."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from keyport_lint.config import Config
from keyport_lint.pipeline.run import run

from .conftest import ROOT

SDK_GATE = """\
import os
from keyport import KeyPort

client = KeyPort(os.environ["KEYPORT_API_KEY"])


def check(license_key):
    result = client.validate(license_key)
    if result["status"] == "expired":
        return "renew"
    if not result["valid"]:
        return "denied"
    return "ok"
"""


def findings(project, text: str, *args: str) -> list[dict]:
    project.write("app.py", textwrap.dedent(text))
    proc = project.run("check", "app.py", "--output-format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def test_kind_module_imports_no_libcst() -> None:
    """Files the pre-filter rejects must never pay for importing libcst."""
    code = ("import sys, keyport_lint.kinds.status_handling as k; "
            "print('libcst' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, check=True)
    assert out.stdout.strip() == "False"


def test_files_without_trigger_text_are_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("import requests\nrequests.get('https://x.test')\n")
    (tmp_path / "kp.py").write_text(SDK_GATE)
    cfg = Config(root=tmp_path)
    cfg.select = ["KP4"]
    result = run(["plain.py", "kp.py"], cfg, cwd=tmp_path)
    assert result.files == 2 and result.parsed == 1


def test_kp401_names_the_categories_left_and_points_at_the_if(project) -> None:
    [finding] = findings(project, SDK_GATE, "--select", "KP401")
    assert finding["message"] == (
        "status handling collapses revocation, IP policy, billing suspension and "
        "configuration failure into one branch")
    assert finding["help"] == "handle each category in its own branch (keyport-lint explain KP401)"
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) \
        == (11, 5, 11, 7)


def test_required_categories_and_statuses_come_from_config(project) -> None:
    project.write(".keyport-lint.yaml", textwrap.dedent("""\
        settings:
          status-categories: {revocation: [revoked, license_banned]}
          required-categories: {replace: [expiry, revocation]}
          category-names: {revocation: "license revocation"}
    """))
    [finding] = findings(project, SDK_GATE, "--select", "KP401")
    assert "collapses license revocation into one branch" in finding["message"]
    handled = SDK_GATE.replace('== "expired"', 'in ("expired", "license_banned")')
    assert findings(project, handled, "--select", "KP4") == []


def test_kp405_points_at_the_except_keyword_and_is_a_warning(project) -> None:
    [finding] = findings(project, """\
        from keyport import KeyPort
        client = KeyPort("x")
        try:
            client.validate("LIC")
        except Exception:
            pass
    """, "--select", "KP405")
    assert finding["severity"] == "warning" and finding["line"] == 5
    assert (finding["column"], finding["end_column"]) == (1, 7)
    assert finding["message"].startswith("except Exception around KeyPort calls")


def test_status_handling_is_a_built_in_kind(project) -> None:
    """KP4's kind is tuned through settings (statuses, categories), not new rules."""
    project.write(".keyport-lint.yaml", textwrap.dedent("""\
        rules:
          - id: ACME401
            kind: status-handling
            check: everything
            message: "no"
    """))
    project.write("app.py", "x = 1\n")
    proc = project.run("check", "app.py")
    assert proc.returncode == 2
    assert "reserved for built-in rules" in proc.stderr and ".keyport-lint.yaml:3" in proc.stderr
