"""Issue 19, bounded cost: work grows with the input, judged by operation counts (never
clocks): double the input, the work at most doubles."""

from __future__ import annotations

from pathlib import Path

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
