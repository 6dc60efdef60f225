"""What a value holds (a client, an SDK result, a raw response, its body, a status …) and
what the analysis answers per function and per module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

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


HELPER = "helper"  # a function of another project module (items: what a call returns)


RESULT_KINDS = frozenset({SDK_RESULT, BODY})


VALIDATION_KINDS = frozenset({SDK_RESULT, RESPONSE, RAW, BODY, STATUS, VALID, HTTP_STATUS,
                              HTTP_OK})


DICT_METHODS = frozenset({"get", "keys", "items", "values", "copy", "pop", "popitem",
                          "setdefault", "update", "clear", "fromkeys"})


STRING_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title",
                            "decode", "removeprefix", "removesuffix"})


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
    # what other modules may import: clients, results, and helpers or factories returning them
    exports: dict = field(default_factory=dict)
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


def success_statuses(settings: Any) -> frozenset:
    categories = settings["status-categories"]
    return frozenset(s for c in settings["success-categories"] for s in categories.get(c, []))
