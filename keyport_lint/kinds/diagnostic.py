"""Kind `diagnostic`: the linter's own findings (KP9xx), emitted by the pipeline itself."""

from __future__ import annotations

from keyport_lint.kinds.base import Kind


class Diagnostic(Kind):
    name = "diagnostic"
    placeholders = frozenset({"reason", "codes", "where", "error"})
    default_files = ("python", "text")
    user_facing = False


KIND = Diagnostic()
