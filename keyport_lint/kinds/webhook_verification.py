"""Kind `webhook-verification`: KeyPort deliveries are verified before they are processed.

The shared analysis (`analysis/verification/`) answers where and how a handler verifies;
`_webhook_findings.py` turns that into every KP3 finding of a module once, and each rule of this
kind reports the findings of its `check`:

- `unverified` (KP301), `order` (KP302): at the handler's `def`;
- `ignored` (KP303): the verification call whose result is ignored, or the `if` whose failing
  branch does not stop;
- `compare` (KP304): the comparison; `parsed-body` (KP305), `timestamp` (KP306): `hmac.new(…)`;
- `swallowed` (KP307): the verification call inside the `try`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.errors import UserError
from keyport_lint.kinds.base import REQUIRED, Kind, literal_trigger

if TYPE_CHECKING:
    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings
    from keyport_lint.yamlio import LDict

CHECKS = ("unverified", "order", "ignored", "compare", "parsed-body", "timestamp", "swallowed")
# settings whose entries are fnmatch patterns of dotted names rather than regexes
GLOB_SETTINGS = frozenset({"webhook-handlers", "verifiers"})


class WebhookVerification(Kind):
    name = "webhook-verification"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        "check": ("str", REQUIRED),
        # settings whose patterns give the pre-filter tokens (a file holding none of them has
        # no KeyPort webhook handler and no KeyPort-related code)
        "triggers-from": ("list[str]", ["context-markers", "secret-names", "webhook-headers",
                                        "webhook-handlers"]),
    }
    placeholders = frozenset({"handler", "detail"})
    # a handler may read its header name or secret from a KeyPort-related project module
    follows_imports = True
    # KP3 only: users tune it through settings (frameworks, headers, verifiers, handlers)
    user_facing = False
    uses_settings = (
        "webhook-headers", "webhook-signature-headers", "webhook-timestamp-headers",
        "webhook-event-patterns", "webhook-handlers", "verifiers", "webhook-stop-calls",
        "webhook-verification-errors", "signature-names", "signed-body-names",
        "signed-timestamp-names", "signed-response-markers", "secret-names",
        "generic-secret-names", "context-markers", "web-frameworks", "web-app-classes",
        "web-route-decorators", "web-handler-decorators", "web-route-calls", "web-view-bases",
        "web-view-methods", "web-request-names", "web-request-reads", "web-pre-handler-hooks",
        "web-route-target-keywords", "web-route-path-keywords", "web-viewset-actions",
        "web-non-body-markers", "web-per-handler-hooks", "sdk-validate-methods",
        "sdk-lookup-methods",
    )

    def validate(self, rule: Rule, raw: LDict) -> None:
        if rule.params["check"] not in CHECKS:
            raise UserError(f"rule {rule.id}: check must be one of {', '.join(CHECKS)}",
                            raw.file or None, raw.line_of("check"))

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        tokens: set[str] = set()
        for setting in rule.params["triggers-from"]:
            for pattern in settings.get(setting, []):
                token = _glob_token(pattern) if setting in GLOB_SETTINGS \
                    else literal_trigger(pattern)
                if token is None:
                    return None
                tokens.add(token)
        return tokens

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.kinds._webhook_findings import webhook_findings

        wanted = rule.params["check"]
        for finding in ctx.analysis(webhook_findings):
            if finding.check == wanted:
                fields: dict[str, Any] = dict(finding.fields)
                ctx.report(rule, finding.node, length=finding.length, **fields)
        return ()


def _glob_token(pattern: str) -> str | None:
    """The function name of a dotted fnmatch pattern (`app.hooks.receive_*` -> `receive_`):
    the file defining it holds the name, not the dotted path."""
    last = pattern.rsplit(".", 1)[-1]
    runs = [r for r in re.split(r"[*?\[\]]", last) if len(r) >= 3]
    return max(runs, key=len).lower() if runs else None


KIND = WebhookVerification()
