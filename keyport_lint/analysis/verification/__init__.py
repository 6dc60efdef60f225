"""Webhook signature verification: where it happens and how it goes wrong (KP301–KP307).

Verification is an HMAC over the raw body compared with `hmac.compare_digest`, done in the
handler, in a helper it calls (same module, or another project module through the project
index summary `verifier_exports`), or before the handler runs: a decorator, a FastAPI
`Depends`, a DRF permission/authentication class, a class pre-hook (`dispatch`, `prepare`), a
middleware of the project, or a function `settings.verifiers` names. A failing verification
must stop the handler: `return`, `raise`, `abort()`.

One collector of the shared walk (`flows.py`) records, per function: calls with how their
result is used (bare statement, assigned, tested by an `if` and whether the failing branch
stops, returned), the `try` blocks around them and whether their `except` clauses stop, HMAC
computations and their message parts, comparisons, assignments and name loads with a
statement sequence number (for "parsed before verified"). Everything else is lookups over
those records (`modes.py`, `checks.py`, `messages.py`, `reach.py`), done lazily so that a
module summarised for another file pays only for what is asked. The KP3 findings themselves
are the rule kind's (`kinds/webhook_verification.py`).
"""

from keyport_lint.analysis.verification.analysis import Verification, verification
from keyport_lint.analysis.verification.exports import (
    VerifierExports,
    lookup_export,
    verifier_exports,
)
from keyport_lint.analysis.verification.records import Check, Flow

__all__ = [
    "Check",
    "Flow",
    "Verification",
    "VerifierExports",
    "lookup_export",
    "verification",
    "verifier_exports",
]
