"""The events of each function (the module body and class bodies count as functions),
recorded in source order by one collector of the shared walk."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from keyport_lint.analysis.definitions import (
    VAR_KEYWORD,
    VAR_POSITIONAL,
    ClassRecord,
    Definitions,
)
from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.fastvisit import TOKENS, FastVisitor, opaque_types

_REFERENCES = (cst.Name, cst.Attribute)


@dataclass(eq=False)
class _Unit:
    uid: int
    node: cst.CSTNode
    name: str
    kind: str  # module | function | class
    parent: _Unit | None
    cls: ClassRecord | None = None  # the class of a method, or of a class body
    params: list = field(default_factory=list)  # (name, annotation) after self/cls
    first: str = ""  # "self", "cls" or "" for the implicit first parameter
    self_name: str = ""  # the name the implicit first parameter binds
    returns_annotation: cst.BaseExpression | None = None
    events: list = field(default_factory=list)  # (tag, node, enclosing try bodies)
    if_ranges: dict = field(default_factory=dict)  # id(If) -> [body0, body1, else0, else1, end]
    if_parent: dict = field(default_factory=dict)  # id(If) -> enclosing block node
    case_ranges: dict = field(default_factory=dict)  # id(MatchCase) -> (start, end)
    block_end: dict = field(default_factory=dict)  # id(block) -> event index at its end
    elifs: set = field(default_factory=set)  # id(If) of `elif` branches


class _Collector(FastVisitor):
    """Splits the module into units and records their events in source order.

    Does not descend into tokens, whitespace, names and literals (see fastvisit.py for why the
    dispatch matters).
    """

    OPAQUE = TOKENS | opaque_types(
        cst.EmptyLine, cst.TrailingWhitespace, cst.Comment, cst.Import, cst.ImportFrom,
        cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Name, cst.Param,
        cst.Annotation)

    def __init__(self, definitions: Definitions) -> None:
        super().__init__()
        self.definitions = definitions
        self.units: list[_Unit] = []
        self.stack: list[_Unit] = []
        self.unit: _Unit
        self.try_stack: list[tuple] = [()]
        self.blocks: list[cst.CSTNode] = []
        self.exception_refs: set[str] = set()
        self.decorators: set[int] = set()  # id() of decorator expressions

    def _event(self, tag: str, node: cst.CSTNode) -> None:
        if self.stack:
            self.unit.events.append((tag, node, self.try_stack[-1]))

    def _push(self, unit: _Unit) -> None:
        self.units.append(unit)
        self.stack.append(unit)
        self.unit = unit  # the innermost unit, read for every event
        self.try_stack.append(())

    def _pop(self) -> None:
        self.stack.pop()
        self.unit = self.stack[-1]
        self.try_stack.pop()

    # -- units -------------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self._push(_Unit(0, node, "<module>", "module", None))
        self.blocks.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self.unit.block_end[id(original_node)] = len(self.unit.events)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._event("class", node)
        record = self.definitions.class_(node)
        assert record is not None  # the shared walk recorded every class it reaches
        for decorator in record.decorators:  # their calls are not events
            self.decorators.add(id(decorator.expr))
        self._push(_Unit(len(self.units), node, record.name, "class", self.unit, record))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._event("def", node)
        outer = self.unit
        record = self.definitions.function(node)
        assert record is not None  # the shared walk recorded every def it reaches
        for decorator in record.decorators:  # their calls are not events
            self.decorators.add(id(decorator.expr))
        unit = _Unit(len(self.units), node, record.name, "function", outer,
                     returns_annotation=node.returns.annotation if node.returns else None)
        if record.cls is not None:
            unit.cls = record.cls
            unit.first, unit.self_name = record.first, record.self_name
        unit.params = [(p.name, p.annotation_node) for p in record.bound
                       if p.kind not in (VAR_POSITIONAL, VAR_KEYWORD)]
        self._push(unit)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._pop()

    # -- blocks and branches, for the regions only success reaches ------------------------------
    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.append(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self.blocks.pop()
        if self.stack:
            self.unit.block_end[id(original_node)] = len(self.unit.events)

    def visit_If(self, node: cst.If) -> None:
        self._event("if", node)
        self.unit.if_ranges[id(node)] = [0, 0, 0, 0, 0]
        self.unit.if_parent[id(node)] = self.blocks[-1] if self.blocks else None

    def visit_If_body(self, node: cst.If) -> None:
        self.unit.if_ranges[id(node)][0] = len(self.unit.events)

    def leave_If_body(self, node: cst.If) -> None:
        self.unit.if_ranges[id(node)][1] = len(self.unit.events)

    def visit_If_orelse(self, node: cst.If) -> None:
        self.unit.if_ranges[id(node)][2] = len(self.unit.events)
        if isinstance(node.orelse, cst.If):
            self.unit.elifs.add(id(node.orelse))

    def leave_If_orelse(self, node: cst.If) -> None:
        self.unit.if_ranges[id(node)][3] = len(self.unit.events)

    def leave_If(self, original_node: cst.If) -> None:
        self.unit.if_ranges[id(original_node)][4] = len(self.unit.events)

    def visit_MatchCase(self, node: cst.MatchCase) -> None:
        self.unit.case_ranges[id(node)] = (len(self.unit.events), len(self.unit.events))

    def leave_MatchCase(self, original_node: cst.MatchCase) -> None:
        start = self.unit.case_ranges[id(original_node)][0]
        self.unit.case_ranges[id(original_node)] = (start, len(self.unit.events))

    # -- try bodies (KP405) ------------------------------------------------------------------
    def visit_Try_body(self, node: cst.Try) -> None:
        self.try_stack.append((*self.try_stack[-1], node))

    def leave_Try_body(self, node: cst.Try) -> None:
        self.try_stack.pop()

    def visit_TryStar_body(self, node: cst.TryStar) -> None:
        self.try_stack.append((*self.try_stack[-1], node))

    def leave_TryStar_body(self, node: cst.TryStar) -> None:
        self.try_stack.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._event("except", node)
        self._exception_names(node.type)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._event("except", node)
        self._exception_names(node.type)

    def _exception_names(self, node: cst.BaseExpression | None) -> None:
        if isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._exception_names(element.value)
        elif node is not None:
            name = dotted_name(node).rsplit(".", 1)[-1]
            if name:
                self.exception_refs.add(name)

    def _registered(self, node: cst.BaseExpression) -> None:
        """Exception classes handed to a handler registry (`app.errorhandler(X)`) count too."""
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = dotted_name(node).rsplit(".", 1)[-1]
            if name.endswith(("Error", "Exception")):
                self.exception_refs.add(name)

    # -- events --------------------------------------------------------------------------------
    def visit_While(self, node: cst.While) -> None:
        self._event("test", node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._event("test", node.test)

    def visit_CompIf(self, node: cst.CompIf) -> None:
        self._event("test", node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._event("ifexp", node)

    def visit_Match(self, node: cst.Match) -> None:
        self._event("match", node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._event("compare", node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._event("attribute", node)

    def visit_Call(self, node: cst.Call) -> None:
        self._event("call", node)
        for arg in node.args:
            if type(arg.value) in _REFERENCES:
                self._registered(arg.value)

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if type(element) is cst.DictElement and type(element.key) in _REFERENCES:
                self._registered(element.key)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._event("subscript", node)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._event("not", node)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        if isinstance(node.operator, cst.And):
            self._event("and", node)

    def visit_For(self, node: cst.For) -> None:
        self._event("unbind", node.target)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._event("assign", original_node)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._event("assign", original_node)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._event("assign", original_node)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self._event("assign", original_node)

    def leave_WithItem(self, original_node: cst.WithItem) -> None:
        if original_node.asname is not None:
            self._event("assign", original_node)

    def leave_Return(self, original_node: cst.Return) -> None:
        self._event("return", original_node)
