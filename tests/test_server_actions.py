"""The server's pure parts: code actions (fixes, suppressions, explain), positions, hovers."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest
from lsprotocol import types as lsp

from keyport_lint.config import Config
from keyport_lint.finding import Edit, Finding, Fix
from keyport_lint.pipeline.run import redactor_for
from keyport_lint.server.actions import Positions, code_actions, diagnostics, hover
from keyport_lint.server.session import Checked, Session
from keyport_lint.server.suppressing import suppression_edit
from tests.conftest import KEY

URI = "file:///p/app.py"


def _finding(rule: str = "KP201", line: int = 3, column: int = 1, end_column: int = 13,
             fix: Fix | None = None) -> Finding:
    return Finding(rule, "api-key-logged", "error", "app.py", line, column, line, end_column,
                   "Full KeyPort API key reaches print", help="log a prefix", fix=fix)


def _checked(text: str, *findings: Finding, path: str = "/p/app.py") -> Checked:
    cfg = Config(root=Path("/p"))
    return Checked(Path(path), text, list(findings), None, cfg)


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)

    def offset(p: lsp.Position) -> int:
        return sum(len(x) for x in lines[:p.line]) + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def test_fixes_are_offered_labelled_safe_or_unsafe():
    text = "import os\nKEY = os.environ['K']\nprint(KEY)\n"
    safe = Fix("safe", "Log only the key's prefix",
               (Edit(3, 7, 3, 10, "KEY[:12]"),))
    unsafe = Fix("unsafe", f"Remove the call (was {KEY})", (Edit(3, 1, 4, 1, ""),))
    checked = _checked(text, _finding(fix=safe), _finding(rule="KP202", fix=unsafe))
    redact = redactor_for(checked.config)  # type: ignore[arg-type]
    where = lsp.Range(lsp.Position(2, 0), lsp.Position(2, 0))
    actions = code_actions(checked, URI, Positions(text), where, redact)
    titles = [a.title for a in actions]
    assert titles[0] == "Log only the key's prefix (KP201, safe fix)"
    assert actions[0].is_preferred is True
    assert _apply(text, actions[0].edit.changes[URI]) == \
        "import os\nKEY = os.environ['K']\nprint(KEY[:12])\n"
    unsafe_action = next(a for a in actions if "unsafe fix" in a.title)
    assert KEY not in unsafe_action.title and "kp_live_8fK2…" in unsafe_action.title
    assert not unsafe_action.is_preferred
    assert _apply(text, unsafe_action.edit.changes[URI]) == "import os\nKEY = os.environ['K']\n"
    assert "Suppress KP201 on this line" in titles and "Explain KP202" in titles
    # once the buffer has changed since the check, no edit is offered: only explanations
    assert [a.title for a in code_actions(checked, URI, Positions(text), where, redact,
                                          edits=False)] == ["Explain KP201", "Explain KP202"]
    # a client asking for refactorings only gets none of these quick fixes
    assert code_actions(checked, URI, Positions(text), where, redact, ["refactor"]) == []
    # a range elsewhere: nothing
    away = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 3))
    assert code_actions(checked, URI, Positions(text), away, redact) == []


@pytest.mark.parametrize(("name", "text", "line", "expected"), [
    # a trailing comment
    ("app.py", "x = 1\nKEY = 'k'   \n", 2, "x = 1\nKEY = 'k'  # keyport-lint: ignore[KP101]\n"),
    # merged into the suppression already there, and into a bare one
    ("app.py", "KEY = 'k'  # keyport-lint: ignore[KP201]\n", 1,
     "KEY = 'k'  # keyport-lint: ignore[KP201, KP101]\n"),
    ("app.py", "KEY = 'k'  # keyport-lint: ignore\n", 1,
     "KEY = 'k'  # keyport-lint: ignore[KP101]\n"),
    # after another comment
    ("app.py", "KEY = 'k'  # noqa: E501\n", 1,
     "KEY = 'k'  # noqa: E501  # keyport-lint: ignore[KP101]\n"),
    # the line ends inside a multi-line string: alone on the line above, indented
    ("app.py", "def f():\n    x = '''a\n    b'''\n", 2,
     "def f():\n    # keyport-lint: ignore[KP101]\n    x = '''a\n    b'''\n"),
    # in the file's own comment syntax
    ("web/app.js", "const k = 'x';\n", 1, "const k = 'x';  // keyport-lint: ignore[KP101]\n"),
    ("conf.yaml", "key: x\n", 1, "key: x  # keyport-lint: ignore[KP101]\n"),
    ("page.html", "<p>x</p>\n", 1, "<p>x</p>  <!-- keyport-lint: ignore[KP101] -->\n"),
    ("page.html", "<script>\nfetch(u);\n</script>\n", 2,
     "<script>\nfetch(u);  // keyport-lint: ignore[KP101]\n</script>\n"),
    # a .env value runs to the end of its line: the comment goes above
    (".env", "A=1\nKEY=x\n", 2, "A=1\n# keyport-lint: ignore[KP101]\nKEY=x\n"),
])
def test_suppression_edits(name, text, line, expected):
    kind = "python" if name.endswith(".py") else "text"
    edit = suppression_edit(text, kind, PurePath(name), line, "KP101")
    assert edit is not None
    positions = Positions(text)
    start = positions.position(edit.line, edit.column)
    end = positions.position(edit.end_line, edit.end_column)
    assert _apply(text, [lsp.TextEdit(lsp.Range(start, end), edit.content)]) == expected


def test_no_suppression_where_no_comment_can_reach():
    inside = 'def f():\n    """Doc.\n    kp_live_x\n    """\n'
    assert suppression_edit(inside, "python", PurePath("a.py"), 3, "KP101") is None
    assert suppression_edit('{"k": "x"}\n', "text", PurePath("a.json"), 1, "KP104") is None
    already = "KEY = 'k'  # keyport-lint: ignore[KP101]\n"
    assert suppression_edit(already, "python", PurePath("a.py"), 1, "KP101") is None


def test_positions_are_utf16_unless_negotiated():
    text = "s = '😀'; KEY = 1\n"
    column = text.index("KEY") + 1  # 1-based characters
    assert Positions(text).position(1, column).character == column - 1 + 1  # 😀: 2 units
    assert Positions(text, "utf-32").position(1, column).character == column - 1
    assert Positions(text, "utf-8").position(1, column).character == column - 1 + 3
    back = Positions(text).column(lsp.Position(0, column))
    assert back == (1, column)


def test_diagnostic_and_hover_carry_no_key(tmp_path):
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    session = Session(tmp_path)
    text = f'KEY = "{KEY}"\n'
    checked = session.check(tmp_path / "app.py", text)
    redact = session.redactor(tmp_path / "app.py")
    positions = Positions(text)
    diags = diagnostics(checked, positions, redact)
    assert [d.code for d in diags] == ["KP101"]
    shown = hover(checked, positions, lsp.Position(0, 8), redact)
    assert shown is not None
    everything = repr(diags) + repr(shown)
    assert KEY not in everything and "kp_live_" in everything


def _apply_edit(text: str, edit: Edit) -> str:
    positions = Positions(text)
    start = positions.position(edit.line, edit.column)
    end = positions.position(edit.end_line, edit.end_column)
    return _apply(text, [lsp.TextEdit(lsp.Range(start, end), edit.content)])


FILES = ["KP104/bad.env", "KP104/bad_bundle.js", "KP104/bad_config.toml",
         "KP104/bad_page.html", "KP104/bad_settings.yaml", "KP503/bad_axios_client.jsx",
         "KP503/bad_component.vue", "KP503/bad_template.html", "KP503/bad_widget.svelte",
         "KP503/bad_built_url.ts", "KP101/bad_client_forms.py", "KP201/bad_module_flows.py"]


@pytest.mark.parametrize("rel", FILES)
def test_every_offered_suppression_silences_its_finding(tmp_path, rel):
    """On real fixtures: apply the suppression offered for a finding, check again, and that
    rule has one finding fewer and no suppression is malformed (KP902)."""
    from tests.conftest import FIXTURES

    path = tmp_path / PurePath(rel).name
    text = (FIXTURES / rel).read_text(encoding="utf-8")
    session = Session(tmp_path)
    applied = 0
    for _ in range(40):
        checked = session.check(path, text)
        assert not [f for f in checked.findings if f.rule == "KP902"], text
        kind = "python" if path.suffix == ".py" else "text"
        offers = [(f, suppression_edit(text, kind, path, f.line, f.rule))
                  for f in checked.findings if f.rule not in ("KP900", "KP901")]
        offers = [(f, e) for f, e in offers if e is not None]
        if not offers:
            break
        finding, edit = offers[0]
        before = sum(1 for f in checked.findings if f.rule == finding.rule)
        text = _apply_edit(text, edit)
        after = session.check(path, text).findings
        assert sum(1 for f in after if f.rule == finding.rule) < before, (finding, text)
        applied += 1
    assert applied, f"no suppression offered in {rel}"


FIXABLE = ["KP201/bad_sinks.py", "KP202/bad_secret_logged.py", "KP304/bad_hexdigest.py",
           "KP402/bad_truthiness.py", "KP403/bad_unknown_status.py", "KP901/bad_unused.py",
           "KP101/bad_settings.py"]


@pytest.mark.parametrize("rel", FIXABLE)
def test_every_offered_fix_removes_its_finding(tmp_path, rel):
    """On real fixtures, as an editor applies them: each fix's edits, converted to the
    protocol's positions, leave a text that parses and has one finding of the rule fewer."""
    from keyport_lint.fix.apply import parses
    from tests.conftest import FIXTURES

    path = tmp_path / PurePath(rel).name
    text = (FIXTURES / rel).read_text(encoding="utf-8")
    session = Session(tmp_path)
    applied = 0
    for _ in range(60):
        fixable = [f for f in session.check(path, text).findings if f.fix is not None]
        if not fixable:
            break
        finding = fixable[0]
        assert finding.fix is not None
        before = sum(1 for f in session.check(path, text).findings if f.rule == finding.rule)
        positions = Positions(text)
        text = _apply(text, [lsp.TextEdit(lsp.Range(positions.position(e.line, e.column),
                                                    positions.position(e.end_line,
                                                                       e.end_column)),
                                          e.content) for e in finding.fix.edits])
        assert parses(text), text
        after = session.check(path, text).findings
        assert sum(1 for f in after if f.rule == finding.rule) < before, (finding, text)
        applied += 1
    assert applied, f"no fix offered in {rel}"
