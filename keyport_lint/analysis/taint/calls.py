"""Calls in the pass: sources (env reads, config files), sanitisers and propagators,
container mutation, local functions and methods mapped to their call sites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.definitions import ClassRecord, FunctionRecord
from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.taint.scopes import _CallInfo, _Func, _ModuleState
from keyport_lint.analysis.taint.syntax import (
    _MUTATORS,
    _SHAPE_METHODS,
    _keeps_shape,
    constant_value,
)
from keyport_lint.analysis.taint.values import (
    EMPTY,
    GET,
    PUT,
    RESET,
    Atom,
    Site,
    Source,
    Sym,
    _cap,
    _map_op,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.scopes import _Scope


class _Calls(_ModuleState):
    """What a call does to taint."""

    def _call(self, node: cst.Call, scope: _Scope) -> frozenset:
        func = node.func
        dotted = dotted_name(func)  # `a.b.c`: its first segment is also the receiver's
        callee = self._callee_from_dotted(dotted, scope)
        head = dotted.split(".", 1)[0]
        method = func.attr.value if type(func) is cst.Attribute else ""
        receiver = EMPTY
        if type(func) is cst.Attribute:
            if not (head and self._is_import(head, scope)):
                receiver = self.eval(func.value, scope)
        elif type(func) is not cst.Name:
            self.eval(func, scope)
        positional: list[frozenset] = []
        keywords: dict[str, frozenset] = {}
        star: set = set()
        args: list[tuple[cst.CSTNode, frozenset]] = []
        for arg in node.args:
            value = self.eval(arg.value, scope)
            args.append((arg.value, value))
            if arg.star:
                star |= value
            elif arg.keyword is not None:
                keywords[arg.keyword.value] = value
            else:
                positional.append(value)
        if any(v for _, v in args):
            self.sites.append(Site("call", node, dotted or "a call", callee, method,
                                   [(a, v) for a, v in args if v], scope.func))
        everything = _cap(set().union(*(v for _, v in args)) | star) if args else EMPTY
        last = (callee or method).rsplit(".", 1)[-1]

        for family, pattern in self.source_calls:
            if callee and pattern.match(callee):
                return frozenset({Atom(Source(family.name, f"{callee}()", "call", node))})
        source = self._env_read(node, callee, method, scope)
        if source is not None:  # `cfg.get("api_key")` is also an item of `cfg`
            if method and receiver and method in self.props_methods:
                source = source | self._method_result(method, receiver, node, positional,
                                                      keywords, everything)
            return _cap(source)
        if self.config_loaders.match(callee or "-") and self._mentions_config_file(node, scope):
            return self._config_source(node)
        if type(func) is cst.Attribute:
            self._mutate(func, method, node, positional, keywords, scope)
        if (callee and self.san_dotted.match(callee)) or (method and self.san_methods.match(
                method)):
            return EMPTY
        if method and method in self.props_methods:
            return self._method_result(method, receiver, node, positional, keywords, everything)
        if last and self.san_names.search(last):
            return EMPTY
        local = self._local_target(func, scope)
        if local is not None:
            return self._local_call(local, node, positional, keywords, star)
        if head and self._is_import(head, scope) and not (
                callee and self.props_dotted.match(callee)):
            members = tuple(dotted.split(".")[1:])
            info = _CallInfo("import", self.facts.imports[head], members, positional, keywords)
            self.calls[id(node)] = info
            return frozenset({Atom(Sym("icall", (id(node),)))})
        if callee and self.props_dotted.match(callee):
            return _map_op(everything, (RESET, None)) if not _keeps_shape(callee) else everything
        return EMPTY

    def _env_read(self, node: cst.Call, callee: str, method: str, scope: _Scope
                  ) -> frozenset | None:
        """`os.getenv("KEYPORT_API_KEY")`, `config("KEYPORT_API_KEY")`, `getattr(settings,
        "KEYPORT_API_KEY")`, `Field(env="KEYPORT_API_KEY")`: the named value is the secret."""
        names: list[tuple[str, cst.CSTNode]] = []
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if callee == "getattr" and len(positional) >= 2:
            names.append((self._str_arg(positional[1].value, scope), positional[1].value))
        elif positional and (self.env_reads.match(callee or "-") or (
                method and self.env_reads.match("." + method))):
            names.append((self._str_arg(positional[0].value, scope), positional[0].value))
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in (
                    "env", "envvar", "env_var", "alias", "validation_alias"):
                names.append((self._str_arg(arg.value, scope), arg.value))
        atoms: set = set()
        for name, _ in names:
            if name:
                atoms |= self._name_sources(name, node, name, kind="env")
        return frozenset(atoms) if atoms else None

    def _str_arg(self, node: cst.CSTNode, scope: _Scope) -> str:
        value = constant_value(node)
        if value is None and isinstance(node, cst.Name):
            value = self._const(node.value, scope)
        return value if isinstance(value, str) else ""

    def _mentions_config_file(self, node: cst.CSTNode, scope: _Scope, depth: int = 0) -> bool:
        """Does this call read a KeyPort config file (`open("keyport.json")`, a handle bound
        to one, `Path(...) / "keyport.json"`)?"""
        if depth > 4:
            return False
        if isinstance(node, cst.Name):
            s: _Scope | None = scope
            while s is not None:
                if node.value in s.handles:
                    return True
                s = s.parent
            value = self._const(node.value, scope)
            return isinstance(value, str) and bool(self.config_files.search(value))
        value = constant_value(node)
        if isinstance(value, str):
            return bool(self.config_files.search(value))
        children: list[cst.CSTNode] = []
        if isinstance(node, cst.Call):
            children = [node.func, *(a.value for a in node.args)]
        elif isinstance(node, cst.Attribute):
            children = [node.value]
        elif isinstance(node, cst.BinaryOperation):
            children = [node.left, node.right]
        elif isinstance(node, cst.FormattedString):
            return bool(self.config_files.search("".join(
                p.value for p in node.parts if isinstance(p, cst.FormattedStringText))))
        return any(self._mentions_config_file(c, scope, depth + 1) for c in children)

    def _config_source(self, node: cst.Call) -> frozenset:
        atoms = set()
        for family, _, _, _ in self.families:
            for fieldname in family.config_fields:
                source = Source(family.name, f"{fieldname} in the KeyPort config file",
                                "config", node)
                atoms.add(Atom(source, ((PUT, fieldname),)))
        return frozenset(atoms)

    def _mutate(self, func: cst.Attribute, method: str, node: cst.Call,
                positional: list[frozenset], keywords: dict[str, frozenset],
                scope: _Scope) -> None:
        """`headers.update({...})`, `parts.append(key)`: the receiver now holds the value."""
        if method not in _MUTATORS:
            return
        target = dotted_name(func.value)
        if not target or self._is_import(target.split(".", 1)[0], scope):
            return
        added: set = set()
        if method in ("setdefault",) and len(positional) >= 2:
            key = constant_value(node.args[0].value)
            added |= _map_op(positional[1], (PUT, key if isinstance(key, (str, int)) else None))
        elif method == "insert" and len(positional) >= 2:
            added |= positional[1]
        elif method not in ("setdefault", "insert"):
            for value in positional:
                added |= value
        for name, value in keywords.items():
            added |= _map_op(value, (PUT, name))
        if added:
            self._store(scope, target, _cap(added), func.value, node, weak=True,
                        container=func.value)

    def _method_result(self, method: str, receiver: frozenset, node: cst.Call,
                       positional: list[frozenset], keywords: dict[str, frozenset],
                       everything: frozenset) -> frozenset:
        if method in ("get", "pop", "setdefault"):
            key = constant_value(node.args[0].value) if node.args else None
            key = key if isinstance(key, (str, int)) and not isinstance(key, bool) else None
            result = _map_op(receiver, (GET, key))
            for extra in positional[1:]:
                result |= extra
            return _cap(result)
        if method in ("items", "values"):
            return _map_op(receiver, (GET, None))
        if method in _SHAPE_METHODS:
            return _cap(receiver | everything)
        return _map_op(_cap(receiver | everything), (RESET, None))

    def _local_target(self, func: cst.CSTNode, scope: _Scope) -> tuple[str, str] | None:
        """(func | class, qual) of a call to this module's function, method or class."""
        if isinstance(func, cst.Name):
            name = func.value
            s: _Scope | None = scope
            while s is not None:
                local = s.local(name)
                if local is not None:
                    kind = "class" if type(local) is ClassRecord else "func"
                    return (kind, local.qualname)
                if name in s.env:
                    return None
                s = s.parent
            if name in self.top_funcs:
                return ("func", self.top_funcs[name])
            if name in self.top_classes:
                return ("class", self.top_classes[name])
            return None
        if type(func) is not cst.Attribute:
            return None
        receiver, method = func.value, func.attr.value
        owner: str | None = None
        if type(receiver) is cst.Name:
            base = receiver.value
            owner = scope.cls if self._is_self(base, scope) else self.top_classes.get(base)
        elif type(receiver) is cst.Call and type(receiver.func) is cst.Name:
            made = self._local_target(receiver.func, scope)  # `Audit().record(key)`
            owner = made[1] if made is not None and made[0] == "class" else None
        if owner:
            record = self._methods(owner).get(method)
            if record is not None:
                return ("func", record.qualname)
        return None

    def _methods(self, qual: str) -> Mapping[str, FunctionRecord]:
        """The methods of this module's class `qual`, walked yet or not."""
        record = self.definitions.by_qualname.get(qual)
        return record.methods if type(record) is ClassRecord else {}

    def _local_call(self, target: tuple[str, str], node: cst.Call,
                    positional: list[frozenset], keywords: dict[str, frozenset],
                    star: set) -> frozenset:
        kind, qual = target
        info = _CallInfo("local", qual, (), positional, keywords)
        if kind == "class":
            init, fields = self._class_shape(qual)
            if init:
                info.target = f"{qual}.__init__"
                self._map_args(info, info.target, star)
            else:  # dataclass, pydantic model, NamedTuple: fields by position and name
                for i, value in enumerate(positional):
                    if i < len(fields) and value:
                        self.attr_def.setdefault((qual, fields[i]), set()).update(value)
                for name, value in keywords.items():
                    if value:
                        self.attr_def.setdefault((qual, name), set()).update(value)
            return frozenset({Atom(Sym("inst", (qual,)))})
        self._map_args(info, qual, star)
        self.calls[id(node)] = info
        return frozenset({Atom(Sym("call", (id(node),)))})

    def _map_args(self, info: _CallInfo, qual: str, star: set) -> None:
        func = self.funcs.get(qual)
        # a function defined further down is not walked yet: read its parameters
        node_params = func.params if func is not None else self._find_def(qual)
        if node_params is None:
            return
        for i, value in enumerate(info.positional):
            if i < len(node_params):
                info.mapped[node_params[i]] = value
        for name, value in info.keywords.items():
            if name in node_params:
                info.mapped[name] = value
        if star:
            for name in node_params:
                info.mapped[name] = _cap(info.mapped.get(name, EMPTY) | star)
        for name, value in info.mapped.items():
            if value:
                self.param_def.setdefault((qual, name), set()).update(value)

    def _class_shape(self, qual: str) -> tuple[bool, list[str]]:
        """(has `__init__`, annotated fields) of a class, walked yet or not."""
        record = self.definitions.by_qualname.get(qual)
        body = record.node.body.body if type(record) is ClassRecord else ()
        init, fields = False, []
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
                init = True
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        fields.append(small.target.value)
        return init, fields

    def _find_def(self, qual: str) -> list[str] | None:
        """Parameters of a def of this module not walked yet, by its qualified name."""
        record = self.definitions.by_qualname.get(qual)
        return _Func.of(record, "").params if type(record) is FunctionRecord else None

    def _opaque(self, node: cst.CSTNode | None, scope: _Scope) -> bool:
        """Is a clean-looking value unknown (a call, an attribute), rather than known clean (a
        literal, a prefix, a sanitiser)? A key-named name assigned an unknown value holds it."""
        if node is None:
            return True
        if isinstance(node, cst.Await):
            node = node.expression
        if isinstance(node, cst.Name):
            if node.value in ("None", "True", "False"):
                return False
            s: _Scope | None = scope
            while s is not None:
                if node.value in s.env:
                    return False
                s = s.parent
            return True
        if isinstance(node, cst.Call):
            callee = self._callee(node.func, scope)
            method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
            last = (callee or method).rsplit(".", 1)[-1]
            return not ((callee and self.san_dotted.match(callee)) or (
                method and self.san_methods.match(method)) or (
                last and self.san_names.search(last)))
        if isinstance(node, cst.Subscript):
            return not any(isinstance(e.slice, cst.Slice) for e in node.slice)
        return isinstance(node, cst.Attribute)

