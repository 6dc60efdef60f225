"""Webhook signature verification: where it happens and how it goes wrong (KP301–KP307).

Verification is an HMAC over the raw body compared with `hmac.compare_digest`, done in the
handler, in a helper it calls (same module, or another project module through the project
index summary `verifier_exports`), or before the handler runs: a decorator, a FastAPI
`Depends`, a DRF permission/authentication class, a class pre-hook (`dispatch`, `prepare`), a
middleware of the project, or a function `settings.verifiers` names. A failing verification
must stop the handler: `return`, `raise`, `abort()`.

One traversal per module records, per function: calls with how their result is used (bare
statement, assigned, tested by an `if` and whether the failing branch stops, returned), the
`try` blocks around them and whether their `except` clauses stop, HMAC computations and their
message parts, comparisons, assignments and name loads with a statement sequence number (for
"parsed before verified"). Everything else is lookups over those records, done lazily so that
a module summarised for another file pays only for what is asked.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name, module_facts
from keyport_lint.analysis.fastvisit import FastVisitor, walk
from keyport_lint.analysis.handlers import (
    ClassRecord,
    FunctionRecord,
    Handler,
    HandlerFacts,
    ModuleConstants,
    classify_read,
    endpoints,
    expression_refs,
    fnmatch_any,
    keyport_signals,
    keyport_webhooks,
    module_constants,
    normalise_header,
    string_value,
    web_handlers,
    whole_regex,
)
from keyport_lint.context import PythonContext

if TYPE_CHECKING:
    from keyport_lint.settings import Settings

HMAC_CALLS = frozenset({"hmac.new", "hmac.HMAC", "hmac.digest"})
COMPARE_CALLS = frozenset({"hmac.compare_digest", "secrets.compare_digest"})
JSON_DUMPS = frozenset({"json.dumps", "orjson.dumps", "ujson.dumps", "simplejson.dumps",
                        "rapidjson.dumps", "fastapi.encoders.jsonable_encoder"})
JSON_LOADS = frozenset({"json.loads", "orjson.loads", "ujson.loads", "simplejson.loads",
                        "rapidjson.loads", "json.load"})
MODEL_DUMPS = frozenset({"model_dump_json", "model_dump", "dict", "json", "dumps", "to_json"})
PASS_THROUGH = frozenset({"encode", "decode", "strip", "lstrip", "rstrip", "lower", "upper",
                          "removeprefix", "removesuffix", "replace", "hex"})
CONVERSIONS = frozenset({"str", "bytes", "bytearray", "int", "float", "memoryview",
                         "bytes.fromhex"})
HEADER_GETTERS = frozenset({"get", "getheader", "get_header", "get_all", "getlist"})
SIDE_CONSTS = frozenset({"len", "bool", "int", "float", "type", "isinstance"})
MIDDLEWARE_TOKENS = ("add_middleware", "MIDDLEWARE", "before_request", "middleware",
                     "on_request")
MAX_NEARBY_FILES = 80
SIGNATURE_SIDES = frozenset({"digest", "signature", "weak"})
SIGNATURE_FUNCTION_WORDS = frozenset({"sig", "sigs", "signature", "signatures", "verify",
                                      "verification", "webhook", "webhooks", "hmac", "digest",
                                      "signed", "sign"})
# a module without any of these cannot verify a signature: it is never parsed to ask
VERIFY_TEXT = re.compile(r"compare_digest|hmac|verif|signature", re.IGNORECASE)
# another service's signature header (GitHub's X-Hub-Signature-256, Stripe-Signature)
FOREIGN_SIGNATURE_HEADER = re.compile(r"(?i)(?:x-)?[a-z0-9-]*signature[a-z0-9-]*")
MAX_DEPTH = 8


# -- records ------------------------------------------------------------------------------------

@dataclass(eq=False)
class Block:
    """An `if` branch or an `except` clause: does it stop the function?"""

    raises: bool = False  # raise, abort()
    returns: bool = False
    assigns: set[str] = field(default_factory=set)

    @property
    def stops(self) -> bool:
        return self.raises or self.returns


@dataclass(eq=False)
class IfRecord:
    node: cst.If
    seq: int
    body: Block = field(default_factory=Block)
    orelse: Block | None = None
    names: dict[str, bool] = field(default_factory=dict)  # tested name -> negated


@dataclass(eq=False)
class TryRecord:
    node: cst.CSTNode
    handlers: list[tuple[list[str], Block]] = field(default_factory=list)  # (types, body)


@dataclass(eq=False)
class Use:
    kind: str  # stmt | assign | test | tested | return | other
    name: str = ""
    test: IfRecord | None = None
    negated: bool = False


@dataclass(eq=False)
class CallRecord:
    node: cst.Call
    written: str
    resolved: str
    use: Use
    seq: int
    tries: tuple[TryRecord, ...]
    target: str  # the name this statement assigns, if any


@dataclass(eq=False)
class HmacRecord:
    node: cst.Call
    key: cst.BaseExpression | None
    message: cst.BaseExpression | None
    updates: list[cst.BaseExpression] = field(default_factory=list)
    var: str = ""


@dataclass(eq=False)
class Load:
    name: str
    seq: int
    in_hmac: bool
    target: str


@dataclass(eq=False)
class AttrRead:
    root: str
    attr: str
    node: cst.Attribute
    seq: int
    in_hmac: bool
    target: str  # the name bound to this read's value (see _FlowVisitor._target)
    stmt_target: str = ""  # the name the enclosing assignment binds, whatever it computes


@dataclass(eq=False)
class Flow:
    """What one function (or the module body) does, in source order."""

    node: cst.FunctionDef | None
    name: str
    cls: str
    parent: Flow | None
    seq: int = 0
    children: dict[str, Flow] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)
    hmacs: list[HmacRecord] = field(default_factory=list)
    comparisons: list[tuple[cst.Comparison, int, Use]] = field(default_factory=list)
    assigns: dict[str, list[tuple[cst.BaseExpression, int, bool]]] = field(
        default_factory=dict)  # name -> (value, seq, unpacked)
    ifs: list[IfRecord] = field(default_factory=list)
    tested: dict[str, list[int]] = field(default_factory=dict)  # while/assert/ifexp tests
    returned: set[str] = field(default_factory=set)
    returns: list[cst.BaseExpression] = field(default_factory=list)  # returned values
    loads: list[Load] = field(default_factory=list)
    attr_reads: list[AttrRead] = field(default_factory=list)
    params: dict[str, cst.Param] = field(default_factory=dict)
    # transient state during the traversal
    blocks: list[Block] = field(default_factory=list)
    tries: list[TryRecord] = field(default_factory=list)


@dataclass(eq=False)
class Check:
    """Something whose result decides whether a delivery is genuine."""

    node: cst.CSTNode  # the Call or Comparison
    kind: str  # compare-digest | verifier | comparison
    mode: str  # for verifier calls: raises | returns | unknown | broken
    use: Use
    seq: int
    tries: tuple[TryRecord, ...]


# -- the traversal ------------------------------------------------------------------------------

def _unwrap(node: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(node, cst.Await):
        node = node.expression
    return node


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        out = []
        for element in target.elements:
            out.extend(_target_names(element.value))
        return out
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


class _FlowVisitor(FastVisitor):
    """Dispatch-table visitor (fastvisit.py): the plain CSTVisitor's per-field lookups cost
    as much as the parse on KeyPort-dense code."""

    def __init__(self, facts: ModuleFacts, settings: Settings) -> None:
        super().__init__()
        self.facts = facts
        self.settings = settings
        self.module = Flow(None, "<module>", "", None)
        self.flows: dict[cst.FunctionDef, Flow] = {}
        self.stack: list[Flow] = [self.module]
        self.classes: list[str] = []
        self.seq = 0
        self.uses: dict[int, Use] = {}
        self.skip: set[int] = set()
        self.targets: list[str] = []
        self.spines: list[set[int]] = []
        self.hmac_depth = 0
        self.hmac_ids: set[int] = set()
        self.hmac_vars: dict[str, HmacRecord] = {}
        self.try_nodes: list[TryRecord] = []
        self.if_nodes: list[IfRecord] = []
        self.stop_calls = settings["webhook-stop-calls"]

    @property
    def flow(self) -> Flow:
        return self.stack[-1]

    def _tick(self) -> None:
        self.seq += 1

    # functions and classes --------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._tick()
        self.skip.add(id(node.name))
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        if self.classes:
            self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._tick()
        self.skip.add(id(node.name))

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        parent = self.flow
        in_class = bool(self.classes) and parent is self.module
        flow = Flow(node, node.name.value, self.classes[-1] if in_class else "",
                    parent if parent is not self.module else None, self.seq)
        p = node.params
        for param in [*p.posonly_params, *p.params, *p.kwonly_params]:
            flow.params[param.name.value] = param
        for star in (p.star_arg, p.star_kwarg):
            if isinstance(star, cst.Param):
                flow.params[star.name.value] = star
        if parent is not self.module:
            parent.children.setdefault(node.name.value, flow)
        self.flows[node] = flow
        self.stack.append(flow)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        if len(self.stack) > 1:
            self.stack.pop()

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

    def visit_With(self, node: cst.With) -> None:
        self._tick()

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
            self.flow.returns.append(value)
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
                record.var = use.name
                self.hmac_vars[f"{id(flow)}:{use.name}"] = record
            flow.hmacs.append(record)
            self.hmac_ids.add(id(node))
            self.hmac_depth += 1
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "update" \
                and isinstance(node.func.value, cst.Name):
            record = self.hmac_vars.get(f"{id(flow)}:{node.func.value.value}")
            if record is not None and node.args:
                record.updates.append(node.args[0].value)
                self.hmac_ids.add(id(node))
                self.hmac_depth += 1

    def leave_Call(self, original_node: cst.Call) -> None:
        if id(original_node) in self.hmac_ids:
            self.hmac_depth -= 1


def _spine(expr: cst.BaseExpression, depth: int = 0) -> set[int]:
    """Nodes whose value flows unchanged (or just extracted, decoded, parsed) into `expr`."""
    out: set[int] = set()
    while depth < 20:
        depth += 1
        out.add(id(expr))
        if isinstance(expr, cst.Await):
            expr = expr.expression
        elif isinstance(expr, (cst.Subscript, cst.Attribute)):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            func = expr.func
            out.add(id(func))
            name = dotted_name(func)
            last = name.rsplit(".", 1)[-1]
            if isinstance(func, cst.Attribute) and not (
                    name in JSON_LOADS or last in ("loads", "load")):
                expr = func.value
            elif expr.args and (name in JSON_LOADS or last in ("loads", "load")
                                or name in CONVERSIONS):
                expr = expr.args[0].value
            else:
                break
        else:
            break
    return out


def _arg(call: cst.Call, index: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[index].value if len(positional) > index else None


# -- the analysis -------------------------------------------------------------------------------

class Verification:
    """Per-module verification facts; answers are computed on demand and memoised."""

    def __init__(self, ctx: PythonContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.facts = ctx.analysis(module_facts)
        self.web: HandlerFacts = ctx.analysis(web_handlers)
        visitor = _FlowVisitor(self.facts, ctx.settings)
        walk(ctx.module, visitor)
        self.module = visitor.module
        self.flows = visitor.flows
        self.module_flows = {f.name: f for f in self.flows.values()
                             if f.parent is None and not f.cls}
        self._records = {r.node: r for r in self.web.functions}
        self._modes: dict[int, str | None] = {}
        self._class_modes: dict[tuple[str, bool], str | None] = {}
        self._checks: dict[int, list[Check]] = {}
        self._sig_words = {w.lower() for w in self.settings["signature-names"]}
        self._framework = self.web.framework
        self._foreign: dict[int, Flow] | None = None
        self._methods: dict[str, dict[str, Flow]] | None = None
        self._webhook_flows: dict[bool, list[Flow]] = {}

    # lookups ----------------------------------------------------------------------------------
    @property
    def constants(self) -> ModuleConstants:
        return module_constants(self.ctx)

    def record(self, flow: Flow) -> FunctionRecord | None:
        return self._records.get(flow.node) if flow.node is not None else None

    def class_methods(self, cls: str) -> dict[str, Flow]:
        if self._methods is None:
            self._methods = {}
            for flow in self.flows.values():
                if flow.cls and flow.parent is None:
                    self._methods.setdefault(flow.cls, {}).setdefault(flow.name, flow)
        return self._methods.get(cls, {})

    def configured_verifier(self, written: str, resolved: str) -> bool:
        patterns = self.settings["verifiers"]
        if not patterns:
            return False
        names = {written, resolved, resolved.rsplit(".", 1)[-1], written.rsplit(".", 1)[-1]}
        return any(n and fnmatch_any(n, patterns) for n in names)

    # modes ------------------------------------------------------------------------------------
    def mode(self, flow: Flow) -> str | None:
        """raises | returns | broken when the function verifies a signature, else None."""
        key = id(flow)
        if key in self._modes:
            return self._modes[key]
        self._modes[key] = None  # cycle guard
        outcomes = [self.outcome(c, flow)[0] for c in self.checks(flow)]
        result: str | None = None
        if any(o in ("raises",) for o in outcomes):
            result = "raises"
        elif any(o in ("returns", "ok") for o in outcomes):
            result = "returns"
        elif outcomes:
            result = "broken"
        if result is None or result == "broken":
            # a decorator: the wrapper inside verifies, and stops by returning an error
            for child in flow.children.values():
                if self.mode(child) not in (None, "broken"):
                    result = "raises"
                    break
        self._modes[key] = result
        return result

    def class_mode(self, name: str, prehooks_only: bool = False, depth: int = 0) -> str | None:
        """A local class verifies when one of its methods does (middleware, permission class);
        for inheritance (`class Hook(VerifiedView)`) only its pre-hooks count."""
        key = (name, prehooks_only)
        if key in self._class_modes:
            return self._class_modes[key]
        self._class_modes[key] = None
        hooks = set(self.settings["web-pre-handler-hooks"])
        result = None
        for method_name, flow in self.class_methods(name).items():
            if prehooks_only and method_name not in hooks:
                continue
            if self.mode(flow) not in (None, "broken"):
                result = "class"
                break
        record = self.web.classes.get(name)
        if result is None and record is not None and depth < 5:
            for base in record.bases:
                if base in self.web.classes and base != name:
                    if self.class_mode(base, True, depth + 1):
                        result = "class"
                        break
                elif self._imported_export(base, prehooks_only=True):
                    result = "class"
                    break
        self._class_modes[key] = result
        return result

    def ref_mode(self, written: str, resolved: str, flow: Flow | None = None,
                 depth: int = 0) -> str | None:
        """Does a name (called, decorated with, depended on, registered) verify?"""
        if not written and not resolved:
            return None
        if self.configured_verifier(written, resolved):
            return "unknown"
        if depth > 4:
            return None
        if written.startswith(("self.", "cls.")) and flow is not None:
            method = written.split(".", 1)[1]
            cls = flow.cls or (self._outer(flow).cls if flow else "")
            found = self._method(cls, method)
            return self.mode(found) if found is not None else None
        if "." not in written:
            scope = flow
            while scope is not None:  # nested defs first
                if written in scope.children:
                    return self.mode(scope.children[written])
                scope = scope.parent
            if written in self.module_flows:
                return self.mode(self.module_flows[written])
            if written in self.web.classes:
                return self.class_mode(written)
            value = self.web.module_assigns.get(written)
            if isinstance(value, cst.Call):  # verify = KeyPortVerifier(secret)
                inner = dotted_name(value.func)
                if inner and inner != written:
                    mode = self.ref_mode(inner, self.facts.resolve(value.func).lstrip("."),
                                         None, depth + 1)
                    if mode is not None:  # an instance of a verifying class is called
                        return "unknown" if mode == "class" else mode
        head, _, rest = written.partition(".")
        if rest and "." not in rest and head not in self.facts.imports:
            # verifier.verify(request) on an instance of a verifying class of this module
            value = self.web.module_assigns.get(head)
            if isinstance(value, cst.Call) and dotted_name(value.func) in self.web.classes:
                method = self._method(dotted_name(value.func), rest)
                return self.mode(method) if method is not None else None
        origin = self.facts.imports.get(head)
        if origin is not None:
            found = self._imported_export(f"{origin}.{rest}" if rest else origin)
            if found is None and rest and "." not in rest:
                # an imported instance (or class) whose methods verify: `verifier.verify(…)`
                owner = self._imported_export(origin)
                found = "unknown" if owner == "class" else None
            return found
        return None

    def _method(self, cls: str, name: str, depth: int = 0) -> Flow | None:
        methods = self.class_methods(cls)
        if name in methods:
            return methods[name]
        record = self.web.classes.get(cls)
        if record is not None and depth < 5:
            for base in record.bases:
                if base in self.web.classes:
                    found = self._method(base, name, depth + 1)
                    if found is not None:
                        return found
        return None

    def _outer(self, flow: Flow) -> Flow:
        while flow.parent is not None:
            flow = flow.parent
        return flow

    def _imported_export(self, origin: str, prehooks_only: bool = False) -> str | None:
        project, path = self.ctx.project, self.ctx.path
        if project is None or path is None or not origin:
            return None
        value = lookup_export(project, path, origin)
        if value is None:
            return None
        if prehooks_only:
            return "class" if value == "view" else None
        if value in ("class", "view"):
            return "class"
        return value if value != "app" else None

    # checks -----------------------------------------------------------------------------------
    def checks(self, flow: Flow) -> list[Check]:
        key = id(flow)
        if key in self._checks:
            return self._checks[key]
        self._checks[key] = []
        out: list[Check] = []
        for call in flow.calls:
            if call.resolved in COMPARE_CALLS or call.written.endswith(".compare_digest"):
                out.append(Check(call.node, "compare-digest", "returns", call.use, call.seq,
                                 call.tries))
                continue
            if call.resolved in HMAC_CALLS or not call.written:
                continue
            mode = self.ref_mode(call.written, call.resolved, flow)
            if mode is not None and mode != "class":  # constructing a class verifies nothing
                out.append(Check(call.node, "verifier", mode, call.use, call.seq, call.tries))
        for node, seq, use in flow.comparisons:
            if self.signature_comparison(node, flow) and self._has_digest(node, flow):
                out.append(Check(node, "comparison", "returns", use, seq, ()))
        out.sort(key=lambda c: c.seq)
        self._checks[key] = out
        return out

    def outcome(self, check: Check, flow: Flow) -> tuple[str, cst.CSTNode | None]:
        """How a failing check ends: raises | returns | ok | ignored | not-stopping | broken,
        with the node to report for ignored (the call) and not-stopping (the `if`)."""
        use = check.use
        guard = check.kind == "verifier" and check.mode in ("raises", "unknown")
        if check.kind == "verifier" and check.mode == "broken":
            return "broken", None
        if use.kind == "stmt":
            return ("raises", None) if guard else ("ignored", check.node)
        if use.kind == "return":
            return "returns", None
        if use.kind == "tested":
            return "ok", None
        if use.kind == "test" and use.test is not None:
            result = self._branch(use.test, use.negated)
            if result == "not-stopping" and guard:
                return "raises", None
            return result, use.test.node if result == "not-stopping" else None
        if use.kind == "assign" and use.name:
            if guard:
                return "raises", None
            return self._assigned_outcome(use.name, check, flow)
        return ("raises", None) if guard else ("ok", None)

    def _branch(self, record: IfRecord, negated: bool) -> str:
        if negated:
            failing = record.body
            if failing.raises:
                return "raises"
            return "returns" if failing.returns else "not-stopping"
        if record.orelse is not None and record.orelse.stops:
            return "raises" if record.orelse.raises else "returns"
        if record.orelse is not None and not record.body.stops:
            return "not-stopping"
        return "returns" if record.body.returns else "ok"

    def _assigned_outcome(self, name: str, check: Check, flow: Flow
                          ) -> tuple[str, cst.CSTNode | None]:
        worst: tuple[str, cst.CSTNode | None] | None = None
        for record in flow.ifs:
            if record.seq < check.seq or name not in record.names:
                continue
            result = self._branch(record, record.names[name])
            if result in ("raises", "returns", "ok"):
                return result, None
            worst = worst or (result, record.node)
        if name in flow.returned:
            return "returns", None
        if any(seq >= check.seq for seq in flow.tested.get(name, [])):
            return "ok", None
        return worst or ("ignored", check.node)

    # KP304 ------------------------------------------------------------------------------------
    def signature_comparison(self, node: cst.Comparison, flow: Flow) -> bool:
        """`==`, `!=`, `is`, `in` between a computed digest and a received signature (or two
        signature values); None, literals and header-name constants are not signatures. Values
        known only by their names (`received_sig == expected_sig`) count when the function is
        about signatures too, so a `signature` of something else is not mistaken for one."""
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot,
                                            cst.In, cst.NotIn)):
                sides = {self.side(left, flow), self.side(target.comparator, flow)}
                # a signature read from the request is evidence enough; otherwise (a computed
                # digest, values known by their names) only where the function is about
                # signatures: a cache comparing content digests is not
                if sides <= SIGNATURE_SIDES and (
                        "signature" in sides or self._about_signatures(flow)):
                    return True
            left = target.comparator
        return False

    def _about_signatures(self, flow: Flow) -> bool:
        return bool(self._words(_flow_name(flow).replace(".", "_")) & SIGNATURE_FUNCTION_WORDS)

    def _has_digest(self, node: cst.Comparison, flow: Flow) -> bool:
        sides = [self.side(node.left, flow)] + [self.side(t.comparator, flow)
                                                for t in node.comparisons]
        return "digest" in sides or len([s for s in sides if s in SIGNATURE_SIDES]) >= 2

    def _words(self, name: str) -> set[str]:
        return {w.lower() for w in re.split(r"_|(?<=[a-z])(?=[A-Z])", name) if w}

    def _named(self, name: str) -> str | None:
        return "weak" if self._words(name) & self._sig_words else None

    def side(self, expr: cst.BaseExpression, flow: Flow, depth: int = 0) -> str | None:
        """One side of a comparison: digest (an HMAC or hash computed here), signature (read
        from the signature header), weak (only its name says signature), const, or None."""
        if depth > MAX_DEPTH:
            return None
        expr = _unwrap(expr)
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float,
                             cst.Ellipsis)):
            return "const"
        if isinstance(expr, cst.Name):
            if expr.value in ("None", "True", "False"):
                return "const"
            assigned = self._assigned(expr.value, flow)
            if assigned:
                found = _strongest([self.side(v, f, depth + 1) for v, f in assigned])
                if found is not None:
                    return found
            elif expr.value in self.constants:
                return "const"
            return self._named(expr.value)
        if isinstance(expr, cst.FormattedString):
            return _strongest([self.side(p.expression, flow, depth + 1) for p in expr.parts
                               if isinstance(p, cst.FormattedStringExpression)], consts=False)
        if isinstance(expr, cst.BinaryOperation):
            sides = [self.side(expr.left, flow, depth + 1), self.side(expr.right, flow, depth + 1)]
            if sides == ["const", "const"]:
                return "const"
            return _strongest(sides, consts=False)
        if isinstance(expr, cst.Attribute):
            return self._named(expr.attr.value)
        if isinstance(expr, cst.Subscript):
            key = _subscript_key(expr)
            if key is not None:
                if self._is_header(key, "webhook-signature-headers") or key.lower() in (
                        "signature", "sig"):
                    return "signature"
                if self._is_header(key, "webhook-headers"):
                    return None
            return self.side(expr.value, flow, depth + 1)
        if isinstance(expr, cst.Call):
            return self._call_side(expr, flow, depth)
        return None

    def _call_side(self, expr: cst.Call, flow: Flow, depth: int) -> str | None:
        written = dotted_name(expr.func)
        resolved = self.facts.resolve(expr.func).lstrip(".") if written else ""
        last = _last(expr.func)
        if resolved in HMAC_CALLS or last in ("hexdigest", "digest"):
            return "digest"
        if resolved in SIDE_CONSTS:
            return "const"
        if isinstance(expr.func, cst.Attribute) and last in PASS_THROUGH:
            return self.side(expr.func.value, flow, depth + 1)
        if resolved in CONVERSIONS and expr.args:
            return self.side(expr.args[0].value, flow, depth + 1)
        if last in HEADER_GETTERS and expr.args:
            key = string_value(expr.args[0].value) or self._constant(expr.args[0].value)
            if key is not None:
                if self._is_header(key, "webhook-signature-headers") or key.lower() in (
                        "signature", "sig"):
                    return "signature"
                return None
        if last in ("split", "partition", "rpartition", "rsplit") and isinstance(
                expr.func, cst.Attribute):
            return self.side(expr.func.value, flow, depth + 1)
        local = self._local_flow(written, flow) if written else None
        if local is not None and local is not flow and any(
                self.side(v, local, depth + 1) == "digest" for v in local.returns):
            return "digest"  # a helper of this module returning an HMAC digest
        if self._words(last) & (self._sig_words | {"sign", "signed"}):
            return "weak"
        return None

    def _constant(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name):
            return self.constants.get(node.value)
        return None

    def _is_header(self, name: str, which: str) -> bool:
        return bool(whole_regex(self.settings, which).fullmatch(normalise_header(name)))

    def _assigned(self, name: str, flow: Flow) -> list[tuple[cst.BaseExpression, Flow]]:
        scope: Flow | None = flow
        while scope is not None:
            if name in scope.assigns:
                return [(v, scope) for v, _, _ in scope.assigns[name]]
            if name in scope.params:
                return []
            scope = scope.parent
        return []

    # message parts (KP305, KP306) -----------------------------------------------------------
    def message_parts(self, record: HmacRecord, flow: Flow) -> list[str] | None:
        """Kinds of what an HMAC signs: timestamp | raw | parsed | body | literal | unknown.
        None when the message is not visible (no message argument and no update)."""
        exprs = ([record.message] if record.message is not None else []) + record.updates
        if not exprs:
            return None
        parts: list[str] = []
        for expr in exprs:
            parts.extend(self.parts(expr, flow))
        return parts

    def parts(self, expr: cst.BaseExpression, flow: Flow, depth: int = 0) -> list[str]:
        if depth > MAX_DEPTH:
            return ["unknown"]
        expr = _unwrap(expr)
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            return ["literal"]
        if isinstance(expr, cst.FormattedString):
            out = ["literal"]
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    out.extend(self.parts(part.expression, flow, depth + 1))
            return out
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                return self.parts(expr.left, flow, depth + 1) + self.parts(
                    expr.right, flow, depth + 1)
            if isinstance(expr.operator, cst.Modulo):
                right = expr.right
                items = [e.value for e in right.elements] if isinstance(right, cst.Tuple) \
                    else [right]
                out = self.parts(expr.left, flow, depth + 1)
                for item in items:
                    out.extend(self.parts(item, flow, depth + 1))
                return out
            return ["unknown"]
        if isinstance(expr, cst.Call):
            return self._call_parts(expr, flow, depth)
        if isinstance(expr, cst.Attribute):
            kind = classify_read(self.settings["web-request-reads"], self._framework,
                                 expr.attr.value)
            if kind == "raw":
                return ["raw"]
            if kind in ("parsed", "form"):
                return ["parsed"]
            return [self._name_kind(expr.attr.value, None)]
        if isinstance(expr, cst.Subscript):
            key = _subscript_key(expr)
            if key is not None and self._is_header(key, "webhook-timestamp-headers"):
                return ["timestamp"]
            if key is not None and self._is_header(key, "webhook-headers"):
                return ["unknown"]
            inner = self.parts(expr.value, flow, depth + 1)
            return ["parsed"] if "parsed" in inner else inner
        if isinstance(expr, cst.Name):
            return self._name_parts(expr.value, flow, depth)
        return ["unknown"]

    def _name_parts(self, name: str, flow: Flow, depth: int) -> list[str]:
        scope: Flow | None = flow
        while scope is not None:
            if name in scope.assigns:
                out: list[str] = []
                for value, _, unpacked in scope.assigns[name]:
                    if unpacked:
                        out.append(self._name_kind(name, None))
                    else:
                        out.extend(self.parts(value, scope, depth + 1))
                if out and all(p == "unknown" for p in out):
                    return [self._name_kind(name, None)]
                return _dedupe(out)
            if name in scope.params:
                return [self._name_kind(name, scope.params[name])]
            scope = scope.parent
        if name in self.constants:
            return ["literal"]
        value = self.web.module_assigns.get(name)
        if value is not None:
            return self.parts(value, self.module, depth + 1)
        return [self._name_kind(name, None)]

    def _name_kind(self, name: str, param: cst.Param | None) -> str:
        if whole_regex(self.settings, "signed-timestamp-names").fullmatch(name):
            return "timestamp"
        if whole_regex(self.settings, "signed-body-names").fullmatch(name):
            if param is not None and param.annotation is not None:
                annotation = param.annotation.annotation
                head = dotted_name(annotation.value if isinstance(annotation, cst.Subscript)
                                   else annotation).rsplit(".", 1)[-1]
                if head in ("bytes", "str", "bytearray", "memoryview"):
                    return "raw"
                if head and head not in ("Optional", "Union", "Any"):
                    return "parsed"
            return "body"
        return "unknown"

    def _call_parts(self, expr: cst.Call, flow: Flow, depth: int) -> list[str]:
        written = dotted_name(expr.func)
        resolved = self.facts.resolve(expr.func).lstrip(".") if written else ""
        last = _last(expr.func)
        attr = isinstance(expr.func, cst.Attribute)
        if resolved in JSON_DUMPS:
            return ["parsed"]
        if attr and last in PASS_THROUGH:
            return self.parts(expr.func.value, flow, depth + 1)  # type: ignore[union-attr]
        if resolved in CONVERSIONS and expr.args:
            return self.parts(expr.args[0].value, flow, depth + 1)
        if attr and last == "format":
            out = self.parts(expr.func.value, flow, depth + 1)  # type: ignore[union-attr]
            for arg in expr.args:
                out.extend(self.parts(arg.value, flow, depth + 1))
            return out
        if attr and last == "join" and expr.args:
            out = self.parts(expr.func.value, flow, depth + 1)  # type: ignore[union-attr]
            items = expr.args[0].value
            if isinstance(items, (cst.List, cst.Tuple)):
                for element in items.elements:
                    out.extend(self.parts(element.value, flow, depth + 1))
            else:
                out.extend(self.parts(items, flow, depth + 1))
            return out
        if resolved in ("time.time", "time.time_ns", "datetime.datetime.now"):
            return ["timestamp"]
        if last in HEADER_GETTERS and expr.args:
            key = string_value(expr.args[0].value) or self._constant(expr.args[0].value)
            if key is not None and self._is_header(key, "webhook-timestamp-headers"):
                return ["timestamp"]
            if key is not None and self._is_header(key, "webhook-headers"):
                return ["unknown"]
            if key is not None:
                return [self._name_kind(key.replace("-", "_").lower(), None)]
        if attr:
            kind = classify_read(self.settings["web-request-reads"], self._framework, last)
            if kind == "raw":
                return ["raw"]
            if kind in ("parsed", "form"):
                return ["parsed"]
            if last in MODEL_DUMPS:
                return ["parsed"]
        return ["unknown"]

    # webhook context ------------------------------------------------------------------------
    def keyport_handlers(self) -> list[tuple[Handler, Flow, bool]]:
        """(handler, flow, processes) for every KeyPort webhook handler of the module."""
        out = []
        for webhook in keyport_webhooks(self.ctx):
            flow = self.flows.get(webhook.handler.node)
            if flow is not None:
                out.append((webhook.handler, flow, webhook.processes))
        return out

    def webhook_flows(self, strict: bool = False) -> list[Flow]:
        """Functions whose HMACs and checks are about KeyPort deliveries: the KeyPort handlers,
        functions with KeyPort webhook signals (headers, the secret) or with webhook/keyport in
        their name, with what they call or are guarded by in this module. Unless `strict`, also
        the other functions of KeyPort-related code that compute or check a signature, unless
        they serve another service's endpoint (a GitHub or Stripe webhook beside KeyPort's) or
        read another service's header."""
        from keyport_lint.analysis.context import is_keyport_related

        key = strict
        if key in self._webhook_flows:
            return self._webhook_flows[key]
        related = self.ctx.analysis(is_keyport_related)
        markers = self.settings.context_markers
        keyport_nodes = {h.node for h, _, _ in self.keyport_handlers()}
        foreign = self.foreign_flows() if related else {}
        seeds: list[Flow] = [flow for _, flow, _ in self.keyport_handlers()]
        for flow in self.flows.values():
            record = self.record(flow)
            if record is None or flow.node in keyport_nodes or id(flow) in foreign:
                continue
            signals = keyport_signals(self.ctx, record)
            name = _flow_name(flow)
            if signals.headers or signals.secret or markers.search(name) or (
                    related and "webhook" in name.lower()):
                seeds.append(flow)
        ours = self._closure(seeds)
        if related and not strict:
            for flow in self.flows.values():
                if id(flow) in ours or id(flow) in foreign or not (
                        flow.hmacs or self.checks(flow)) or self._foreign_headers(flow):
                    continue
                ours.update(self._closure([flow]))
        self._webhook_flows[key] = list(ours.values())
        return self._webhook_flows[key]

    def foreign_flows(self) -> dict[int, Flow]:
        """Endpoints that are not KeyPort's (a GitHub or Stripe webhook in the same module)
        and what they call, unless a KeyPort handler reaches it too."""
        if self._foreign is None:
            keyport_nodes = {h.node for h, _, _ in self.keyport_handlers()}
            seeds = [self.flows[h.node] for h in endpoints(self.ctx)
                     if h.node not in keyport_nodes and h.node in self.flows]
            seeds += [f for f in self.flows.values() if self._foreign_headers(f)]
            foreign = self._closure(seeds)
            ours = self._closure([self.flows[n] for n in keyport_nodes if n in self.flows])
            self._foreign = {k: v for k, v in foreign.items() if k not in ours}
        return self._foreign

    def _foreign_headers(self, flow: Flow) -> bool:
        record = self.record(flow)
        if record is None:
            return False
        for value in record.strings:
            if FOREIGN_SIGNATURE_HEADER.fullmatch(value) and not self._is_header(
                    value, "webhook-headers"):
                return True
        return False

    def _closure(self, seeds: list[Flow]) -> dict[int, Flow]:
        """The seeds, their nested defs, and what they call or are guarded by here."""
        seen: dict[int, Flow] = {}
        stack = list(seeds)
        while stack:
            flow = stack.pop()
            if id(flow) in seen:
                continue
            seen[id(flow)] = flow
            stack.extend(flow.children.values())
            for call in flow.calls:
                target = self._local_flow(call.written, flow)
                if target is not None:
                    stack.append(target)
            for ref in self._pre_refs(flow):
                target = self._local_flow(dotted_name(ref), flow)
                if target is not None:
                    stack.append(target)
        return seen

    def _local_flow(self, written: str, flow: Flow) -> Flow | None:
        if not written:
            return None
        if written.startswith("self."):
            cls = self._outer(flow).cls
            return self._method(cls, written[5:]) if cls and "." not in written[5:] else None
        if "." in written:
            return None
        scope: Flow | None = flow
        while scope is not None:
            if written in scope.children:
                return scope.children[written]
            scope = scope.parent
        if written in self.module_flows:
            return self.module_flows[written]
        if written in self.web.classes:
            methods = self.class_methods(written)
            return next(iter(methods.values()), None) if methods else None
        return None

    def _pre_refs(self, flow: Flow) -> list[cst.BaseExpression]:
        node = flow.node
        if node is None:
            return []
        refs: list[cst.BaseExpression] = []
        for decorator in node.decorators:
            expression_refs(decorator.decorator, refs)
        for param in flow.params.values():
            if param.default is not None:
                expression_refs(param.default, refs)
            if param.annotation is not None:
                expression_refs(param.annotation.annotation, refs)
        return refs

    # before the handler -----------------------------------------------------------------------
    def pre_verified(self, handler: Handler, flow: Flow) -> bool:
        """Does something verify before this handler runs?"""
        for ref in self._pre_refs(flow):
            if self._ref_verifies(ref, flow):
                return True
        function = handler.function
        cls: ClassRecord | None = function.cls
        hooks = set(self.settings["web-pre-handler-hooks"])
        if cls is not None:
            for hook in self.web.hooks:
                if hook.scope is cls and self._ref_verifies(hook.expr, None):
                    return True
            for name in hooks:
                method = self._method(cls.name, name)
                if method is not None and self.mode(method) not in (None, "broken"):
                    return True
            for base in cls.bases:
                if base in self.web.classes and base != cls.name:
                    if self.class_mode(base, prehooks_only=True):
                        return True
                elif self._imported_export(base, prehooks_only=True):
                    return True
        return self.module_pre_verified(handler.receivers)

    def module_pre_verified(self, receivers: set[str] | None = None) -> bool:
        """Middleware, before_request hooks and app-level dependencies of this module (or of
        the module an app object is imported from, or of the project's entry modules)."""
        for hook in self.web.hooks:
            scope = hook.scope
            if (scope == "module" or (receivers and isinstance(scope, str)
                                        and scope in receivers)) and \
                    self._ref_verifies(hook.expr, None):
                return True
        for function in self.web.hook_functions:
            flow = self.flows.get(function.node)
            if flow is not None and self.mode(flow) not in (None, "broken"):
                return True
        for receiver in receivers or ():
            head = receiver.split(".", 1)[0]
            origin = self.facts.imports.get(head)
            if origin is not None and self.ctx.project is not None and self.ctx.path:
                if lookup_export(self.ctx.project, self.ctx.path, origin) == "app":
                    return True
                resolved = self.ctx.project.resolve_origin(self.ctx.path, origin)
                if resolved is not None:
                    exports = self.ctx.project.summary(resolved[0], verifier_exports) or {}
                    if exports.get("<middleware>"):
                        return True
        return False

    def _ref_verifies(self, ref: cst.BaseExpression, flow: Flow | None) -> bool:
        if isinstance(ref, (cst.SimpleString, cst.ConcatenatedString)):
            value = string_value(ref)
            if not value or not _is_dotted(value):
                return False
            if self.configured_verifier(value, value):
                return True
            return self._imported_export(value) is not None
        written = dotted_name(ref)
        if not written:
            return False
        resolved = self.facts.resolve(ref).lstrip(".")
        return self.ref_mode(written, resolved, flow) not in (None, "broken")

    def project_middleware(self) -> bool:
        """A verifying middleware registered in Django settings' MIDDLEWARE, or in an entry
        module near this one (main.py, app.py, asgi.py …) that mentions this module. Reads
        only files whose text registers middleware; bounded, so a one-file run never walks the
        whole tree."""
        project, path = self.ctx.project, self.ctx.path
        if project is None or path is None:
            return False
        me = path.resolve()
        stem = me.stem if me.stem != "__init__" else me.parent.name
        mentions = re.compile(rf"\b{re.escape(stem)}\b")
        for candidate in _nearby_modules(me, project.root):
            text = project.text(candidate)
            if not text or not any(t in text for t in MIDDLEWARE_TOKENS):
                continue
            settings_module = candidate.name == "settings.py" or candidate.parent.name == "settings"
            if not settings_module and not mentions.search(text):
                continue  # an entry module guards the handlers of the modules it wires up
            exports = project.summary(candidate, verifier_exports) or {}
            if exports.get("<middleware>"):
                return True
        return False


def _strongest(sides: list[str | None], consts: bool = True) -> str | None:
    for wanted in ("digest", "signature", "const", "weak") if consts else (
            "digest", "signature", "weak"):
        if wanted in sides:
            return wanted
    return None


def _last(func: cst.BaseExpression) -> str:
    """The called name: `encode` for `f"...".encode`, `verify` for `security.verify`."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _dedupe(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _subscript_key(expr: cst.Subscript) -> str | None:
    if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
        return None
    return string_value(expr.slice[0].slice.value)


def _is_dotted(text: str) -> bool:
    return bool(re.fullmatch(r"\.*[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*", text))


def _nearby_modules(module: Path, root: Path) -> list[Path]:
    """Python files in this module's folder and its ancestors up to the project root, and the
    settings modules of the root's direct sub-packages (Django)."""
    found: list[Path] = []
    folder = module.parent
    while True:
        with contextlib.suppress(OSError):
            found.extend(sorted(p for p in folder.glob("*.py") if p != module))
        if folder == root or root not in folder.parents or len(found) > MAX_NEARBY_FILES:
            break
        folder = folder.parent
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        children = []
    for child in children[:50]:
        for candidate in (child / "settings.py", *sorted((child / "settings").glob("*.py"))):
            if candidate.is_file() and candidate not in found:
                found.append(candidate)
    return found[:MAX_NEARBY_FILES]


# -- project index summaries --------------------------------------------------------------------

class VerifierExports(Mapping[str, str]):
    """Project-index summary: which names of a module verify a webhook signature, computed
    name by name as other modules ask (a module is often asked about one helper only).

    Values: raises | returns | unknown | broken (functions), class (middleware, permission
    classes, instances of them), view (a class whose pre-hooks verify, so its subclasses'
    handlers are verified), app (an app object with verifying middleware); key `<middleware>`
    when the module registers a verifying middleware or hook."""

    def __init__(self, analysis: Verification) -> None:
        self.analysis = analysis
        self._memo: dict[str, str | None] = {}

    def _names(self) -> list[str]:
        a = self.analysis
        return [*a.module_flows, *a.web.classes, *a.web.module_assigns, *a.web.apps,
                "<middleware>"]

    def _compute(self, name: str) -> str | None:
        a = self.analysis
        if name == "<middleware>":
            return "app" if a.module_pre_verified() else None
        if name in a.module_flows:
            return a.mode(a.module_flows[name])
        if name in a.web.classes:
            if a.class_mode(name, prehooks_only=True):
                return "view"
            return "class" if a.class_mode(name) else None
        value = a.web.module_assigns.get(name)
        if isinstance(value, cst.Call):  # verifier = KeyPortVerifier(secret)
            callee = dotted_name(value.func)
            if callee and a.ref_mode(callee, a.facts.resolve(value.func)) not in (
                    None, "broken"):
                return "class"
        if name in a.web.apps and self.get("<middleware>"):
            return "app"
        return None

    def __getitem__(self, name: str) -> str:
        if name not in self._memo:
            self._memo[name] = None  # cycle guard
            self._memo[name] = self._compute(name)
        value = self._memo[name]
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter([n for n in dict.fromkeys(self._names()) if n in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # never compute every name just to test truth
        return True


def verifier_exports(ctx: PythonContext) -> VerifierExports:
    """Memoised per module by the project index (`summary`)."""
    return VerifierExports(ctx.analysis(verification))


def _import_table(ctx: PythonContext) -> dict[str, str]:
    return dict(ctx.analysis(module_facts).imports)


def lookup_export(project: object, importer: Path, origin: str, depth: int = 0) -> str | None:
    """What `verifier_exports` says about an import origin, following re-exports
    (`from .security import verify` in a package `__init__`)."""
    if depth > 4:
        return None
    resolved = project.resolve_origin(importer, origin)  # type: ignore[attr-defined]
    if resolved is None:
        return None
    module, name = resolved
    if not name:
        return None
    text = project.text(module) or ""  # type: ignore[attr-defined]
    if name not in text:
        return None
    if VERIFY_TEXT.search(text) or _configured_token(project, text):
        exports = project.summary(module, verifier_exports) or {}  # type: ignore[attr-defined]
        if name in exports:
            return exports[name]
    imports = project.summary(module, _import_table) or {}  # type: ignore[attr-defined]
    if name in imports and imports[name] != origin:  # a re-export: follow it
        return lookup_export(project, module, imports[name], depth + 1)
    return None


def _configured_token(project: object, text: str) -> bool:
    patterns = project.settings.get("verifiers", [])  # type: ignore[attr-defined]
    return any(t and t in text for t in (re.split(r"[*?\[]", p.rsplit(".", 1)[-1])[0]
                                         for p in patterns))


def verification(ctx: PythonContext) -> Verification:
    """Memoised per file through `ctx.analysis(verification)`."""
    return Verification(ctx)


# -- findings (KP301–KP307) ---------------------------------------------------------------------

@dataclass(eq=False)
class WebhookFinding:
    check: str  # unverified | order | ignored | compare | parsed-body | timestamp | swallowed
    node: cst.CSTNode
    fields: dict[str, str]
    length: int | None = None


def webhook_findings(ctx: PythonContext) -> list[WebhookFinding]:
    """Every KP3 finding of the module, computed once and split by the rules' `check`."""
    from keyport_lint.analysis.context import is_keyport_related

    analysis = ctx.analysis(verification)
    out: list[WebhookFinding] = []
    related = ctx.analysis(is_keyport_related)
    context = analysis.webhook_flows() if related or analysis.keyport_handlers() else []

    for handler, flow, processes in analysis.keyport_handlers():
        fields = {"handler": handler.qualname}
        checks = analysis.checks(flow)
        before = analysis.pre_verified(handler, flow)
        if not checks and not before and processes and not analysis.project_middleware():
            out.append(WebhookFinding("unverified", handler.node, fields, _def_length(handler)))
        if checks and not before:
            first = _parsed_use_before(analysis, handler, flow, checks[0].seq)
            if first is not None:
                out.append(WebhookFinding("order", handler.node,
                                          {**fields, "detail": first}, _def_length(handler)))

    reported: set[int] = set()
    for flow in context:
        for check in analysis.checks(flow):
            result, node = analysis.outcome(check, flow)
            if result in ("ignored", "not-stopping") and node is not None \
                    and id(node) not in reported:
                reported.add(id(node))
                out.append(WebhookFinding("ignored", node, {"handler": _flow_name(flow)}))
        out.extend(_swallowed(analysis, flow))

    if related:
        foreign = analysis.foreign_flows()
        for flow in [analysis.module, *analysis.flows.values()]:
            if id(flow) in foreign:
                continue
            for node, _, _ in flow.comparisons:
                if analysis.signature_comparison(node, flow):
                    out.append(WebhookFinding("compare", node, {"handler": _flow_name(flow)}))

    markers = whole_regex(ctx.settings, "signed-response-markers")
    for flow in analysis.webhook_flows(strict=True) if context else []:
        name = _flow_name(flow)
        if markers.search(name) and "webhook" not in name.lower():
            continue
        for record in flow.hmacs:
            parts = analysis.message_parts(record, flow)
            if parts is None:
                continue
            if "parsed" in parts:
                out.append(WebhookFinding("parsed-body", record.node, {"handler": name}))
            if "timestamp" not in parts and "unknown" not in parts and any(
                    p in parts for p in ("raw", "parsed", "body")):
                out.append(WebhookFinding("timestamp", record.node, {"handler": name}))
    return out


def _flow_name(flow: Flow) -> str:
    return f"{flow.cls}.{flow.name}" if flow.cls else flow.name


def _def_length(handler: Handler) -> int:
    node = handler.node
    prefix = "async def " if node.asynchronous is not None else "def "
    return len(prefix) + len(node.name.value)


def _parsed_use_before(analysis: Verification, handler: Handler, flow: Flow, verified_at: int
                       ) -> str | None:
    """The first parsed payload read that is used before the first verification, as text for
    the message; HMAC-feeding reads are KP305's business, not KP302's."""
    table = analysis.settings["web-request-reads"]
    hmac_names = _hmac_names(analysis, flow)
    parsed: list[tuple[int, str, str]] = []  # (seq, assigned name, description)
    for read in flow.attr_reads:
        if read.root not in handler.request_roots or read.seq >= verified_at or read.in_hmac \
                or (read.stmt_target and read.stmt_target in hmac_names):
            continue
        kind = classify_read(table, handler.framework, read.attr)
        if kind in ("parsed", "form"):
            parsed.append((read.seq, read.target, f"{read.root}.{read.attr}"))
    for call in flow.calls:
        if call.resolved in JSON_LOADS and call.seq < verified_at:
            parsed.append((call.seq, call.target, call.resolved))
    for param in handler.body_params:
        parsed.append((flow.seq, param.name.value,
                       f"the parsed body parameter {param.name.value}"))
    for seq, target, description in sorted(parsed):
        if target and target in hmac_names:
            continue
        if not target:
            return description
        for load in flow.loads:
            if load.name == target and seq < load.seq < verified_at and not load.in_hmac \
                    and load.target not in hmac_names:
                return description
    return None


def _hmac_names(analysis: Verification, flow: Flow) -> set[str]:
    """Names whose values end up in an HMAC message (directly or through assignments)."""
    out: set[str] = set()
    stack: list[cst.BaseExpression] = []
    for record in flow.hmacs:
        if record.message is not None:
            stack.append(record.message)
        stack.extend(record.updates)
    guard = 0
    while stack and guard < 200:
        guard += 1
        expr = stack.pop()
        for name in _names_in(expr):
            if name not in out:
                out.add(name)
                for value, _, _ in flow.assigns.get(name, []):
                    stack.append(value)
    return out


def _names_in(expr: cst.CSTNode, depth: int = 0) -> list[str]:
    if depth > 10:
        return []
    if isinstance(expr, cst.Name):
        return [expr.value]
    out: list[str] = []
    for child in expr.children:
        if isinstance(child, cst.Attribute):
            out.extend(_names_in(child.value, depth + 1))
        elif isinstance(child, cst.CSTNode):
            out.extend(_names_in(child, depth + 1))
    if isinstance(expr, cst.Attribute):
        return _names_in(expr.value, depth + 1)
    return out


def _swallowed(analysis: Verification, flow: Flow) -> list[WebhookFinding]:
    """KP307: a verification call inside a `try` whose broad `except` carries on."""
    errors = whole_regex(analysis.settings, "webhook-verification-errors")
    out = []
    done: set[int] = set()
    for check in analysis.checks(flow):
        if check.kind == "comparison" or not check.tries:
            continue
        for record in check.tries:
            if id(record) in done:
                continue
            for types, block in record.handlers:
                catches = not types or any(
                    errors.fullmatch(t) or errors.fullmatch(t.rsplit(".", 1)[-1])
                    for t in types)
                if not catches or block.stops:
                    continue
                if block.assigns and any(r.seq > check.seq and set(r.names) & block.assigns
                                         for r in flow.ifs):
                    continue  # except: ok = False … later: if not ok: abort()
                done.add(id(record))
                out.append(WebhookFinding("swallowed", check.node,
                                          {"handler": _flow_name(flow)}))
                break
    return out
