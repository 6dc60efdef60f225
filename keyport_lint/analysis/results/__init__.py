"""KeyPort validation results: which values hold one, and what each function does with them.

KP401–KP405 judge how a result is handled; KP502 needs to recognise a raw result handed to a
browser. Both ask "what does this expression hold?", so the answer is one shared analysis.

Sources: the SDK's `validate()` on a client made in the function, at module level, in a class
attribute (`self.client`), by a factory or property of the module, or a parameter annotated
with the SDK class; and raw HTTP requests whose URL holds the validation path (requests,
httpx, aiohttp, urllib, Tornado), with their parsed bodies (`.json()`, `json.loads(resp.text)`,
`json.load(resp)`). Values flow through assignment, unpacking, `with … as`, `.get("status")`,
`["status"]`, string methods, and functions of the module (return values, and parameters
bound from call sites).

How: one collector of the shared walk (`events.py`) records, per function (the module body and
class bodies count as functions), the events that matter in source order: bindings, tests,
comparisons, reads, calls, returns, `match`, `try` bodies. A small abstract interpreter
(`interpreter.py`, `evaluate.py`, `branches.py`, `handoffs.py`) replays those events a few
rounds until helper summaries, class attributes and parameter bindings settle. No scope or
qualified-name metadata: names resolve through the module's import alias table.
"""

from keyport_lint.analysis.results.analysis import validation_results
from keyport_lint.analysis.results.values import (
    BODY,
    CLIENT,
    HTTP_STATUS,
    RAW,
    RESPONSE,
    SDK_RESULT,
    STATUS,
    VALID,
    FunctionResults,
    Gate,
    Handled,
    ResultsAnalysis,
    StatusCompare,
    Value,
    segments_text,
    success_statuses,
)

__all__ = [
    "BODY",
    "CLIENT",
    "HTTP_STATUS",
    "RAW",
    "RESPONSE",
    "SDK_RESULT",
    "STATUS",
    "VALID",
    "FunctionResults",
    "Gate",
    "Handled",
    "ResultsAnalysis",
    "StatusCompare",
    "Value",
    "segments_text",
    "success_statuses",
    "validation_results",
]
