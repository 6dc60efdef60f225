"""Is this file about KeyPort? A KeyPort context marker (the `keyport` import, the SDK, an
`X-KeyPort-*` header, the API host, a KeyPort-specific key or secret name) in its code, or an
import of a project module that has one.

Precision rests on it: generic names (`api_key`, `secret`) and shared shapes (`whsec_`, which
Stripe uses too) count only in KeyPort-related code. A marker counts in code and strings, not
when it appears only in comments.
"""

from __future__ import annotations

from keyport_lint.context import FileContext, PythonContext
from keyport_lint.settings import marker_regex

__all__ = ["is_keyport_related", "marker_regex", "text_is_keyport_related"]


def text_is_keyport_related(ctx: FileContext) -> bool:
    return bool(marker_regex(ctx.settings).search(ctx.text))


def is_keyport_related(ctx: FileContext) -> bool:
    """Memoised per file through `ctx.analysis(is_keyport_related)`."""
    if not isinstance(ctx, PythonContext):
        return text_is_keyport_related(ctx)
    from keyport_lint.analysis.facts import module_facts

    regex = marker_regex(ctx.settings)
    total = len(regex.findall(ctx.text))
    facts = ctx.analysis(module_facts)
    if total:
        in_comments = sum(len(regex.findall(c)) for c in facts.comments)
        if total > in_comments:
            return True
    if ctx.project is not None:
        return ctx.project.imports_keyport_module(ctx.path, facts.imports)
    return False
