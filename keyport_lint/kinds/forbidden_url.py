"""Kind `forbidden-url`: client-side code that requests a forbidden host (KP503's kind).

A request call (fetch, axios, $.ajax, XHR open, …) is flagged when its arguments hold a URL with
the host, or a name that is bound, in the same file, to such a URL (string building, a client
created with `baseURL`). The URL in a comment, or merely mentioned, is not a request.
With `client-side-only`, server-side JavaScript (framework server routes, files importing Node
built-ins or a server framework; both settings) is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
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
        # skip server-side files (settings server-side-js-paths, server-side-js-imports)
        "client-side-only": ("bool", False),
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
        if rule.params["client-side-only"] and is_server_side(ctx, code):
            return ()
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


def _relative(ctx: TextContext) -> str:
    """The file's path from the project root (its display path when outside it), so a
    project that itself sits in a folder named `server` is not all server code."""
    if ctx.path is not None and ctx.project is not None:
        try:
            return ctx.path.resolve().relative_to(ctx.project.root).as_posix()
        except ValueError:
            pass
    return ctx.display.replace("\\", "/")


@lru_cache(maxsize=256)
def _path_pattern(pattern: str) -> re.Pattern[str]:
    """A path glob (the syntax of config `exclude`) matched at the path's end from a folder
    boundary; compiled once per pattern, not per file."""
    from keyport_lint.config import glob_regex

    return re.compile("(?:^|/)" + glob_regex(pattern) + "$")


IMPORT = re.compile(r"""(?:\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?\(?|\brequire\s*\()"""
                    r"""\s*["']([^"'\n]+)["']""")


def is_server_side(ctx: TextContext, code: str) -> bool:
    """Server-side JavaScript by path (framework server routes) or by its imports."""
    from fnmatch import fnmatchcase

    if ctx.display.lower().endswith((".html", ".htm", ".vue", ".svelte")):
        return False  # templates and components render in the browser
    path = _relative(ctx)
    if any(_path_pattern(p).search(path) for p in ctx.settings["server-side-js-paths"]):
        return True
    modules = {m.group(1) for m in IMPORT.finditer(code)}
    return any(fnmatchcase(m, p) for m in modules for p in ctx.settings["server-side-js-imports"])


KIND = ForbiddenUrl()
