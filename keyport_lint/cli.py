"""Command line (click). Exit codes: 0 clean, 1 findings at or above fail-on, 2 usage, config or
internal error (one line on stderr, never a traceback)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keyport_lint import __version__
from keyport_lint.errors import UserError
from keyport_lint.report import FORMATS

if TYPE_CHECKING:
    from keyport_lint.baseline import Baseline
    from keyport_lint.config import Config
    from keyport_lint.redact import Redactor

# every byte written (stdout, files, stderr) passes through this: the config's secret shapes
# once a config is loaded, the built-in ones before (a config error may quote a key)
_REDACTOR: Redactor | None = None


def _redact(text: str) -> str:
    from keyport_lint.redact import default_redactor

    return (_REDACTOR or default_redactor())(text)


def _err(text: str) -> None:
    """One line on stderr: redacted, control characters escaped (a path cannot start a new
    line that a CI runner reads as a command)."""
    from keyport_lint.report import printable

    click.echo(printable(_redact(text)), err=True)


def _fail(message: str) -> None:
    _err(f"keyport-lint: error: {message}")
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


def _config_options(func: Any) -> Any:
    """--config, --select and --ignore, shared by the commands that read the config."""
    func = click.option("--ignore", multiple=True, metavar="CODE",
                        help="Skip these codes or prefixes.")(func)
    func = click.option("--select", multiple=True, metavar="CODE",
                        help="Only these codes or prefixes (replaces the config's select).")(func)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False),
                        help="Use this config file instead of discovering one.")(func)


def _load(config_path: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
          fail_on: str | None = None) -> Config:
    from keyport_lint.config import apply_cli, load_config
    from keyport_lint.redact import redactor_from

    global _REDACTOR
    cfg = load_config(Path(config_path) if config_path else None)
    _REDACTOR = redactor_from(cfg.settings, [
        rule.params["pattern"] for rule in cfg.rules
        if rule.kind == "secret-pattern" and rule.params.get("pattern")])
    return apply_cli(cfg, _split(select), _split(ignore), fail_on)


def _run_options(func: Any) -> Any:
    """--jobs, --no-cache and --respect-gitignore, shared by check and baseline."""
    func = click.option("--respect-gitignore/--no-respect-gitignore", default=None,
                        help="Skip what .gitignore ignores when walking folders (default: yes)."
                        )(func)
    func = click.option("--no-cache", is_flag=True,
                        help="Neither read nor write the result cache.")(func)
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                        help="Worker processes (default: the cores this process may use)."
                        )(func)


def _run(paths: tuple[str, ...], cfg: Config, jobs: int | None, no_cache: bool,
         respect_gitignore: bool | None) -> Any:
    from keyport_lint.cache import Cache, cache_dir_for
    from keyport_lint.pipeline.run import default_jobs, run

    if respect_gitignore is not None:
        cfg.respect_gitignore = respect_gitignore
    directory = cache_dir_for(cfg, no_cache)
    cache = Cache(directory, cfg) if directory is not None else None
    return run(list(paths) or ["."], cfg, jobs=jobs or default_jobs(), cache=cache)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output-format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="How findings are printed.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here.")
@_config_options
@click.option("--fail-on", type=click.Choice(["error", "warning"]),
              help="Lowest severity that makes the exit code 1 (default: warning).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Findings only: no excerpts, no summary.")
@click.option("--statistics", is_flag=True,
              help="Add a count per rule code (text and json output; other formats ignore it).")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="Report only findings not recorded in this baseline file.")
@_run_options
def check(paths: tuple[str, ...], fmt: str, output: str | None, select: tuple[str, ...],
          ignore: tuple[str, ...], config_path: str | None, fail_on: str | None,
          exit_zero: bool, quiet: bool, statistics: bool, baseline_path: str | None,
          jobs: int | None, no_cache: bool, respect_gitignore: bool | None) -> None:
    """Check PATHS (files and folders; default: the current folder)."""
    from keyport_lint import baseline
    from keyport_lint.report import ReportOptions, render

    try:
        cfg = _load(config_path, select, ignore, fail_on)
        known = baseline.load(Path(baseline_path)) if baseline_path else None
        result = _run(paths, cfg, jobs, no_cache, respect_gitignore)
        color = fmt == "text" and _use_color(output)
        opts = ReportOptions(cfg, color=color, quiet=quiet, statistics=statistics)
        if known is not None:
            result.findings, opts.baselined = known.filter(result.findings)
            opts.baseline = baseline_path
            _warn_if_foreign(known)
        text = render(fmt, result, opts)
    except UserError as exc:
        _fail(exc.render())
        return
    _write(text, output, color)
    for warning in result.warnings:
        _err(f"keyport-lint: warning: {warning}")
    for error in result.errors:
        _err(f"keyport-lint: error: {error}")
    if result.errors:
        sys.exit(2)
    failing = [f for f in result.findings
               if cfg.fail_on == "warning" or f.severity == "error"]
    sys.exit(1 if failing and not exit_zero else 0)


def _warn_if_foreign(known: Baseline) -> None:
    """A baseline made from another folder matches nothing (paths are cwd-relative): say so."""
    paths = known.paths
    if paths and not any(Path(p).exists() for p in paths):
        example = sorted(paths)[0]
        _err(f"keyport-lint: warning: none of the paths in the baseline {known.source} "
             f"exist here (e.g. {example}); run from the folder the baseline was made in")


@cli.command("baseline")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="The baseline file to write (JSON).")
@_config_options
@_run_options
def baseline_cmd(paths: tuple[str, ...], output: str, select: tuple[str, ...],
                 ignore: tuple[str, ...], config_path: str | None, jobs: int | None,
                 no_cache: bool, respect_gitignore: bool | None) -> None:
    """Record today's findings in PATHS, so `check --baseline FILE` reports only new ones.

    The file holds each finding's rule, path and fingerprint: no line numbers, no source text,
    no secrets. Make it and use it from the same folder (paths are relative to it).
    """
    from keyport_lint import baseline

    try:
        cfg = _load(config_path, select, ignore)
        result = _run(paths, cfg, jobs, no_cache, respect_gitignore)
    except UserError as exc:
        _fail(exc.render())
        return
    if result.errors:  # an incomplete baseline would hide nothing now and flood later
        for error in result.errors:
            _err(f"keyport-lint: error: {error}")
        _fail(f"baseline not written: the run had {len(result.errors)} error"
              f"{'s' if len(result.errors) != 1 else ''}")
    _write(baseline.dumps(result.findings), output)
    count = len(result.findings)
    _err(f"Wrote {count} finding{'s' if count != 1 else ''} to {output}.")


@cli.command("rules")
@click.option("--output-format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True,
              help="markdown is the rules reference (docs/rules.md).")
@_config_options
def rules_cmd(fmt: str, select: tuple[str, ...], ignore: tuple[str, ...],
              config_path: str | None) -> None:
    """List the rules: code, name, severity and whether they run under the current config."""
    from keyport_lint import ruleinfo

    try:
        cfg = _load(config_path, select, ignore)
        if fmt == "markdown":
            from keyport_lint.docs import rules_markdown

            text = rules_markdown(cfg.rules)
        else:
            text = ruleinfo.rules_json(cfg) if fmt == "json" else ruleinfo.rules_text(cfg)
    except UserError as exc:
        _fail(exc.render())
        return
    click.echo(_redact(text), nl=False)


@cli.command("explain")
@click.argument("code")
@click.option("--output-format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Use this config file instead of discovering one.")
def explain_cmd(code: str, fmt: str, config_path: str | None) -> None:
    """Explain a rule: why it exists, bad and good code, the settings that change it.

    CODE is a rule code such as KP101 (any case) or a rule name such as hardcoded-api-key.
    """
    from keyport_lint import ruleinfo

    try:
        cfg = _load(config_path, (), ())
        rule = ruleinfo.find_rule(cfg, code)
        text = (ruleinfo.explain_json if fmt == "json" else ruleinfo.explain_text)(rule, cfg)
    except UserError as exc:
        _fail(exc.render())
        return
    click.echo(_redact(text), nl=False)


@cli.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing config file here.")
def init_cmd(force: bool) -> None:
    """Write a commented starter .keyport-lint.yaml in the current folder.

    Every option in it is commented out, so it changes no finding until you edit it.
    """
    from keyport_lint.config import _git_root, discover_config
    from keyport_lint.starter import existing_here, starter_text

    cwd = Path.cwd()
    here = existing_here(cwd)
    target = here or cwd / ".keyport-lint.yaml"
    if here is not None and not force:
        _fail(f"{here.name} already exists; use --force to overwrite it")
    extend = None
    try:
        governing = discover_config(cwd)
    except UserError as exc:
        _fail(exc.render())
        return
    if governing is not None and governing != here:
        extend = os.path.relpath(governing, cwd).replace(os.sep, "/")
    try:
        target.write_text(starter_text(extend), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {target.name}: {exc.strerror}")
    click.echo(f"Wrote {target.name}" + (f" (extends {extend})" if extend else "") + ".")
    top = _git_root(cwd)
    if extend is None and top is not None and top != cwd:
        click.echo(f"note: the repository root is {os.path.relpath(top, cwd)}; a config there "
                   "would cover the whole repository.", err=True)


@cli.command("test-rules")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, metavar="CODE",
              help="The rules under test (default: the ids named in `expect:` markers).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Use this config file (its rules and settings) instead of discovering one.")
@click.option("--examples", is_flag=True,
              help="Also check every selected rule's own examples: bad must be reported, "
                   "good must not.")
def test_rules_cmd(paths: tuple[str, ...], select: tuple[str, ...], config_path: str | None,
                   examples: bool) -> None:
    """Run rule test files: each expected finding is marked `expect: ID` in a comment on its
    line (or alone on the line above); files without comments use `<file>.expect.yaml`.

    Each PATH is one case: a file, or a folder checked as one small project. Exit 0 when every
    case gives exactly its marked findings, 1 when not, 2 on a usage or rule error.
    """
    from keyport_lint import testing

    try:
        cfg = _load(config_path, (), ())
        codes = set(_split(select))
        for code in codes:
            if code not in cfg.rule_ids():
                raise UserError(f"--select: unknown rule {code!r}")
        problems: list[str] = []
        cases = 0
        for raw in paths:
            case = Path(raw)
            if not case.exists():
                raise UserError(f"{raw}: no such file or directory")
            cases += 1
            problems += [str(m) for m in testing.check_case(case, codes or None,
                                                            base_config=_fresh(cfg))]
        if examples:
            rules = [r for r in cfg.rules if not codes or r.id in codes]
            problems += testing.check_examples(_fresh(cfg), rules)
        if not paths and not examples:
            raise UserError("name the test files or folders to run (or --examples)")
    except UserError as exc:
        _fail(exc.render())
        return
    for problem in problems:
        click.echo(_redact(problem))
    checked = f"{cases} case{'s' if cases != 1 else ''}" + (" and the rules' examples"
                                                             if examples else "")
    if problems:
        click.echo(f"{len(problems)} mismatch{'es' if len(problems) != 1 else ''} in {checked}.",
                   err=True)
        sys.exit(1)
    click.echo(f"All {checked} passed.", err=True)


def _fresh(cfg: Config) -> Config:
    import copy

    return copy.copy(cfg)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Accept `--select KP1,KP2` as well as repeated flags."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _write(text: str, output: str | None, color: bool = False) -> None:
    text = _redact(text)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
    else:
        click.echo(text, nl=False, color=color)


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="keyport-lint", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # usage errors echo arguments, which may be keys
        import io

        buffer = io.StringIO()
        exc.show(file=buffer)
        click.echo(_redact(buffer.getvalue()), err=True, nl=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("keyport-lint: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # last line of defence: one line, no traceback, no source text
        if os.environ.get("KEYPORT_LINT_DEBUG"):
            raise
        click.echo(f"keyport-lint: internal error: {type(exc).__name__} "
                   "(set KEYPORT_LINT_DEBUG=1 for details)", err=True)
        sys.exit(2)
