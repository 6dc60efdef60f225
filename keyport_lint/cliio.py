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
# the shapes `use_redactor` was given, built into a Redactor on the first text to redact (a
# quiet run with nothing to say never loads the redactor)
_PENDING: list[tuple[Any, list[str]]] | None = None


def redact(text: str) -> str:
    if not text:
        return text
    global _REDACTOR, _PENDING
    if _PENDING is not None:
        from keyport_lint.redact import Redactor, redactor_from

        parts = [redactor_from(settings, patterns) for settings, patterns in _PENDING]
        _REDACTOR = Redactor([p for part in parts for p in part._sources],
                             min(part.prefix_max for part in parts))
        _PENDING = None
    if _REDACTOR is None:
        from keyport_lint.redact import default_redactor

        return default_redactor()(text)
    return _REDACTOR(text)


def use_redactor(configs: Any) -> None:
    """Redact with every secret shape of these configs (user secret rules included)."""
    global _PENDING
    shapes = [(cfg.settings, [rule.params["pattern"] for rule in cfg.rules
                              if rule.kind == "secret-pattern" and rule.params.get("pattern")])
              for cfg in configs]
    if shapes:
        _PENDING = shapes


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
