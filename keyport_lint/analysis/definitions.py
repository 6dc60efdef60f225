"""One record per function, lambda and class of a module, shared by every analysis.

Endpoint detection, verification flows, validation-result events and the taint pass all need
the same facts about a def: its qualified name, the class it is a method of, its decorators as
dotted names, its parameters (kind, annotation, default) with the bound `self`/`cls` set
apart, what it returns. They are collected once, by a collector of the shared
walk (`analysis/model.py`), and read from `module_records(ctx).definitions`; no reader mutates
a record.

A def's decorators, parameter defaults and annotations run in the enclosing scope, so their
expressions belong to the enclosing record; a record's own body starts at its body field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.fastvisit import FastVisitor

if TYPE_CHECKING:
    from keyport_lint.analysis.facts import ModuleFacts
    from keyport_lint.context import PythonContext

POSITIONAL_ONLY = "positional-only"
POSITIONAL = "positional"
VAR_POSITIONAL = "*args"
KEYWORD_ONLY = "keyword-only"
VAR_KEYWORD = "**kwargs"

_STATIC = frozenset({"staticmethod", "builtins.staticmethod"})
_CLASS = frozenset({"classmethod", "builtins.classmethod"})


class Decorator:
    """`@expr`: `written` is the callee's dotted name as written (`app.post` for
    `@app.post("/x")`), `resolved` the same through the module's imports."""

    __slots__ = ("call", "expr", "last", "node", "resolved", "written")

    def __init__(self, node: cst.Decorator, facts: ModuleFacts) -> None:
        self.node = node
        self.expr = expr = node.decorator
        self.call: cst.Call | None = expr if type(expr) is cst.Call else None
        func = expr.func if type(expr) is cst.Call else expr
        self.written = written = dotted_name(func)
        self.resolved = facts.resolve_dotted(written, calls=False) if written else ""
        self.last = written.rpartition(".")[2]  # its own name: `post` for `app.post`


class Parameter:
    """One parameter: `kind` is one of POSITIONAL_ONLY, POSITIONAL, VAR_POSITIONAL,
    KEYWORD_ONLY, VAR_KEYWORD; `annotation` the annotation's resolved dotted name, its head's
    for a subscript (`Optional[T]` -> `typing.Optional`), "" for anything else or none."""

    __slots__ = ("annotation", "annotation_node", "default", "kind", "name", "node")

    def __init__(self, node: cst.Param, kind: str, facts: ModuleFacts) -> None:
        self.node = node
        self.name = node.name.value
        self.kind = kind
        self.default = node.default
        self.annotation_node = annotation = node.annotation.annotation \
            if node.annotation is not None else None
        if type(annotation) is cst.Subscript:
            annotation = annotation.value
        written = dotted_name(annotation) if annotation is not None else ""
        self.annotation = facts.resolve_dotted(written, calls=False) if written else ""


class ClassRecord:
    """A class statement: `bases` are the resolved dotted names of the bases that are names
    (`metaclass=` and other keywords left out), `written_bases` the same as written;
    `methods` the defs directly in its body by name (the last of a name, as Python
    binds it; for a property its getter, not its setter); `assigns` its body's single-name
    assignments (the last of a name)."""

    __slots__ = ("assigns", "bases", "decorators", "methods", "name", "node", "parent",
                 "qualname", "written_bases")

    def __init__(self, node: cst.ClassDef, parent: Record | None, facts: ModuleFacts) -> None:
        self.node = node
        self.name = node.name.value
        self.parent = parent
        self.qualname = _qualname(parent, self.name)
        self.decorators = _decorators(node, facts) if node.decorators else ()
        self.written_bases = tuple(b for b in (dotted_name(a.value) for a in node.bases) if b)
        self.bases = tuple(facts.resolve_dotted(b, calls=False) for b in self.written_bases)
        # dicts while the walk fills them, read-only views after (`Definitions.freeze`)
        self.methods: Mapping[str, FunctionRecord] = {}
        self.assigns: Mapping[str, cst.BaseExpression] = {}

    @property
    def in_function(self) -> bool:
        """Is it defined inside a def or lambda (at any depth)?"""
        return enclosing_function(self) is not None


class FunctionRecord:
    """A def (or a lambda, `is_lambda`): `cls` is the class it is a method of (a def directly
    in a class body), `self_name` the name its first parameter binds for a method that is not
    a staticmethod (`first` says "self" or "cls"), `params` every parameter in order and
    `bound` those a caller passes (the bound `self`/`cls` left out); `returns` the values of
    the `return` statements of its own body (not of nested defs; a lambda's body),
    `functions` the defs directly in its body by name and `classes` the classes (the last
    of a name)."""

    __slots__ = ("bound", "classes", "cls", "decorators", "first", "functions", "is_async",
                 "is_lambda", "name", "node", "params", "parent", "qualname", "returns",
                 "self_name")

    def __init__(self, node: cst.FunctionDef | cst.Lambda, parent: Record | None,
                 facts: ModuleFacts) -> None:
        self.node = node
        self.parent = parent
        # lists and a dict while the walk fills them, tuples and a read-only view after
        self.returns: Sequence[cst.BaseExpression] = []
        self.functions: Mapping[str, FunctionRecord] = {}
        self.classes: Mapping[str, ClassRecord] = {}
        self.params = params = _parameters(node.params, facts)
        self.cls: ClassRecord | None = None
        self.first = self.self_name = ""
        if isinstance(node, cst.Lambda):  # once per record
            self.is_lambda = True
            self.is_async = False
            self.name = "<lambda>"
            self.decorators: tuple[Decorator, ...] = ()
            self.returns.append(node.body)  # type: ignore[attr-defined]
        else:
            self.is_lambda = False
            self.is_async = node.asynchronous is not None
            self.name = node.name.value
            self.decorators = _decorators(node, facts) if node.decorators else ()
            if type(parent) is ClassRecord:
                self.cls = parent
                resolved = {d.resolved for d in self.decorators}
                if params and params[0].kind in (POSITIONAL_ONLY, POSITIONAL) and \
                        not resolved & _STATIC:
                    self.self_name = params[0].name
                    self.first = "cls" if resolved & _CLASS else "self"
        self.qualname = _qualname(parent, self.name)
        self.bound = params[1:] if self.self_name else params

    @property
    def accessor(self) -> bool:
        """Is it `@name.setter`/`.deleter`/`.getter` of its own name? Python then binds the
        property, whose getter is the earlier def."""
        return any(d.written in (f"{self.name}.setter", f"{self.name}.deleter",
                                 f"{self.name}.getter") for d in self.decorators)

    @property
    def positional(self) -> tuple[Parameter, ...]:
        """The parameters a caller may pass by position, `self`/`cls` left out."""
        return tuple(p for p in self.bound if p.kind in (POSITIONAL_ONLY, POSITIONAL))

    def decorated(self, names: frozenset[str] | set[str]) -> bool:
        """Does a decorator's own name (`last`) belong to `names`?"""
        return any(d.last in names for d in self.decorators)


Record = Union[FunctionRecord, ClassRecord]


def enclosing_function(record: Record) -> FunctionRecord | None:
    """The nearest def or lambda around a record (classes in between skipped)."""
    parent = record.parent
    while parent is not None and type(parent) is ClassRecord:
        parent = parent.parent
    return parent  # type: ignore[return-value]


_EMPTY: Any = MappingProxyType({})


def _read_only(mapping: Any) -> Any:
    """A read-only view (nothing else holds the map, so no copy); one shared empty view."""
    return MappingProxyType(mapping) if mapping else _EMPTY


class Definitions:
    """Every record of a module in source order, with lookups by node (`by_id`, keyed by
    `id(node)`: records keep their nodes alive, and a libcst node hashes in Python) and by
    qualified name (the last definition of a qualified name, as Python binds it)."""

    __slots__ = ("by_id", "by_qualname", "classes", "functions", "module_classes",
                 "module_functions")

    def __init__(self) -> None:
        self.functions: list[FunctionRecord] = []
        self.classes: list[ClassRecord] = []
        self.by_id: dict[int, Record] = {}
        self.by_qualname: dict[str, Record] = {}
        # defs and classes of the module body (also inside top-level `if`/`try`), by name
        self.module_functions: dict[str, FunctionRecord] = {}
        self.module_classes: dict[str, ClassRecord] = {}

    def freeze(self) -> None:
        """After the walk: every list and map a record holds becomes read-only. The records
        are shared by every rule through the memo; a reader changing one would make findings
        depend on `--select`, so it fails loudly (in the tests) instead."""
        for function in self.functions:
            function.returns = tuple(function.returns)
            function.functions = _read_only(function.functions)
            function.classes = _read_only(function.classes)
        for cls in self.classes:
            cls.methods = _read_only(cls.methods)
            cls.assigns = _read_only(cls.assigns)

    def function(self, node: cst.CSTNode | None) -> FunctionRecord | None:
        """The record of a def or lambda node."""
        record = self.by_id.get(id(node))
        return record if type(record) is FunctionRecord else None

    def class_(self, node: cst.CSTNode | None) -> ClassRecord | None:
        """The record of a class node."""
        record = self.by_id.get(id(node))
        return record if type(record) is ClassRecord else None


def _qualname(parent: Record | None, name: str) -> str:
    """Python's `__qualname__`."""
    if parent is None:
        return name
    if type(parent) is FunctionRecord:
        return f"{parent.qualname}.<locals>.{name}"
    return f"{parent.qualname}.{name}"


def _parameters(params: cst.Parameters, facts: ModuleFacts) -> tuple[Parameter, ...]:
    out = []
    for param in params.posonly_params:
        out.append(Parameter(param, POSITIONAL_ONLY, facts))
    for param in params.params:
        out.append(Parameter(param, POSITIONAL, facts))
    if type(params.star_arg) is cst.Param:
        out.append(Parameter(params.star_arg, VAR_POSITIONAL, facts))
    for param in params.kwonly_params:
        out.append(Parameter(param, KEYWORD_ONLY, facts))
    if params.star_kwarg is not None:
        out.append(Parameter(params.star_kwarg, VAR_KEYWORD, facts))
    return tuple(out)


def _decorators(node: cst.FunctionDef | cst.ClassDef, facts: ModuleFacts
                ) -> tuple[Decorator, ...]:
    return tuple([Decorator(d, facts) for d in node.decorators])


class DefinitionsCollector(FastVisitor):
    """Records defs, lambdas and classes as the shared walk reaches them. `open` holds the
    records whose body the walk is in (innermost last): a def's decorators, defaults and
    annotations are visited before its body opens."""

    def __init__(self, facts: ModuleFacts, out: Definitions) -> None:
        super().__init__()
        self.facts = facts
        self.out = out
        self.open: list[Record] = []
        self.top: Record | None = None

    @property
    def function(self) -> FunctionRecord | None:
        """The innermost def or lambda whose body the walk is in."""
        top = self.top
        if top is None or type(top) is FunctionRecord:
            return top
        return enclosing_function(top)

    def _add(self, record: Record, name: str) -> None:
        out = self.out
        out.by_id[id(record.node)] = record
        parent = record.parent
        if type(record) is FunctionRecord:
            # a property's setter or deleter leaves the name bound to the property (its getter)
            if record.qualname not in out.by_qualname or not record.accessor:
                out.by_qualname[record.qualname] = record
            out.functions.append(record)
            if type(parent) is ClassRecord:
                if name not in parent.methods or not record.accessor:
                    parent.methods[name] = record  # type: ignore[index]
            elif type(parent) is FunctionRecord:
                parent.functions[name] = record  # type: ignore[index]
            else:
                out.module_functions[name] = record
        else:
            out.by_qualname[record.qualname] = record
            out.classes.append(record)  # type: ignore[arg-type]
            if parent is None:
                out.module_classes[name] = record  # type: ignore[assignment]
            elif type(parent) is FunctionRecord:
                parent.classes[name] = record  # type: ignore[index]

    def _open(self, node: cst.CSTNode) -> None:
        """The walk enters a record's body."""
        record = self.out.by_id[id(node)]
        self.open.append(record)
        self.top = record

    def _close(self, node: cst.CSTNode) -> None:
        self.open.pop()
        self.top = self.open[-1] if self.open else None

    visit_ClassDef_body = visit_FunctionDef_body = visit_Lambda_body = _open
    leave_ClassDef_body = leave_FunctionDef_body = leave_Lambda_body = _close

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._add(ClassRecord(node, self.top, self.facts), node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._add(FunctionRecord(node, self.top, self.facts), node.name.value)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        record = FunctionRecord(node, self.top, self.facts)
        self.out.by_id[id(node)] = record
        self.out.functions.append(record)

    def visit_Return(self, node: cst.Return) -> None:
        top = self.top
        if type(top) is FunctionRecord and node.value is not None:
            top.returns.append(node.value)  # type: ignore[attr-defined]

    def visit_Assign(self, node: cst.Assign) -> None:
        top = self.top
        if type(top) is ClassRecord and len(node.targets) == 1 and \
                type(node.targets[0].target) is cst.Name:
            top.assigns[node.targets[0].target.value] = node.value  # type: ignore[attr-defined,index]

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        top = self.top
        if type(top) is ClassRecord and node.value is not None and \
                type(node.target) is cst.Name:
            top.assigns[node.target.value] = node.value  # type: ignore[attr-defined,index]


def collector(facts: ModuleFacts) -> DefinitionsCollector:
    """A collector for the shared walk; it fills `collector.out`."""
    return DefinitionsCollector(facts, Definitions())


def module_definitions(ctx: PythonContext) -> Definitions:
    """The records of a module, from the shared walk (memoised with it)."""
    from keyport_lint.analysis.model import module_records

    return ctx.analysis(module_records).definitions
