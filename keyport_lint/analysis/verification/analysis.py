"""The entry point: `verification(ctx)`, memoised per file."""

from __future__ import annotations

from keyport_lint.analysis.verification.checks import _Checks
from keyport_lint.analysis.verification.messages import _Messages
from keyport_lint.analysis.verification.modes import _Modes
from keyport_lint.analysis.verification.reach import _Reach
from keyport_lint.context import PythonContext


class Verification(_Reach, _Messages, _Checks, _Modes):
    """Per-module verification facts; answers are computed on demand and memoised."""



def verification(ctx: PythonContext) -> Verification:
    """Memoised per file through `ctx.analysis(verification)`."""
    return Verification(ctx)
