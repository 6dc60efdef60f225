"""`keyport-lint server`: a language server for editors (the optional `server` extra).

Only `serve` needs pygls; without it `keyport-lint server` says how to install it."""

from __future__ import annotations

INSTALL_HINT = ("keyport-lint: error: the language server needs the `server` extra: "
                "pip install 'keyport-lint[server]' (it adds pygls)")


def serve() -> None:
    from keyport_lint.server.lsp import serve as run

    run()
