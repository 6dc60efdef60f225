"""Machine output: one JSON object (SPEC section 3)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from keyport_lint import __version__

if TYPE_CHECKING:
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions


def render(result: RunResult, opts: ReportOptions) -> str:
    doc = {
        "tool": "keyport-lint",
        "version": __version__,
        "findings": [f.as_dict() for f in result.findings],
        "errors": [{"message": e} for e in result.errors],
        "stats": {"files": result.files, "parsed": result.parsed, "cached": result.cached,
                  "jobs": result.jobs, "seconds": result.seconds},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
