"""Taint analysis: where the KeyPort key (or the webhook secret) flows, for KP201/KP202 and KP501.

Why this shape:

- **Sources, propagation and sanitisers are data** (`TaintConfig`, built from YAML by the rule
  kind), so a team adds `redact_secret` as a sanitiser without touching Python.
- **One pass over the module, in execution order, for every family at once** (the key and the
  webhook secret are two labels of one pass). Statements are walked as Python runs them
  (branches joined, loops once), expressions bottom-up (`statements.py`, `expressions.py`,
  `calls.py`); a visitor's fixed child order does not fit comprehensions, branch joins or
  `x = f(x)`. The pass keeps taint *symbolic* where it depends on other code: a function's
  return value, a parameter (from its callers), a module global, a class attribute
  (`self.<attr>` across methods), a call site, an imported name.
- **A small solver** (`solver.py`) then resolves the symbols (a fixpoint over the symbol table,
  never a second walk of the tree). Return values are resolved per call site (a helper that
  formats its argument taints only the calls that pass the key).
- **Sinks are matched afterwards** (`sinks.py`) against the recorded call sites, raises,
  returns and stores, so log sinks (KP201/KP202) and response sinks (KP501) share one
  computation per configuration: `taint_analysis(ctx, config).flows(SinkSpec(...))`.
- **Across modules** an imported name is resolved through the project index with a per-module
  summary (`summaries.py`), only when a value actually reaches a sink; a one-file run reads
  only the modules it imports.

A value is described by labels (`values.py`): a source plus a *path*, the keys under which the
secret sits inside a container (`{"Authorization": "Bearer " + key}` has path
`("Authorization",)`), so `headers["Content-Type"]` is clean while `headers` and
`headers["Authorization"]` are not. Attribute fields (paths starting with ".") describe objects
(a settings instance); printing the object itself is not counted (default reprs do not show
attributes), reading the field is.
"""

from keyport_lint.analysis.taint.sinks import TaintResult
from keyport_lint.analysis.taint.summaries import origin_text, summarizer, taint_analysis
from keyport_lint.analysis.taint.syntax import constant_value
from keyport_lint.analysis.taint.values import (
    Atom,
    Exported,
    Family,
    Flow,
    Label,
    SinkSpec,
    Site,
    Source,
    TaintConfig,
)

__all__ = [
    "Atom",
    "Exported",
    "Family",
    "Flow",
    "Label",
    "SinkSpec",
    "Site",
    "Source",
    "TaintConfig",
    "TaintResult",
    "constant_value",
    "origin_text",
    "summarizer",
    "taint_analysis",
]
