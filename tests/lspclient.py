"""A real editor session for tests: `keyport-lint server` in its own process, driven over stdio
by pygls' JSON-RPC client. Every message the server sends is also kept as raw JSON, and its
stderr is read at the end, so tests can assert that no key left in any of them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0


class Editor:
    def __init__(self, root: Path, command: list[str] | None = None) -> None:
        self.root = root
        self.command = command or [sys.executable, "-m", "keyport_lint", "server"]
        self.client = LanguageClient("keyport-lint-tests", "1")
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.published: list[str] = []  # uris, in the order diagnostics arrived
        self.logs: list[str] = []
        self.shown: list[str] = []
        self.raw: list[str] = []  # every JSON object the server sent
        self.stderr = ""
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        client = self.client

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.published.append(params.uri)

        @client.feature(lsp.WINDOW_LOG_MESSAGE)
        def log(params: lsp.LogMessageParams) -> None:
            self.logs.append(params.message)

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def show(params: lsp.ShowMessageParams) -> None:
            self.shown.append(params.message)

        @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
        def register(params: lsp.RegistrationParams) -> None:
            return None

        structure = client.protocol.structure_message

        def keep(data: dict[str, Any]) -> Any:
            self.raw.append(json.dumps(data))
            return structure(data)

        client.protocol.structure_message = keep  # type: ignore[method-assign]

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        await self.client.start_io(*self.command, cwd=str(self.root), env=env)
        await self.client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(
                workspace=lsp.WorkspaceClientCapabilities(
                    did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(
                        dynamic_registration=True))),
            root_uri=from_fs_path(str(self.root)),
            workspace_folders=[lsp.WorkspaceFolder(from_fs_path(str(self.root)) or "",
                                                   self.root.name)]))
        self.client.initialized(lsp.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        server = self.client._server
        if server is not None and server.stderr is not None:
            try:
                data = await asyncio.wait_for(server.stderr.read(), TIMEOUT)
                self.stderr = data.decode("utf-8", "replace")
            except asyncio.TimeoutError:
                pass
        await self.client.stop()

    # -- documents -----------------------------------------------------------------------
    def uri(self, rel: str) -> str:
        return from_fs_path(str(self.root / rel)) or ""

    def open(self, rel: str, text: str, language: str = "python") -> str:
        uri = self.uri(rel)
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri, language, 1, text)))
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(self.versions[uri], uri),
            [lsp.TextDocumentContentChangeWholeDocument(text)]))

    def apply(self, uri: str, edit: lsp.WorkspaceEdit) -> str:
        """Apply a code action's edit to the buffer, as the editor does, and send it."""
        edits = (edit.changes or {})[uri]
        text = self.texts[uri]
        for item in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                           reverse=True):
            start, end = _offset(text, item.range.start), _offset(text, item.range.end)
            text = text[:start] + item.new_text + text[end:]
        self.change(uri, text)
        return text

    async def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; logs: {self.logs}")
            await asyncio.sleep(0.02)

    async def diagnostics_for(self, uri: str, after: int = 0) -> list[lsp.Diagnostic]:
        """The first diagnostics published for `uri` after `after` publications in all."""
        await self.wait_for(lambda: uri in self.published[after:], f"diagnostics of {uri}")
        return self.diagnostics[uri]

    async def settled(self, uri: str, condition: Callable[[list[lsp.Diagnostic]], bool],
                      what: str) -> list[lsp.Diagnostic]:
        await self.wait_for(lambda: uri in self.diagnostics and
                            condition(self.diagnostics[uri]), what)
        return self.diagnostics[uri]

    def sent_object(self, **match: Any) -> dict[str, Any]:
        """The last JSON object the server sent with these fields (pygls' client parses a code
        action that holds a command as a Command, losing its shape)."""
        for raw in reversed(self.raw):
            data = json.loads(raw)
            if all(data.get(k) == v for k, v in match.items()):
                return data
        raise AssertionError(f"the server sent no object with {match}")

    def everything_sent(self) -> str:
        return "\n".join(self.raw) + "\n" + self.stderr


def _offset(text: str, position: lsp.Position) -> int:
    """UTF-16 position to a string index (the tests' texts are ASCII)."""
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[:position.line]) + position.character


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 120))
