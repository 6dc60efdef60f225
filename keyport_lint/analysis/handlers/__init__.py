"""Web endpoints of one module, across frameworks, with no KeyPort condition at all.

Shared by KP3 (webhook verification) and KP5 (exposure to clients): `web_handlers(ctx)` ->
`HandlerFacts`, every endpoint (Flask/Quart routes and MethodViews, FastAPI/Starlette routes,
`add_api_route`, `Route(...)` lists, Django function and class-based views incl. DRF, aiohttp,
Tornado, Sanic, Litestar, `http.server` `do_POST`), with its framework, HTTP methods, route
paths, how it reads the request (raw body, parsed JSON, form, headers, query), its body and
header parameters, plus the references that run before handlers (middleware, dependencies,
permission classes) for the verification analysis.

Functions and classes are the records of the definitions model (`analysis/definitions.py`);
one collector of the shared walk (`collector.py`) adds what each def's body reads of the
request, app objects and route registrations; `builder.py` turns those records into
endpoints. Framework knowledge (app classes, decorators, registration calls, view bases,
request attributes) lives in rules/settings.yaml. Names resolve through the import alias
table. Which endpoints receive KeyPort deliveries is `analysis/webhooks.py`.
"""

from keyport_lint.analysis.handlers.builder import url_routes, web_handlers
from keyport_lint.analysis.handlers.records import (
    FunctionFacts,
    Handler,
    HandlerFacts,
    HookRef,
    Read,
    Registration,
    Route,
)
from keyport_lint.analysis.handlers.syntax import (
    classify_read,
    expression_refs,
    fnmatch_any,
    framework_of,
    is_keyport_header,
    normalise_header,
    string_list,
    string_value,
    whole_regex,
)

__all__ = [
    "FunctionFacts",
    "Handler",
    "HandlerFacts",
    "HookRef",
    "Read",
    "Registration",
    "Route",
    "classify_read",
    "expression_refs",
    "fnmatch_any",
    "framework_of",
    "is_keyport_header",
    "normalise_header",
    "string_list",
    "string_value",
    "url_routes",
    "web_handlers",
    "whole_regex",
]
