"""Command line (click). Exit codes: 0 clean, 1 findings at or above fail-on, 2 usage, config or
internal error (one line on stderr, never a traceback)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from keyport_lint import __version__
from keyport_lint.errors import UserError

FORMATS = ("text", "json", "sarif", "github", "junit")


def _fail(message: str) -> None:
    click.echo(f"keyport-lint: error: {message}", err=True)
    sys.exit(2)


def _use_color(output: str | None) -> bool:
    if output or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keyport-lint")
def cli() -> None:
    """Static security linter for Python projects that integrate KeyPort."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output-format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="How findings are printed.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--select", multiple=True, metavar="CODE",
              help="Only these codes or prefixes (replaces the config's select).")
@click.option("--ignore", multiple=True, metavar="CODE", help="Skip these codes or prefixes.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Use this config file instead of discovering one.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]),
              help="Lowest severity that makes the exit code 1 (default: warning).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Findings only: no excerpts, no summary.")
@click.option("--statistics", is_flag=True,
              help="Add a count per rule code (text and json output; other formats ignore it).")
def check(paths: tuple[str, ...], fmt: str, output: str | None, select: tuple[str, ...],
          ignore: tuple[str, ...], config_path: str | None, fail_on: str | None,
          exit_zero: bool, quiet: bool, statistics: bool) -> None:
    """Check PATHS (files and folders; default: the current folder)."""
    from keyport_lint.config import apply_cli, load_config
    from keyport_lint.pipeline.run import run
    from keyport_lint.report import ReportOptions, render

    select = _split(select)
    ignore = _split(ignore)
    try:
        cfg = load_config(Path(config_path) if config_path else None)
        cfg = apply_cli(cfg, select, ignore, fail_on)
        result = run(list(paths) or ["."], cfg)
        text = render(fmt, result, ReportOptions(cfg, color=_use_color(output), quiet=quiet,
                                                 statistics=statistics))
    except UserError as exc:
        _fail(exc.render())
        return
    _write(text, output)
    for error in result.errors:
        click.echo(f"keyport-lint: error: {error}", err=True)
    if result.errors:
        sys.exit(2)
    failing = [f for f in result.findings
               if cfg.fail_on == "warning" or f.severity == "error"]
    sys.exit(1 if failing and not exit_zero else 0)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Accept `--select KP1,KP2` as well as repeated flags."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
    else:
        click.echo(text, nl=False)


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="keyport-lint")
    except KeyboardInterrupt:
        click.echo("keyport-lint: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # last line of defence: one line, no traceback, no source text
        if os.environ.get("KEYPORT_LINT_DEBUG"):
            raise
        click.echo(f"keyport-lint: internal error: {type(exc).__name__} "
                   "(set KEYPORT_LINT_DEBUG=1 for details)", err=True)
        sys.exit(2)
