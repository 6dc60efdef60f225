"""The rule test harness: files mark their expected findings, the harness compares exactly.

Used by the project's own fixture tests and by `keyport-lint test-rules` alike. A marker is
`expect: ID[, ID…]` in a comment (`#`, `//`, `<!-- -->`, `/* */`) on the finding's line, or
alone on a comment line, applying to the next line. Files that cannot hold comments use a
sidecar `<file>.expect.yaml` mapping line numbers to ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.catalog import Rule
from keyport_lint.config import Config, load_config
from keyport_lint.context import LINE_BREAK
from keyport_lint.errors import UserError
from keyport_lint.yamlio import load_yaml

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.pipeline.run import RunResult

MARKER = re.compile(r"(?:#|//|<!--|/\*)\s*expect:\s*(?P<ids>[A-Z][A-Z0-9]*[0-9]{3}"
                    r"(?:\s*,\s*[A-Z][A-Z0-9]*[0-9]{3})*)")
COMMENT_ONLY = re.compile(r"^\s*(?:#|//|<!--|/\*)")
SIDECAR = ".expect.yaml"
FIXED = ".fixed.py"  # `bad_x.fixed.py`: what `--fix --unsafe-fixes` must make of `bad_x.py`


def is_case_file(path: Path) -> bool:
    """Sidecars and expected fix results sit beside cases but are not cases."""
    return not path.name.endswith((SIDECAR, FIXED))


def fixed_pair(path: Path) -> Path | None:
    """`bad_x.fixed.py` for `bad_x.py`, when it exists."""
    if path.suffix != ".py" or path.name.endswith(FIXED):
        return None
    pair = path.with_name(path.name[:-3] + FIXED)
    return pair if pair.is_file() else None


@dataclass(frozen=True, order=True)
class Mismatch:
    path: str
    line: int
    kind: str  # "missing" or "unexpected"
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.rule}"


def expectations(path: Path) -> dict[int, set[str]]:
    """Expected findings of one file: line -> ids."""
    sidecar = path.with_name(path.name + SIDECAR)
    if sidecar.is_file():
        doc = load_yaml(sidecar.read_text(encoding="utf-8"), str(sidecar)) or {}
        return {int(line): set(ids) for line, ids in doc.items()}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    expected: dict[int, set[str]] = {}
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        match = MARKER.search(line)
        if not match:
            continue
        ids = {i.strip() for i in match.group("ids").split(",")}
        target = number + 1 if COMMENT_ONLY.match(line) else number
        expected.setdefault(target, set()).update(ids)
    return expected


def case_files(case: Path) -> list[Path]:
    if case.is_file():
        return [case]
    return sorted(p for p in case.rglob("*") if p.is_file() and is_case_file(p))


def case_config(case: Path, codes: set[str]) -> Config:
    """The config a case runs under: its own `.keyport-lint.yaml` if it has one, every rule
    in `codes` selected, and nothing excluded or ignored (the files given are the test)."""
    root = case if case.is_dir() else case.parent
    local = root / ".keyport-lint.yaml"
    cfg = load_config(local, cwd=root) if local.is_file() else Config(root=root)
    cfg.select = sorted({*cfg.select, *codes})
    cfg.ignore = []
    cfg.exclude = []
    cfg.per_file_ignores = {}
    return cfg


def run_case(case: Path, cfg: Config) -> RunResult:
    """Run the linter on one case (a file, or a folder as a small project)."""
    from keyport_lint.pipeline.run import run

    root = case if case.is_dir() else case.parent
    targets = [str(p.relative_to(root)) for p in case_files(case)]
    return run(targets, cfg, cwd=root)


def check_case(case: Path, under_test: set[str] | None = None,
               base_config: Config | None = None) -> list[Mismatch]:
    """Run the linter on one case and compare with its markers.

    Only the rules under test are compared: those named in markers, plus `under_test`.
    Config exclude, per-file-ignores and .gitignore do not apply to the files given.
    """
    root = case if case.is_dir() else case.parent
    expected: dict[tuple[str, int], set[str]] = {}
    codes = set(under_test or ())
    for file in case_files(case):
        display = file.relative_to(root).as_posix()
        for line, ids in expectations(file).items():
            expected[(display, line)] = ids
            codes |= ids
    if not codes:
        raise UserError(f"{case}: no rule under test (mark findings with 'expect: ID')")
    if base_config is not None:
        cfg = base_config
        # every rule runs (KP900 and KP901 depend on the others), only those under test compare
        cfg.select = sorted({*cfg.select, *codes})
        cfg.ignore, cfg.exclude, cfg.per_file_ignores = [], [], {}
    else:
        cfg = case_config(case, codes)
    result = run_case(case, cfg)
    fixes = check_fixes(case, cfg, codes)
    actual: dict[tuple[str, int], set[str]] = {}
    for finding in result.findings:
        if finding.rule in codes:
            actual.setdefault((finding.path, finding.line), set()).add(finding.rule)
    mismatches = []
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key, set()), actual.get(key, set())
        mismatches += [Mismatch(key[0], key[1], "missing", r) for r in sorted(want - got)]
        mismatches += [Mismatch(key[0], key[1], "unexpected", r) for r in sorted(got - want)]
    for error in result.errors:
        mismatches.append(Mismatch(str(case), 0, "error", error))
    return sorted(mismatches) + fixes


def fixed_text(file: Path, root: Path, cfg: Config, codes: set[str]) -> str:
    """What `check --fix --unsafe-fixes` makes of `file` with the rules `codes` (in memory)."""
    from keyport_lint.fix.driver import FixPolicy, encoding_of, fix_text
    from keyport_lint.pipeline.buffer import check_text
    from keyport_lint.pipeline.discover import Target
    from keyport_lint.pipeline.run import _Worker

    worker = _Worker(cfg, root)
    target = Target(file, file.relative_to(root).as_posix(), "python", True)
    data = file.read_bytes()
    text = data.decode(encoding_of(data))

    def recheck(new: str) -> list[Finding]:
        return [f for f in check_text(new, target, cfg, worker).findings if f.rule in codes]

    out, _ = fix_text(text, recheck(text), FixPolicy(unsafe=True), recheck)
    return out


def check_fixes(case: Path, cfg: Config, codes: set[str]) -> list[Mismatch]:
    """Each `bad_x.py` with a `bad_x.fixed.py` beside it must be fixed into exactly that, and
    fixing the result again must change nothing."""
    root = case if case.is_dir() else case.parent
    out = []
    for file in case_files(case):
        pair = fixed_pair(file)
        if pair is None:
            continue
        display = file.relative_to(root).as_posix()
        want = pair.read_bytes().decode("utf-8", "surrogateescape")
        got = fixed_text(file, root, cfg, codes)
        if got != want:
            line = _first_difference(got, want)
            out.append(Mismatch(display, line, "fix differs from", pair.name))
        elif fixed_text(pair, root, cfg, codes) != want:
            out.append(Mismatch(pair.relative_to(root).as_posix(), 0, "fix not idempotent in",
                                pair.name))
    return out


def _first_difference(got: str, want: str) -> int:
    for number, (a, b) in enumerate(zip(got.splitlines(), want.splitlines()), start=1):
        if a != b:
            return number
    return min(len(got.splitlines()), len(want.splitlines())) + 1


def example_filename(rule: Rule) -> str:
    """Where a rule's example is written: Python for Python rules, JavaScript for text rules
    (the text kinds read any of their file types the same way)."""
    return "example.py" if "python" in rule.files else "example.js"


def check_examples(cfg: Config, rules: list[Rule]) -> list[str]:
    """Each rule's `examples.bad` must give at least one finding of it, `examples.good` none."""
    import tempfile

    from keyport_lint.pipeline.run import run

    problems = []
    for rule in rules:
        if rule.kind == "diagnostic":
            continue  # the linter's own findings: their examples describe, not reproduce
        for key in ("bad", "good"):
            text = rule.examples.get(key)
            if not text:
                problems.append(f"{rule.id}: no {key} example")
                continue
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                (root / example_filename(rule)).write_text(text, encoding="utf-8")
                local = Config(**{**cfg.__dict__, "root": root})
                local.select = sorted({*cfg.select, rule.id})
                local.ignore, local.exclude, local.per_file_ignores = [], [], {}
                result = run([example_filename(rule)], local, cwd=root)
            hits = [f for f in result.findings if f.rule == rule.id]
            if key == "bad" and not hits:
                problems.append(f"{rule.id}: the bad example gives no {rule.id} finding")
            if key == "good" and hits:
                problems.append(f"{rule.id}: the good example gives {len(hits)} {rule.id} "
                                "finding(s)")
    return problems
