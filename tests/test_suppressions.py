"""KP901/KP902 under the conditions of issue 7: a suppression is "unused" only when its rule ran
on the file and found nothing there."""

from __future__ import annotations

import json

from .conftest import KEY

SUPPRESSED_KEY = ("from keyport import KeyPort\n"
                  f'c = KeyPort("{KEY}")  # keyport-lint: ignore[KP101]\n')
UNUSED = "import os\nx = os.environ['HOME']  # keyport-lint: ignore[KP101]\n"


def _codes(project, *args: str) -> list[tuple[str, str, int]]:
    proc = project.run("check", "--output-format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return [(f["rule"], f["path"], f["line"]) for f in json.loads(proc.stdout)["findings"]]


def test_used_suppression_is_silent(project) -> None:
    project.write("app.py", SUPPRESSED_KEY)
    assert _codes(project) == []


def test_unused_suppression_in_a_file_the_prefilter_skipped(project) -> None:
    """No KeyPort text at all: nothing is parsed, yet the stale comment is still reported."""
    project.write("plain.py", UNUSED)
    assert _codes(project) == [("KP901", "plain.py", 2)]


def test_unused_suppression_in_a_text_file(project) -> None:
    project.write("settings.yaml", "debug: true  # keyport-lint: ignore[KP104]\n")
    assert _codes(project) == [("KP901", "settings.yaml", 1)]


def test_suppression_of_a_rule_switched_off_by_ignore_is_not_unused(project) -> None:
    project.write("plain.py", UNUSED)
    assert _codes(project, "--ignore", "KP101") == []
    assert _codes(project, "--ignore", "KP1") == []


def test_suppression_of_a_rule_switched_off_by_select_is_not_unused(project) -> None:
    project.write("plain.py", UNUSED)
    assert _codes(project, "--select", "KP9") == []
    assert _codes(project, "--select", "KP901,KP104") == []


def test_suppression_of_a_rule_switched_off_in_config(project) -> None:
    project.write("plain.py", UNUSED)
    project.write(".keyport-lint.yaml", "ignore: [KP101]\n")
    assert _codes(project) == []


def test_suppression_of_a_rule_switched_off_by_per_file_ignores(project) -> None:
    project.write("tests/test_app.py", SUPPRESSED_KEY)
    project.write("app.py", UNUSED)
    project.write(".keyport-lint.yaml", 'per-file-ignores:\n  "tests/**": [KP101]\n')
    assert _codes(project) == [("KP901", "app.py", 2)]


def test_per_file_ignores_can_switch_off_the_diagnostics_themselves(project) -> None:
    project.write("legacy.py", UNUSED + "y = 1  # keyport-lint: ignore\n")
    assert _codes(project) == [("KP901", "legacy.py", 2), ("KP902", "legacy.py", 3)]
    project.write(".keyport-lint.yaml", 'per-file-ignores:\n  "legacy.py": [KP9]\n')
    assert _codes(project) == []


def test_partly_used_suppression_names_only_the_unused_code(project) -> None:
    project.write("app.py", SUPPRESSED_KEY.replace("ignore[KP101]", "ignore[KP101, KP103]"))
    proc = project.run("check", "--output-format", "json")
    findings = json.loads(proc.stdout)["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("KP901", 2)]
    assert "KP103" in findings[0]["message"] and "KP101" not in findings[0]["message"]


def test_unparsable_file_gets_kp900_but_no_kp901(project) -> None:
    """Its rules never ran, so its suppressions cannot be judged unused."""
    project.write("broken.py", "import keyport  # keyport-lint: ignore[KP101]\ndef f(:\n")
    assert _codes(project) == [("KP900", "broken.py", 1)]


def test_invalid_suppressions_are_kp902_even_in_unparsable_files(project) -> None:
    project.write("broken.py", "import keyport  # keyport-lint: ignore\ndef f(:\n")
    assert _codes(project) == [("KP900", "broken.py", 1), ("KP902", "broken.py", 1)]


def test_unknown_code_in_suppression_is_kp902(project) -> None:
    project.write("plain.py", "x = 1  # keyport-lint: ignore[KP999]\n")
    proc = project.run("check", "--output-format", "json")
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["rule"] == "KP902" and "KP999" in finding["message"]
    assert finding["severity"] == "warning"


def test_suppression_diagnostics_are_warnings(project) -> None:
    project.write("plain.py", UNUSED)
    proc = project.run("check", "--output-format", "json", "--fail-on", "error")
    assert proc.returncode == 0
    assert [f["severity"] for f in json.loads(proc.stdout)["findings"]] == ["warning"]


# -- scope (SPEC section 3): a trailing comment covers its own line only, never the next ----------

LOGS = """import logging
import os

log = logging.getLogger(__name__)
KEY = os.environ["KEYPORT_API_KEY"]
log.info("key %s", KEY[:12])  # keyport-lint: ignore[KP201]
log.info("key %s", KEY)
"""


def test_a_trailing_suppression_never_covers_the_next_line(project) -> None:
    """The masked call carries the comment; the full-key log below it is still reported and
    the comment, which silenced nothing, is KP901."""
    project.write("app.py", LOGS)
    assert _codes(project) == [("KP901", "app.py", 6), ("KP201", "app.py", 7)]


def test_a_suppression_alone_on_its_line_covers_the_next(project) -> None:
    project.write("app.py", LOGS.replace(
        'log.info("key %s", KEY[:12])  # keyport-lint: ignore[KP201]\n',
        'log.info("key %s", KEY[:12])\n# keyport-lint: ignore[KP201]\n'))
    assert _codes(project) == []
    project.write("app.py", LOGS.replace(
        'log.info("key %s", KEY[:12])  # keyport-lint: ignore[KP201]\n',
        '    # keyport-lint: ignore[KP201]\n\nlog.info("key %s", KEY[:12])\n'))
    # only the next line: a blank line in between leaves the finding and the comment unused
    assert _codes(project) == [("KP901", "app.py", 6), ("KP201", "app.py", 9)]


def test_a_trailing_suppression_covers_its_own_line(project) -> None:
    project.write("app.py", LOGS.replace('KEY)\n', 'KEY)  # keyport-lint: ignore[KP201]\n')
                  .replace("  # keyport-lint: ignore[KP201]\nlog", "\nlog"))
    assert _codes(project) == []


def test_a_multi_code_suppression_names_the_unused_code(project) -> None:
    project.write("app.py", "from keyport import KeyPort\n"
                  f'c = KeyPort("{KEY}")  # keyport-lint: ignore[KP101, KP201]\n')
    proc = project.run("check", "--output-format", "json")
    findings = json.loads(proc.stdout)["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("KP901", 2)]
    assert "KP201" in findings[0]["message"] and "KP101" not in findings[0]["message"]


def test_text_files_follow_the_same_scope(project) -> None:
    project.write("settings.env", f"DEBUG=1  # keyport-lint: ignore[KP104]\nKEY={KEY}\n")
    project.write(".keyport-lint.yaml", "settings:\n  text-extensions: ['.env']\n")
    assert _codes(project) == [("KP901", "settings.env", 1), ("KP104", "settings.env", 2)]
    project.write("settings.env", f"# keyport-lint: ignore[KP104]\nKEY={KEY}\n")
    assert _codes(project) == []
