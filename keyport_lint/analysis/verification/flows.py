"""The collector of the shared walk that records each function's flow facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.definitions import Definitions, FunctionRecord
from keyport_lint.analysis.facts import ModuleFacts, dotted_name
from keyport_lint.analysis.fastvisit import FastVisitor
from keyport_lint.analysis.handlers import fnmatch_any
from keyport_lint.analysis.verification.records import (
    HMAC_CALLS,
    AttrRead,
    Block,
    CallRecord,
    Flow,
    HmacRecord,
    IfRecord,
    Load,
    TryRecord,
    Use,
    _arg,
    _spine,
    _target_names,
    _unwrap,
)

if TYPE_CHECKING:
    from keyport_lint.settings import Settings


class _FlowVisitor(FastVisitor):
    """Dispatch-table visitor (fastvisit.py): the plain CSTVisitor's per-field lookups cost
    as much as the parse on KeyPort-dense code."""

    def __init__(self, facts: ModuleFacts, definitions: Definitions, settings: Settings
                 ) -> None:
        super().__init__()
        self.facts = facts
        self.definitions = definitions
        self.settings = settings
        self.module = Flow(None, "<module>", "", None)
        self.flows: dict[cst.CSTNode, Flow] = {}  # by def node
        self.stack: list[Flow] = [self.module]
        self.flow = self.module  # the innermost flow, read for every name, call and block
        self.seq = 0
        self.uses: dict[int, Use] = {}
        self.skip: set[int] = set()
        self.targets: list[str] = []
        self.spines: list[set[int]] = []
        self.hmac_depth = 0
        self.hmac_ids: set[int] = set()
        self.hmac_vars: dict[str, HmacRecord] = {}
        self.try_nodes: list[TryRecord] = []
        self.suppressing: list[cst.With] = []  # open `with contextlib.suppress(…)` blocks
        self.if_nodes: list[IfRecord] = []
        self.stop_calls = settings["webhook-stop-calls"]

    def _tick(self) -> None:
        self.seq += 1

    # functions and classes --------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._tick()
        self.skip.add(id(node.name))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._tick()
        self.skip.add(id(node.name))

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        record = self.definitions.by_id[id(node)]
        assert type(record) is FunctionRecord
        parent = self.flow
        nested = parent is not self.module
        # a method of a class that is not inside a def carries its class's name
        cls = record.cls.name if record.cls is not None and not nested else ""
        flow = Flow(node, record.name, cls, parent if nested else None, self.seq, record)
        flow.params = {p.name: p for p in record.params}
        if nested:  # the last def of a name, as Python binds it
            parent.children[record.name] = flow
        self.flows[node] = flow
        self.stack.append(flow)
        self.flow = flow

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        if len(self.stack) > 1:
            self.stack.pop()
            self.flow = self.stack[-1]

    def visit_Param(self, node: cst.Param) -> None:
        self.skip.add(id(node.name))

    # statements -------------------------------------------------------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._tick()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._tick()

    def visit_For(self, node: cst.For) -> None:
        self._tick()
        for name in _target_names(node.target):
            self.skip.add(id(name))

    def visit_While(self, node: cst.While) -> None:
        self._tick()
        self._mark_tested(node.test)

    def visit_AsName(self, node: cst.AsName) -> None:
        for name in _target_names(node.name):  # type: ignore[arg-type]
            self.skip.add(id(name))

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        return False

    def visit_Expr(self, node: cst.Expr) -> None:
        self.uses[id(_unwrap(node.value))] = Use("stmt")

    def visit_Assign(self, node: cst.Assign) -> None:
        names: list[cst.Name] = []
        for target in node.targets:
            names.extend(_target_names(target.target))
        single = len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name)
        self._assigned(names, node.value, single)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self.targets.pop()
        self.spines.pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        names = _target_names(node.target)
        self._assigned(names, node.value, isinstance(node.target, cst.Name))

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self.targets.pop()
        self.spines.pop()

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.flow.assigns.setdefault(node.target.value, []).append(
                (node.value, self.seq, False))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        for name in _target_names(node.target):
            self.skip.add(id(name))
            self.flow.assigns.setdefault(name.value, []).append((node.value, self.seq, False))

    def _assigned(self, names: list[cst.Name], value: cst.BaseExpression | None,
                  single: bool) -> None:
        flow = self.flow
        for name in names:
            self.skip.add(id(name))
            if value is not None:
                flow.assigns.setdefault(name.value, []).append((value, self.seq, not single))
            for block in flow.blocks:
                block.assigns.add(name.value)
        target = names[0].value if single and names else ""
        self.targets.append(target)
        self.spines.append(_spine(value) if value is not None else set())
        if value is not None:
            inner = _unwrap(value)
            self.uses.setdefault(id(inner), Use("assign", target) if target else Use("other"))

    def visit_Return(self, node: cst.Return) -> None:
        for block in self.flow.blocks:
            block.returns = True
        if node.value is not None:
            value = _unwrap(node.value)
            self.uses[id(value)] = Use("return")
            if isinstance(value, cst.Name):
                self.flow.returned.add(value.value)
            self._mark_tested(node.value)

    def visit_Raise(self, node: cst.Raise) -> None:
        for block in self.flow.blocks:
            block.raises = True

    def visit_Assert(self, node: cst.Assert) -> None:
        self._mark_tested(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._mark_tested(node.test)

    # if ---------------------------------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        self._tick()
        record = IfRecord(node, self.seq)
        self.flow.ifs.append(record)
        self.if_nodes.append(record)
        self._mark_test(node.test, False, record)

    def leave_If(self, original_node: cst.If) -> None:
        if self.if_nodes:
            self.if_nodes.pop()

    def visit_If_body(self, node: cst.If) -> None:
        record = self._if_record(node)
        if record is not None:
            self.flow.blocks.append(record.body)

    def leave_If_body(self, node: cst.If) -> None:
        if self.flow.blocks:
            self.flow.blocks.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        record = self._if_record(node)
        if record is not None and node.orelse is not None:
            record.orelse = Block()
            self.flow.blocks.append(record.orelse)
        else:
            self.flow.blocks.append(Block())

    def leave_If_orelse(self, node: cst.If) -> None:
        if self.flow.blocks:
            self.flow.blocks.pop()

    def _if_record(self, node: cst.If) -> IfRecord | None:
        for record in reversed(self.if_nodes):
            if record.node is node:
                return record
        return None

    def _mark_test(self, expr: cst.BaseExpression, negated: bool, record: IfRecord,
                   depth: int = 0) -> None:
        if depth > 12:
            return
        expr = _unwrap(expr)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            self._mark_test(expr.expression, not negated, record, depth + 1)
        elif isinstance(expr, cst.BooleanOperation):
            self._mark_test(expr.left, negated, record, depth + 1)
            self._mark_test(expr.right, negated, record, depth + 1)
        elif isinstance(expr, cst.NamedExpr):
            for name in _target_names(expr.target):
                record.names[name.value] = negated
            self._mark_test(expr.value, negated, record, depth + 1)
        elif isinstance(expr, cst.Name):
            record.names[expr.value] = negated
        elif isinstance(expr, cst.Call):
            self.uses[id(expr)] = Use("test", test=record, negated=negated)
            if dotted_name(expr.func) == "bool" and expr.args:
                self._mark_test(expr.args[0].value, negated, record, depth + 1)
        elif isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
            target = expr.comparisons[0]
            op = target.operator
            other = target.comparator
            if isinstance(other, cst.Name) and other.value in ("True", "False", "None"):
                flips = (other.value != "True") != isinstance(op, (cst.IsNot, cst.NotEqual))
                self._mark_test(expr.left, negated != flips, record, depth + 1)
                return
            flips = isinstance(op, (cst.NotEqual, cst.IsNot, cst.NotIn))
            self.uses[id(expr)] = Use("test", test=record, negated=negated != flips)

    def _mark_tested(self, expr: cst.BaseExpression, depth: int = 0) -> None:
        """While, assert, ternary: the result is tested (and its failure handled there)."""
        if depth > 12:
            return
        expr = _unwrap(expr)
        if isinstance(expr, cst.UnaryOperation):
            self._mark_tested(expr.expression, depth + 1)
        elif isinstance(expr, cst.BooleanOperation):
            self._mark_tested(expr.left, depth + 1)
            self._mark_tested(expr.right, depth + 1)
        elif isinstance(expr, cst.Name):
            self.flow.tested.setdefault(expr.value, []).append(self.seq)
        elif isinstance(expr, (cst.Call, cst.Comparison)):
            self.uses.setdefault(id(expr), Use("tested"))

    # try --------------------------------------------------------------------------------------
    def visit_Try(self, node: cst.Try) -> None:
        self._tick()
        self.try_nodes.append(TryRecord(node))

    def leave_Try(self, original_node: cst.Try) -> None:
        if self.try_nodes:
            self.try_nodes.pop()

    def visit_Try_body(self, node: cst.Try) -> None:
        if self.try_nodes:
            self.flow.tries.append(self.try_nodes[-1])

    def leave_Try_body(self, node: cst.Try) -> None:
        if self.flow.tries:
            self.flow.tries.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._tick()
        self.try_nodes.append(TryRecord(node))

    def leave_TryStar(self, original_node: cst.TryStar) -> None:
        if self.try_nodes:
            self.try_nodes.pop()

    def visit_TryStar_body(self, node: cst.TryStar) -> None:
        if self.try_nodes:
            self.flow.tries.append(self.try_nodes[-1])

    def leave_TryStar_body(self, node: cst.TryStar) -> None:
        if self.flow.tries:
            self.flow.tries.pop()

    def visit_With(self, node: cst.With) -> None:
        """`with contextlib.suppress(E):` is a `try` whose `except E:` carries on."""
        self._tick()
        types: list[str] = []
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and self.facts.resolve(call.func).lstrip(".") in (
                    "contextlib.suppress", "suppress"):
                types += [self.facts.resolve(a.value) for a in call.args if a.keyword is None]
        if not types:
            return
        record = TryRecord(node)
        record.handlers.append((types, Block()))
        self.suppressing.append(node)
        self.flow.tries.append(record)

    def leave_With(self, original_node: cst.With) -> None:
        if self.suppressing and self.suppressing[-1] is original_node:
            self.suppressing.pop()
            if self.flow.tries:
                self.flow.tries.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._except(node.type)
        if node.name is not None:
            for name in _target_names(node.name.name):  # type: ignore[arg-type]
                self.skip.add(id(name))

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        if self.flow.blocks:
            self.flow.blocks.pop()

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._except(node.type)

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        if self.flow.blocks:
            self.flow.blocks.pop()

    def _except(self, type_: cst.BaseExpression | None) -> None:
        types: list[str] = []
        if isinstance(type_, cst.Tuple):
            types = [self.facts.resolve(e.value) for e in type_.elements]
        elif type_ is not None:
            types = [self.facts.resolve(type_)]
        block = Block()
        if self.try_nodes:
            self.try_nodes[-1].handlers.append(([t for t in types if t] or
                                                ([] if type_ is None else ["?"]), block))
        self.flow.blocks.append(block)

    # expressions ------------------------------------------------------------------------------
    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))
        base = dotted_name(node.value)
        if base and not base.endswith("()") and base.count(".") <= 1:
            self.flow.attr_reads.append(AttrRead(
                base, node.attr.value, node, self.seq, self.hmac_depth > 0, self._target(node),
                self.targets[-1] if self.targets else ""))

    def _target(self, node: cst.CSTNode) -> str:
        """The name an assignment binds `node`'s value to, when `node` is on the value's spine
        (`x = json.loads(request.body)["event"]`); "" when the value is handed to something
        else on the way (`row = find(request.get_json()["key"])` uses the payload there)."""
        if self.targets and self.spines and id(node) in self.spines[-1]:
            return self.targets[-1]
        return ""

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self.skip:
            return
        self.flow.loads.append(Load(node.value, self.seq, self.hmac_depth > 0,
                                    self.targets[-1] if self.targets else ""))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self.flow.comparisons.append((node, self.seq, self.uses.get(id(node), Use("other"))))

    def visit_Call(self, node: cst.Call) -> None:
        flow = self.flow
        written = dotted_name(node.func)
        resolved = self.facts.resolve(node.func).lstrip(".") if written else ""
        use = self.uses.get(id(node), Use("other"))
        flow.calls.append(CallRecord(node, written, resolved, use, self.seq, tuple(flow.tries),
                                     self._target(node)))
        if resolved and fnmatch_any(resolved, self.stop_calls):
            for block in flow.blocks:
                block.raises = True
        if resolved in HMAC_CALLS:
            key = _arg(node, 0, "key")
            message = _arg(node, 1, "msg")
            record = HmacRecord(node, key, message)
            if use.kind == "assign" and use.name:
                self.hmac_vars[f"{id(flow)}:{use.name}"] = record
            flow.hmacs.append(record)
            self.hmac_ids.add(id(node))
            self.hmac_depth += 1
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "update" \
                and isinstance(node.func.value, cst.Name):
            updated = self.hmac_vars.get(f"{id(flow)}:{node.func.value.value}")
            if updated is not None and node.args:
                updated.updates.append(node.args[0].value)
                self.hmac_ids.add(id(node))
                self.hmac_depth += 1

    def leave_Call(self, original_node: cst.Call) -> None:
        if id(original_node) in self.hmac_ids:
            self.hmac_depth -= 1
