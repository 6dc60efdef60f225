"""Command line (click). Exit codes: 0 clean, 1 findings at or above fail-on, 2 usage, config,
run or internal error (one line on stderr, never a traceback), 130 interrupted (Ctrl-C)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keyport_lint import __version__
from keyport_lint.cliio import err, fail, redact, use_redactor, warn, write
from keyport_lint.errors import UserError
from keyport_lint.report import FORMATS, PEOPLE

if TYPE_CHECKING:
    from keyport_lint.baseline import Baseline
    from keyport_lint.config import Config, ConfigTree
    from keyport_lint.pipeline.run import RunResult

EXIT_CODES = """\
\b
Exit codes:
  0    nothing at or above --fail-on was found
  1    findings at or above --fail-on
  2    a usage, config or run error (a missing path, nothing to check
       without --allow-empty, an internal error)
  130  interrupted (Ctrl-C)"""


def _use_color(choice: str, to_file: bool) -> bool:
    """--color always|never wins; auto: never into a file, then NO_COLOR, FORCE_COLOR, a tty."""
    if choice in ("always", "never"):
        return choice == "always"
    if to_file or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


class _Group(click.Group):
    """Ctrl-C exits 130 (click's own handling exits 1, the code for findings); any other
    exception is one line on stderr and exit 2 (KEYPORT_LINT_DEBUG=1 shows the traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("keyport-lint: interrupted", err=True)
            raise SystemExit(130) from None
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort):
            raise
        except Exception as exc:  # last line of defence: no traceback, no source text
            if os.environ.get("KEYPORT_LINT_DEBUG"):
                raise
            click.echo(f"keyport-lint: internal error: {type(exc).__name__} "
                       "(set KEYPORT_LINT_DEBUG=1 for details)", err=True)
            raise SystemExit(2) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"],
                                           "max_content_width": 100})
@click.version_option(__version__, prog_name="keyport-lint")
def cli() -> None:
    """Static security linter for Python projects that integrate KeyPort."""


class _Paths(click.Path):
    """PATHS as given, without click's `stat` and `access` per argument (a hook passes
    hundreds): discovery stats each path once and reports a missing or unreadable one as an
    error naming it, while the other files are still checked. Shell completion stays."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        return value


def _config_options(func: Any) -> Any:
    """--config, --select and --ignore, shared by the commands that read the config."""
    func = click.option("--ignore", multiple=True, metavar="CODE",
                        help="Skip these codes or prefixes (any case).")(func)
    func = click.option("--select", multiple=True, metavar="CODE",
                        help="Only these codes or prefixes, any case (replaces the config's "
                        "select).")(func)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False),
                        help="Use this config file for every file instead of the nearest "
                        "config above each file.")(func)


def _load(config_path: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
          fail_on: str | None = None) -> Config:
    from keyport_lint.config import apply_cli, load_config

    cfg = load_config(Path(config_path) if config_path else None)
    use_redactor([cfg])
    return apply_cli(cfg, _split(select), _split(ignore), fail_on)


def _tree(cfg: Config, config_path: str | None, select: tuple[str, ...],
          ignore: tuple[str, ...], fail_on: str | None,
          respect_gitignore: bool | None) -> ConfigTree:
    """Per-file configs, each with the command line's overrides."""
    from keyport_lint.config import ConfigTree, apply_cli

    def adjust(other: Config) -> Config:
        other = apply_cli(other, _split(select), _split(ignore), fail_on, check=False)
        if respect_gitignore is not None:
            other.respect_gitignore = respect_gitignore
        return other

    if respect_gitignore is not None:
        cfg.respect_gitignore = respect_gitignore
    return ConfigTree(cfg, Path.cwd(), explicit=config_path is not None, adjust=adjust)


def _run_options(func: Any) -> Any:
    """--jobs, --no-cache and --respect-gitignore, shared by check and baseline."""
    func = click.option("--respect-gitignore/--no-respect-gitignore", default=None,
                        help="Skip what .gitignore ignores when walking folders (default: yes)."
                        )(func)
    func = click.option("--no-cache", is_flag=True,
                        help="Neither read nor write the result cache (.keyport-lint-cache/, "
                        "or cache-dir, or KEYPORT_LINT_CACHE_DIR).")(func)
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                        help="Processes checking files: this one and N - 1 workers (default: "
                        "the cores this process may use)."
                        )(func)


def _run(paths: tuple[str, ...], tree: ConfigTree, jobs: int | None, no_cache: bool,
         progress: bool = False) -> RunResult:
    from keyport_lint.pipeline.project import run_project

    return run_project(list(paths) or ["."], tree, jobs=jobs, no_cache=no_cache,
                       progress=progress)


def _parse_report(value: str) -> tuple[str, str]:
    fmt, sep, file = value.partition(":")
    if not sep or not file or fmt not in FORMATS:
        raise click.BadParameter(f"{value!r}: expected FORMAT:FILE with FORMAT one of "
                                 f"{', '.join(FORMATS)}", param_hint="--report")
    return fmt, file


@cli.command(epilog=EXIT_CODES, short_help="Check files and folders (default: the current "
             "folder).")
@click.argument("paths", nargs=-1, type=_Paths())
@click.option("--output-format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True,
              help="text: each finding with its excerpt and fix; concise: one line each; "
                   "grouped: by file; json, sarif, github, junit: for machines.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write the report here; stderr gets a one-line summary.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT:FILE",
              help="Also write a report in FORMAT to FILE, next to the console output "
                   "(repeatable), e.g. --report sarif:keyport-lint.sarif.")
@_config_options
@click.option("--fail-on", type=click.Choice(["error", "warning"]),
              help="Lowest severity that makes the exit code 1 (default: warning).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--allow-empty", is_flag=True,
              help="Exit 0 when there is nothing to check (every path excluded); "
                   "without it that is exit 2.")
@click.option("--quiet", "-q", is_flag=True,
              help="Findings only, one line each: no excerpts, no summary.")
@click.option("--statistics", is_flag=True,
              help="Print only a count per rule code (json adds them to the report).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True,
              help="Colour the text output (auto: on a terminal, unless NO_COLOR is set; "
                   "FORCE_COLOR forces it).")
@click.option("--no-color", "no_color", is_flag=True, hidden=True)
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="Report only findings not recorded in this baseline file.")
@click.option("--show-settings", "show_settings", metavar="PATH",
              help="Print the effective config for PATH and where each value comes from, "
                   "then exit.")
@click.option("--show-files", is_flag=True, help="List the files that would be checked, then "
              "exit.")
@click.option("--fix", "fix", is_flag=True,
              help="Apply safe fixes in place (atomically), re-checking until none applies; "
                   "the report shows what remains.")
@click.option("--unsafe-fixes/--no-unsafe-fixes", "unsafe_fixes", default=None,
              help="With --fix or --diff, also apply unsafe fixes (they change behaviour on "
                   "purpose), or not, whatever the config's unsafe-fixes says.")
@click.option("--diff", "diff", is_flag=True,
              help="Print the fixes as a unified diff and write nothing (exit 1 when there "
                   "would be changes, 0 otherwise).")
@click.option("--stdin-filename", metavar="PATH",
              help="Check the source read from standard input (PATHS is `-`) as if it were the "
                   "file PATH: its config, exclude and per-file-ignores apply; not cached.")
@_run_options
def check(paths: tuple[str, ...], fmt: str, output: str | None, reports: tuple[str, ...],
          select: tuple[str, ...], ignore: tuple[str, ...], config_path: str | None,
          fail_on: str | None, exit_zero: bool, allow_empty: bool, quiet: bool,
          statistics: bool, color: str, no_color: bool, baseline_path: str | None,
          show_settings: str | None, show_files: bool, fix: bool, unsafe_fixes: bool | None,
          diff: bool, stdin_filename: str | None, jobs: int | None, no_cache: bool,
          respect_gitignore: bool | None) -> None:
    """Check PATHS (files and folders; default: the current folder).

    \b
    Each file is checked under the nearest config above it
    (.keyport-lint.yaml, or [tool.keyport-lint] in pyproject.toml),
    unless --config names one for every file.
    """
    from keyport_lint.report import ReportOptions, render
    from keyport_lint.report.summary import verdict

    extra = [_parse_report(r) for r in reports]
    stdin = _stdin_mode(paths, stdin_filename)
    try:
        cfg = _load(config_path, select, ignore, fail_on)
        tree = _tree(cfg, config_path, select, ignore, fail_on, respect_gitignore)
        if show_settings is not None:
            from keyport_lint.showsettings import settings_text

            click.echo(redact(settings_text(tree, Path(show_settings))), nl=False)
            return
        if show_files:
            from keyport_lint.pipeline.project import discover_project

            targets, errors = discover_project(list(paths) or ["."], tree)
            for target in targets:
                click.echo(redact(target.display))
            for error in errors:
                err(f"keyport-lint: error: {error}")
            sys.exit(2 if errors else 0)
        known = None
        if baseline_path:
            from keyport_lint import baseline

            known = baseline.load(Path(baseline_path))
        if stdin is not None:  # an excluded PATH reports nothing, and that is no error
            from keyport_lint.pipeline.buffer import run_buffer

            # the decoded text is in .text: `--fix` prints it, repaired, instead of a report
            buffered = run_buffer(click.get_binary_stream("stdin").read(), stdin, tree)
            result = buffered.result
            if fix or diff:
                from keyport_lint.fix.cli import fix_stdin

                use_redactor(tree.configs())
                fix_stdin(buffered, stdin, tree, unsafe_fixes, diff)
        else:
            # --fix/--diff edit files from a fresh analysis, never from cached results
            result = _run(paths, tree, jobs, no_cache or fix or diff, progress=not quiet)
            _empty_run(result, allow_empty)
        use_redactor(tree.configs())
        unsafe = bool(unsafe_fixes)
        if result.findings:  # no finding, no fix: the fixer is not even imported
            from keyport_lint.fix.cli import apply_policies

            unsafe = apply_policies(result, tree, unsafe_fixes)
        if fix or diff:
            from keyport_lint.fix.cli import fix_files

            changed = fix_files(result, tree, unsafe_fixes, diff)
            if diff:
                sys.exit(1 if changed else 0)
        shown = _use_color("never" if no_color else color, output is not None)
        opts = ReportOptions(cfg, color=shown and fmt in PEOPLE, quiet=quiet,
                             statistics=statistics, width=_width(),
                             include_errors=output is not None, unsafe_fixes=unsafe)
        if known is not None:
            _apply_baseline(known, result, tree, opts, baseline_path)
        text = render(fmt, result, opts)
        files = []
        for extra_fmt, file in extra:
            file_opts = ReportOptions(cfg, statistics=statistics, include_errors=True,
                                      baseline=opts.baseline, baselined=opts.baselined,
                                      stale=opts.stale)
            files.append((file, render(extra_fmt, result, file_opts)))
    except UserError as exc:
        fail(exc.render())
        return
    write(text, output, opts.color)
    for file, body in files:
        write(body, file)
    for warning in result.warnings:
        warn(warning)
    for error in result.errors:
        err(f"keyport-lint: error: {error}")
    if output is not None:  # the console (a CI log) still says what happened
        written = ", ".join([output, *(f for f, _ in files)])
        err(f"keyport-lint: {verdict(result)} Report: {written}")
    if result.errors:
        sys.exit(2)
    fail_on_of = {c.root: c.fail_on for c in tree.configs()}
    failing = [f for f in result.findings
               if f.severity == "error" or fail_on_of.get(result.roots.get(f.path, cfg.root),
                                                          cfg.fail_on) == "warning"]
    sys.exit(1 if failing and not exit_zero else 0)


def _stdin_mode(paths: tuple[str, ...], stdin_filename: str | None) -> str | None:
    """The path standard input stands for, or None; `-` and --stdin-filename go together."""
    if "-" in paths and stdin_filename is None:
        raise click.UsageError("reading standard input (`-`) needs --stdin-filename PATH, the "
                               "file the text stands for")
    if stdin_filename is None:
        return None
    if any(p != "-" for p in paths):
        raise click.UsageError("--stdin-filename checks standard input only: give `-` (or no "
                               "path), not other paths")
    if not stdin_filename.strip():
        raise click.UsageError("--stdin-filename needs a file name")
    return stdin_filename


def _width() -> int:
    import shutil

    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))


def _empty_run(result: RunResult, allow_empty: bool) -> None:
    """0 files checked is never "All checks passed": a warning, or an error (exit 2)."""
    if result.files or result.errors:
        return
    message = "nothing to check: every path is excluded or holds no file keyport-lint reads"
    if allow_empty:
        result.warnings.append(message)
    else:
        result.errors.append(message + " (--allow-empty accepts that)")


def _apply_baseline(known: Baseline, result: RunResult, tree: ConfigTree, opts: Any,
                    baseline_path: str | None) -> None:
    from keyport_lint.baseline import stale

    match = known.match(result.findings, result.anchors)
    result.findings = match.new
    opts.baseline, opts.baselined = baseline_path, match.baselined
    configs = tree.configs()
    left = stale(match.unmatched, set(result.anchors.values()),
                 lambda code: any(c.is_enabled(code) for c in configs))
    opts.stale = sum(left.values())
    _warn_if_foreign(known, result)


def _warn_if_foreign(known: Baseline, result: RunResult) -> None:
    """A baseline whose paths name none of the files checked matches nothing: say so."""
    paths = known.paths
    checked = set(result.anchors.values())
    if paths and checked and not paths & checked and not any(
            Path(p).exists() for p in paths):
        example = sorted(paths)[0]
        warn(f"none of the paths in the baseline {known.source} were checked (e.g. "
              f"{example}); its paths are relative to the folder of the config that governs "
              "each file")


@cli.command("baseline", short_help="Record today's findings, so check reports only new ones.")
@click.argument("paths", nargs=-1, type=_Paths())
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="The baseline file to write (JSON).")
@click.option("--update", is_flag=True,
              help="Keep only the entries of the existing --output file that still match a "
                   "finding (drops fixed ones; adds nothing new).")
@_config_options
@_run_options
def baseline_cmd(paths: tuple[str, ...], output: str, update: bool, select: tuple[str, ...],
                 ignore: tuple[str, ...], config_path: str | None, jobs: int | None,
                 no_cache: bool, respect_gitignore: bool | None) -> None:
    """Record today's findings in PATHS, so `check --baseline FILE` reports only new ones.

    The file holds each finding's rule, path and fingerprint: no line numbers, no source text,
    no secrets. Paths are relative to the folder of each file's config, so a check from any
    subfolder matches.
    """
    from keyport_lint import baseline

    try:
        cfg = _load(config_path, select, ignore)
        tree = _tree(cfg, config_path, select, ignore, None, respect_gitignore)
        previous = baseline.load(Path(output)) if update else None
        result = _run(paths, tree, jobs, no_cache)
    except UserError as exc:
        fail(exc.render())
        return
    if result.errors:  # an incomplete baseline would hide nothing now and flood later
        for error in result.errors:
            err(f"keyport-lint: error: {error}")
        fail(f"baseline not written: the run had {len(result.errors)} error"
              f"{'s' if len(result.errors) != 1 else ''}")
    if previous is not None:
        match = previous.match(result.findings, result.anchors)
        configs = tree.configs()
        dropped = baseline.stale(match.unmatched, set(result.anchors.values()),
                                 lambda code: any(c.is_enabled(code) for c in configs))
        kept = previous.entries - dropped
        write(baseline.dumps_entries(list(kept.elements())), output)
        err(f"Dropped {sum(dropped.values())} stale entr"
             f"{'y' if sum(dropped.values()) == 1 else 'ies'}; kept "
             f"{sum(kept.values())} in {output}.")
        return
    write(baseline.dumps(result.findings, result.anchors), output)
    count = len(result.findings)
    err(f"Wrote {count} finding{'s' if count != 1 else ''} to {output}.")


@cli.command("rules", short_help="List the rules and whether the config enables them.")
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
        fail(exc.render())
        return
    click.echo(redact(text), nl=False)


@cli.command("explain", short_help="Explain a rule: why, bad and good code, its settings.")
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
        fail(exc.render())
        return
    click.echo(redact(text), nl=False)


@cli.command("init", short_help="Write a short starter .keyport-lint.yaml here.")
@click.option("--full", is_flag=True,
              help="Write the commented reference instead: every option and setting.")
@click.option("--force", is_flag=True, help="Overwrite an existing config file here.")
def init_cmd(full: bool, force: bool) -> None:
    """Write a starter .keyport-lint.yaml in the current folder (--full: the reference).

    Every option in it is commented out, so it changes no finding until you edit it.
    """
    from keyport_lint.config import _git_root, discover_config
    from keyport_lint.starter import existing_here, starter_text

    cwd = Path.cwd()
    here = existing_here(cwd)
    target = here or cwd / ".keyport-lint.yaml"
    if here is not None and not force:
        fail(f"{here.name} already exists; use --force to overwrite it")
    extend = None
    try:
        governing = discover_config(cwd)
    except UserError as exc:
        fail(exc.render())
        return
    if governing is not None and governing != here:
        extend = os.path.relpath(governing, cwd).replace(os.sep, "/")
    try:
        target.write_text(starter_text(extend, full=full), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {target.name}: {exc.strerror}")
    click.echo(f"Wrote {target.name}" + (f" (extends {extend})" if extend else "") + ".")
    top = _git_root(cwd)
    if extend is None and top is not None and top != cwd:
        click.echo(f"note: the repository root is {os.path.relpath(top, cwd)}; a config there "
                   "would cover the whole repository.", err=True)


@cli.command("test-rules", short_help="Run rule test files marked `expect: CODE`.")
@click.argument("paths", nargs=-1, type=_Paths())
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

    Each PATH is one case: a file, or a folder checked as one small project. A `bad_x.py` with
    a `bad_x.fixed.py` beside it must be fixed (safe and unsafe fixes) into exactly that file.
    Exit 0 when every case gives exactly its marked findings, 1 when not, 2 on a usage or rule
    error.
    """
    from keyport_lint import testing

    try:
        cfg = _load(config_path, (), ())
        codes = {c.upper() for c in _split(select)}
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
        fail(exc.render())
        return
    for problem in problems:
        click.echo(redact(problem))
    checked = f"{cases} case{'s' if cases != 1 else ''}" + (" and the rules' examples"
                                                             if examples else "")
    if problems:
        click.echo(f"{len(problems)} mismatch{'es' if len(problems) != 1 else ''} in {checked}.",
                   err=True)
        sys.exit(1)
    click.echo(f"All {checked} passed.", err=True)


@cli.command("server", short_help="Run the language server for editors (LSP over stdio).")
def server_cmd() -> None:
    """Run the Language Server Protocol server on standard input and output, for editors:
    findings as you type, fixes, suppressions, explanations (README: Editors).

    Needs the `server` extra: pip install 'keyport-lint[server]'.
    """
    from keyport_lint.server import INSTALL_HINT, serve

    try:
        import pygls  # noqa: F401
    except ImportError:
        click.echo(INSTALL_HINT, err=True)
        sys.exit(2)
    serve()


def _fresh(cfg: Config) -> Config:
    import copy

    return copy.copy(cfg)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Accept `--select KP1,KP2` as well as repeated flags."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="keyport-lint", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # usage errors echo arguments, which may be keys
        import io

        buffer = io.StringIO()
        exc.show(file=buffer)
        click.echo(redact(buffer.getvalue()), err=True, nl=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C while click parses
            click.echo("keyport-lint: interrupted", err=True)
            sys.exit(130)
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except KeyboardInterrupt:  # during start-up, before a command runs
        click.echo("keyport-lint: interrupted", err=True)
        sys.exit(130)
