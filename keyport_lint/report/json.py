"""Machine output: one JSON object (tool, version, findings with message and help, stats)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from keyport_lint import __version__

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions


def statistics(findings: list[Finding]) -> list[dict[str, object]]:
    """A count per code, most frequent first (as in the text output)."""
    counts = Counter(f.rule for f in findings)
    names = {f.rule: f.name for f in findings}
    return [{"rule": code, "name": names[code], "count": count}
            for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def render(result: RunResult, opts: ReportOptions) -> str:
    doc: dict[str, Any] = {
        "tool": "keyport-lint",
        "version": __version__,
        "findings": [f.as_dict() for f in result.findings],
        "errors": [{"message": e} for e in result.errors],
        "stats": {"files": result.files, "parsed": result.parsed, "cached": result.cached,
                  "jobs": result.jobs, "seconds": result.seconds,
                  "walks_per_parsed_file": round(result.walks / result.parsed, 2)
                  if result.parsed else 0},
    }
    if opts.baseline is not None:
        doc["baseline"] = {"file": opts.baseline, "baselined": opts.baselined}
    if opts.statistics:
        doc["statistics"] = statistics(result.findings)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
