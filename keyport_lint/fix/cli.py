"""`check --fix`/`--diff` and `--stdin-filename … --fix`: the CLI side of fixing (policies from
each file's config, writing or diffing, the repaired buffer on stdout)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keyport_lint.cliio import err, warn, write

if TYPE_CHECKING:
    from keyport_lint.config import Config, ConfigTree
    from keyport_lint.pipeline.run import RunResult


def policy_for(cfg: Config, unsafe_fixes: bool | None) -> Any:
    from keyport_lint.fix.driver import FixPolicy

    unsafe = cfg.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    return FixPolicy(unsafe, tuple(cfg.fixable), tuple(cfg.unfixable))


def apply_policies(result: RunResult, tree: ConfigTree, unsafe_fixes: bool | None) -> bool:
    """Drop the fixes config `fixable`/`unfixable` rules out (each file under its own config);
    True when unsafe fixes are on (for `[*]` and the fixable count)."""
    unsafe = False
    kept = []
    for finding in result.findings:
        cfg = tree.for_file(Path.cwd() / finding.path)
        policy = policy_for(cfg, unsafe_fixes)
        unsafe = unsafe or policy.unsafe
        if finding.fix is not None and not policy.allows_rule(finding.rule):
            finding = finding.with_(fix=None)
        kept.append(finding)
    result.findings = kept
    return unsafe if result.findings else bool(unsafe_fixes)


def fix_files(result: RunResult, tree: ConfigTree, unsafe_fixes: bool | None,
               diff: bool) -> bool:
    """`--fix` writes the fixed files, `--diff` prints what it would write; True when a file
    changed (or would)."""
    from keyport_lint.fix.driver import fix_run
    from keyport_lint.report.summary import plural

    done = fix_run(result, tree, lambda path: policy_for(tree.for_file(path), unsafe_fixes),
                   write=not diff, cwd=Path.cwd())
    for problem in dict.fromkeys(done.problems):
        warn(problem)
    if diff:
        write(done.diff, None)  # redacted: context lines may hold a key the fixes left
        err(f"keyport-lint: would fix {plural(done.fixed, 'finding')} in "
             f"{plural(len(done.files), 'file')}.")
    elif done.fixed:
        err(f"keyport-lint: fixed {plural(done.fixed, 'finding')} in "
             f"{plural(len(done.files), 'file')} ({len(result.findings):,} remaining).")
    return bool(done.files)


def fix_stdin(buffered: Any, filename: str, tree: ConfigTree, unsafe_fixes: bool | None,
               diff: bool) -> None:
    """`--stdin-filename PATH --fix`: the fixed source on stdout (the text unchanged when
    nothing applies); `--diff`: the diff. The exit code is that of the remaining findings
    (`--diff`: 1 when there would be changes)."""
    from keyport_lint.fix.driver import encoding_of, fix_text, unified
    from keyport_lint.pipeline.buffer import run_buffer

    text = buffered.text
    result = buffered.result
    if text is None or buffered.target is None or result.errors:
        if text is not None and not diff:
            click.echo(text, nl=False)
        sys.exit(2 if result.errors else 0)
    policy = policy_for(tree.for_file(buffered.target.path), unsafe_fixes)
    encoding = encoding_of(text.encode("utf-8", "surrogateescape"))
    latest = [result.findings]

    def recheck(new: str) -> list[Any]:
        latest[0] = run_buffer(new.encode(encoding, "surrogateescape"), filename,
                               tree).result.findings
        return latest[0]

    fixed, problems = fix_text(text, result.findings, policy, recheck)
    for problem in dict.fromkeys(problems):
        warn(problem)
    if diff:
        write(unified(text, fixed, buffered.target.display), None)  # redacted, as any report
        sys.exit(1 if fixed != text else 0)
    # the editor's own text, repaired: printed as it is (redacting a key the fixes left would
    # write `…` into the buffer); the edits themselves never hold one
    click.echo(fixed, nl=False)
    remaining = latest[0]
    sys.exit(1 if remaining else 0)
