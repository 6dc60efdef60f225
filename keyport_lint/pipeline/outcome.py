"""One file's result as it leaves the per-file pipeline: redacted, fingerprinted, carets
placed in the redacted excerpts. Workers return it and the cache stores it, so nothing past
this point ever sees a raw line or a secret."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from keyport_lint.settings import LazyPattern

if TYPE_CHECKING:
    from keyport_lint.finding import Finding, Fix
    from keyport_lint.modules import DepTree
    from keyport_lint.pipeline.checkfile import FileResult
    from keyport_lint.redact import Redaction, Redactor

WHITESPACE = LazyPattern(r"\s+")  # compiled once a finding is fingerprinted


class FileOutcome:
    """One file's redacted result: what workers return and the cache stores. (A plain class,
    as RunResult: a dataclass costs every process a millisecond to define.)"""

    def __init__(self, display: str, findings: list[Finding] | None = None,
                 excerpts: dict[int, str] | None = None, parsed: bool = False,
                 errors: list[str] | None = None, walks: int = 0,
                 deps: dict[str, str] | None = None, closures: list[DepTree] | None = None,
                 carets: dict[str, tuple[int, int]] | None = None) -> None:
        self.display = display
        self.findings = findings if findings is not None else []
        self.excerpts = excerpts if excerpts is not None else {}
        self.parsed = parsed
        self.errors = errors if errors is not None else []  # internal errors (each a KP903)
        # whole-module tree walks and passes (not cached: 0 when served from it)
        self.walks = walks
        self.deps = deps if deps is not None else {}  # consulted module -> content hash
        self.closures = closures if closures is not None else []  # import closures consulted
        # "line:column" -> caret start and end in the redacted excerpt (redaction moves them)
        self.carets = carets if carets is not None else {}

    def __eq__(self, other: object) -> bool:
        return type(other) is FileOutcome and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass is

    def __repr__(self) -> str:
        return f"FileOutcome({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def anchored_path(path: Path | str, root: Path) -> str:
    """The file's path relative to its config's folder: what fingerprints and baselines use,
    so they match whichever subfolder the run starts from."""
    fast = _below(str(path), str(root))
    if fast is not None:
        return fast
    path = Path(path)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # symlinks between them
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _below(path: str, root: str) -> str | None:
    """`relative_to` on strings for the usual case (a normalised path under the root), without
    building path objects per file; None when pathlib has to decide."""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix):]
    if not rest or rest.endswith(os.sep) or os.sep * 2 in rest or \
            f"{os.sep}.{os.sep}" in f"{os.sep}{rest}{os.sep}":
        return None
    return rest if os.sep == "/" else rest.replace(os.sep, "/")


def _redacted_fix(fix: Fix | None, redact: Redactor, secrets: set[str]) -> Fix | None:
    """Fixes copy no source text; should an edit or title still hold a secret, the fix is
    dropped (a redacted edit would write `…` into the file)."""
    if fix is None:
        return None
    texts = [fix.title, *(e.content for e in fix.edits)]
    return fix if all(redact(t, secrets) == t for t in texts) else None


def redacted(fr: FileResult, redact: Redactor, anchor: str | None = None) -> FileOutcome:
    """Fingerprints and redaction for one file; raw lines and secrets stop here. Each
    reported line is redacted once, however many findings it carries (a minified line with
    thousands), and its column map places every caret.

    `anchor`: the path fingerprints hash (see `anchored_path`); the display path otherwise."""
    secrets = set(fr.secrets)
    if fr.findings and fr.text:
        secrets |= redact.fragments(fr.text)
    display = redact(fr.display, secrets)
    outcome = FileOutcome(display, parsed=fr.parsed, walks=fr.walks,
                          errors=[redact(e, secrets) for e in fr.errors])
    seen: dict[tuple[str, str], int] = {}
    lines: dict[int, tuple[Redaction, str]] = {}
    for finding in fr.findings:
        raw_line = fr.lines.get(finding.line, "")
        if raw_line and finding.line not in lines:
            lines[finding.line] = (redact.redact_map(raw_line, secrets),
                                   WHITESPACE.sub(" ", redact.hashed(raw_line, secrets)).strip())
        shown, normalised = lines.get(finding.line, (None, ""))
        occurrence = seen.get((finding.rule, normalised), 0)
        seen[(finding.rule, normalised)] = occurrence + 1
        digest = hashlib.sha256(
            f"{finding.rule}\0{anchor or display}\0{normalised}\0{occurrence}".encode(
                "utf-8", "surrogatepass")).hexdigest()[:20]
        outcome.findings.append(finding.with_(
            path=display, message=redact(finding.message, secrets),
            help=redact(finding.help, secrets), fingerprint=digest,
            fix=_redacted_fix(finding.fix, redact, secrets)))
        if shown is None:
            continue
        outcome.excerpts[finding.line] = shown.text
        if shown.spans:
            end = finding.end_column if finding.end_line == finding.line else len(raw_line) + 1
            start = shown.offset(finding.column - 1) + 1
            stop = shown.offset(max(end - 1, 0), end=True) + 1
            outcome.carets[f"{finding.line}:{finding.column}"] = (start, max(stop, start + 1))
    return outcome
