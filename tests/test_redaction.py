"""Issue 19, one redaction for everything written: keys planted in every form the detector
knows and in every file type; every output (each format, baseline, stderr, explain, rules docs)
is searched for any 16-character slice of each key."""

from __future__ import annotations

import contextlib
import io
import json
import os
import string
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyport_lint.cli import main
from keyport_lint.config import Config
from keyport_lint.pipeline.run import redactor_for, run
from keyport_lint.report import FORMATS

ALPHABET = string.ascii_letters + string.digits
SLICE = 16


def cli(root: Path, *args: str) -> tuple[str, str, int]:
    """The CLI in this process (one process per call would cost seconds): stdout, stderr, exit."""
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(root)
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(here)
    return out.getvalue(), err.getvalue(), int(code or 0)


def leaks(written: str, keys: list[str]) -> list[str]:
    return sorted({key[i:i + SLICE] for key in keys for i in range(len(key) - SLICE + 1)
                   if key[i:i + SLICE] in written})


def _escape(char: str) -> str:
    return f"\\x{ord(char):02x}"


def python_forms(p: str, r: str) -> list[tuple[str, str]]:
    """(source expression, the key it spells) for every form a key takes in Python."""
    return [
        (f'"{p}{r}"', p + r),
        (f'"{p}" "{r}"', p + r),
        (f'"{p}{r[:5]}" \'{r[5:]}\'', p + r),
        (f'("{p}"\n    "{r}")', p + r),
        (f'"{p}" + "{r}"', p + r),
        (f'("{p}" +\n    "{r}")', p + r),
        (f'"{_escape(p[0])}{p[1:]}{r}"', p + r),
        (f'"{p[:2]}{_escape(p[2])}{p[3:]}{r}"', p + r),
        (f'"{p}{r[:6]}{_escape(r[6])}{r[7:]}"', p + r),
        (f'"{(p + r).upper()}"', (p + r).upper()),
        (f'b"{p}{r}"', p + r),
        (f'f"{p}{r}{{0}}"', p + r),
        (f'"kp_test_{r}"', "kp_test_" + r),
    ]


def plant(root: Path, keys: st.DataObject | None, rs: list[str], generated: str = "") -> list[str]:
    """A project holding the keys in every file type; returns the keys as spelt."""
    planted: list[str] = []
    env = 'print(os.environ["KEYPORT_API_KEY"])'  # makes the line a KP201 finding
    lines = ["import logging", "import os", "", "import keyport", ""]
    forms = python_forms("kp_live_", rs[0]) + python_forms("whsec_", rs[1])[:4]
    for i, (expr, key) in enumerate(forms):
        lines.append(f"V{i} = {expr}; {env}")
        planted.append(key)
    lines.append(f"# {rs[2]} kp_live_{rs[2]} in a comment; {env}")
    lines.append(f'KEYPORT_API_KEY = "{rs[3]}"')  # KP103: a secret without prefix
    lines.append(f'keyport.KeyPort(api_key="{rs[4][:8]}" "{rs[4][8:]}")')
    lines.append(f'KEYPORT_API_KEY = "{rs[5][:9]}{_escape(rs[5][9])}{rs[5][10:]}"')
    planted += ["kp_live_" + rs[2], rs[3], rs[4], rs[5]]
    (root / "app.py").write_text("\n".join(lines) + "\n" + generated + "\n", encoding="utf-8")

    k = rs[6]
    texts = {
        ".env": f"KEYPORT_API_KEY=kp_live_{k}\nOTHER=KP_TEST_{k}\n",
        "config.yaml": f"keyport_api_key: kp_live_{k}  # KP_LIVE_{k}\n",
        "config.json": f'{{"key": "kp_live_{k}", "test": "kp_test_{k}"}}\n',
        "config.toml": f'key = "kp_live_{k}"\n',
        "config.ini": f"[keyport]\nkey = kp_live_{k}\n",
        "client.js": (f'const k = "kp_live_" +\n  "{k}"; fetch("https://api.keyport.sbs/api/v1/'
                      f'validate", {{headers: {{a: "kp\\x5flive_{k}"}}}});\n'),
        "page.html": (f'<script>fetch("https://api.keyport.sbs/x", {{h: "kp_live_" + "{k}"}})'
                      "</script>\n"),
    }
    for name, text in texts.items():
        (root / name).write_text(text, encoding="utf-8")
    planted += [f"kp_live_{k}", f"KP_TEST_{k}", f"KP_LIVE_{k}", f"kp_test_{k}"]
    (root / "broken.py").write_text(f'kp_live_{rs[7]} = "kp_live_{rs[7]}" +\ndef (:\n',
                                    encoding="utf-8")
    (root / "latin.py").write_bytes(f"import keyport\nX = '\xff kp_live_{rs[8]}'\n".encode(
        "latin-1"))
    folder = root / f"kp_test_{rs[9]}"
    folder.mkdir()
    (folder / f"kp_live_{rs[10]}.py").write_text('import keyport\nKEYPORT_API_KEY = "kp_live_'
                                                f'{rs[11]}"\n', encoding="utf-8")
    planted += [f"kp_live_{rs[7]}", f"kp_live_{rs[8]}", f"kp_test_{rs[9]}",
                f"kp_live_{rs[10]}", f"kp_live_{rs[11]}"]
    (root / ".keyport-lint.yaml").write_text(
        "rules:\n"
        "  - id: ACME001\n"
        "    kind: secret-pattern\n"
        f"    pattern: 'acme_sk_[0-9a-f]{{32}}|kp_live_{rs[12]}'\n"
        "    message: 'Acme key {match}'\n"
        f"    rationale: 'Never commit kp_live_{rs[12]} or the like.'\n"
        "    examples:\n"
        f"      bad: 'x = \"kp_live_{rs[12]}\"'\n"
        "      good: 'x = 1'\n", encoding="utf-8")
    planted.append(f"kp_live_{rs[12]}")
    return planted


def everything_written(root: Path, rs: list[str]) -> str:
    written = []
    for fmt in FORMATS:
        out, err, code = cli(root, "check", "--no-cache", "--output-format", fmt, ".")
        assert code in (1, 2), err
        written += [out, err]
    written += cli(root, "baseline", "--no-cache", "-o", "baseline.json", ".")[:2]
    written.append((root / "baseline.json").read_text(encoding="utf-8")
                   if (root / "baseline.json").exists() else "")
    for args in (("explain", "ACME001"), ("explain", "--output-format", "json", "ACME001"),
                 ("rules", "--output-format", "markdown"), ("explain", f"kp_live_{rs[13]}"),
                 ("check", "--select", f"kp_live_{rs[13]}", "."),
                 ("check", "--baseline", f"kp_live_{rs[13]}.json", "."),
                 ("check", f"kp_live_{rs[13]}"), (f"kp_live_{rs[13]}",)):
        written += cli(root, *args)[:2]
    return "\n".join(written)


randoms = st.lists(st.text(ALPHABET, min_size=24, max_size=40), min_size=14, max_size=14,
                   unique=True)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(randoms, hypothesmith.from_grammar())
def test_planted_keys_never_leave_in_any_output(tmp_path_factory, rs: list[str],
                                                generated: str) -> None:
    root = tmp_path_factory.mktemp("planted")
    keys = plant(root, None, rs, generated)
    keys.append(f"kp_live_{rs[13]}")
    written = everything_written(root, rs)
    findings = json.loads(cli(root, "check", "--no-cache", "--output-format", "json", ".")[0])
    # the sweep is real: the planted forms were found and reported
    rules = {f["rule"] for f in findings["findings"]}
    assert {"KP101", "KP103", "KP104", "KP201", "KP900", "KP503"} <= rules, rules
    assert not leaks(written, keys), leaks(written, keys)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(ALPHABET, min_size=16, max_size=48), st.sampled_from(["kp_live_", "whsec_",
                                                                      "kp_test_"]),
       st.integers(0, 12), st.text(" ()[]{},;:=#+-*/<>!?\t'\"`\\", max_size=20))
def test_every_form_is_redacted_on_its_line(random: str, prefix: str, form: int,
                                            around: str) -> None:
    """The redactor alone, on many more keys: each Python form of a key, with any text
    around it on the line."""
    redact = redactor_for(Config(root=Path.cwd()))
    expr, key = python_forms(prefix, random)[form]
    for line in (f"{around}{expr}{around}", f"x = {expr}  # {around}"):
        shown = "\n".join(redact(part) for part in line.split("\n")) if "\n" not in expr \
            else redact(line)
        assert not leaks(shown, [key]), (line, shown)


def test_a_key_split_over_lines_is_redacted_on_each_line(tmp_path) -> None:
    """Line by line, neither line holds the key; the file-level pass finds its pieces."""
    random = "TVOHx8rQ2mP5sL9vZ3kW7bD"
    (tmp_path / "app.py").write_text(
        'import os\nKEY = ("kp_live_"\n'
        f'       "{random}"); print(os.environ["KEYPORT_API_KEY"])\n', encoding="utf-8")
    result = run([str(tmp_path)], Config(root=tmp_path), cwd=tmp_path)
    assert {(f.rule, f.line) for f in result.findings} == {("KP101", 2), ("KP201", 3)}
    shown = "\n".join(result.excerpts.values())
    assert random[:SLICE] not in shown and "<redacted:" in shown


def test_an_unparsable_file_shows_no_source(tmp_path) -> None:
    (tmp_path / "broken.py").write_text('import keyport\nKEY = "kp_live_x" +\n',
                                        encoding="utf-8")
    out, _err, code = cli(tmp_path, "check", "--no-cache", ".")
    assert code == 1 and "KP900" in out
    assert "import keyport" not in out and "|" not in out


def test_keys_in_file_and_folder_names_are_redacted_everywhere(tmp_path) -> None:
    name = "kp_live_Q2w3E4r5T6y7U8i9O0pA"  # keyport-lint: ignore[KP101]
    (tmp_path / name).mkdir()
    (tmp_path / name / f"{name}.py").write_text(
        'import keyport\nKEYPORT_API_KEY = "Xo6pQ2rT9vW4z0UaB3cD7e"\n', encoding="utf-8")
    for fmt in FORMATS:
        out, err, code = cli(tmp_path, "check", "--no-cache", "--output-format", fmt, ".")
        assert code == 1 and "KP103" in out
        assert name[:SLICE] not in out + err and "kp_live_Q2w3" in out
    cli(tmp_path, "baseline", "--no-cache", "-o", "b.json", ".")
    assert name[:SLICE] not in (tmp_path / "b.json").read_text(encoding="utf-8")


def test_the_compiled_catalogue_in_the_cache_home_shows_no_key(tmp_path: Path) -> None:
    """The built-in rules' examples hold made-up keys; the compiled forms of the catalogue
    kept in the user's cache home must not show them (nor any key) as text."""
    import re
    import subprocess
    import sys

    from .conftest import ROOT

    project = tmp_path / "project"
    project.mkdir()
    body = "Q7w2Er4Ty6Ui8Op0As2Df4Gh"
    (project / "app.py").write_text(f"KEY = 'kp_live_{body}'\n")
    home = tmp_path / "home"
    # what an older linter left there: its compiled examples showed keys as text
    old = home / "keyport-lint" / "catalog" / "validated-0123456789abcdef.json"
    old.parent.mkdir(parents=True)
    old.write_text(f'{{"rules": [["KP101", "client = KeyPort(\\"kp_live_{body}\\")"]]}}')
    for command in (["check", "app.py"], ["rules"], ["explain", "KP101"]):
        subprocess.run([sys.executable, "-m", "keyport_lint", *command], cwd=project,
                       capture_output=True, env={"PYTHONPATH": str(ROOT), "NO_COLOR": "1",
                                                 "XDG_CACHE_HOME": str(home)})
    written = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.parent.name == "catalog" for p in written)
    shape = re.compile(rb"(?i)(kp_(live|test)_|whsec_)[A-Za-z0-9]{8}")
    assert [p.name for p in written if shape.search(p.read_bytes())] == []
    assert not old.exists()
