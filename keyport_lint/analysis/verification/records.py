"""Per-function flow facts of webhook verification: blocks, `if` and `try` records, calls
and how their results are used, HMAC computations, loads and attribute reads."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from keyport_lint.analysis.definitions import FunctionRecord, Parameter
from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.handlers import string_value

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


# functions that check a WebSocket (or other connection) handshake, not a webhook delivery
HANDSHAKE_WORDS = frozenset({"websocket", "websockets", "handshake"})


# names about a signature that do not hold one: a method or algorithm name, a scheme, a version
NOT_A_SIGNATURE_WORDS = frozenset({"method", "methods", "algorithm", "algorithms", "alg",
                                   "algs", "scheme", "schemes", "version", "versions", "type",
                                   "types", "name", "names", "header", "headers"})


SIGNATURE_FUNCTION_WORDS = frozenset({"sig", "sigs", "signature", "signatures", "verify",
                                      "verification", "webhook", "webhooks", "hmac", "digest",
                                      "signed", "sign"})


# a module without any of these cannot verify a signature: it is never parsed to ask
VERIFY_TEXT = re.compile(r"compare_digest|hmac|verif|signature", re.IGNORECASE)


# another service's signature header (GitHub's X-Hub-Signature-256, Stripe-Signature)
FOREIGN_SIGNATURE_HEADER = re.compile(r"(?i)(?:x-)?[a-z0-9-]*signature[a-z0-9-]*")


MAX_DEPTH = 8


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
    definition: FunctionRecord | None = None  # None for the module body
    children: dict[str, Flow] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)
    hmacs: list[HmacRecord] = field(default_factory=list)
    comparisons: list[tuple[cst.Comparison, int, Use]] = field(default_factory=list)
    assigns: dict[str, list[tuple[cst.BaseExpression, int, bool]]] = field(
        default_factory=dict)  # name -> (value, seq, unpacked)
    ifs: list[IfRecord] = field(default_factory=list)
    tested: dict[str, list[int]] = field(default_factory=dict)  # while/assert/ifexp tests
    returned: set[str] = field(default_factory=set)
    loads: list[Load] = field(default_factory=list)
    attr_reads: list[AttrRead] = field(default_factory=list)
    params: dict[str, Parameter] = field(default_factory=dict)  # the record's, by name
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


def _flow_name(flow: Flow) -> str:
    return f"{flow.cls}.{flow.name}" if flow.cls else flow.name
