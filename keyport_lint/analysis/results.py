"""KeyPort validation results: which values hold one, and what each function does with them.

KP401–KP405 judge how a result is handled; KP502 needs to recognise a raw result handed to a
browser. Both ask "what does this expression hold?", so the answer is one shared analysis.

Sources: the SDK's `validate()` on a client made in the function, at module level, in a class
attribute (`self.client`), by a factory or property of the module, or a parameter annotated
with the SDK class; and raw HTTP requests whose URL holds the validation path (requests,
httpx, aiohttp, urllib, Tornado), with their parsed bodies (`.json()`, `json.loads(resp.text)`,
`json.load(resp)`). Values flow through assignment, unpacking, `with … as`, `.get("status")`,
`["status"]`, string methods, and functions of the module (return values, and parameters
bound from call sites).

How: one libcst traversal records, per function (the module body and class bodies count as
functions), the events that matter in source order — bindings, tests, comparisons, reads,
calls, returns, `match`, `try` bodies. A small abstract interpreter replays those events a few
rounds until helper summaries, class attributes and parameter bindings settle. No scope or
qualified-name metadata: names resolve through the module's import alias table.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import libcst as cst

from keyport_lint.analysis.facts import ModuleFacts, dotted_name, evaluated, module_facts
from keyport_lint.analysis.fastvisit import TOKENS, FastVisitor, opaque_types, walk
from keyport_lint.context import PythonContext

# -- what a value holds -------------------------------------------------------------------------
CLIENT = "client"  # a KeyPort SDK client
SDK_RESULT = "sdk-result"  # the plain dict returned by the SDK's validate()
LOOKUP = "lookup"  # the SDK's get_license(): a license lookup, not a validation
REQUEST = "request"  # a prepared HTTP request (urllib Request, Tornado HTTPRequest)
RESPONSE = "response"  # a raw HTTP response
RAW = "raw-body"  # its undecoded text or bytes (resp.text, resp.content, resp.body, read())
BODY = "body"  # its parsed JSON body
STATUS = "status"  # the result's "status" string
VALID = "valid"  # the result's "valid" flag
HTTP_STATUS = "http-status"  # the response's HTTP status code
HTTP_OK = "http-ok"  # resp.ok / resp.is_success
STR = "str"
INT = "int"
BOOL = "bool"
NONE = "none"
TUPLE = "tuple"  # tuple, list or set display (items)
DICT = "dict"  # dict display (string keys)
PARAM = "param"  # a parameter of the function being interpreted (unknown content)
FUNCTION = "function"
CLASS = "class"
INSTANCE = "instance"
SDK_CALL = "sdk-call"  # marks an SDK call a helper lets escape (KP405)
HTTP_CLIENT = "http-client"  # an HTTP client made with a base_url (url: that base)

RESULT_KINDS = frozenset({SDK_RESULT, BODY})
VALIDATION_KINDS = frozenset({SDK_RESULT, RESPONSE, RAW, BODY, STATUS, VALID, HTTP_STATUS,
                              HTTP_OK})
DICT_METHODS = frozenset({"get", "keys", "items", "values", "copy", "pop", "popitem",
                          "setdefault", "update", "clear", "fromkeys"})
STRING_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title",
                            "decode", "removeprefix", "removesuffix"})
PARSE_CALLS = frozenset({"loads", "load", "json_decode", "parse_raw"})
REQUEST_CLASSES = frozenset({"Request", "HTTPRequest"})
RAW_ATTRIBUTES = frozenset({"text", "content", "body", "data"})
RAW_METHODS = frozenset({"read", "text", "aread", "iter_content"})
OK_ATTRIBUTES = frozenset({"ok", "is_success", "is_error"})
CODE_ATTRIBUTES = frozenset({"status_code", "status", "code"})
EXITING_CALLS = frozenset({"abort", "exit", "_exit", "fail"})
COPY_CALLS = frozenset({"dict", "copy", "deepcopy", "MappingProxyType", "OrderedDict"})
COLLECTION_CALLS = frozenset({"tuple", "list", "set", "frozenset"})
MAX_ROUNDS = 4
MAX_ESCAPES = 8


@dataclass(frozen=True)
class Value:
    """What an expression holds, as far as validation results are concerned."""

    kind: str
    origin: str = ""  # "sdk" or "http" for results and what is read from them
    # string segments: literal text, None (unknown) or (unit id, parameter index); the text
    # of a STR, the request URL of HTTP values, the base URL of an HTTP_CLIENT
    url: tuple = ()
    endpoint: str = ""  # HTTP values: "validate", "api" (another KeyPort API call) or ""
    conditional: bool = False  # the URL depends on a parameter: a generic request helper
    site: cst.CSTNode | None = None  # the call where a result entered this function
    items: tuple = ()  # TUPLE elements
    keys: frozenset = frozenset()  # DICT string keys; STATUS: the code's own fallback strings
    number: int | None = None  # INT value
    param: tuple | None = None  # (unit id, index, "" | "status" | "valid") when from a parameter
    ref: Any = None  # the unit or class behind FUNCTION, CLASS, INSTANCE

    @property
    def is_validation(self) -> bool:
        """A concrete KeyPort validation result or something read from one."""
        if self.kind not in VALIDATION_KINDS:
            return False
        return self.origin == "sdk" or (self.endpoint == "validate" and not self.conditional)

    @property
    def is_result(self) -> bool:
        """The validation dict itself: the SDK's return value or the parsed HTTP body."""
        return self.kind in RESULT_KINDS and self.is_validation

    @property
    def is_raw_response(self) -> bool:
        """A raw HTTP response from the validation endpoint, or its undecoded body."""
        return self.kind in (RESPONSE, RAW) and self.is_validation

    @property
    def literal(self) -> str | None:
        """The text of a fully literal string."""
        if self.kind != STR or not all(isinstance(s, str) for s in self.url):
            return None
        return "".join(self.url)


def segments_text(url: tuple) -> str:
    return "".join(s if isinstance(s, str) else "\0" for s in url)


# -- what the interpreter records -------------------------------------------------------------

@dataclass(eq=False)
class Gate:
    """An `if`/`match`/conditional expression that decides success against everything else."""

    node: cst.CSTNode
    value: Value  # the valid flag, status or result it tests
    success_regions: list = field(default_factory=list)  # event index ranges only success reaches
    bool_return: bool = False  # only turns the flag into `return True/False`
    keyword: str = ""  # "if", "elif", "match"; "" for a conditional expression


@dataclass(eq=False)
class Handled:
    """Evidence that some statuses are told apart (or that the status is handed on)."""

    index: int  # event index, to ignore what only the success path reaches
    statuses: frozenset = frozenset()
    codes: frozenset = frozenset()
    everything: bool = False  # handed to code that may branch on it (returned, stored, passed)


@dataclass(eq=False)
class StatusCompare:
    node: cst.CSTNode  # the comparison (or the match case pattern)
    value: Value
    strings: frozenset  # the string literals it is compared with


@dataclass(eq=False)
class FunctionResults:
    """Per function (or module body): where results are and what the code does with them."""

    node: cst.CSTNode  # FunctionDef, ClassDef or Module
    name: str
    values: dict = field(default_factory=dict)  # name -> Value at the end of the function
    returns: list = field(default_factory=list)  # (Return node, Value | None)
    results: list = field(default_factory=list)  # every validation Value evaluated here
    gates: list = field(default_factory=list)
    truth_tests: list = field(default_factory=list)  # (tested expr, Value, variable name | None)
    status_compares: list = field(default_factory=list)
    attribute_reads: list = field(default_factory=list)  # (Attribute node, result Value)
    http_tests: list = field(default_factory=list)  # (node, Value) HTTP-only tests of a response
    handling: list = field(default_factory=list)  # Handled
    checked_sites: set = field(default_factory=set)  # id(site): results whose valid/status is used
    checked_names: set = field(default_factory=set)  # variables whose valid/status is read
    keyport_calls: list = field(default_factory=list)  # (Call, innermost enclosing Try | None)

    def names(self, *kinds: str) -> list[str]:
        """Variables that hold a validation value of these kinds at the end of the function,
        e.g. `names(SDK_RESULT, BODY)` for the result dicts, `names(RESPONSE)`."""
        return [n for n, v in self.values.items()
                if v is not None and v.kind in kinds and v.is_validation]

    @property
    def status_access(self) -> bool:
        """Does this function hold a validation result or status (not only a valid flag)?"""
        return any(v.kind in (SDK_RESULT, BODY, STATUS, RESPONSE) for v in self.results)

    def handled(self) -> tuple[set, set, bool]:
        """(statuses, HTTP codes, everything) told apart outside what only success reaches."""
        regions = [r for g in self.gates for r in g.success_regions]
        statuses: set = set()
        codes: set = set()
        everything = False
        for h in self.handling:
            if any(start <= h.index < end for start, end in regions):
                continue
            statuses |= h.statuses
            codes |= h.codes
            everything = everything or h.everything
        return statuses, codes, everything


@dataclass(eq=False)
class ResultsAnalysis:
    functions: list = field(default_factory=list)  # FunctionResults, module body first
    guarded_calls: list = field(default_factory=list)  # (Try, [KeyPort calls it guards])
    exception_refs: frozenset = frozenset()  # exception names caught or registered anywhere
    _values: dict = field(default_factory=dict, repr=False)

    def value_of(self, node: cst.CSTNode) -> Value | None:
        """What an expression the analysis evaluated holds (None: nothing of interest)."""
        return self._values.get(id(node))

    def function(self, node: cst.CSTNode) -> FunctionResults | None:
        """The results of one FunctionDef (or of the Module body)."""
        return next((f for f in self.functions if f.node is node), None)

    @property
    def has_results(self) -> bool:
        return any(f.results for f in self.functions)


# -- collection: one traversal ------------------------------------------------------------------

@dataclass(eq=False)
class _Class:
    name: str
    node: cst.ClassDef
    bases: list
    attrs: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)
    properties: set = field(default_factory=set)


@dataclass(eq=False)
class _Unit:
    uid: int
    node: cst.CSTNode
    name: str
    kind: str  # module | function | class
    parent: _Unit | None
    cls: _Class | None = None  # the class of a method, or of a class body
    params: list = field(default_factory=list)  # (name, annotation) after self/cls
    first: str = ""  # "self", "cls" or "" for the implicit first parameter
    returns_annotation: cst.BaseExpression | None = None
    events: list = field(default_factory=list)  # (tag, node, enclosing try bodies)
    if_ranges: dict = field(default_factory=dict)  # id(If) -> [body0, body1, else0, else1, end]
    if_parent: dict = field(default_factory=dict)  # id(If) -> enclosing block node
    case_ranges: dict = field(default_factory=dict)  # id(MatchCase) -> (start, end)
    block_end: dict = field(default_factory=dict)  # id(block) -> event index at its end
    elifs: set = field(default_factory=set)  # id(If) of `elif` branches


def _decorator_names(node: cst.FunctionDef) -> set:
    names = set()
    for deco in node.decorators:
        target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        names.add(dotted_name(target).rsplit(".", 1)[-1])
    return names


class _Collector(FastVisitor):
    """Splits the module into units and records their events in source order.

    Does not descend into tokens, whitespace, names and literals (see fastvisit.py for why the
    dispatch matters).
    """

    OPAQUE = TOKENS | opaque_types(
        cst.EmptyLine, cst.TrailingWhitespace, cst.Comment, cst.Import, cst.ImportFrom,
        cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Name, cst.Param,
        cst.Annotation)

    def __init__(self) -> None:
        super().__init__()
        self.units: list[_Unit] = []
        self.stack: list[_Unit] = []
        self.try_stack: list[tuple] = [()]
        self.blocks: list[cst.CSTNode] = []
        self.exception_refs: set[str] = set()
        self.decorators: set[int] = set()  # id() of decorator expressions

    @property
    def unit(self) -> _Unit:
        return self.stack[-1]

    def _event(self, tag: str, node: cst.CSTNode) -> None:
        if self.stack:
            self.unit.events.append((tag, node, self.try_stack[-1]))

    def _push(self, unit: _Unit) -> None:
        self.units.append(unit)
        self.stack.append(unit)
        self.try_stack.append(())

    def _pop(self) -> None:
        self.stack.pop()
        self.try_stack.pop()

    # -- units -------------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self._push(_Unit(0, node, "<module>", "module", None))
        self.blocks.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self.unit.block_end[id(original_node)] = len(self.unit.events)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._event("class", node)
        cls = _Class(node.name.value, node, [dotted_name(a.value) for a in node.bases])
        self._push(_Unit(len(self.units), node, node.name.value, "class", self.unit, cls))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._event("def", node)
        outer = self.unit
        decorators = _decorator_names(node)
        unit = _Unit(len(self.units), node, node.name.value, "function", outer,
                     returns_annotation=node.returns.annotation if node.returns else None)
        params = [*node.params.posonly_params, *node.params.params]
        if outer.kind == "class" and outer.cls is not None:
            unit.cls = outer.cls
            outer.cls.methods.setdefault(node.name.value, unit)
            if decorators & {"property", "cached_property"}:
                outer.cls.properties.add(node.name.value)
            if "staticmethod" not in decorators and params:
                unit.first = "cls" if "classmethod" in decorators else "self"
                params = params[1:]
        unit.params = [(p.name.value, p.annotation.annotation if p.annotation else None)
                       for p in [*params, *node.params.kwonly_params]]
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
    def visit_Decorator(self, node: cst.Decorator) -> None:
        self.decorators.add(id(node.decorator))

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
            self._registered(arg.value)

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement):
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



# -- interpretation -----------------------------------------------------------------------------

@dataclass(eq=False)
class _ParamHandling:
    statuses: set = field(default_factory=set)
    everything: bool = False
    forwards: set = field(default_factory=set)  # (callee uid, index, sub)


def _is_exit(statement: cst.BaseStatement) -> bool:
    if isinstance(statement, cst.SimpleStatementLine) and statement.body:
        last = statement.body[-1]
        if isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break)):
            return True
        if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
            return dotted_name(last.value.func).rsplit(".", 1)[-1] in EXITING_CALLS
    return False


def _block_statements(block: cst.BaseSuite) -> list:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _bool_return(statements: list) -> bool:
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return False
    body = statements[0].body
    return (len(body) == 1 and isinstance(body[0], cst.Return)
            and _is_bool_literal(body[0].value))


def _is_bool_literal(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value in ("True", "False", "None")


def _string_of(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        try:
            value = evaluated(node)
        except Exception:  # malformed escapes in odd code
            return None
        return value if isinstance(value, str) else None
    return None


def _http_code(dotted: str) -> int | None:
    """`HTTPStatus.OK`, `requests.codes.ok`, `status.HTTP_200_OK` as numbers."""
    last = dotted.rsplit(".", 1)[-1]
    match = re.fullmatch(r"HTTP_(\d{3})(?:_\w+)?", last)
    if match:
        return int(match.group(1))
    if "." in dotted and ("HTTPStatus" in dotted or ".codes." in dotted):
        try:
            return int(HTTPStatus[last.upper()])
        except KeyError:
            return None
    return None


class _Interpreter:
    def __init__(self, ctx: PythonContext, facts: ModuleFacts, collector: _Collector) -> None:
        settings = ctx.settings
        self.facts = facts
        self.units = collector.units
        self.sdk_clients = set(settings["sdk-clients"])
        self.validate_methods = set(settings["sdk-validate-methods"])
        self.validate_paths = list(settings["validate-paths"])
        self.api_marks = list(settings["api-paths"]) + list(settings["api-hosts"])
        self.http_names = set(settings["http-call-names"])
        self.quiet = _patterns(tuple(settings["non-handling-calls"]))
        self._success = success_statuses(settings)
        self.known = frozenset(s for group in settings["status-categories"].values()
                               for s in group)
        self.unit_of = {id(u.node): u for u in self.units}
        self.decorators = collector.decorators
        self.summaries: dict[int, Value | None] = {}
        self.escapes: dict[int, tuple] = {}
        self.bound: dict[tuple, Value] = {}
        self.param_handling: dict[tuple, _ParamHandling] = {}
        self.envs: dict[int, dict] = {}
        self.results: dict[int, FunctionResults] = {}
        self.values: dict[int, Value] = {}
        # per unit, reset by _run_unit
        self.unit: _Unit = self.units[0]
        self.f = FunctionResults(self.unit.node, self.unit.name)
        self.env: dict[str, Value | None] = {}
        self.memo: dict[int, Value | None] = {}
        self.index = 0
        self.tested: set[int] = set()
        self.markers: dict[int, Value] = {}  # id(call) -> what a KeyPort call is, for summaries

    # -- driver --------------------------------------------------------------------------------
    def run(self) -> ResultsAnalysis:
        previous: Any = None
        for _ in range(MAX_ROUNDS):
            self.values = {}
            for unit in self.units:
                self._run_unit(unit)
            state = (dict(self.summaries), dict(self.escapes), dict(self.bound),
                     [dict(u.cls.attrs) for u in self.units if u.kind == "class" and u.cls],
                     dict(self.envs.get(0, {})))
            if state == previous:
                break
            previous = state
        return self._analysis()

    def _analysis(self) -> ResultsAnalysis:
        guarded: dict[int, tuple] = {}
        for f in self.results.values():
            for call, guard in f.keyport_calls:
                if guard is not None:
                    guarded.setdefault(id(guard), (guard, []))[1].append(call)
        return ResultsAnalysis(
            functions=[self.results[u.uid] for u in self.units],
            guarded_calls=list(guarded.values()),
            _values=self.values,
        )

    def _run_unit(self, unit: _Unit) -> None:
        self.unit = unit
        self.f = FunctionResults(unit.node, unit.name)
        self.env = {}
        self.memo = {}
        self.tested = set()
        self.markers = {}
        if unit.kind == "function":
            self._bind_params(unit)
        for self.index, (tag, node, tries) in enumerate(unit.events):
            handler = getattr(self, f"_on_{tag}")
            handler(node, tries)
        if unit.kind == "class" and unit.cls is not None:
            for name, value in self.env.items():
                exported = self._export(value)
                if exported is not None:
                    unit.cls.attrs.setdefault(name, exported)
        self.f.values = dict(self.env)
        self.envs[unit.uid] = self.env
        self.results[unit.uid] = self.f
        self.values.update({k: v for k, v in self.memo.items() if v is not None})
        if unit.kind == "function":
            self._summarise(unit)

    def _bind_params(self, unit: _Unit) -> None:
        if unit.first and isinstance(unit.node, cst.FunctionDef):
            first = [*unit.node.params.posonly_params, *unit.node.params.params][0].name.value
            self.env[first] = Value(INSTANCE if unit.first == "self" else CLASS, ref=unit.cls)
        for index, (name, annotation) in enumerate(unit.params):
            if annotation is not None and self._is_client_type(annotation):
                self.env[name] = Value(CLIENT)
                continue
            tag = (unit.uid, index, "")
            bound = self.bound.get((unit.uid, index))
            self.env[name] = Value(PARAM, param=tag) if bound is None else replace(bound, param=tag)

    def _summarise(self, unit: _Unit) -> None:
        joined: Value | None = None
        for _, value in self.f.returns:
            if value is None or value.kind == NONE:
                continue
            joined = value if joined is None else _join(joined, value)
            if joined is None:
                break
        if joined is None and unit.returns_annotation is not None \
                and self._is_client_type(unit.returns_annotation):
            joined = Value(CLIENT)
        self.summaries[unit.uid] = joined
        escapes: list[Value] = []
        for call, guard in self.f.keyport_calls:
            marker = self.markers.get(id(call))
            if guard is None and marker is not None and marker not in escapes:
                escapes.append(marker)
        self.escapes[unit.uid] = tuple(escapes[:MAX_ESCAPES])

    # -- names and exported values ----------------------------------------------------------------
    def _lookup(self, name: str) -> Value | None:
        if name in self.env:
            return self.env[name]
        unit = self.unit.parent
        while unit is not None:
            if unit.kind != "class":
                env = self.envs.get(unit.uid, {})
                if name in env:
                    return self._export(env[name])
            unit = unit.parent
        if name in ("True", "False"):
            return Value(BOOL)
        if name == "None":
            return Value(NONE)
        return None

    def _export(self, value: Value | None) -> Value | None:
        """A value leaving its function: parameters mean nothing elsewhere."""
        if value is None or value.kind == PARAM:
            return None
        url = tuple(None if isinstance(s, tuple) else s for s in value.url)
        items = tuple(self._export(i) for i in value.items)
        if url == value.url and items == value.items and value.param is None:
            return value
        return self._http(replace(value, url=url, items=items, param=None))

    def _http(self, value: Value) -> Value:
        """Recompute what a URL reaches after its segments changed."""
        if value.kind not in (STR, REQUEST) and value.origin != "http":
            return value
        text = segments_text(value.url)
        endpoint = ""
        if any(p in text for p in self.validate_paths):
            endpoint = "validate"
        elif any(p in text for p in self.api_marks):
            endpoint = "api"
        conditional = any(isinstance(s, tuple) for s in value.url)
        return replace(value, endpoint=endpoint, conditional=conditional)

    def _is_client_type(self, annotation: cst.BaseExpression) -> bool:
        if isinstance(annotation, cst.BinaryOperation):
            return self._is_client_type(annotation.left) or self._is_client_type(annotation.right)
        if isinstance(annotation, cst.Subscript):  # Optional[KeyPort]
            return any(isinstance(e.slice, cst.Index) and self._is_client_type(e.slice.value)
                       for e in annotation.slice)
        if isinstance(annotation, cst.SimpleString):
            text = _string_of(annotation) or ""
            return text.rsplit(".", 1)[-1] in {c.rsplit(".", 1)[-1] for c in self.sdk_clients}
        return self.facts.resolve(annotation) in self.sdk_clients

    # -- evaluation ------------------------------------------------------------------------------
    def ev(self, node: cst.CSTNode | None) -> Value | None:
        if node is None:
            return None
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = None  # cycles (walrus in its own value) evaluate to nothing
        value = self._eval(node)
        self.memo[key] = value
        if value is not None and value.is_validation:
            self.f.results.append(value)
        return value

    def _eval(self, node: cst.CSTNode) -> Value | None:
        if isinstance(node, cst.Name):
            return self._lookup(node.value)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return self._http(Value(STR, url=self._segments(node)))
        if isinstance(node, cst.Integer):
            try:
                return Value(INT, number=int(evaluated(node)))
            except (ValueError, TypeError):
                return None
        if isinstance(node, cst.Await):
            return self.ev(node.expression)
        if isinstance(node, cst.NamedExpr):
            return self.ev(node.value)
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Subscript):
            return self._subscript(node)
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, (cst.Add, cst.Modulo)):
                left, right = self.ev(node.left), self.ev(node.right)
                if _is_text(left) or _is_text(right):
                    return self._http(Value(STR, url=_text(left) + _text(right)))
            return None
        if isinstance(node, cst.IfExp):
            body, orelse = self.ev(node.body), self.ev(node.orelse)
            if body is None or orelse is None:
                return body or orelse
            return _join(body, orelse)
        if isinstance(node, cst.BooleanOperation):
            left = self.ev(node.left)
            if isinstance(node.operator, cst.Or):
                if left is None or left.kind == NONE:
                    return self.ev(node.right)
                return _with_default(left, self.ev(node.right))
            return self.ev(node.right)
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            return Value(TUPLE, items=tuple(
                None if isinstance(e, (cst.StarredElement,)) else self.ev(e.value)
                for e in node.elements))
        if isinstance(node, cst.Dict):
            return self._dict(node)
        if isinstance(node, (cst.Comparison, cst.UnaryOperation)):
            return Value(BOOL)
        return None

    def _segments(self, node: cst.CSTNode) -> tuple:
        if isinstance(node, cst.SimpleString):
            try:
                value = evaluated(node)
            except Exception:  # malformed escapes in odd code
                value = None
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return (value if isinstance(value, str) else None,)
        if isinstance(node, cst.ConcatenatedString):
            return self._segments(node.left) + self._segments(node.right)
        if isinstance(node, cst.FormattedString):
            out: list = []
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append(part.value)
                else:
                    out.extend(_text(self.ev(part.expression)))
            return tuple(out)
        return (None,)

    def _dict(self, node: cst.Dict) -> Value | None:
        keys = set()
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                inner = self.ev(element.value)
                if inner is not None and inner.kind in RESULT_KINDS:
                    return inner  # {**result, …}: a copy of the raw result
                continue
            key = _string_of(element.key)
            if key is not None:
                keys.add(key)
        return Value(DICT, keys=frozenset(keys))

    def _attribute(self, node: cst.Attribute) -> Value | None:
        attr = node.attr.value
        base = self.ev(node.value)
        if base is None:
            code = _http_code(self.facts.resolve(node))
            return Value(INT, number=code) if code is not None else None
        if base.kind in (INSTANCE, CLASS) and base.ref is not None:
            return self._member(base.ref, attr)
        if base.kind == RESPONSE:
            if attr in OK_ATTRIBUTES:
                return replace(base, kind=HTTP_OK)
            if attr in CODE_ATTRIBUTES:
                return replace(base, kind=HTTP_STATUS)
            if attr in RAW_ATTRIBUTES:
                return replace(base, kind=RAW)
        return None

    def _member(self, cls: _Class, attr: str, depth: int = 0) -> Value | None:
        if attr in cls.properties:
            return self._export(self.summaries.get(cls.methods[attr].uid))
        if attr in cls.attrs:
            return cls.attrs[attr]
        if attr in cls.methods:
            return Value(FUNCTION, ref=cls.methods[attr])
        for base in cls.bases:
            parent = self._class_named(base)
            if parent is not None and depth < 8:
                found = self._member(parent, attr, depth + 1)
                if found is not None:
                    return found
        return None

    def _class_named(self, name: str) -> _Class | None:
        value = self.envs.get(0, {}).get(name)
        return value.ref if value is not None and value.kind == CLASS else None

    def _key(self, node: cst.BaseExpression) -> str | None:
        value = self.ev(node)
        return value.literal if value is not None else None

    def _field(self, base: Value, key: str | None) -> Value | None:
        """`base[key]` / `base.get(key)` on a result (or on a parameter that may be one)."""
        if key not in (STATUS, VALID):
            return None
        if base.kind in RESULT_KINDS:
            sub = (base.param[0], base.param[1], key) if base.param else None
            return replace(base, kind=key, param=sub)
        if base.kind == PARAM and base.param is not None and base.param[2] == "":
            return Value(PARAM, param=(base.param[0], base.param[1], key))
        return None

    def _subscript(self, node: cst.Subscript) -> Value | None:
        base = self.ev(node.value)
        if base is None or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        index = node.slice[0].slice.value
        if base.kind == TUPLE:
            position = self.ev(index)
            if position is not None and position.kind == INT and position.number is not None \
                    and -len(base.items) <= position.number < len(base.items):
                return base.items[position.number]
            return None
        return self._field(base, self._key(index))

    def _call(self, node: cst.Call) -> Value | None:
        func = node.func
        resolved = self.facts.resolve(func)
        if resolved in self.sdk_clients:
            return Value(CLIENT)
        args = node.args
        last = resolved.rsplit(".", 1)[-1]
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self.ev(func.value)
            if receiver is not None:
                found = self._method(node, receiver, method, args)
                if found is not None:
                    return found
                if receiver.kind in (CLIENT, SDK_RESULT, BODY, STATUS, RESPONSE, RAW, INSTANCE,
                                     CLASS, LOOKUP, HTTP_CLIENT):
                    return None
        else:
            callee = self.ev(func)
            if callee is not None and callee.kind == FUNCTION:
                return self._apply(callee.ref, node)
            if callee is not None and callee.kind == CLASS and callee.ref is not None:
                init = callee.ref.methods.get("__init__")
                if init is not None:
                    self._apply(init, node)
                return Value(INSTANCE, ref=callee.ref)
        first = self.ev(args[0].value) if args and not args[0].star else None
        if last in PARSE_CALLS and first is not None and first.kind in (RAW, RESPONSE):
            return replace(first, kind=BODY)
        if last in COPY_CALLS and first is not None and first.kind in RESULT_KINDS:
            return first
        if last in COLLECTION_CALLS and first is not None and first.kind == TUPLE:
            return first
        if last == "str" and first is not None and first.kind in (STATUS, STR):
            return first
        if last in ("urljoin", "join") and args:
            url: tuple = ()
            for arg in args:
                url += _text(self.ev(arg.value))
            return self._http(Value(STR, url=url))
        base_url = next((a.value for a in args
                         if a.keyword is not None and a.keyword.value == "base_url"), None)
        if base_url is not None:  # httpx.Client(base_url=…), aiohttp.ClientSession(base_url=…)
            return self._http(Value(HTTP_CLIENT, url=_text(self.ev(base_url))))
        if id(node) in self.decorators:
            return None  # @app.post("/api/v1/validate") declares a route, it sends nothing
        if last in REQUEST_CLASSES or last in self.http_names:
            target = self._url_argument(node)
            if target is None or (target.kind == STR and _relative(target.url)):
                return None  # a path without a host goes to the app itself (test clients)
            if last in REQUEST_CLASSES:
                return replace(target, kind=REQUEST)
            return self._http(Value(RESPONSE, origin="http", url=target.url, site=node))
        return None

    def _method(self, node: cst.Call, receiver: Value, method: str,
                args: Any) -> Value | None:
        kind = receiver.kind
        if kind == CLIENT:
            if method in self.validate_methods:
                return Value(SDK_RESULT, origin="sdk", site=node)
            if method == "get_license":
                return Value(LOOKUP)
            if method in ("close", "__enter__", "__exit__"):
                return None
            return Value(SDK_CALL)
        if method in STRING_METHODS and kind in (RAW, STATUS, PARAM):
            return receiver
        if kind in RESULT_KINDS or (kind == PARAM and receiver.param and receiver.param[2] == ""):
            if method == "get" and args:
                found = self._field(receiver, self._key(args[0].value))
                fallback = self.ev(args[1].value) if len(args) > 1 else None
                return _with_default(found, fallback)
            if method == "copy" and kind in RESULT_KINDS:
                return receiver
            return None
        if kind == RESPONSE:
            if method == "json":
                return replace(receiver, kind=BODY)
            if method in RAW_METHODS:
                return replace(receiver, kind=RAW)
            if method == "getcode":
                return replace(receiver, kind=HTTP_STATUS)
            return None
        if kind == HTTP_CLIENT and method in self.http_names:
            target = self._url_argument(node)
            if target is None:
                return None
            url = receiver.url + target.url if _relative(target.url) else target.url
            return self._http(Value(RESPONSE, origin="http", url=url, site=node))
        if kind == STR:
            if method in ("format", "rstrip", "lstrip", "strip", "replace"):
                return receiver
            if method == "join" and args:
                joined = self.ev(args[0].value)
                if joined is not None and joined.kind == TUPLE:
                    url: tuple = ()
                    for item in joined.items:
                        url += _text(item)
                    return self._http(Value(STR, url=url))
            return None
        if kind in (INSTANCE, CLASS) and receiver.ref is not None:
            member = self._member(receiver.ref, method)
            if member is not None and member.kind == FUNCTION:
                return self._apply(member.ref, node)
        return None

    def _url_argument(self, node: cst.Call) -> Value | None:
        """The URL (or prepared request) a request-sending call is given."""
        candidates = [a.value for a in node.args[:2] if a.keyword is None and not a.star]
        candidates += [a.value for a in node.args
                       if a.keyword is not None and a.keyword.value in ("url", "request")]
        for candidate in candidates:
            value = self.ev(candidate)
            if value is None:
                continue
            if value.kind == REQUEST:
                return value
            if value.kind == STR and ("/" in segments_text(value.url) or value.conditional):
                return value
            if value.kind == PARAM and value.param is not None and value.param[2] == "":
                return self._http(Value(STR, url=(value.param[:2],)))
        return None

    # -- helpers of the module -------------------------------------------------------------------
    def _arguments(self, callee: _Unit, node: cst.Call) -> dict[int, tuple]:
        """parameter index -> (argument expression, Value) for one call."""
        names = [name for name, _ in callee.params]
        out: dict[int, tuple] = {}
        position = 0
        for arg in node.args:
            if arg.star:
                break
            if arg.keyword is None:
                out[position] = (arg.value, self.ev(arg.value))
                position += 1
            elif arg.keyword.value in names:
                out[names.index(arg.keyword.value)] = (arg.value, self.ev(arg.value))
        return out

    def _apply(self, callee: _Unit, node: cst.Call) -> Value | None:
        """The value a call of a module function returns, with its parameters substituted."""
        args = self._arguments(callee, node)
        for index, (_, value) in args.items():
            exported = self._export(value)
            if exported is not None and (exported.is_validation or exported.kind == CLIENT):
                self.bound.setdefault((callee.uid, index), exported)
        summary = self.summaries.get(callee.uid)
        if summary is None:
            return None
        return self._substitute(summary, callee.uid, args, node)

    def _substitute(self, value: Value | None, uid: int, args: dict,
                    site: cst.CSTNode) -> Value | None:
        if value is None:
            return None
        if value.param is not None and value.param[0] == uid:
            arg = args.get(value.param[1], (None, None))[1]
            if arg is None:
                return None
            return self._field(arg, value.param[2]) if value.param[2] else arg
        url = value.url
        if any(isinstance(s, tuple) for s in url):
            new: list = []
            for s in url:
                if isinstance(s, tuple) and s[0] == uid:
                    arg = args.get(s[1], (None, None))[1]
                    if arg is not None and arg.kind == STR:
                        new.extend(arg.url)
                    elif arg is not None and arg.kind == PARAM and arg.param:
                        new.append(arg.param[:2])
                    else:
                        new.append(None)
                else:
                    new.append(None if isinstance(s, tuple) else s)
            url = tuple(new)
        items = tuple(self._substitute(i, uid, args, site) for i in value.items)
        out = replace(value, url=url, items=items, param=None)
        if out.kind in VALIDATION_KINDS:
            out = replace(out, site=site)
        return self._http(out)

    # -- bindings --------------------------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression, value: Value | None) -> None:
        if isinstance(target, cst.Name):
            self.env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if value is not None and value.kind == TUPLE else ()
            for position, element in enumerate(target.elements):
                if isinstance(element, cst.StarredElement) or len(items) != len(target.elements):
                    self._bind(element.value, None)
                else:
                    self._bind(element.value, items[position])
        elif isinstance(target, cst.Attribute):
            base = self.ev(target.value)
            if base is not None and base.kind in (INSTANCE, CLASS) and base.ref is not None:
                exported = self._export(value)
                if exported is not None and exported.kind != NONE:
                    base.ref.attrs.setdefault(target.attr.value, exported)
            self._hand_on(value)
        elif isinstance(target, cst.Subscript):
            self._hand_on(value)

    def _on_assign(self, node: cst.CSTNode, tries: tuple) -> None:
        if isinstance(node, cst.Assign):
            value = self.ev(node.value)
            for target in node.targets:
                self._bind(target.target, value)
        elif isinstance(node, cst.AnnAssign):
            value = self.ev(node.value) if node.value is not None else None
            if value is None and self._is_client_type(node.annotation.annotation):
                value = Value(CLIENT)
            if node.value is not None or value is not None:
                self._bind(node.target, value)
        elif isinstance(node, cst.AugAssign):
            if isinstance(node.target, cst.Name):
                value = self.ev(node.target)
                if value is not None and value.kind == STR and isinstance(node.operator,
                                                                          cst.AddAssign):
                    url = value.url + _text(self.ev(node.value))
                    self.env[node.target.value] = self._http(Value(STR, url=url))
                else:
                    self.env[node.target.value] = None
        elif isinstance(node, cst.NamedExpr):
            self._bind(node.target, self.ev(node.value))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            self._bind(node.asname.name, self.ev(node.item))

    def _on_unbind(self, node: cst.BaseExpression, tries: tuple) -> None:
        self._bind(node, None)

    def _on_def(self, node: cst.FunctionDef, tries: tuple) -> None:
        self.env[node.name.value] = Value(FUNCTION, ref=self.unit_of.get(id(node)))

    def _on_class(self, node: cst.ClassDef, tries: tuple) -> None:
        unit = self.unit_of.get(id(node))
        self.env[node.name.value] = Value(CLASS, ref=unit.cls if unit else None)

    def _on_except(self, node: cst.CSTNode, tries: tuple) -> None:
        name = getattr(node, "name", None)
        if name is not None and isinstance(name.name, cst.Name):
            self.env[name.name.value] = None

    # -- handing on: returned, stored, passed --------------------------------------------------
    def _hand_on(self, value: Value | None, returned: bool = False) -> None:
        """The status or result leaves this function's hands: whoever gets it may branch."""
        if value is None:
            return
        if value.kind in (TUPLE,):
            for item in value.items:
                self._hand_on(item, returned)
            return
        if value.kind == DICT:
            return
        if value.param is not None and not returned:
            self._param(value.param).everything = True
        if value.is_validation and value.kind in (SDK_RESULT, BODY, STATUS, RESPONSE, RAW):
            self.f.handling.append(Handled(self.index, everything=True))
            if value.site is not None:
                self.f.checked_sites.add(id(value.site))

    def _contained(self, node: cst.BaseExpression) -> list:
        """Values in an expression and its displays (not through formatting or other calls)."""
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            return [v for e in node.elements for v in self._contained(e.value)]
        if isinstance(node, cst.Dict):
            out = []
            for element in node.elements:
                out += self._contained(element.value)
            return out
        value = self.ev(node)
        return [value] if value is not None else []

    def _on_return(self, node: cst.Return, tries: tuple) -> None:
        value = self.ev(node.value) if node.value is not None else None
        self.f.returns.append((node, value))
        if node.value is not None:
            for inner in self._contained(node.value):
                self._hand_on(inner, returned=True)

    # -- tests -------------------------------------------------------------------------------------
    def _param(self, tag: tuple) -> _ParamHandling:
        return self.param_handling.setdefault(tag, _ParamHandling())

    def _truth(self, expr: cst.BaseExpression) -> None:
        """`expr` decides a branch by its truth value."""
        while True:
            if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
                expr = expr.expression
            elif isinstance(expr, cst.Call) and dotted_name(expr.func) == "bool" \
                    and len(expr.args) == 1:
                expr = expr.args[0].value
            else:
                break
        if isinstance(expr, cst.BooleanOperation):
            for operand in (expr.left, expr.right):
                self._truth(operand)
            return
        if id(expr) in self.tested:
            return
        self.tested.add(id(expr))
        value = self.ev(expr)
        if value is None or not value.is_validation:
            return
        name = expr.value if isinstance(expr, cst.Name) else None
        if value.kind in RESULT_KINDS:
            self.f.truth_tests.append((expr, value, name))
        elif value.kind == RESPONSE:
            self.f.http_tests.append((expr, value))

    def _on_test(self, node: cst.BaseExpression, tries: tuple) -> None:
        self._truth(node)

    def _on_not(self, node: cst.UnaryOperation, tries: tuple) -> None:
        self._truth(node.expression)

    def _on_and(self, node: cst.BooleanOperation, tries: tuple) -> None:
        self._truth(node.left)

    def _on_if(self, node: cst.If, tries: tuple) -> None:
        self._truth(node.test)
        gate = self._polarity(node.test)
        if gate is None:
            return
        polarity, value = gate
        body0, body1, else0, else1, end = self.unit.if_ranges[id(node)]
        statements = _block_statements(node.body)
        orelse = node.orelse
        if polarity:
            regions = [(body0, body1)]
        else:
            regions = [(else0, else1)] if isinstance(orelse, cst.Else) else []
            if statements and _is_exit(statements[-1]) and orelse is None:
                parent = self.unit.if_parent.get(id(node))
                regions.append((end, self.unit.block_end.get(id(parent), end)))
        keyword = "elif" if id(node) in self.unit.elifs else "if"
        self.f.gates.append(Gate(node, value, regions, self._bool_shape(node), keyword))

    def _bool_shape(self, node: cst.If) -> bool:
        """`if valid: return True / return False`: a helper that only returns the flag."""
        if not _bool_return(_block_statements(node.body)):
            return False
        if isinstance(node.orelse, cst.Else):
            return _bool_return(_block_statements(node.orelse.body))
        if node.orelse is not None:
            return False
        parent = self.unit.if_parent.get(id(node))
        siblings = list(getattr(parent, "body", ()))
        for position, statement in enumerate(siblings):
            if statement is node:
                rest = siblings[position + 1: position + 2]
                return bool(rest) and _bool_return(rest)
        return False

    def _on_ifexp(self, node: cst.IfExp, tries: tuple) -> None:
        self._truth(node.test)
        gate = self._polarity(node.test)
        if gate is not None:
            bool_return = _is_bool_literal(node.body) and _is_bool_literal(node.orelse)
            self.f.gates.append(Gate(node, gate[1], [], bool_return))

    def _polarity(self, test: cst.BaseExpression) -> tuple | None:
        """(True, value) when `test` holds on success only, (False, value) on failure only."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._polarity(test.expression)
            return (not inner[0], inner[1]) if inner else None
        if isinstance(test, cst.Call) and dotted_name(test.func) == "bool" and len(test.args) == 1:
            return self._polarity(test.args[0].value)
        if isinstance(test, cst.BooleanOperation):
            parts = [self._polarity(test.left), self._polarity(test.right)]
            known = [p for p in parts if p is not None]
            if not known or self._mentions_failure(test):
                return None
            if isinstance(test.operator, cst.And) and all(p[0] for p in known):
                return known[0]
            if isinstance(test.operator, cst.Or) and not any(p[0] for p in known):
                return known[0]
            return None
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            return self._compare_polarity(test)
        value = self.ev(test)
        if value is not None and value.kind == VALID and value.is_validation:
            return True, value
        return None

    def _compare_polarity(self, test: cst.Comparison) -> tuple | None:
        comparison = test.comparisons[0]
        left, right = self.ev(test.left), self.ev(comparison.comparator)
        op = comparison.operator
        negative = isinstance(op, (cst.NotEqual, cst.IsNot, cst.NotIn))
        for subject, other in ((left, right), (right, left)):
            if subject is None or other is None or not subject.is_validation:
                continue
            if subject.kind == VALID and other.kind == BOOL:
                node = comparison.comparator if subject is left else test.left
                truthy = isinstance(node, cst.Name) and node.value == "True"
                return (truthy != negative), subject
            if subject.kind == STATUS:
                strings, unknown = _strings(other)
                if strings and not unknown and strings <= self._success:
                    return (not negative), subject
        return None

    def _mentions_failure(self, test: cst.BaseExpression) -> bool:
        """Does a combined test also compare the status with a failure status?"""
        for node in _walk_comparisons(test):
            operands = [self.ev(o) for o in (node.left, *[c.comparator for c in node.comparisons])]
            if not any(v is not None and v.kind == STATUS for v in operands):
                continue
            for value in operands:
                if value is not None and value.kind != STATUS \
                        and _strings(value)[0] - self._success:
                    return True
        return False

    def _on_match(self, node: cst.Match, tries: tuple) -> None:
        subject = self.ev(node.subject)
        if subject is None:
            return
        is_status = subject.kind == STATUS or (subject.kind == PARAM and subject.param)
        is_result = subject.kind in RESULT_KINDS
        if not (is_status or is_result):
            return
        success_only = True
        regions = []
        seen_success = False
        for case in node.cases:
            strings, valid, unknown = _pattern_statuses(case.pattern, is_result)
            irrefutable = _irrefutable(case.pattern)
            if case.pattern is not None and isinstance(case.pattern, cst.MatchAs) \
                    and case.pattern.name is not None and case.pattern.pattern is None \
                    and is_status:
                self.env[case.pattern.name.value] = subject
            if strings or unknown:
                status = subject if is_status else self._field(subject, STATUS)
                if status is not None:
                    self._record_statuses(case.pattern, status, frozenset(strings), unknown)
            if irrefutable:
                continue
            if valid is True or (strings and strings <= self._success and not unknown):
                seen_success = True
                regions.append(self.unit.case_ranges.get(id(case), (0, 0)))
            else:  # a failure status, or a pattern that says nothing we can read
                success_only = False
        if success_only and seen_success and subject.is_validation:
            self.f.gates.append(Gate(node, subject, regions, False, "match"))

    # -- comparisons, reads, calls ----------------------------------------------------------------
    def _record_statuses(self, node: cst.CSTNode, status: Value, strings: frozenset,
                         unknown: bool, exact: bool = True) -> None:
        if status.param is not None:
            handling = self._param(status.param)
            handling.statuses |= strings
            handling.everything = handling.everything or unknown
        if status.is_validation:
            self.f.handling.append(Handled(self.index, statuses=strings, everything=unknown))
            if exact:
                self.f.status_compares.append(StatusCompare(node, status, strings))
            if status.site is not None:
                self.f.checked_sites.add(id(status.site))

    def _on_compare(self, node: cst.Comparison, tries: tuple) -> None:
        operands = [node.left, *[c.comparator for c in node.comparisons]]
        for position, comparison in enumerate(node.comparisons):
            left, right = self.ev(operands[position]), self.ev(operands[position + 1])
            for subject, other in ((left, right), (right, left)):
                if subject is None:
                    continue
                if subject.kind == STATUS or (subject.kind == PARAM and subject.param):
                    if other is not None and other.kind in (NONE, BOOL):
                        continue
                    strings, unknown = _strings(other)
                    if subject is right and other is not None and other.kind == STR \
                            and isinstance(comparison.operator, (cst.In, cst.NotIn)):
                        # `"ip_" in status`: a substring test
                        strings = frozenset(k for k in self.known if any(t in k for t in strings))
                        self._record_statuses(node, subject, strings, unknown, exact=False)
                    else:
                        self._record_statuses(node, subject, strings, unknown)
                elif subject.kind == HTTP_STATUS and subject.is_validation:
                    self._http_code_test(node, comparison.operator, subject, other)

    def _http_code_test(self, node: cst.Comparison, op: cst.BaseCompOp, subject: Value,
                        other: Value | None) -> None:
        numbers = set()
        if other is not None and other.kind == INT and other.number is not None:
            numbers = {other.number}
        elif other is not None and other.kind == TUPLE:
            numbers = {i.number for i in other.items
                       if i is not None and i.kind == INT and i.number is not None}
        if not numbers:
            return
        ordering = isinstance(op, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan,
                                   cst.GreaterThanEqual))
        if any(200 <= n < 300 for n in numbers) or (ordering and any(200 <= n <= 400
                                                                       for n in numbers)):
            self.f.http_tests.append((node, subject))
        self.f.handling.append(Handled(self.index, codes=frozenset(numbers)))

    def _on_attribute(self, node: cst.Attribute, tries: tuple) -> None:
        base = self.ev(node.value)
        if base is None or not base.is_validation:
            return
        attr = node.attr.value
        if base.kind in RESULT_KINDS and attr not in DICT_METHODS and not attr.startswith("__"):
            self.f.attribute_reads.append((node, base))
        elif base.kind == RESPONSE and attr in OK_ATTRIBUTES:
            self.f.http_tests.append((node, base))

    def _on_subscript(self, node: cst.Subscript, tries: tuple) -> None:
        value = self.ev(node)
        if value is not None:
            self._read(node.value, value)
            return
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            self._lookup_by_status(self.ev(node.value), self.ev(node.slice[0].slice.value))

    def _read(self, base: cst.BaseExpression, value: Value) -> None:
        """A valid flag or status read from a result: the result is looked at."""
        if value.kind in (VALID, STATUS) and value.is_validation:
            if isinstance(base, cst.Name):
                self.f.checked_names.add(base.value)
            if value.kind == VALID and value.site is not None:
                self.f.checked_sites.add(id(value.site))

    def _lookup_by_status(self, mapping: Value | None, key: Value | None) -> None:
        """`MESSAGES[status]`: a mapping keyed by statuses tells them apart."""
        if key is None or not (key.kind == STATUS or (key.kind == PARAM and key.param)):
            return
        if mapping is not None and mapping.kind == DICT:
            strings, unknown = mapping.keys, False
        elif mapping is None or mapping.kind not in (STR, TUPLE, INT, BOOL, NONE):
            strings, unknown = frozenset(), True
        else:
            return
        if key.param is not None:
            handling = self._param(key.param)
            handling.statuses |= strings
            handling.everything = handling.everything or unknown
        if key.is_validation:
            self.f.handling.append(Handled(self.index, statuses=strings, everything=unknown))
            if key.site is not None:
                self.f.checked_sites.add(id(key.site))

    def _quiet(self, node: cst.Call) -> bool:
        """Logging, printing and formatting: handing the status to these is not handling it."""
        resolved = self.facts.resolve(node.func) or dotted_name(node.func)
        if not resolved:
            return False
        return bool(self.quiet.fullmatch(resolved)
                    or self.quiet.fullmatch(resolved.rsplit(".", 1)[-1]))

    def _on_call(self, node: cst.Call, tries: tuple) -> None:
        value = self.ev(node)
        func = node.func
        guard = tries[-1] if tries else None
        # KeyPort calls, for KP405
        receiver = self.ev(func.value) if isinstance(func, cst.Attribute) else None
        callee = self._local_callee(func, receiver)
        marker = self._keyport_call(node, value, receiver, callee)
        if marker is not None:
            self.markers[id(node)] = marker
            if marker.kind == SDK_CALL or (marker.endpoint and not marker.conditional):
                self.f.keyport_calls.append((node, guard))
        # raise_for_status(): an HTTP-only gate unless valid/status is checked too
        if isinstance(func, cst.Attribute) and func.attr.value == "raise_for_status" \
                and receiver is not None and receiver.kind == RESPONSE and receiver.is_validation:
            self.f.http_tests.append((node, receiver))
        if isinstance(func, cst.Attribute) and func.attr.value == "get" and node.args:
            if value is not None and receiver is not None:
                self._read(func.value, value)
            elif value is None:
                self._lookup_by_status(receiver, self.ev(node.args[0].value))
        if dotted_name(func) == "bool" and len(node.args) == 1:
            self._truth(node.args[0].value)
        if isinstance(func, cst.Attribute) and func.attr.value in ("startswith", "endswith") \
                and receiver is not None and node.args \
                and (receiver.kind == STATUS or (receiver.kind == PARAM and receiver.param)):
            strings, unknown = _strings(self.ev(node.args[0].value))
            test = str.startswith if func.attr.value == "startswith" else str.endswith
            matched = frozenset(k for k in self.known if any(test(k, t) for t in strings))
            self._record_statuses(node, receiver, matched, unknown, exact=False)
        self._pass_arguments(node, callee)

    def _keyport_call(self, node: cst.Call, value: Value | None, receiver: Value | None,
                      callee: _Unit | None) -> Value | None:
        """What KeyPort request this call makes, if any (SDK call, API request, or a helper's)."""
        func = node.func
        if receiver is not None and receiver.kind == CLIENT and isinstance(func, cst.Attribute):
            return None if func.attr.value in ("close", "__enter__", "__exit__") \
                else Value(SDK_CALL)
        if value is not None and value.kind == RESPONSE and value.site is node \
                and (value.endpoint or value.conditional) and callee is None:
            return value
        if callee is not None:
            args = self._arguments(callee, node)
            for escape in self.escapes.get(callee.uid, ()):
                marker = self._substitute(escape, callee.uid, args, node)
                if marker is not None and (marker.kind == SDK_CALL or marker.endpoint
                                           or marker.conditional):
                    return marker
        return None

    def _local_callee(self, func: cst.BaseExpression, receiver: Value | None) -> _Unit | None:
        if isinstance(func, cst.Attribute):
            if receiver is not None and receiver.kind in (INSTANCE, CLASS) and receiver.ref:
                member = self._member(receiver.ref, func.attr.value)
                if member is not None and member.kind == FUNCTION:
                    return member.ref
            return None
        callee = self.ev(func)
        if callee is not None and callee.kind == FUNCTION:
            return callee.ref
        if callee is not None and callee.kind == CLASS and callee.ref is not None:
            return callee.ref.methods.get("__init__")
        return None

    def _pass_arguments(self, node: cst.Call, callee: _Unit | None) -> None:
        """Statuses and results handed to another function: handled if it may branch on them."""
        produced = self.memo.get(id(node))
        if produced is not None and produced.is_validation:
            return  # a transformation (json.loads, dict(result)): the value stays here
        if not any(_interesting(v) for arg in node.args for v in self._contained(arg.value)):
            return
        if self._quiet(node):
            return
        if isinstance(node.func, cst.Attribute):
            receiver = self.memo.get(id(node.func.value))
            if receiver is not None and receiver.kind in (SDK_RESULT, BODY, STATUS, RESPONSE,
                                                          RAW, CLIENT, DICT, STR):
                return  # a method of the value itself (result.get, status.lower)
        if callee is not None:
            for index, (expr, _) in self._arguments(callee, node).items():
                for value in self._contained(expr):
                    self._to_local(value, callee, index)
            return
        for arg in node.args:
            for value in self._contained(arg.value):
                self._hand_on(value)

    def _to_local(self, value: Value, callee: _Unit, index: int) -> None:
        if value.param is not None:
            tag = value.param
            self._param(tag).forwards.add((callee.uid, index, ""))
            if tag[2] == "" and value.kind == PARAM:
                self._param((tag[0], tag[1], STATUS)).forwards.add((callee.uid, index, STATUS))
        if not value.is_validation:
            return
        if value.kind in (STATUS, SDK_RESULT, BODY):
            subs = [""] if value.kind == STATUS else ["", STATUS]
            for sub in subs:
                statuses, everything = self.resolve_param((callee.uid, index, sub))
                if value.kind != STATUS and sub == "":
                    statuses = frozenset()  # the dict itself compared: not a status
                self.f.handling.append(Handled(self.index, statuses=statuses,
                                               everything=everything))
            if value.site is not None:
                self.f.checked_sites.add(id(value.site))
        elif value.kind in (RESPONSE, RAW) and value.site is not None:
            self.f.checked_sites.add(id(value.site))

    def resolve_param(self, tag: tuple, seen: set | None = None) -> tuple[frozenset, bool]:
        """(statuses told apart, handed on) for one parameter of a function of the module,
        following it into the helpers it is passed to."""
        seen = set() if seen is None else seen
        handling = self.param_handling.get(tag)
        if tag in seen or handling is None:
            return frozenset(), False
        seen.add(tag)
        statuses, everything = set(handling.statuses), handling.everything
        for forward in handling.forwards:
            more, handed = self.resolve_param(forward, seen)
            statuses |= more
            everything = everything or handed
        return frozenset(statuses), everything


@lru_cache(maxsize=16)
def _patterns(patterns: tuple) -> re.Pattern[str]:
    """fnmatch patterns as one regex: checked on every call of a function."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or r"(?!x)x")


def _interesting(value: Value) -> bool:
    return value.param is not None or value.is_validation


def _with_default(value: Value | None, fallback: Value | None) -> Value | None:
    """`result.get("status", "unknown")`: the code's own fallback is no unknown status."""
    if value is None or value.kind != STATUS or fallback is None or fallback.literal is None:
        return value
    return replace(value, keys=value.keys | {fallback.literal})


def _relative(url: tuple) -> bool:
    """A URL that starts with a literal path: relative to a client's base or to the app."""
    return bool(url) and isinstance(url[0], str) and url[0].startswith("/") \
        and not url[0].startswith("//")


def _is_text(value: Value | None) -> bool:
    return value is not None and value.kind == STR


def _text(value: Value | None) -> tuple:
    """String segments of a value: its text, its parameter, or one unknown segment."""
    if value is None:
        return (None,)
    if value.kind == STR:
        return value.url
    if value.kind == PARAM and value.param is not None and value.param[2] == "":
        return (value.param[:2],)
    return (None,)


def _walk_comparisons(node: cst.CSTNode) -> list:
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.Comparison):
            found.append(item)
        elif isinstance(item, cst.BooleanOperation):
            stack += [item.left, item.right]
        elif isinstance(item, cst.UnaryOperation):
            stack.append(item.expression)
    return found


def _strings(value: Value | None) -> tuple[frozenset, bool]:
    """The string literals a comparison operand stands for, and whether some are unknown."""
    if value is None:
        return frozenset(), True
    if value.kind == STR:
        text = value.literal
        return (frozenset({text}), False) if text is not None else (frozenset(), True)
    if value.kind == TUPLE:
        out, unknown = set(), False
        for item in value.items:
            text = item.literal if item is not None else None
            if text is None:
                unknown = True
            else:
                out.add(text)
        return frozenset(out), unknown
    if value.kind == DICT:
        return value.keys, False
    return frozenset(), True


def _pattern_statuses(pattern: cst.MatchPattern | None,
                      on_result: bool) -> tuple[frozenset, bool | None, bool]:
    """(status strings, valid flag tested, unknown values) a case pattern matches."""
    if pattern is None:
        return frozenset(), None, False
    if on_result:
        if isinstance(pattern, cst.MatchMapping):
            strings: set = set()
            valid: bool | None = None
            unknown = False
            for element in pattern.elements:
                key = _string_of(element.key) if isinstance(element.key, cst.SimpleString) \
                    else None
                if key == STATUS:
                    s, _, u = _pattern_statuses(element.pattern, False)
                    strings |= s
                    unknown = unknown or u
                elif key == VALID and isinstance(element.pattern, cst.MatchSingleton):
                    value = element.pattern.value
                    valid = isinstance(value, cst.Name) and value.value == "True"
            return frozenset(strings), valid, unknown
        if isinstance(pattern, cst.MatchOr):
            strings, valid, unknown = set(), None, False
            for element in pattern.patterns:
                s, v, u = _pattern_statuses(element.pattern, True)
                strings |= s
                valid = v if v is not None else valid
                unknown = unknown or u
            return frozenset(strings), valid, unknown
        return frozenset(), None, False
    if isinstance(pattern, cst.MatchValue):
        text = _string_of(pattern.value)
        return (frozenset({text}), None, False) if text is not None else (frozenset(), None, True)
    if isinstance(pattern, cst.MatchOr):
        strings, unknown = set(), False
        for element in pattern.patterns:
            s, _, u = _pattern_statuses(element.pattern, False)
            strings |= s
            unknown = unknown or u
        return frozenset(strings), None, unknown
    if isinstance(pattern, cst.MatchAs) and pattern.pattern is not None:
        return _pattern_statuses(pattern.pattern, on_result)
    return frozenset(), None, False


def _irrefutable(pattern: cst.MatchPattern | None) -> bool:
    return isinstance(pattern, cst.MatchAs) and pattern.pattern is None


def _join(a: Value, b: Value) -> Value | None:
    """One value for two alternatives (branches, several returns)."""
    if a.kind == NONE:
        return b
    if b.kind == NONE:
        return a
    if a.kind == b.kind and a.kind != TUPLE:
        return a
    if a.kind in RESULT_KINDS and b.kind == DICT:
        return a
    if b.kind in RESULT_KINDS and a.kind == DICT:
        return b
    if a.kind == TUPLE and b.kind == TUPLE and len(a.items) == len(b.items):
        items = []
        for x, y in zip(a.items, b.items):
            items.append(x if y is None else y if x is None else _join(x, y))
        return Value(TUPLE, items=tuple(items))
    return None


def validation_results(ctx: PythonContext) -> ResultsAnalysis:
    """Memoised per file through `ctx.analysis(validation_results)`."""
    collector = _Collector()
    facts = ctx.analysis(module_facts)
    if not _may_hold_results(ctx, facts):
        return ResultsAnalysis()
    walk(ctx.module, collector)
    analysis = _Interpreter(ctx, facts, collector).run()
    analysis.exception_refs = frozenset(collector.exception_refs)
    return analysis


def _may_hold_results(ctx: PythonContext, facts: ModuleFacts) -> bool:
    """Without the SDK imported or a KeyPort URL in the text there is nothing to follow."""
    settings = ctx.settings
    marks = [*settings["validate-paths"], *settings["api-paths"], *settings["api-hosts"]]
    if any(mark in ctx.text for mark in marks):
        return True
    roots = {c.split(".")[0] for c in settings["sdk-clients"]}
    return any(origin.lstrip(".").split(".")[0] in roots for origin in facts.imports.values())


def success_statuses(settings: Any) -> frozenset:
    categories = settings["status-categories"]
    return frozenset(s for c in settings["success-categories"] for s in categories.get(c, []))
