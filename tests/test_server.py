"""The language server, driven over stdio by a real JSON-RPC client (tests/lspclient.py)."""

from __future__ import annotations

from lsprotocol import types as lsp

from tests.conftest import KEY
from tests.lspclient import Editor, run

SOURCE = f'import os\n\nKEY = "{KEY}"\n'


def test_diagnostic_suppress_hover_explain(tmp_path):
    (tmp_path / ".keyport-lint.yaml").write_text("select: [KP1, KP9]\n", encoding="utf-8")

    async def session() -> None:
        editor = Editor(tmp_path)
        await editor.start()
        try:
            # a buffer with no file behind it has no config or project: it is left alone
            editor.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
                lsp.TextDocumentItem("untitled:Untitled-1", "python", 1, SOURCE)))
            uri = editor.open("app/settings.py", SOURCE)
            diags = await editor.diagnostics_for(uri)
            assert "untitled:Untitled-1" not in editor.published
            assert [(d.code, d.range.start.line, d.range.start.character) for d in diags] \
                == [("KP101", 2, 7)]
            diag = diags[0]
            assert diag.severity == lsp.DiagnosticSeverity.Error
            assert diag.source == "keyport-lint"
            assert diag.code_description is not None
            assert diag.code_description.href.endswith("#kp101")
            assert "kp_live_8fK2…" in diag.message and "help:" in diag.message

            hover = await editor.client.text_document_hover_async(lsp.HoverParams(
                lsp.TextDocumentIdentifier(uri), lsp.Position(2, 10)))
            assert hover is not None
            text = hover.contents.value  # type: ignore[union-attr]
            assert "KP101" in text and "**Bad**" in text and "**Good**" in text
            nothing = await editor.client.text_document_hover_async(lsp.HoverParams(
                lsp.TextDocumentIdentifier(uri), lsp.Position(0, 1)))
            assert nothing is None

            actions = await editor.client.text_document_code_action_async(
                lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), diag.range,
                                     lsp.CodeActionContext([diag])))
            titles = [a.title for a in actions or []]
            # the fix first (KP101's is unsafe: the program then needs the variable set)
            assert titles == ['Read the value from os.environ["KEYPORT_API_KEY"] (then rotate '
                              'the key) (KP101, unsafe fix)', "Suppress KP101 on this line",
                              "Explain KP101"]
            assert actions is not None and not actions[0].is_preferred
            command = editor.sent_object(title="Explain KP101", kind="quickfix")["command"]
            assert command["command"] == "keyport-lint.explain"
            answer = await editor.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command["command"], command["arguments"]))
            assert answer.startswith("KP101 hardcoded-api-key")
            await editor.wait_for(lambda: any(m.startswith("KP101") for m in editor.shown),
                                  "the explain text shown")

            before = len(editor.published)
            fixed = editor.apply(uri, actions[1].edit)
            assert fixed.splitlines()[2].endswith('"  # keyport-lint: ignore[KP101]')
            assert await editor.diagnostics_for(uri, before) == []
        finally:
            await editor.stop()
        assert KEY not in editor.everything_sent()

    run(session())


def test_dependents_recheck_and_config_reload(tmp_path):
    """An unsaved edit to settings.py re-checks the open views.py that imports it (the index
    reads the buffer); a config written to disk is picked up when the editor reports it."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    settings_py = "TOKEN = 'not a key'\n"
    (tmp_path / "app" / "settings.py").write_text(settings_py, encoding="utf-8")
    views_py = "from app.settings import TOKEN\n\nprint(TOKEN)\n"

    async def session() -> None:
        editor = Editor(tmp_path)
        await editor.start()
        try:
            views = editor.open("app/views.py", views_py)
            settings = editor.open("app/settings.py", settings_py)
            assert await editor.diagnostics_for(views) == []
            await editor.diagnostics_for(settings)
            editor.change(settings, "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
            diags = await editor.settled(views, lambda d: bool(d), "KP201 in views.py")
            assert [(d.code, d.range.start.line) for d in diags] == [("KP201", 2)]

            config = tmp_path / ".keyport-lint.yaml"
            config.write_text("ignore: [KP201]\n", encoding="utf-8")
            editor.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
                [lsp.FileEvent(editor.uri(".keyport-lint.yaml"), lsp.FileChangeType.Created)]))
            await editor.settled(views, lambda d: d == [], "KP201 gone after the reload")

            # a broken config is one clear message, and the server goes on serving
            config.write_text("selct: [KP1]\n", encoding="utf-8")
            editor.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
                [lsp.FileEvent(editor.uri(".keyport-lint.yaml"), lsp.FileChangeType.Changed)]))
            await editor.wait_for(lambda: any("did you mean 'select'" in m
                                              for m in editor.shown), "the config error")
            config.write_text("select: [KP2]\n", encoding="utf-8")
            editor.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
                [lsp.FileEvent(editor.uri(".keyport-lint.yaml"), lsp.FileChangeType.Changed)]))
            await editor.settled(views, lambda d: bool(d), "KP201 back")
        finally:
            await editor.stop()

    run(session())


CRASHING_SERVER = f"""
import sys
from keyport_lint.server import session

original = session.Session.check

def check(self, path, text):
    if path.name == "boom.py":
        raise RuntimeError("bug while reading {KEY}")
    return original(self, path, text)

session.Session.check = check
from keyport_lint.cli import main
main(["server"])
"""


def test_an_internal_error_is_logged_and_the_server_keeps_serving(tmp_path):
    """A check that raises is logged to the client as its type and place (never its text,
    which here holds a key), and other files are still checked."""

    async def session() -> None:
        import sys

        editor = Editor(tmp_path, [sys.executable, "-c", CRASHING_SERVER])
        await editor.start()
        try:
            editor.open("boom.py", SOURCE)
            await editor.wait_for(lambda: any("internal error checking boom.py" in m
                                              for m in editor.logs), "the error log")
            assert any("RuntimeError at" in m for m in editor.logs)
            uri = editor.open("ok.py", SOURCE)
            diags = await editor.diagnostics_for(uri)
            assert [d.code for d in diags] == ["KP101"]
            for version in range(3):  # rapid edits: the last version's findings win
                editor.change(uri, SOURCE + "\n" * version)
            editor.change(uri, "import os\n")
            await editor.settled(uri, lambda d: d == [], "the fixed buffer checked")
        finally:
            await editor.stop()
        assert KEY not in editor.everything_sent()
        assert "bug while reading" not in editor.everything_sent()

    run(session())


def test_without_the_extra_a_one_line_hint_and_exit_2(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys; sys.modules['pygls'] = None\n"
            "from keyport_lint.cli import main; main(['server'])")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT), "PATH": ""}, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "keyport-lint: error: the language server needs the `server` extra: "
        "pip install 'keyport-lint[server]' (it adds pygls)"]
    assert done.stdout == ""


def test_the_readme_helix_configuration_as_written(tmp_path):
    """README's Helix block, followed exactly: its command and args start the server, which
    reports a finding in a Python buffer and takes it back once the suppression is applied."""
    import shutil
    import sys

    from tests.test_readme_e2e import block

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    config = tomllib.loads(block("helix"))
    server = config["language-server"]["keyport-lint"]
    assert [lang["name"] for lang in config["language"]
            if "keyport-lint" in lang["language-servers"]] == ["python"]
    command = [server["command"], *server["args"]]
    assert command == ["keyport-lint", "server"]
    executable = shutil.which(command[0])
    assert executable, "keyport-lint is not installed as a command (pip install -e '.[test]')"

    async def session() -> None:
        editor = Editor(tmp_path, [executable, *command[1:]])
        await editor.start()
        try:
            uri = editor.open("settings.py", SOURCE)
            diags = await editor.diagnostics_for(uri)
            assert [d.code for d in diags] == ["KP101"]
            actions = await editor.client.text_document_code_action_async(
                lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), diags[0].range,
                                     lsp.CodeActionContext(diags)))
            suppress = next(a for a in actions or [] if a.title.startswith("Suppress"))
            before = len(editor.published)
            editor.apply(uri, suppress.edit)
            assert await editor.diagnostics_for(uri, before) == []
        finally:
            await editor.stop()
        assert KEY not in editor.everything_sent()

    run(session())
