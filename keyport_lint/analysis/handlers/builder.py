"""Endpoints from the collected records: routes by decorator, registration call, view
class, Django URL configuration; how each handler reads the request."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name, module_facts
from keyport_lint.analysis.handlers.collector import _Collector
from keyport_lint.analysis.handlers.prefixes import join, mount_prefixes
from keyport_lint.analysis.handlers.records import (
    FunctionFacts,
    Handler,
    HandlerFacts,
    Read,
    Registration,
    Route,
)
from keyport_lint.analysis.handlers.syntax import (
    HTTP_VERBS,
    MAX_URLS_FILES,
    _is_body_param,
    _methods_from,
    _param_markers,
    _path_arg,
    classify_read,
    fnmatch_any,
    framework_of,
    is_keyport_header,
    normalise_header,
    string_value,
)
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.analysis.definitions import ClassRecord, Decorator


class _Builder:
    def __init__(self, ctx: PythonContext, facts: ModuleFacts, collector: _Collector,
                 out: HandlerFacts) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.facts = facts
        self.collector = collector
        self.out = out
        self.routes: dict[int, list[Route]] = {}  # id(FunctionDef) -> routes
        self.view_classes: dict[str, str] = {}  # class name -> framework
        self.class_routes: dict[str, list[Route]] = {}

    def framework(self) -> str:
        return self.out.framework

    def build(self) -> None:
        out, definitions, by_node_id = self.out, self.collector.definitions, \
            self.collector.by_node_id
        out.module_functions = {name: by_node_id[id(record.node)]
                                for name, record in definitions.module_functions.items()}
        for record in definitions.classes:
            if record.parent is None:  # the last module-level class of a name, as Python binds
                if definitions.module_classes.get(record.name) is record:
                    out.classes[record.name] = record
            elif not record.in_function:  # a nested class, unless the module binds its name
                out.classes.setdefault(record.name, record)
        self.out.frameworks = self._frameworks()
        for function in self.out.functions:
            for decorator in function.definition.decorators:
                route = self._decorator_route(decorator)
                if route is not None:
                    self.routes.setdefault(id(function.node), []).append(route)
        for call, resolved in self.collector.raw_registrations:
            self.out.registrations.extend(self._registrations(call, resolved))
        for reg in self.out.registrations:
            self._route_target(reg)
        self._view_classes()
        self._django_function_views()
        prefixes = mount_prefixes(self.ctx.module) if self.out.frameworks else {}
        for function in self.out.functions:
            routes = self.routes.get(id(function.node))
            for route in routes or ():
                if route.receiver in prefixes:
                    route.path = join(prefixes[route.receiver], route.path or "")
            if routes:
                handler = self._handler(function, routes)
                self.out.handlers.append(handler)
                self.out.by_node[function.node] = handler

    def _frameworks(self) -> list[str]:
        found = []
        origins = [o.lstrip(".") for o in self.facts.imports.values()]
        for framework, prefixes in self.settings["web-frameworks"].items():
            if any(o == p or o.startswith(p + ".") for o in origins for p in prefixes):
                found.append(framework)
        return found

    # decorators -------------------------------------------------------------------------------
    def _decorator_route(self, decorator: Decorator) -> Route | None:
        call = decorator.call
        func = call.func if call is not None else decorator.expr
        written = decorator.written
        if not written:
            return None
        resolved = decorator.resolved.lstrip(".")
        last = decorator.last
        if fnmatch_any(resolved, self.settings["web-handler-decorators"]):
            framework = framework_of(self.settings, resolved) or self.framework()
            methods = _methods_from(call, last)
            path_keywords = self.settings["web-route-path-keywords"]
            return Route(_path_arg(call, path_keywords) if call is not None else None,
                         methods if methods is not None else frozenset(), framework,
                         "decorator", "", decorator.node)
        if call is None or not isinstance(func, cst.Attribute) \
                or last not in self.settings["web-route-decorators"]:
            return None
        receiver = dotted_name(func.value)
        if not receiver:
            return None
        path = _path_arg(call, self.settings["web-route-path-keywords"])
        app = self.out.apps.get(receiver)
        if app is None and path is None:
            return None
        if app is None and not self.out.frameworks and not (path or "").startswith("/"):
            return None
        framework = framework_of(self.settings, app) if app else ""
        framework = framework or self.framework()
        methods = _methods_from(call, last)
        if methods is None and last in ("route", "api_route") and call.args:
            first = string_value(call.args[0].value)  # aiohttp: routes.route("POST", "/x")
            if first is not None and first.upper() in HTTP_VERBS:
                methods = frozenset({first.upper()})
        if methods is None:
            methods = frozenset({"GET"}) if last in ("route", "api_route") else frozenset()
        return Route(path, methods, framework, "decorator", receiver, decorator.node)

    # registrations ----------------------------------------------------------------------------
    def _registrations(self, call: cst.Call, resolved: str) -> list[Registration]:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else \
            resolved.rsplit(".", 1)[-1]
        receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else ""
        framework = framework_of(self.settings, resolved) if resolved else ""
        if not framework and receiver in self.out.apps:
            framework = framework_of(self.settings, self.out.apps[receiver])
        framework = framework or self.framework()
        methods = _methods_from(call, name)
        if methods is None and call.args:  # aiohttp: router.add_route("POST", "/x", handler)
            first = string_value(call.args[0].value)
            if first is not None and first.upper() in HTTP_VERBS:
                methods = frozenset({first.upper()})
        methods = methods if methods is not None else frozenset()
        out: list[Registration] = []
        # tables of (path, handler) tuples: tornado Application([...]), add_handlers(host, [...])
        for arg in call.args:
            if arg.keyword is None and isinstance(arg.value, (cst.List, cst.Tuple)):
                for element in arg.value.elements:
                    item = element.value
                    if not isinstance(item, cst.Tuple) or len(item.elements) < 2:
                        continue
                    path = string_value(item.elements[0].value)
                    if path is not None:
                        out.append(Registration(call, path, methods, framework,
                                                item.elements[1].value, receiver))
        if out:
            return out
        target_keywords = self.settings["web-route-target-keywords"]
        targets = [a.value for a in call.args
                   if a.keyword is not None and a.keyword.value in target_keywords]
        if not targets:
            for arg in call.args:
                if arg.keyword is None and not arg.star and isinstance(
                        arg.value, (cst.Name, cst.Attribute, cst.Call)):
                    targets.append(arg.value)
                    break
        path = _path_arg(call, self.settings["web-route-path-keywords"])
        return [Registration(call, path, methods, framework, t, receiver) for t in targets]

    def _route_target(self, reg: Registration) -> None:
        target = reg.target
        route = Route(reg.path, reg.methods, reg.framework, "registration", reg.receiver,
                      reg.call)
        if isinstance(target, cst.Call):  # X.as_view(...)
            target = target.func.value if isinstance(target.func, cst.Attribute) else target.func
        name = dotted_name(target)
        if name in self.out.module_functions:
            self.routes.setdefault(id(self.out.module_functions[name].node), []).append(route)
        elif name in self.out.classes:
            self.view_classes.setdefault(name, reg.framework)
            self.class_routes.setdefault(name, []).append(route)

    # class-based views ------------------------------------------------------------------------
    def _view_framework(self, record: ClassRecord, depth: int = 0) -> str | None:
        if record.name in self.view_classes:
            return self.view_classes[record.name]
        if depth > 5:
            return None
        for base in record.bases:
            if fnmatch_any(base.lstrip("."), self.settings["web-view-bases"]):
                return framework_of(self.settings, base) or self.framework()
            local = self.out.classes.get(base)
            if local is not None and local is not record:
                framework = self._view_framework(local, depth + 1)
                if framework is not None:
                    return framework
        return None

    def _view_classes(self) -> None:
        view_methods = set(self.settings["web-view-methods"])
        for record in self.out.classes.values():
            framework = self._view_framework(record)
            if framework is None:
                continue
            routes = self.class_routes.get(record.name, [])
            class_path = string_value(record.assigns.get("path")) \
                if framework == "litestar" else None
            for name, method in record.methods.items():
                if name not in view_methods or id(method.node) in self.routes:
                    continue
                verb = name[3:] if name.startswith("do_") else name
                verb = self.settings["web-viewset-actions"].get(verb, verb.upper())
                methods = frozenset({verb}) if verb in HTTP_VERBS else frozenset()
                own = [Route(r.path, methods, framework, "view-class", r.receiver, r.node)
                       for r in routes] or [Route(class_path, methods, framework, "view-class")]
                self.routes[id(method.node)] = own
            if class_path:  # Litestar controllers: path on the class, verbs on methods
                for method in record.methods.values():
                    for route in self.routes.get(id(method.node), []):
                        if route.path is not None and not route.path.startswith(class_path):
                            route.path = class_path.rstrip("/") + "/" + route.path.lstrip("/")
                        elif route.path is None:
                            route.path = class_path

    # Django function views --------------------------------------------------------------------
    def _django_function_views(self) -> None:
        names = self.settings["web-request-names"]
        candidates = []
        pathless = []  # `@csrf_exempt` views: routed by decorator, their path is in urls.py
        for name, function in self.out.module_functions.items():
            known = self.routes.get(id(function.node))
            if known and all(r.path is None for r in known) and \
                    any(r.framework in ("django", "drf") for r in known):
                pathless.append(function)
            if id(function.node) in self.routes or name.startswith("_"):
                continue
            params = function.parameters
            if not params or name in self.collector.called_names:
                continue
            candidates.append((function, params[0].name in names))
        django = any(f in ("django", "drf") for f in self.out.frameworks)
        if pathless:
            paths = self._urls_routes([f.name for f in pathless])
            for function in pathless:
                self.routes[id(function.node)] += paths.get(function.name, [])
        if not candidates or (self.out.frameworks and not django):
            return  # a Flask or FastAPI module's functions taking `request` are helpers
        path = self.ctx.path
        conventional = path is not None and (path.stem == "views" or path.parent.name == "views")
        routed = self._urls_routes([f.name for f, _ in candidates])
        for function, takes_request in candidates:
            found = routed.get(function.name)
            if found:
                self.routes[id(function.node)] = found
            elif takes_request and (django or conventional):
                framework = "drf" if "drf" in self.out.frameworks else "django"
                self.routes[id(function.node)] = [Route(None, frozenset(), framework,
                                                        "django-view")]

    def _urls_routes(self, names: list[str]) -> dict[str, list[Route]]:
        """Routes to this module's functions from the project's urls.py files (a view may be
        routed only there). Reads a urls.py only when its text names a candidate."""
        project, path = self.ctx.project, self.ctx.path
        if project is None or path is None:
            return {}
        found: dict[str, list[Route]] = {}
        me = path.resolve()
        candidates = _urls_candidates(me, project.root)
        for urls in candidates:
            text = project.text(urls)
            if not text or not any(n in text for n in names):
                continue
            routes = project.summary(urls, url_routes) or []
            prefix = self._include_prefix(urls, candidates) if routes else ""
            for origin, route in routes:
                resolved = project.resolve_origin(urls, origin)
                if resolved is not None and resolved[0] == me and resolved[1]:
                    if prefix:  # path("webhooks/keyport/", include("billing.urls"))
                        route = Route(join(prefix, route.path or ""), route.methods,
                                      route.framework, route.via, route.receiver, route.node)
                    found.setdefault(resolved[1], []).append(route)
        return found

    def _include_prefix(self, urls: Path, candidates: list[Path], depth: int = 0) -> str:
        """The path prefix under which another urls.py `include()`s this one (followed up a
        few levels: project urls including an app's urls including a sub-app's)."""
        project = self.ctx.project
        if project is None or depth > 3:
            return ""
        target = urls.resolve()
        for other in candidates:
            if other.resolve() == target:
                continue
            text = project.text(other)
            if not text or "include" not in text:
                continue
            for module, prefix in project.summary(other, url_includes) or []:
                included = project.resolve_module(other, module)
                if included is not None and included.resolve() == target:
                    return join(self._include_prefix(other, candidates, depth + 1), prefix)
        return ""

    # handlers ---------------------------------------------------------------------------------
    def _handler(self, function: FunctionFacts, routes: list[Route]) -> Handler:
        framework = next((r.framework for r in routes if r.framework), self.framework())
        roots = self._request_roots(function, framework)
        reads = self._reads(function, roots, framework)
        header_params, body_params = self._params(function, framework, roots)
        return Handler(function, framework, routes, frozenset(roots), reads, header_params,
                       body_params)

    def _request_roots(self, function: FunctionFacts, framework: str) -> set[str]:
        names = set(self.settings["web-request-names"])
        roots: set[str] = set()
        params = function.parameters
        for param in params:
            if param.name in names or param.annotation.endswith("Request"):
                roots.add(param.name)
        if params and framework in ("django", "drf", "aiohttp", "sanic", "starlette") \
                and function.cls is None:
            roots.add(params[0].name)
        if function.cls is not None:  # `self` as the method names it (`def do_POST(handler)`)
            instance = function.definition.self_name or "self"
            roots.add(f"{instance}.request")
            if framework == "http.server":
                roots.add(instance)
        for local, origin in self.facts.imports.items():
            if origin in ("flask.request", "quart.request"):
                roots.add(local)
            elif origin in ("flask", "quart"):
                roots.add(f"{local}.request")
        return roots

    def _reads(self, function: FunctionFacts, roots: set[str], framework: str) -> list[Read]:
        table = self.settings["web-request-reads"]
        reads = []
        for root, attr, node in function.attrs:
            if root not in roots:
                continue
            kind = classify_read(table, framework, attr)
            if kind is not None:
                reads.append(Read(kind, root, attr, node))
        instance = function.definition.self_name or "self"  # the handler object, not a request
        for root in roots:
            if root in function.passed and root != instance:
                reads.append(Read("passed", root, "", None))
        return reads

    def _params(self, function: FunctionFacts, framework: str, roots: set[str]
                ) -> tuple[list[tuple[str, cst.Param]], list[cst.Param]]:
        headers: list[tuple[str, cst.Param]] = []
        bodies: list[cst.Param] = []
        non_body = self.settings["web-non-body-markers"]
        for parameter in function.parameters:
            name, param = parameter.name, parameter.node
            if name in roots:
                continue
            markers = _param_markers(param, non_body)
            header = markers.get("Header")
            if header is not None:
                headers.append((normalise_header(header or name), param))
                continue
            if markers.get("Parameter"):
                headers.append((normalise_header(markers["Parameter"]), param))
                continue
            if is_keyport_header(self.settings, name):
                headers.append((normalise_header(name), param))
                continue
            if (framework == "litestar" and name == "data") or (
                    framework == "fastapi" and _is_body_param(param, markers, non_body)):
                bodies.append(param)
        return headers, bodies


def _urls_candidates(module: Path, root: Path) -> list[Path]:
    return _urls_near(module.parent, root)


@lru_cache(maxsize=256)
def _urls_near(folder: Path, root: Path) -> list[Path]:
    """urls.py files that may route a module's views: beside it, in its ancestors up to the
    project root, and in the root's direct sub-packages (the Django project package)."""
    found: list[Path] = []
    seen = set()
    while True:
        for candidate in (folder / "urls.py",):
            if candidate.is_file() and candidate not in seen:
                seen.add(candidate)
                found.append(candidate)
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir())[:50]
    except OSError:
        children = []
    for child in children:
        candidate = child / "urls.py"
        if candidate.is_file() and candidate not in seen:
            seen.add(candidate)
            found.append(candidate)
    return [p.resolve() for p in found[:MAX_URLS_FILES]]


def url_routes(ctx: PythonContext) -> list[tuple[str, Route]]:
    """Project-index summary of a urls.py: (import origin of the view, route)."""
    facts = ctx.analysis(web_handlers)
    imports = ctx.analysis(module_facts)
    out = []
    for reg in facts.registrations:
        target = reg.target
        if isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute):
            target = target.func.value  # Views.as_view()
        origin = imports.resolve(target)
        if origin and (origin != dotted_name(target) or "." in origin):
            out.append((origin, Route(reg.path, reg.methods, reg.framework or "django", "urls",
                                      reg.receiver, None)))
    return out


def url_includes(ctx: PythonContext) -> list[tuple[str, str]]:
    """Project-index summary of a urls.py: (included module, path prefix) for each
    `path("prefix/", include("app.urls"))`."""
    facts = ctx.analysis(web_handlers)
    imports = ctx.analysis(module_facts)
    out = []
    for reg in facts.registrations:
        target = reg.target
        if isinstance(target, cst.Call) and target.args and \
                imports.resolve(target.func).rsplit(".", 1)[-1] == "include":
            module = string_value(target.args[0].value)
            if module and reg.path is not None:
                out.append((module, reg.path))
    return out


def web_handlers(ctx: PythonContext) -> HandlerFacts:
    """Every web endpoint of the module. Memoised per file through `ctx.analysis`."""
    from keyport_lint.analysis.model import module_records

    records = ctx.analysis(module_records)
    out = records.handler_facts
    _Builder(ctx, records.facts, records.handlers, out).build()
    return out
