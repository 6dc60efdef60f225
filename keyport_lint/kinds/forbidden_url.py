"""Kind `forbidden-url`: client-side code that requests a forbidden host (KP503's kind).

A request call (fetch, axios, $.ajax, XHR open, …) is flagged when its arguments hold a URL with
the host, or a name that is bound, in the same file, to such a URL (string building, a client
created with `baseURL`). The URL in a comment, or merely mentioned, is not a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.kinds.base import Kind

if TYPE_CHECKING:
    from keyport_lint.catalog import Rule
    from keyport_lint.context import TextContext
    from keyport_lint.settings import Settings

MAX_ROUNDS = 5


class ForbiddenUrl(Kind):
    name = "forbidden-url"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        "hosts": ("list[str]", []),
        "hosts-from": ("list[str]", []),  # settings holding hosts (api-hosts)
        # call names (regexes, matched before the opening parenthesis)
        "request-calls": ("list[str]", [
            r"fetch", r"axios(?:\.(?:get|post|put|patch|delete|head|request))?",
            r"\$\.(?:ajax|get|post|getJSON)", r"jQuery\.(?:ajax|get|post|getJSON)",
            r"\w+\.open", r"ky(?:\.(?:get|post|put|patch|delete))?", r"got(?:\.\w+)?",
            r"superagent\.\w+", r"\$http(?:\.\w+)?", r"useFetch", r"\$fetch",
            r"new\s+(?:WebSocket|EventSource|Request)", r"navigator\.sendBeacon",
        ]),
        # factories whose `baseURL`-like option makes a client whose calls are requests
        "client-factories": ("list[str]", [r"axios\.create", r"ky\.(?:create|extend)",
                                           r"got\.extend"]),
        "base-url-keys": ("list[str]", ["baseURL", "baseUrl", "prefixUrl", "prefixURL"]),
    }
    placeholders = frozenset({"call", "host"})
    default_files = ("text",)

    def hosts(self, rule: Rule, settings: Settings) -> list[str]:
        hosts = list(rule.params["hosts"])
        for setting in rule.params["hosts-from"]:
            hosts += settings.get(setting, [])
        return hosts

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        return {h.lower() for h in self.hosts(rule, settings)} or None

    def check_text(self, rule: Rule, ctx: TextContext) -> Iterable[None]:
        from keyport_lint.analysis.jstext import balanced_args, code_only, line_col, mask_strings

        hosts = self.hosts(rule, ctx.settings)
        name = ctx.display.rsplit("/", 1)[-1]
        code = code_only(ctx.text, name)
        skeleton = mask_strings(code)  # where to look for calls and assignments
        lowered = code.lower()
        for host in hosts:
            if host.lower() not in lowered:
                continue
            host_string = re.compile(
                r"""(?:"[^"\n]*|'[^'\n]*|`[^`]*)""" + re.escape(host), re.IGNORECASE)
            bound = self._bound_names(code, skeleton, host_string, rule)
            calls = re.compile(r"(?<![\w$.])(" + "|".join(
                f"(?:{c})" for c in rule.params["request-calls"]) + r")\s*\(")
            client_calls = (re.compile(r"(?<![\w$.])(" + "|".join(
                re.escape(c) for c in sorted(bound["clients"])) +
                r")\s*(?:\.\s*\w+\s*)?\(") if bound["clients"] else None)
            seen: set[int] = set()
            for pattern in (calls, client_calls):
                if pattern is None:
                    continue
                for match in pattern.finditer(skeleton):
                    args = balanced_args(code, match.end() - 1)
                    is_client = pattern is client_calls
                    if not is_client and not self._mentions(args, host_string, bound["names"]):
                        continue
                    if match.start() in seen:
                        continue
                    seen.add(match.start())
                    line, col = line_col(code, match.start())
                    call = re.sub(r"\s+", " ", match.group(1))
                    ctx.report_at(rule, line, col, line, col + len(match.group(1)),
                                  call=call, host=host)
        return ()

    def _mentions(self, args: str, host_string: re.Pattern[str], names: set[str]) -> bool:
        if host_string.search(args):
            return True
        return any(re.search(rf"(?<![\w$]){re.escape(n)}(?![\w$])", args) for n in names)

    def _bound_names(self, code: str, skeleton: str, host_string: re.Pattern[str],
                     rule: Rule) -> dict[str, set[str]]:
        """Names bound to the host in this file (variables, object keys), and clients made with
        it as base URL. Followed through string building, a few rounds deep."""
        from keyport_lint.analysis.jstext import expression_at

        names: set[str] = set()
        clients: set[str] = set()
        assign = re.compile(r"(?:\b(?:const|let|var)\s+|(?<![\w$.]))([A-Za-z_$][\w$]*)"
                            r"\s*(?:=|:)\s*(?!=)")
        for _ in range(MAX_ROUNDS):
            before = len(names)
            for match in assign.finditer(skeleton):
                value = expression_at(code, match.end())
                if self._mentions(value, host_string, names):
                    names.add(match.group(1))
            if len(names) == before:
                break
        factories = "|".join(f"(?:{f})" for f in rule.params["client-factories"])
        keys = "|".join(re.escape(k) for k in rule.params["base-url-keys"])
        if factories:
            creation = re.compile(rf"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:{factories})"
                                  r"\s*\(")
            for match in creation.finditer(skeleton):
                args = expression_at(code, match.end() - 1, paren=True)
                for key in re.finditer(rf"(?:{keys})\s*:\s*", args):
                    if self._mentions(expression_at(args, key.end()), host_string, names):
                        clients.add(match.group(1))
        return {"names": names - clients, "clients": clients}


KIND = ForbiddenUrl()
