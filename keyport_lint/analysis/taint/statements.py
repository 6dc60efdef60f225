"""Statements in the pass, in execution order: branches joined, loops once, functions
and classes as scopes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.taint.scopes import _Func, _ModuleState, _Scope
from keyport_lint.analysis.taint.syntax import (
    _assign_targets,
    _blocks,
    _bound_names,
    _is_exact,
    _join,
    constant_value,
)
from keyport_lint.analysis.taint.values import (
    EMPTY,
    GET,
    MAX_BLOCK_DEPTH,
    PUT,
    RESET,
    Atom,
    Site,
    Sym,
    _cap,
    _map_op,
    _with_via,
)

# statements holding blocks the prescan enters (exact types: an isinstance that fails on a
# libcst class is a Python call, ABCMeta's)
_COMPOUND = frozenset({cst.If, cst.Try, cst.TryStar, cst.With, cst.For, cst.While})


class _Statements(_ModuleState):
    """The walk over statements."""

    if TYPE_CHECKING:  # in `_Expressions`
        def _generic_only(self, name: str) -> bool: ...

    # -- entry ---------------------------------------------------------------------------------
    def run(self) -> None:
        self._prescan(self.ctx.module.body)
        scope = _Scope("module")
        self.module_scope = scope
        self._block(self.ctx.module.body, scope)

    def _prescan(self, body: Iterable[cst.CSTNode]) -> None:
        """Module-level names, functions and classes, known before any function body is walked
        (a function may read a global assigned further down)."""
        stack: list[Iterable[cst.CSTNode]] = [body]
        while stack:  # an explicit stack: `elif` chains nest deeply
            self._prescan_block(stack.pop(), stack)

    def _prescan_block(self, body: Iterable[cst.CSTNode], stack: list) -> None:
        for stmt in body:
            if type(stmt) is cst.FunctionDef:
                self.top_funcs[stmt.name.value] = stmt.name.value
            elif type(stmt) is cst.ClassDef:
                self.top_classes[stmt.name.value] = stmt.name.value
            elif type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    for target in _assign_targets(small):
                        self.top_names.update(_bound_names(target))
            elif type(stmt) in _COMPOUND:
                if type(stmt) is cst.For:
                    self.top_names.update(_bound_names(stmt.target))
                if type(stmt) is cst.With:
                    for item in stmt.items:
                        if item.asname is not None:
                            self.top_names.update(_bound_names(item.asname.name))
                stack.extend(_blocks(stmt))

    # -- statements ----------------------------------------------------------------------------
    def _block(self, body: Iterable[cst.CSTNode], scope: _Scope) -> None:
        if self._block_depth > MAX_BLOCK_DEPTH:
            return
        self._block_depth += 1
        try:
            for stmt in body:
                self._stmt(stmt, scope)
        finally:
            self._block_depth -= 1

    def _suite(self, suite: cst.BaseSuite | None, scope: _Scope) -> None:
        if suite is not None:
            self._block(suite.body, scope)

    def _stmt(self, stmt: cst.CSTNode, scope: _Scope) -> None:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self._small(small, scope)
        elif type(stmt) is cst.If:
            branches: list[dict[str, frozenset]] = []
            node: cst.CSTNode | None = stmt
            while type(node) is cst.If:  # `elif` chains iteratively: they can be long
                self.eval(node.test, scope)
                before = dict(scope.env)
                self._suite(node.body, scope)
                branches.append(scope.env)
                scope.env = before
                node = node.orelse
            if node is not None:
                self._suite(node.body, scope)  # type: ignore[attr-defined]
            for env in branches:
                scope.env = _join(env, scope.env)
        elif type(stmt) is cst.For:
            items = _map_op(self.eval(stmt.iter, scope), (GET, None))
            before = dict(scope.env)
            self._assign(stmt.target, items, stmt.iter, scope, exact=False)
            self._suite(stmt.body, scope)
            scope.env = _join(before, scope.env)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
        elif type(stmt) is cst.While:
            self.eval(stmt.test, scope)
            before = dict(scope.env)
            self._suite(stmt.body, scope)
            scope.env = _join(before, scope.env)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
        elif type(stmt) is cst.Try or type(stmt) is cst.TryStar:
            before = dict(scope.env)
            self._suite(stmt.body, scope)
            after_body = _join(before, scope.env)
            results = []
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, scope)
            results.append(scope.env)
            for handler in stmt.handlers:
                scope.env = dict(after_body)
                if handler.type is not None:
                    self.eval(handler.type, scope)
                if handler.name is not None:
                    for name in _bound_names(handler.name.name):
                        scope.env[name] = EMPTY
                self._suite(handler.body, scope)
                results.append(scope.env)
            env = results[0]
            for other in results[1:]:
                env = _join(env, other)
            scope.env = env
            if stmt.finalbody is not None:
                self._suite(stmt.finalbody.body, scope)
        elif type(stmt) is cst.With:
            for item in stmt.items:
                value = self.eval(item.item, scope)
                if item.asname is not None:
                    self._assign(item.asname.name, value, item.item, scope, exact=False)
            self._suite(stmt.body, scope)
        elif type(stmt) is cst.FunctionDef:
            self._function(stmt, scope)
        elif type(stmt) is cst.ClassDef:
            self._class(stmt, scope)
        elif type(stmt) is cst.Match:
            self.eval(stmt.subject, scope)
            before = dict(scope.env)
            env = dict(before)
            for case in stmt.cases:
                scope.env = dict(before)
                if case.guard is not None:
                    self.eval(case.guard, scope)
                self._suite(case.body, scope)
                env = _join(env, scope.env)
            scope.env = env
        else:  # anything newer: walk its blocks so that sinks inside are still seen
            for block in _blocks(stmt):
                self._block(block, scope)

    def _small(self, small: cst.CSTNode, scope: _Scope) -> None:
        if type(small) is cst.Expr:
            self.eval(small.value, scope)
        elif type(small) is cst.Assign:
            self._assign_stmt(small, scope)
        elif type(small) is cst.AnnAssign:
            if small.value is not None:
                value = self.eval(small.value, scope)
                self._assign(small.target, value, small.value, scope,
                             exact=_is_exact(small.value))
            elif scope.kind == "class" and type(small.target) is cst.Name:
                name = small.target.value
                sources = self._name_sources(name, small.target, name)
                if sources:
                    self.attr_def.setdefault((scope.cls, name), set()).update(sources)
        elif type(small) is cst.AugAssign:
            current = self.eval(small.target, scope)
            value = _map_op(self.eval(small.value, scope), (RESET, None))
            self._assign(small.target, _cap(current | value), small.value, scope, exact=False,
                         augmented=True)
        elif type(small) is cst.Return:
            value = self.eval(small.value, scope) if small.value is not None else EMPTY
            if scope.kind == "function":
                self.ret_def.setdefault(scope.qual, set()).update(value)
                if value:
                    self.sites.append(Site("return", small, "return", args=[
                        (small.value or small, value)], function=scope.func))
        elif type(small) is cst.Raise:
            if small.exc is not None:
                value = self.eval(small.exc, scope)
                if type(small.exc) is cst.Call:
                    # any exception class (built-in, the project's, a framework's) keeps its
                    # arguments: they are the message a traceback or error tracker shows
                    for arg in small.exc.args:
                        value = value | self.eval(arg.value, scope)
                if small.cause is not None:
                    self.eval(small.cause, scope)
                if value:
                    exc = small.exc.func if type(small.exc) is cst.Call else small.exc
                    display = f"raise {dotted_name(exc)}".rstrip()
                    self.sites.append(Site("raise", small, display, args=[(small.exc, value)],
                                           function=scope.func))
        elif type(small) is cst.Assert:
            self.eval(small.test, scope)
            if small.msg is not None:
                value = self.eval(small.msg, scope)
                if value:
                    self.sites.append(Site("raise", small, "assert", args=[(small.msg, value)],
                                           function=scope.func))
        elif type(small) is cst.Global or type(small) is cst.Nonlocal:
            for item in small.names:
                if type(small) is cst.Global:
                    scope.globals.add(item.name.value)
        elif type(small) is cst.Del:
            for name in _bound_names(small.target):
                scope.env.pop(name, None)

    def _assign_stmt(self, node: cst.Assign, scope: _Scope) -> None:
        targets = [t.target for t in node.targets]
        value_node = node.value
        # `a, b = key, other`: pairwise, so that `b` stays clean
        target0 = targets[0]
        if (len(targets) == 1 and (type(target0) is cst.Tuple or type(target0) is cst.List)
                and (type(value_node) is cst.Tuple or type(value_node) is cst.List)
                and len(target0.elements) == len(value_node.elements)
                and not any(type(e) is cst.StarredElement
                            for e in (*target0.elements, *value_node.elements))):
            for target_element, element in zip(target0.elements, value_node.elements):
                value = self.eval(element.value, scope)
                self._assign(target_element.value, value, element.value, scope,
                             exact=_is_exact(element.value))
            return
        value = self.eval(value_node, scope)
        for target in targets:
            self._assign(target, value, value_node, scope, exact=_is_exact(value_node))

    def _assign(self, target: cst.BaseExpression, value: frozenset, value_node: cst.CSTNode,
                scope: _Scope, *, exact: bool, augmented: bool = False) -> None:
        if type(target) is cst.Name:
            name = target.value
            if not augmented and self._opaque(value_node, scope):
                value = _cap(value | self._name_sources(name, target, name))
            if exact:
                value = _with_via(value, name)
            self._bind(scope, name, value, value_node)
        elif type(target) is cst.Tuple or type(target) is cst.List:
            for element in target.elements:
                self._assign(element.value, value, value_node, scope, exact=False)
        elif type(target) is cst.StarredElement:
            self._assign(target.value, value, value_node, scope, exact=False)
        elif type(target) is cst.Attribute:
            dotted = dotted_name(target)
            head = dotted.split(".", 1)[0] if dotted else ""
            if not augmented and self._opaque(value_node, scope):
                foreign = (bool(head) and self._generic_only(target.attr.value)
                           and self._is_import(head, scope) and self._foreign(head))
                value = _cap(value | self._name_sources(target.attr.value, target,
                                                        dotted or target.attr.value,
                                                        foreign=foreign))
            if dotted:
                if exact:
                    value = _with_via(value, dotted)
                self._store(scope, dotted, value, target, value_node)
            else:
                self.eval(target.value, scope)
        elif type(target) is cst.Subscript:
            base = dotted_name(target.value)
            key = self._index_key(target, scope)
            if value:
                value = _map_op(value, (PUT, key))
            if base:
                self._store(scope, base, value, target, value_node, weak=True, item=True,
                            container=target.value)
            else:
                self.eval(target.value, scope)
            for index in target.slice:
                if type(index.slice) is cst.Index:
                    self.eval(index.slice.value, scope)

    def _bind(self, scope: _Scope, name: str, value: frozenset,
              value_node: cst.CSTNode | None) -> None:
        scope.env[name] = value
        for key in scope.dotted.get(name, ()):
            scope.env.pop(key, None)
        if scope.kind == "module" or name in scope.globals:
            self.globals_def.setdefault(name, set()).update(value)
        elif scope.kind == "class":
            self.attr_def.setdefault((scope.cls, name), set()).update(value)
        # aliases (logger objects, consoles) and constants (env var names, prefix lengths)
        if type(value_node) is cst.Call:
            callee = self._callee(value_node.func, scope)
            if callee:
                scope.aliases[name] = callee + "()"
            if self.config_loaders.match(callee or "-") is None and (
                    self._mentions_config_file(value_node, scope)):
                scope.handles.add(name)
        elif (type(value_node) is cst.Name or type(value_node) is cst.Attribute):
            callee = self._callee(value_node, scope)
            if callee and callee != name:
                scope.aliases[name] = callee
        else:
            scope.aliases.pop(name, None)
        const = constant_value(value_node) if value_node is not None else None
        if const is not None:
            scope.consts[name] = const
        else:
            scope.consts.pop(name, None)

    def _store(self, scope: _Scope, dotted: str, value: frozenset, target: cst.CSTNode,
               value_node: cst.CSTNode | None, *, weak: bool = False, item: bool = False,
               container: cst.CSTNode | None = None) -> None:
        """`a.b = v`, `a.b[k] = v`, `a.append(v)`: the dotted local, and what it means for a
        module global or a `self` attribute (recorded as puts, so other functions read the
        value back: `self.session.headers` in another method, `settings.api_key` elsewhere)."""
        parts = dotted.split(".")
        head, rest = parts[0], parts[1:]
        is_global = (scope.kind == "module" or head in scope.globals
                     or (head not in scope.env and head in self.top_names)
                     or (scope.kind != "function" and head in scope.env))
        scope.dotted.setdefault(head, set()).add(dotted)
        if weak:
            current = self.eval(container, scope) if container is not None else EMPTY
            scope.env[dotted] = _cap(current | value)
        else:
            scope.env[dotted] = value
        if value:
            suffix = "[]" if item else ""
            resolved = self._callee_from_dotted(dotted, scope) or dotted
            self.sites.append(Site("store", target, dotted + suffix, callee=resolved + suffix,
                                   args=[(value_node or target, value)], function=scope.func))
        if self._is_self(head, scope) and rest:
            puts = value
            for attr in reversed(rest[1:]):
                puts = _map_op(puts, (PUT, "." + attr))
            self.attr_def.setdefault((scope.cls, rest[0]), set()).update(puts)
            if len(rest) == 1 and isinstance(value_node, (cst.Call, cst.Name, cst.Attribute)):
                call = type(value_node) is cst.Call
                callee = self._callee(
                    value_node.func if type(value_node) is cst.Call else value_node, scope)
                if callee:
                    aliases = self.class_aliases.setdefault(scope.cls, {})
                    aliases["self." + rest[0]] = callee + ("()" if call else "")
            return
        if value and (rest or item) and is_global and not self._is_import(head, scope):
            puts = value
            for attr in reversed(rest):
                puts = _map_op(puts, (PUT, "." + attr))
            self.globals_def.setdefault(head, set()).update(puts)

    def _is_self(self, name: str, scope: _Scope) -> bool:
        return bool(scope.self_name) and name == scope.self_name and bool(scope.cls)

    def _function(self, node: cst.FunctionDef, scope: _Scope) -> None:
        for decorator in node.decorators:
            self.eval(decorator.decorator, scope)
        record = self.definitions.function(node)
        if record is None:  # not a def of the walked module: nothing known of it
            return
        info = _Func.of(record, scope.cls)
        qual, self_name = info.qual, info.self_name
        self.funcs[qual] = info
        inner = _Scope("function", qual, parent=scope if scope.kind == "function" else None,
                       cls=scope.cls if scope.kind == "class" else "",
                       self_name=self_name, func=node,  # `cls.<attr>` reads class attributes
                       record=record)
        for extra in info.stars:
            inner.env[extra] = EMPTY
        if self_name:
            inner.env[self_name] = EMPTY
        for param in info.bound:
            pname = param.name
            atoms = {Atom(Sym("param", (qual, pname)), (), pname)}
            atoms |= self._name_sources(pname, param.node, pname)
            if param.default is not None:
                default = self.eval(param.default, scope)
                if default:
                    self.param_def.setdefault((qual, pname), set()).update(default)
            inner.env[pname] = _cap(atoms)
        self.ret_def.setdefault(qual, set())
        self._suite(node.body, inner)

    def _class(self, node: cst.ClassDef, scope: _Scope) -> None:
        for decorator in node.decorators:
            self.eval(decorator.decorator, scope)
        for base in (*node.bases, *node.keywords):
            self.eval(base.value, scope)
        record = self.definitions.class_(node)
        if record is None:  # not a class of the walked module: nothing known of it
            return
        qual = record.qualname
        self.classes[qual] = record
        inner = _Scope("class", qual, cls=qual)
        self._suite(node.body, inner)
