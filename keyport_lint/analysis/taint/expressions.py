"""Expressions in the pass: the taint of an expression, bottom-up, with the calls,
raises and stores inside it recorded as sites."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.placeholders import is_placeholder
from keyport_lint.analysis.taint.calls import _Calls
from keyport_lint.analysis.taint.scopes import _ModuleState, _Scope
from keyport_lint.analysis.taint.syntax import (
    _bound_names,
    _is_exact,
    constant_value,
)
from keyport_lint.analysis.taint.values import (
    EMPTY,
    GET,
    MAX_EVAL_DEPTH,
    PUT,
    RESET,
    Atom,
    Source,
    Sym,
    _cap,
    _map_op,
    _with_via,
)
from keyport_lint.kinds.base import literal_trigger
from keyport_lint.redact import redact_text

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.values import Key


class _Expressions(_ModuleState):
    """The taint of expressions."""

    foreign_heads: dict[str, bool]  # `_foreign`, per imported name (set by `_Module`)

    # -- expressions ---------------------------------------------------------------------------
    def eval(self, node: cst.CSTNode | None, scope: _Scope) -> frozenset:
        """The taint of an expression; records the calls, raises and stores inside it."""
        if node is None or self._depth > MAX_EVAL_DEPTH:
            return EMPTY
        # one dict lookup on the exact type: libcst's concrete node classes have no
        # subclasses, and an `isinstance` that fails costs a Python call (ABCMeta) per class
        handler = _DISPATCH.get(type(node))
        self._depth += 1
        try:
            if handler is not None:
                return handler(self, node, scope)
            # unknown or newer expression types: still see the calls inside, never guess taint
            for child in node.children:
                if isinstance(child, cst.BaseExpression):
                    self.eval(child, scope)
            return EMPTY
        finally:
            self._depth -= 1

    def _name(self, node: cst.Name, scope: _Scope) -> frozenset:
        return self._read_name(node.value, node, scope)

    def _boolean(self, node: cst.BooleanOperation, scope: _Scope) -> frozenset:
        return _cap(self.eval(node.left, scope) | self.eval(node.right, scope))

    def _unary(self, node: cst.UnaryOperation, scope: _Scope) -> frozenset:
        value = self.eval(node.expression, scope)
        return EMPTY if isinstance(node.operator, cst.Not) else value

    def _comparison(self, node: cst.Comparison, scope: _Scope) -> frozenset:
        self.eval(node.left, scope)  # a comparison is a bool: it never leaks
        for target in node.comparisons:
            self.eval(target.comparator, scope)
        return EMPTY

    def _ifexp(self, node: cst.IfExp, scope: _Scope) -> frozenset:
        self.eval(node.test, scope)  # the test only decides: `"set" if key else "missing"`
        return _cap(self.eval(node.body, scope) | self.eval(node.orelse, scope))

    def _named(self, node: cst.NamedExpr, scope: _Scope) -> frozenset:
        value = self.eval(node.value, scope)
        self._assign(node.target, value, node.value, scope, exact=_is_exact(node.value))
        return value

    def _display(self, node: cst.List | cst.Tuple | cst.Set, scope: _Scope) -> frozenset:
        atoms: set = set()
        for element in node.elements:
            atoms |= self.eval(element.value, scope)
        return _cap(atoms)

    def _await(self, node: cst.Await, scope: _Scope) -> frozenset:
        return self.eval(node.expression, scope)

    def _starred(self, node: cst.StarredElement, scope: _Scope) -> frozenset:
        return self.eval(node.value, scope)

    def _yield(self, node: cst.Yield, scope: _Scope) -> frozenset:
        yielded = node.value
        if isinstance(yielded, cst.From):
            yielded = yielded.item
        result = self.eval(yielded, scope)
        if scope.kind == "function":
            self.ret_def.setdefault(scope.qual, set()).update(result)
        return EMPTY

    def _lambda(self, node: cst.Lambda, scope: _Scope) -> frozenset:
        inner = _Scope("function", scope.qual + ".<lambda>", parent=scope
                       if scope.kind == "function" else None, cls=scope.cls,
                       self_name=scope.self_name, func=scope.func)
        for param in node.params.params:
            inner.env[param.name.value] = EMPTY
        self.eval(node.body, inner)
        return EMPTY

    def _number(self, node: cst.CSTNode, scope: _Scope) -> frozenset:
        return EMPTY

    def _binary(self, node: cst.BinaryOperation, scope: _Scope) -> frozenset:
        operands: list[cst.CSTNode] = []
        stack: list[cst.CSTNode] = [node]
        while stack:  # long `a + b + c …` chains without deep recursion
            item = stack.pop()
            if isinstance(item, cst.BinaryOperation) and len(operands) + len(stack) < 10_000:
                stack.append(item.right)
                stack.append(item.left)
            else:
                operands.append(item)
        atoms: set = set()
        for operand in operands:
            atoms |= self.eval(operand, scope)
        return _map_op(_cap(atoms), (RESET, None))

    def _dict(self, node: cst.Dict, scope: _Scope) -> frozenset:
        atoms: set = set()
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = constant_value(element.key)
                if not isinstance(key, (str, int)):
                    key = None
                atoms |= self.eval(element.key, scope)
                atoms |= _map_op(self.eval(element.value, scope), (PUT, key))
            else:
                atoms |= self.eval(element.value, scope)
        return _cap(atoms)

    def _comprehension(self, node: cst.CSTNode, scope: _Scope) -> frozenset:
        inner = _Scope(scope.kind if scope.kind != "class" else "function", scope.qual,
                       parent=scope.parent, cls=scope.cls, self_name=scope.self_name,
                       func=scope.func)
        inner.env = dict(scope.env)
        inner.aliases, inner.consts, inner.globals = scope.aliases, scope.consts, scope.globals
        inner.handles, inner.record, inner.dotted = scope.handles, scope.record, scope.dotted
        for_in = node.for_in  # type: ignore[attr-defined]
        depth = 0
        while for_in is not None and depth < 20:
            items = _map_op(self.eval(for_in.iter, inner), (GET, None))
            for name in _bound_names(for_in.target):
                inner.env[name] = items
            for cond in for_in.ifs:
                self.eval(cond.test, inner)
            for_in = for_in.inner_for_in
            depth += 1
        if isinstance(node, cst.DictComp):
            return _cap(self.eval(node.key, inner) | _map_op(self.eval(node.value, inner),
                                                                (PUT, None)))
        return self.eval(node.elt, inner)  # type: ignore[attr-defined]

    def _fstring(self, node: cst.FormattedString, scope: _Scope) -> frozenset:
        atoms: set = set()
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression):
                value = self.eval(part.expression, scope)
                if part.format_spec:
                    for spec in part.format_spec:
                        if isinstance(spec, cst.FormattedStringExpression):
                            atoms |= self.eval(spec.expression, scope)
                    if self._precision_ok(part.format_spec):
                        value = EMPTY  # f"{key:.12}" shows only a prefix
                atoms |= value
            elif isinstance(part, cst.FormattedStringText):
                atoms |= self._literal_text(part.value, part)
        return _map_op(_cap(atoms), (RESET, None))

    def _precision_ok(self, spec: Iterable[cst.CSTNode]) -> bool:
        text = "".join(p.value for p in spec if isinstance(p, cst.FormattedStringText))
        match = re.search(r"\.(\d+)s?$", text)
        return match is not None and int(match.group(1)) <= self.prefix_max

    def _literal(self, node: cst.CSTNode, scope: _Scope) -> frozenset:
        if isinstance(node, cst.ConcatenatedString):
            value = constant_value(node)
            if isinstance(value, str):
                return self._literal_text(value, node)
            atoms: set = set()  # with f-string pieces: each piece on its own
            stack: list[cst.CSTNode] = [node]
            while stack:
                item = stack.pop()
                if isinstance(item, cst.ConcatenatedString):
                    stack.extend((item.right, item.left))
                else:
                    atoms |= self.eval(item, scope)
            return _cap(atoms)
        value = constant_value(node)
        return self._literal_text(value, node) if isinstance(value, str) else EMPTY

    def _literal_text(self, text: str, node: cst.CSTNode) -> frozenset:
        if len(text) < 16:
            return EMPTY
        atoms = set()
        text = text[: self.ctx.settings["max-line-length"]]
        for family, _, _, patterns in self.families:
            for pattern in patterns:
                for match in pattern.finditer(text):
                    found = match.group(0)
                    prefix = literal_trigger(pattern.pattern, min_len=1) or ""
                    random_part = found[len(prefix):] if found.lower().startswith(
                        prefix) else found
                    if is_placeholder(random_part, list(self.cfg.placeholder_words),
                                      self.cfg.min_entropy):
                        continue
                    shown = redact_text(found, found[: len(prefix)], self.prefix_max)
                    atoms.add(Atom(Source(family.name, f"literal {shown}", "literal", node)))
                    break
        return _cap(atoms)

    # -- names, attributes, items --------------------------------------------------------------
    def _name_sources(self, name: str, node: cst.CSTNode, desc: str, kind: str = "name",
                      foreign: bool = False) -> frozenset:
        """A name that holds the secret by its name (KeyPort-specific anywhere, generic only
        in KeyPort-related code and not on another vendor's module)."""
        names = self._families_named(name, foreign)
        if not names:
            return EMPTY
        via = desc if kind == "name" else ""
        return frozenset({Atom(Source(family, desc, kind, node), (), via) for family in names})

    def _families_named(self, name: str, foreign: bool) -> tuple[str, ...]:
        memo = self.analyzer.name_families[self.related]
        key = (name, foreign)
        names = memo.get(key)
        if names is None:  # the same names recur in every module: matched once per run
            if len(memo) > 50_000:
                memo.clear()
            names = memo[key] = tuple(
                family.name for family, specific, generic, _ in self.families
                if specific.fullmatch(name) or (not foreign and generic.fullmatch(name)))
        return names

    def _generic_only(self, name: str) -> bool:
        """Does it matter for `name` whether its module is another vendor's (`_foreign`)?"""
        return self._families_named(name, False) != self._families_named(name, True)

    def _read_name(self, name: str, node: cst.CSTNode, scope: _Scope) -> frozenset:
        if name in ("None", "True", "False"):
            return EMPTY
        s: _Scope | None = scope
        while s is not None:
            if name in s.env:
                return s.env[name]
            if s.local(name) is not None:
                return EMPTY
            s = s.parent
        if scope.kind == "function" and (name in scope.globals or name in self.top_names):
            return frozenset({Atom(Sym("global", (name,)), (), name)})
        if scope.kind == "class" and name in self.module_scope.env:
            return self.module_scope.env[name]
        if name in self.top_funcs or name in self.top_classes:
            return EMPTY
        origin = self.facts.imports.get(name)
        if origin is not None:
            sym = Sym("import", (origin, ()))
            self._fallback(sym, name, node, name)
            return frozenset({Atom(sym, (), name)})
        if scope.kind != "function" and name in self.top_names:
            return EMPTY  # read before its assignment at module level
        return self._name_sources(name, node, name)

    def _fallback(self, sym: Sym, name: str, node: cst.CSTNode, desc: str,
                  foreign: bool = False) -> None:
        if sym not in self.fallback:
            self.fallback[sym] = self._name_sources(name, node, desc, foreign=foreign)

    def _read_attribute(self, node: cst.Attribute, scope: _Scope) -> frozenset:
        attr = node.attr.value
        dotted = dotted_name(node)
        if dotted:
            s: _Scope | None = scope
            while s is not None:
                if dotted in s.env:
                    return s.env[dotted]
                s = s.parent
        base = node.value
        if isinstance(base, cst.Name) and self._is_self(base.value, scope):
            sym = Sym("attr", (scope.cls, attr))
            self._fallback(sym, attr, node, dotted)
            return frozenset({Atom(sym, (), dotted)})
        head = dotted.split(".", 1)[0] if dotted else ""
        if head and self._is_import(head, scope):
            members = tuple(dotted.split(".")[1:])
            sym = Sym("import", (self.facts.imports[head], members))
            if sym not in self.fallback:  # whether `head` is another vendor's, only if it matters
                self._fallback(sym, attr, node, dotted,
                               foreign=self._generic_only(attr) and self._foreign(head))
            return frozenset({Atom(sym, (), dotted)})
        value = _map_op(self.eval(base, scope), (GET, "." + attr))
        if dotted:
            value = _with_via(value, dotted)
        return _cap(value | self._name_sources(attr, node, dotted or attr))

    def _is_import(self, name: str, scope: _Scope) -> bool:
        if name not in self.facts.imports:
            return False
        s: _Scope | None = scope
        while s is not None:
            if name in s.env:
                return False
            s = s.parent
        return name not in self.top_names

    def _foreign(self, head: str) -> bool:
        """Is `head` another vendor's module (`openai`, `stripe`), not KeyPort's or ours?"""
        found = self.foreign_heads.get(head)
        if found is None:
            found = self.foreign_heads[head] = self._is_foreign(head)
        return found

    def _is_foreign(self, head: str) -> bool:
        origin = self.facts.imports.get(head, "")
        if not origin or self.markers.search(origin):
            return False
        project, path = self.ctx.project, self.ctx.path
        if project is not None and path is not None and not origin.startswith("."):
            return project.resolve_origin(path, origin) is None
        return not origin.startswith(".")

    def _subscript(self, node: cst.Subscript, scope: _Scope) -> frozenset:
        value = self.eval(node.value, scope)
        if len(node.slice) != 1:
            for element in node.slice:
                self.eval(getattr(element.slice, "value", None), scope)
            return value
        inner = node.slice[0].slice
        if isinstance(inner, cst.Slice):
            for part in (inner.lower, inner.upper, inner.step):
                self.eval(part, scope)
            upper = self._int(inner.upper, scope)
            if upper is not None and 0 <= upper <= self.prefix_max:
                return EMPTY  # key[:12]: a loggable prefix
            lower = self._int(inner.lower, scope)
            if inner.upper is None and lower is not None and -self.suffix_max <= lower < 0:
                return EMPTY  # key[-4:]: a mask
            return _map_op(value, (RESET, None)) if value else value
        if not isinstance(inner, cst.Index):
            return value
        self.eval(inner.value, scope)
        key = self._index_key(node, scope)
        result = _map_op(value, (GET, key)) if value else value
        if isinstance(key, str):
            result = _cap(result | self._name_sources(key, node, key, kind="env"))
        return result

    def _index_key(self, node: cst.Subscript, scope: _Scope) -> Key:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        index = node.slice[0].slice.value
        const = constant_value(index)
        if const is None and isinstance(index, cst.Name):
            const = self._const(index.value, scope)
        return const if isinstance(const, (str, int)) and not isinstance(const, bool) else None

    def _const(self, name: str, scope: _Scope) -> Any:
        s: _Scope | None = scope
        while s is not None:
            if name in s.consts:
                return s.consts[name]
            s = s.parent
        return self.module_scope.consts.get(name)

    def _int(self, node: cst.CSTNode | None, scope: _Scope) -> int | None:
        if node is None:
            return None
        value = constant_value(node)
        if value is None and isinstance(node, cst.Name):
            value = self._const(node.value, scope)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    # -- calls ---------------------------------------------------------------------------------
    def _callee(self, func: cst.CSTNode, scope: _Scope) -> str:
        return self._callee_from_dotted(dotted_name(func), scope)

    def _callee_from_dotted(self, dotted: str, scope: _Scope) -> str:
        """Resolved dotted name: local aliases (`log = logging.getLogger()`), `self.<attr>`
        aliases of the class, then the import table."""
        if not dotted:
            return ""
        # local alias tables are keyed by plain names, the class's by `self.<attr>`: only the
        # first one or two segments can match (longest first, as the tables are searched)
        head, _, rest = dotted.partition(".")
        if scope.cls and scope.self_name and head == scope.self_name:
            head = "self"
            if rest:
                attr, _, more = rest.partition(".")
                key = "self." + attr
                target = self.class_aliases.get(scope.cls, {}).get(key)
                if target is not None and target != key:
                    return f"{target}.{more}" if more else target
        s: _Scope | None = scope
        while s is not None:
            target = s.aliases.get(head)
            if target is not None and target != head:
                return f"{target}.{rest}" if rest else target
            s = s.parent
        target = self.module_scope.aliases.get(head)
        if target is not None and target != head:
            return f"{target}.{rest}" if rest else target
        if head == "self":
            return f"self.{rest}" if rest else "self"
        return self.facts.resolve_dotted(dotted)



_DISPATCH: dict[type, Callable[..., frozenset]] = {
    cst.Name: _Expressions._name,
    cst.Attribute: _Expressions._read_attribute,
    cst.Call: _Calls._call,
    cst.Subscript: _Expressions._subscript,
    cst.SimpleString: _Expressions._literal,
    cst.ConcatenatedString: _Expressions._literal,
    cst.FormattedString: _Expressions._fstring,
    cst.BinaryOperation: _Expressions._binary,
    cst.BooleanOperation: _Expressions._boolean,
    cst.UnaryOperation: _Expressions._unary,
    cst.Comparison: _Expressions._comparison,
    cst.IfExp: _Expressions._ifexp,
    cst.NamedExpr: _Expressions._named,
    cst.List: _Expressions._display,
    cst.Tuple: _Expressions._display,
    cst.Set: _Expressions._display,
    cst.Dict: _Expressions._dict,
    cst.ListComp: _Expressions._comprehension,
    cst.SetComp: _Expressions._comprehension,
    cst.GeneratorExp: _Expressions._comprehension,
    cst.DictComp: _Expressions._comprehension,
    cst.Await: _Expressions._await,
    cst.Yield: _Expressions._yield,
    cst.Lambda: _Expressions._lambda,
    cst.StarredElement: _Expressions._starred,
    cst.Integer: _Expressions._number,
    cst.Float: _Expressions._number,
    cst.Imaginary: _Expressions._number,
    cst.Ellipsis: _Expressions._number,
}
