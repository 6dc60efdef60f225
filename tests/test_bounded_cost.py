"""Issue 19, bounded cost: work grows with the input, judged by operation counts (never
clocks): double the input, the work at most doubles."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyport_lint.config import Config
from keyport_lint.pipeline.run import run
from keyport_lint.redact import Redactor

from .conftest import KEY


def _work(tmp_path: Path, monkeypatch, name: str, text: str) -> tuple[int, list[str]]:
    """Characters the redactor went through while checking one file, and the rules found."""
    seen = [0]
    for method in ("__call__", "hashed", "redact_map"):
        real = getattr(Redactor, method, None)
        if real is None:
            continue

        def counting(self, value, *args, _real=real, **kwargs):
            seen[0] += len(value)
            return _real(self, value, *args, **kwargs)

        monkeypatch.setattr(Redactor, method, counting)
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run([str(tmp_path / name)], Config(root=tmp_path), cwd=tmp_path)
    monkeypatch.undo()
    return seen[0], sorted({f.rule for f in result.findings})


def test_a_line_with_many_findings_is_redacted_once(tmp_path, monkeypatch) -> None:
    """One minified line with N `fetch` calls to the KeyPort API: N findings on one line. It
    was redacted three times per finding (N² work: 8,000 calls took 35 s)."""
    def line(n: int) -> str:
        return f'const k = "{KEY}"; ' + 'fetch("https://api.keyport.sbs/v"); ' * n + "\n"

    small, rules = _work(tmp_path, monkeypatch, "app.js", line(200))
    large, _ = _work(tmp_path, monkeypatch, "app.js", line(400))
    assert rules == ["KP104", "KP503"]
    assert large <= 2.2 * small, (small, large)


def test_blank_lines_cost_nothing_per_line_in_text_files(tmp_path, monkeypatch) -> None:
    """Lines that hold no trigger, escape or string join are not searched at all."""
    import keyport_lint.saferegex as saferegex

    calls = [0]
    real = saferegex.finditer

    def counting(compiled, text):
        calls[0] += 1
        return real(compiled, text)

    monkeypatch.setattr(saferegex, "finditer", counting)
    head = f'fetch("https://api.keyport.sbs/v"); const k = "{KEY}";\n'
    counts = []
    for blank in (10_000, 20_000):
        calls[0] = 0
        (tmp_path / "app.js").write_text(head + "\n" * blank, encoding="utf-8")
        result = run([str(tmp_path / "app.js")], Config(root=tmp_path), cwd=tmp_path)
        assert {f.rule for f in result.findings} == {"KP104", "KP503"}
        counts.append(calls[0])
    assert counts[0] == counts[1] and counts[0] <= 4, counts


def test_a_million_blank_lines_are_not_parsed(tmp_path) -> None:
    """The parser keeps a node per line: a million blank lines cost a minute and a gigabyte.
    Beyond settings.max-python-lines the file is KP900, decided by counting line breaks."""
    (tmp_path / "blank.py").write_text(f'import keyport\nKEY = "{KEY}"\n' + "\n" * 1_000_000,
                                       encoding="utf-8")
    result = run([str(tmp_path)], Config(root=tmp_path), cwd=tmp_path)
    assert [(f.rule, f.line) for f in result.findings] == [("KP900", 1)]
    assert "over the 100000-line limit" in result.findings[0].message
    assert result.parsed == 0


def test_the_join_view_keeps_one_letter_strings() -> None:
    """`"b"` is a string, not a join with a `b` prefix; a real join keeps working."""
    from keyport_lint.redact import view_of

    text = 'x = "a"\n\ny = "b"; z = "r" + "u"\n'
    assert view_of(text).text == 'x = "a"\n\ny = "b"; z = "ru"\n'
    assert view_of('k = "kp_live_" b"x"').text == 'k = "kp_live_x"'


# -- user patterns and config files: nothing a config names can make loading or a run hang --

CATASTROPHIC = r"(?:\w+_)*acme_key"  # 38 s on a 28-segment identifier with Python's `re`


@pytest.mark.parametrize("config, line", [
    (f"settings:\n  key-names: ['{CATASTROPHIC}']\n", 2),
    (f"settings:\n  secret-names: ['{CATASTROPHIC}']\n", 2),
    ("settings:\n  context-markers: ['(a+)+b']\n", 2),
    ("settings:\n  key-patterns: ['acme_(?:[a-z]+[0-9]*)*_x']\n", 2),
    ("settings:\n  logger-names: ['(?:\\w+_?)+log']\n", 2),
    ("rules:\n  - id: ACME001\n    kind: forbidden-call\n    message: m\n    calls: [run]\n"
     f"    conditions:\n      - {{arg: 0, matches: '{CATASTROPHIC}'}}\n", 7),
    ("rules:\n  - id: ACME001\n    kind: secret-pattern\n    message: m\n"
     "    pattern: 'acme_.*.*.*x'\n", 5),
])
def test_a_pattern_that_can_backtrack_without_end_is_refused(project, config, line) -> None:
    project.write(".keyport-lint.yaml", config)
    project.write("app.py", "import keyport\n" + "_".join(["seg"] * 28) + "_acme_kex = 1\n")
    proc = project.run("check", ".")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f".keyport-lint.yaml:{line}:" in proc.stderr
    assert "can backtrack without end" in proc.stderr


def test_safe_patterns_with_repetition_are_accepted(project) -> None:
    project.write(".keyport-lint.yaml", "settings:\n  key-names: ['acme(?:_[a-z]+)*_key', "
                  "'(?:\\d+\\.)*v\\d+_key', '\\w+\\s+\\w+']\n")
    project.write("app.py", "x = 1\n")
    proc = project.run("check", ".")
    assert proc.returncode == 0, proc.stderr


def test_a_yaml_alias_bomb_fails_fast(project) -> None:
    """765 bytes that expand to a billion values: 42 s and 1.6 GB when fingerprinted."""
    lines = ["rules:", "  - id: ACME001", "    kind: forbidden-call", "    message: m",
             "    calls: [run]", "    examples:", "      bad: x",
             "    rationale: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    names = "abcdefghij"
    for prev, name in zip(names, names[1:]):
        lines.append(f"    x{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    project.write(".keyport-lint.yaml", "\n".join(lines) + "\n")
    project.write("app.py", "x = 1\n")
    for command in (("check", "."), ("explain", "ACME001")):
        proc = project.run(*command)
        assert proc.returncode == 2
        assert "YAML aliases expand to more than 100,000 values" in proc.stderr, proc.stderr


def test_reasonable_aliases_still_work(project) -> None:
    project.write(".keyport-lint.yaml", "settings:\n  key-names: &names ['acme_key']\n"
                  "  secret-names: *names\n")
    project.write("app.py", "x = 1\n")
    assert project.run("check", ".").returncode == 0


@pytest.mark.parametrize("entry", ["/dev/zero", "fifo.yaml", "big.yaml"])
def test_rule_files_read_only_small_regular_files(project, entry) -> None:
    import os

    if entry == "fifo.yaml":
        os.mkfifo(project.root / "fifo.yaml")
    if entry == "big.yaml":
        project.write("big.yaml", "# padding\n" * 200_000)
    project.write(".keyport-lint.yaml", f"rule-files: ['{entry}']\n")
    project.write("app.py", "x = 1\n")
    proc = project.run("check", ".")
    assert proc.returncode == 2
    assert "not a regular file" in proc.stderr or "byte limit" in proc.stderr, proc.stderr


def test_extend_reads_only_regular_files(project) -> None:
    import os

    os.symlink("/dev/zero", project.root / "base.yaml")
    project.write(".keyport-lint.yaml", "extend: base.yaml\n")
    proc = project.run("check", ".")
    assert proc.returncode == 2 and ".keyport-lint.yaml" in proc.stderr


def test_rule_file_globs_do_not_follow_symlink_loops(project) -> None:
    import os

    project.write("rules/a/acme.yaml", "rules:\n  - id: ACME001\n    kind: secret-pattern\n"
                  "    message: m\n    pattern: 'acme_[0-9a-f]{32}'\n")
    os.symlink("..", project.root / "rules" / "a" / "loop")
    project.write(".keyport-lint.yaml", "rule-files: ['rules/**/*.yaml']\n")
    project.write("app.py", "x = 1\n")
    proc = project.run("rules")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ACME001") == 1


@pytest.mark.parametrize("pattern", ["/**/*.yaml", "../*.yaml", "~/rules/*.yaml"])
def test_rule_file_globs_stay_in_the_project(project, pattern) -> None:
    project.write(".keyport-lint.yaml", f"rule-files: ['{pattern}']\n")
    proc = project.run("check", ".")
    assert proc.returncode == 2
    assert "stays inside the config's folder" in proc.stderr, proc.stderr
