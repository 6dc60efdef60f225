"""The CLI's one way out: every byte it writes (stdout, report files, stderr) is redacted with
the secret shapes of the configs in force, and stderr lines are printable (a path cannot start
a line a CI runner reads as a command)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from keyport_lint.redact import Redactor


# every byte written (stdout, report files, stderr) passes through this: the secret shapes of
# the configs in force once loaded, the built-in ones before (a config error may quote a key)
_REDACTOR: Redactor | None = None


def redact(text: str) -> str:
    from keyport_lint.redact import default_redactor

    return (_REDACTOR or default_redactor())(text)


def use_redactor(configs: Any) -> None:
    """Redact with every secret shape of these configs (user secret rules included)."""
    from keyport_lint.redact import Redactor, redactor_from

    global _REDACTOR
    parts: list[Redactor] = []
    for cfg in configs:
        parts.append(redactor_from(cfg.settings, [
            rule.params["pattern"] for rule in cfg.rules
            if rule.kind == "secret-pattern" and rule.params.get("pattern")]))
    if parts:
        patterns = [p for part in parts for p in part._sources]
        _REDACTOR = Redactor(patterns, min(part.prefix_max for part in parts))


def err(text: str) -> None:
    """One line on stderr: redacted, control characters escaped (a path cannot start a new
    line that a CI runner reads as a command)."""
    from keyport_lint.report import printable

    click.echo(printable(redact(text)), err=True)


def fail(message: str) -> None:
    err(f"keyport-lint: error: {message}")
    sys.exit(2)


def warn(message: str) -> None:
    err(f"keyport-lint: warning: {message}")


def write(text: str, output: str | None, color: bool = False) -> None:
    text = redact(text)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
    else:
        click.echo(text, nl=False, color=color)
