"""`keyport-lint server`: the Language Server Protocol over stdio, on pygls.

Checks run in one worker thread, never on the event loop: the editor's requests (hover, code
actions, the next edit) are answered while a check runs. Edits are debounced; a newer version
of a buffer supersedes its pending or running check (a queued check of an old version never
starts, a finished one is dropped unpublished). An error while checking one file is logged to
the client (window/logMessage, type and place only, never text) and the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from keyport_lint import __version__
from keyport_lint.server import actions
from keyport_lint.server.session import Checked, Session

DEBOUNCE_SECONDS = 0.25
WATCHED = "**/{*.py,*.yaml,*.yml,*.toml}"  # modules, configs, rule files
F = TypeVar("F", bound=Callable[..., Any])


class KeyportServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("keyport-lint", __version__)
        self.session: Session | None = None
        self.checked: dict[str, Checked] = {}  # uri -> the last published check
        self.versions: dict[str, int] = {}  # uri -> the newest version the editor sent
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyport-check")
        self.shown_errors: set[str] = set()
        self.reloading: asyncio.Task[None] | None = None

    # -- plumbing ------------------------------------------------------------------------
    def ensure_session(self) -> Session:
        if self.session is None:
            root = self.workspace.root_path if self._workspace_ready() else None
            self.session = Session(Path(root) if root else Path.cwd())
        return self.session

    def _workspace_ready(self) -> bool:
        try:
            return self.workspace is not None
        except RuntimeError:
            return False

    def encoding(self) -> str:
        kind = self.workspace.position_encoding if self._workspace_ready() else None
        return str(getattr(kind, "value", kind) or "utf-16")

    def redact(self, text: str, path: Path | None = None) -> str:
        """Before the workspace is known (a log line during start-up), the built-in patterns;
        creating the session here would root it at the wrong folder."""
        if self.session is None:
            from keyport_lint.config import Config
            from keyport_lint.pipeline.run import redactor_for

            return redactor_for(Config(root=Path.cwd()))(text)
        return self.session.redactor(path)(text)

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info,
            path: Path | None = None) -> None:
        self.window_log_message(lsp.LogMessageParams(kind, self.redact(message, path)))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' default shows str(error), which may quote source text: type and place only."""
        self.log(f"keyport-lint: internal error: {_where(error)}", lsp.MessageType.Error)

    def show_config_error(self, message: str) -> None:
        message = self.redact(message)
        self.log(f"keyport-lint: config error: {message}", lsp.MessageType.Error)
        if message not in self.shown_errors:
            self.shown_errors.add(message)
            self.window_show_message(lsp.ShowMessageParams(
                lsp.MessageType.Error, f"keyport-lint: {message}"))

    # -- checking ------------------------------------------------------------------------
    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Check `uri` after `delay`; a newer call for the same uri replaces this one."""
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._check(uri, delay))

    async def _check(self, uri: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            doc = self.workspace.get_text_document(uri)
            version = doc.version or 0
            text = doc.source
            path = _path(uri)
            if path is None:
                return
            session = self.ensure_session()
            loop = asyncio.get_running_loop()
            checked, crash = await loop.run_in_executor(
                self.executor, self._check_in_thread, session, uri, version, path, text)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # the document vanished, a bug: logged, the server goes on
            self.log(f"keyport-lint: internal error scheduling a check: {_where(exc)}",
                     lsp.MessageType.Error)
            return
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                self.pending.pop(uri, None)
        if crash is not None:  # the server keeps serving; the client hears what and where
            self.log(f"keyport-lint: internal error checking {path.name}: {crash} "
                     "(please report it)", lsp.MessageType.Error, path)
        if checked is None or uri not in self.versions or self.versions[uri] != version:
            return  # superseded by a newer edit, or closed meanwhile
        if checked.error:
            if checked.config is None:
                self.show_config_error(checked.error)
            else:
                self.log(f"keyport-lint: {checked.error}", lsp.MessageType.Error, path)
        self.publish(uri, checked, version)

    def _check_in_thread(self, session: Session, uri: str, version: int, path: Path,
                         text: str) -> tuple[Checked | None, str | None]:
        """Runs in the worker thread: nothing here talks to the client."""
        if self.versions.get(uri) != version:
            return None, None  # a newer edit arrived while this one waited: never start it
        session.buffers[path.resolve()] = text
        try:
            return session.check(path, text), None
        except Exception as exc:
            return None, _where(exc)  # the last diagnostics stay up

    def publish(self, uri: str, checked: Checked, version: int | None) -> None:
        self.checked[uri] = checked
        positions = actions.Positions(checked.text, self.encoding())
        redactor = self.ensure_session().redactor(checked.path, checked.config)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri, actions.diagnostics(checked, positions, redactor), version))

    def recheck_dependents(self, path: Path, exclude: str | None = None) -> None:
        """Open files whose last check consulted `path` are checked again."""
        resolved = path.resolve()
        for uri, checked in list(self.checked.items()):
            if uri != exclude and resolved in checked.deps and uri in self.versions:
                self.schedule(uri, DEBOUNCE_SECONDS)

    def recheck_all(self) -> None:
        for uri in list(self.versions):
            self.schedule(uri)

    def file_changed(self, path: Path) -> None:
        """A file changed on disk or was saved: configs reload, dependents re-check."""
        if self.ensure_session().shapes_config(path):
            self.reloading = asyncio.get_running_loop().create_task(self._reload(path))
        else:
            self.recheck_dependents(path)

    async def _reload(self, path: Path) -> None:
        """On the worker thread, after the check running now: reading configs and rule files
        takes a moment, and a check must not see the tree change under it."""
        session = self.ensure_session()
        await asyncio.get_running_loop().run_in_executor(self.executor, session.reload)
        self.shown_errors.clear()
        self.log(f"keyport-lint: configuration reloaded ({path.name} changed)", path=path)
        if session.config_error:
            self.show_config_error(session.config_error)
        self.recheck_all()


WARM_UP = ("import os\nfrom keyport import KeyPort\n\n"
           "client = KeyPort(os.environ['KEYPORT_API_KEY'])\nprint(client.validate('x'))\n")


def _warm_up(session: Session) -> None:
    """Check a small made-up KeyPort module (never written anywhere), so that the parser and
    the analyses are imported before the user's first file."""
    with contextlib.suppress(Exception):  # best effort: real checks report their own errors
        session.check(session.root / "keyport_lint_warm_up.py", WARM_UP)


def _path(uri: str) -> Path | None:
    """The file behind a `file:` URI; None for others (untitled buffers, remote schemes),
    which have no path for a config, an exclude or the project's modules to apply to."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _where(exc: BaseException) -> str:
    """`TypeError at checkfile.py:120`: what and where, never the message (it may quote code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


def _guarded(server: KeyportServer, default: Any = None) -> Callable[[F], F]:
    """A handler's exception is logged (type and place) and answered with `default`: the
    protocol's error response would carry the exception's text."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                server.log(f"keyport-lint: internal error in {func.__name__}: {_where(exc)}",
                           lsp.MessageType.Error)
                return default
        return run  # type: ignore[return-value]
    return wrap


def build_server() -> KeyportServer:
    server = KeyportServer()

    @server.feature(lsp.INITIALIZED)
    @_guarded(server)
    def initialized(ls: KeyportServer, params: lsp.InitializedParams) -> None:
        ls.ensure_session()
        caps = ls.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is not None and watched.dynamic_registration:
            ls.client_register_capability(lsp.RegistrationParams([lsp.Registration(
                "keyport-lint-watch", lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                lsp.DidChangeWatchedFilesRegistrationOptions(
                    [lsp.FileSystemWatcher(WATCHED)]))]))
        if ls.session is not None and ls.session.config_error:
            ls.show_config_error(ls.session.config_error)
        # the first check would pay for importing the parser and the analyses: pay it now
        asyncio.get_running_loop().run_in_executor(ls.executor, _warm_up, ls.ensure_session())

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @_guarded(server)
    def did_open(ls: KeyportServer, params: lsp.DidOpenTextDocumentParams) -> None:
        if _path(params.text_document.uri) is None:
            return
        ls.versions[params.text_document.uri] = params.text_document.version
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded(server)
    def did_change(ls: KeyportServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = _path(uri)
        if path is None:
            return
        ls.versions[uri] = params.text_document.version
        ls.schedule(uri, DEBOUNCE_SECONDS)
        session = ls.ensure_session()
        session.buffers[path.resolve()] = ls.workspace.get_text_document(uri).source
        ls.recheck_dependents(path, exclude=uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    @_guarded(server)
    def did_save(ls: KeyportServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = _path(uri)
        if path is None:
            return
        if ls.ensure_session().shapes_config(path):
            ls.file_changed(path)  # re-checks every open file, this one included
        else:
            ls.schedule(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded(server)
    def did_close(ls: KeyportServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.versions.pop(uri, None)
        ls.checked.pop(uri, None)
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        path = _path(uri)
        if path is None:
            return
        ls.ensure_session().buffers.pop(path.resolve(), None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))
        ls.recheck_dependents(path)  # they now read the file on disk again

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @_guarded(server)
    def watched(ls: KeyportServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        seen: set[Path] = set()
        for change in params.changes:
            path = _path(change.uri)
            if path is not None and path not in seen:
                seen.add(path)
                ls.file_changed(path)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    @_guarded(server, [])
    def code_action(ls: KeyportServer, params: lsp.CodeActionParams
                    ) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        checked = ls.checked.get(uri)
        if checked is None:
            return []
        positions = actions.Positions(checked.text, ls.encoding())
        only = [str(getattr(k, "value", k)) for k in params.context.only or []]
        # edits computed against an older text would land in the wrong place: until the
        # buffer is checked again, only "explain" is offered
        stale = ls.workspace.get_text_document(uri).source != checked.text
        return actions.code_actions(checked, uri, positions, params.range,
                                    ls.ensure_session().redactor(checked.path, checked.config),
                                    only, edits=not stale)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @_guarded(server)
    def hover(ls: KeyportServer, params: lsp.HoverParams) -> lsp.Hover | None:
        checked = ls.checked.get(params.text_document.uri)
        if checked is None:
            return None
        positions = actions.Positions(checked.text, ls.encoding())
        return actions.hover(checked, positions, params.position,
                             ls.ensure_session().redactor(checked.path, checked.config))

    @server.command(actions.EXPLAIN_COMMAND)
    @_guarded(server)
    def explain(ls: KeyportServer, *args: Any) -> str | None:
        """The `explain` text of a rule, under the config of the file it was asked from:
        shown to the user (window/showMessage) and returned."""
        from keyport_lint.errors import UserError
        from keyport_lint.ruleinfo import explain_text, find_rule

        code = str(args[0]) if args else ""
        uri = str(args[1]) if len(args) > 1 and args[1] else None
        path = _path(uri) if uri else None
        cfg = ls.ensure_session().config_for(path)
        if cfg is None:
            return None
        try:
            text = ls.redact(explain_text(find_rule(cfg, code), cfg), path)
        except UserError as exc:
            ls.window_show_message(lsp.ShowMessageParams(
                lsp.MessageType.Error, ls.redact(f"keyport-lint: {exc.render()}", path)))
            return None
        ls.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Info, text))
        return text

    return server


class _RedactingHandler(logging.Handler):
    """pygls' own log records (stderr, the editor's server log) pass through redaction."""

    def __init__(self, server: KeyportServer) -> None:
        super().__init__(logging.WARNING)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.levelname}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                text += f" ({_where(record.exc_info[1])})"
            sys.stderr.write(self.server.redact(text) + "\n")
        except Exception:  # logging must never take the server down
            pass


def serve() -> None:
    server = build_server()
    logger = logging.getLogger("pygls")
    logger.addHandler(_RedactingHandler(server))
    logger.propagate = False
    server.start_io()


__all__ = ["KeyportServer", "build_server", "serve"]
