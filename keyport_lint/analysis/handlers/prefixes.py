"""Route prefixes a router is mounted under, read from one module: a Flask Blueprint's
`url_prefix` (at creation or `register_blueprint`), FastAPI `APIRouter(prefix=)` and
`include_router(router, prefix=)`. A route's path includes them, so a handler mounted under
`/webhooks/keyport` is a KeyPort webhook whatever its own path says.

Only module-level statements and those of functions defined at module level (an app factory's
`register_blueprint`) are read: routers are created and mounted there.
"""

from __future__ import annotations

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.handlers.syntax import string_value

OWN_PREFIX = ("url_prefix", "prefix")  # Blueprint(url_prefix=), APIRouter(prefix=)
MOUNTS = ("register_blueprint", "include_router")


def mount_prefixes(module: cst.Module) -> dict[str, str]:
    """Router name -> the full prefix of its routes (mount prefix + own prefix)."""
    own: dict[str, str] = {}
    mounted: dict[str, str] = {}
    for statement in _statements(module):
        for small in statement.body:
            value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign, cst.Expr)) \
                else None
            if not isinstance(value, cst.Call):
                continue
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                name = dotted_name(small.targets[0].target)
                prefix = _keyword(value, OWN_PREFIX)
                if name and prefix:
                    own[name] = prefix
            elif isinstance(small, cst.Expr) and isinstance(value.func, cst.Attribute) and \
                    value.func.attr.value in MOUNTS and value.args:
                router = dotted_name(value.args[0].value)
                prefix = _keyword(value, OWN_PREFIX)
                if router and prefix:
                    mounted[router] = prefix
    out = {}
    for name in {*own, *mounted}:
        out[name] = join(mounted.get(name, ""), own.get(name, ""))
    return out


def join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")


def _keyword(call: cst.Call, names: tuple[str, ...]) -> str | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in names:
            return string_value(arg.value)
    return None


def _statements(module: cst.Module) -> list[cst.SimpleStatementLine]:
    out: list[cst.SimpleStatementLine] = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            out.append(statement)
        elif isinstance(statement, cst.FunctionDef) and isinstance(statement.body,
                                                                   cst.IndentedBlock):
            out += [s for s in statement.body.body if isinstance(s, cst.SimpleStatementLine)]
    return out
