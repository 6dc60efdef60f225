"""KP201/KP202 as users meet them: messages, configuration, one-file runs."""

from __future__ import annotations

import json
from pathlib import Path

from keyport_lint.analysis.context import marker_regex
from keyport_lint.config import Config, load_config
from keyport_lint.index import ProjectIndex
from keyport_lint.pipeline.checkfile import check_file
from keyport_lint.pipeline.discover import Target
from keyport_lint.pipeline.prefilter import build_prefilter

from .conftest import KEY, SECRET


def test_message_names_source_sink_and_fix(project) -> None:
    project.write("app.py", "import logging, os\nlogger = logging.getLogger(__name__)\n\n"
                  "key = os.environ['KEYPORT_API_KEY']\nlogger.debug('key %s', key)\n")
    result = project.run("check", "--select", "KP2", "--output-format", "json", "app.py")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["line"], f["message"], f["help"]) for f in findings] == [
        ("KP201", 5, "full KeyPort API key (from KEYPORT_API_KEY, line 4) reaches "
                     "logger.debug", "log key[:12] instead")]


def test_no_output_holds_a_literal_key_or_secret(project) -> None:
    project.write("app.py", f"from keyport import KeyPort\nKEY = {KEY!r}\nprint(KEY)\n"
                            f"KEYPORT_WEBHOOK_SECRET = {SECRET!r}\nprint(KEYPORT_WEBHOOK_SECRET)\n")
    for fmt in ("text", "json"):
        result = project.run("check", "--select", "KP2", "--output-format", fmt, "app.py")
        assert result.stdout.count("KP20") == 2, result.stdout
        assert KEY not in result.stdout + result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert KEY[:12] + "…" in result.stdout


def test_users_extend_sinks_and_sanitisers_in_settings(project) -> None:
    project.write(".keyport-lint.yaml", "settings:\n  log-sinks: [audit.record]\n"
                                        "  sanitizer-names: ['^safe_']\n")
    project.write("svc.py", "import os, audit\nKEY = os.environ['KEYPORT_API_KEY']\n"
                            "audit.record(KEY)\naudit.record(safe_view(KEY))\n")
    result = project.run("check", "--select", "KP2", "--output-format", "json", "svc.py")
    assert [f["line"] for f in json.loads(result.stdout)["findings"]] == [3]


def test_a_rule_naming_an_unknown_setting_is_a_config_error(project) -> None:
    project.write(".keyport-lint.yaml", "rules:\n  - id: ACME201\n    kind: taint\n"
                  "    message: leak\n    names-from: [key-names]\n    sinks-from: [log-sinkz]\n")
    project.write("a.py", "")
    result = project.run("check", "a.py")
    assert result.returncode == 2
    assert "log-sinkz" in result.stderr and ".keyport-lint.yaml" in result.stderr


def test_a_one_file_run_reads_only_what_the_file_imports(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "conf.py").write_text(
        "import os\nfrom .util import helper\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    (tmp_path / "pkg" / "util.py").write_text("def helper():\n    return 1\n")
    for i in range(20):  # the rest of the tree must stay unread
        (tmp_path / "pkg" / f"other{i}.py").write_text("import os\nKEYPORT_API_KEY = 1\n")
    main = tmp_path / "pkg" / "main.py"
    main.write_text("from .conf import TOKEN\nprint(TOKEN)\n")
    cfg = Config(root=tmp_path)
    cfg.select = ["KP2"]
    index = ProjectIndex(tmp_path, cfg.settings, marker_regex(cfg.settings))
    with index.recording() as consulted:
        result = check_file(Target(main, "pkg/main.py", "python", True), cfg,
                            build_prefilter(cfg.enabled_rules(), cfg.settings), index)
    assert [(f.rule, f.line) for f in result.findings] == [("KP201", 2)]
    read = {p.name for p in consulted if isinstance(p, Path)}  # besides folder listings
    assert read <= {"conf.py", "util.py", "__init__.py"}
    assert "conf.py" in read


def test_rules_share_settings_with_the_config_loader(tmp_path: Path) -> None:
    config = tmp_path / ".keyport-lint.yaml"
    config.write_text("settings:\n  sanitizers: [vault.mask]\n")
    cfg = load_config(config, cwd=tmp_path)
    assert "vault.mask" in cfg.settings["sanitizers"]
    assert "hashlib.*" in cfg.settings["sanitizers"]  # a list there extends the built-in one
