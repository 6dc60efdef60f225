"""Is this file about KeyPort? A KeyPort context marker (the `keyport` import, the SDK, an
`X-KeyPort-*` header, the API host, a KeyPort-specific key or secret name) in its code, or an
import of a project module that has one.

Precision rests on it: generic names (`api_key`, `secret`) and shared shapes (`whsec_`, which
Stripe uses too) count only in KeyPort-related code. A marker counts in code and strings, not
when it appears only in comments.
"""

from __future__ import annotations

from keyport_lint.context import FileContext, PythonContext
from keyport_lint.settings import has_marker, marker_hits, marker_regex

__all__ = ["is_keyport_related", "marker_regex", "text_is_keyport_related"]


def text_is_keyport_related(ctx: FileContext) -> bool:
    return has_marker(marker_regex(ctx.settings), ctx.text)


def is_keyport_related(ctx: FileContext) -> bool:
    """Memoised per file through `ctx.analysis(is_keyport_related)`."""
    if not isinstance(ctx, PythonContext):
        return text_is_keyport_related(ctx)
    from keyport_lint.analysis.facts import module_facts

    regex = marker_regex(ctx.settings)
    facts = ctx.analysis(module_facts)
    # more markers in the text than in its comments: some are in code. Counted only until
    # that is settled (the first hits usually settle it; a whole-text scan cost more)
    in_comments = sum(1 for c in facts.comments for _ in marker_hits(regex, c))
    for seen, _ in enumerate(marker_hits(regex, ctx.text), 1):
        if seen > in_comments:
            return True
    if ctx.project is not None:
        return ctx.project.imports_keyport_module(ctx.path, facts.imports)
    return False
