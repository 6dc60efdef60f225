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
            uri = editor.open("app/settings.py", SOURCE)
            diags = await editor.diagnostics_for(uri)
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
            assert titles == ["Suppress KP101 on this line", "Explain KP101"]
            command = editor.sent_object(title="Explain KP101", kind="quickfix")["command"]
            assert command["command"] == "keyport-lint.explain"
            answer = await editor.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command["command"], command["arguments"]))
            assert answer.startswith("KP101 hardcoded-api-key")
            await editor.wait_for(lambda: any(m.startswith("KP101") for m in editor.shown),
                                  "the explain text shown")

            before = len(editor.published)
            fixed = editor.apply(uri, actions[0].edit)
            assert fixed.splitlines()[2].endswith('"  # keyport-lint: ignore[KP101]')
            assert await editor.diagnostics_for(uri, before) == []
        finally:
            await editor.stop()
        assert KEY not in editor.everything_sent()

    run(session())
