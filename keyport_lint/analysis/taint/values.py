"""Taint values and configuration: families, sinks, sources, symbols, atoms, labels.

A value is a set of atoms (a source or a symbol resolved later, with pending container
operations); the solver turns atoms into labels (a source and the path inside a container).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Union

import libcst as cst

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.sinks import _CompiledSinks


# Bounds: odd or generated code must never make the analysis slow or crash it.
MAX_ATOMS = 48  # atoms kept per value


MAX_OPS = 6  # pending container operations per atom


MAX_PATH = 4  # container nesting tracked


MAX_ROUNDS = 8  # solver iterations


MAX_EVAL_DEPTH = 80  # expression nesting evaluated


MAX_BLOCK_DEPTH = 60  # statement nesting walked


MAX_CALL_DEPTH = 3  # call-site-sensitive return resolution


MAX_IMPORT_DEPTH = 4  # modules summarised transitively for one question


EXPAND_BUDGET = 200_000  # label expansions per module


PUT, GET, RESET = "put", "get", "reset"


Key = Union[str, int, None]


Op = tuple  # (PUT, key) | (GET, key) | (RESET, None)


@dataclass(frozen=True)
class Family:
    """One kind of secret: the names, generic names and literal shapes that hold it."""

    name: str
    names: tuple[str, ...] = ()  # KeyPort-specific names: sources anywhere
    generic_names: tuple[str, ...] = ()  # generic names: sources only in KeyPort-related code
    literals: tuple[str, ...] = ()  # literal shapes (kp_live_…): a matching literal is a source
    config_fields: tuple[str, ...] = ()  # fields of a KeyPort config file (keyport.json) holding it
    calls: tuple[str, ...] = ()  # callees (fnmatch, resolved through imports) that return it


@dataclass(frozen=True)
class TaintConfig:
    """Everything that shapes the analysis (hashable: equal configs share one computation)."""

    families: tuple[Family, ...]
    env_reads: tuple[str, ...] = ()  # callees whose first argument names an env var / setting
    propagators: tuple[str, ...] = ()  # callees (`.method` for methods) passing taint through
    sanitizers: tuple[str, ...] = ()  # callees (`.method` for methods) whose result is clean
    sanitizer_names: tuple[str, ...] = ()  # regexes searched in a callee's last name segment
    config_files: tuple[str, ...] = ()  # regexes of KeyPort config file names (keyport.json)
    config_loaders: tuple[str, ...] = ()  # callees that parse such a file
    prefix_max: int = 12  # a slice with an upper bound at or under this is a loggable prefix
    suffix_max: int = 4  # key[-4:]: a suffix this short is a mask
    placeholder_words: tuple[str, ...] = ()
    min_entropy: float = 3.0


@dataclass(frozen=True)
class SinkSpec:
    """Where a tainted value must not go. Patterns:

    - a dotted callee, fnmatch-style, resolved through imports and local aliases
      (`print`, `logging.info`, `warnings.warn`, `flask.jsonify`, `audit.record`);
    - `logger.<method>`: a method of anything logger-like (a receiver named like a logger, or
      bound from a logger factory: `logging.getLogger()`, `structlog.get_logger()`, loguru);
    - `.<method>`: that method on any receiver (`.set_cookie`);
    - `raise`: the message of a raised exception (and of an `assert`);
    - `return`: a returned value (KP501 narrows it to web handlers);
    - `store:<pattern>`: an assignment to an attribute or item (`store:*.headers[]`).
    """

    patterns: tuple[str, ...]
    logger_names: tuple[str, ...] = ()
    logger_factories: tuple[str, ...] = ()

    @property
    def _compiled(self) -> _CompiledSinks:
        from keyport_lint.analysis.taint.sinks import _compile_sinks

        return _compile_sinks(self)


@dataclass(frozen=True)
class Source:
    """Where a secret enters: an env read, a name, a literal, a config file field.

    `node` is set for sources in the analysed module (the line is resolved only if reported);
    sources from other modules carry their `module` and `line` instead.
    """

    family: str
    desc: str  # what to call it in a message: KEYPORT_API_KEY, self.api_key, a redacted literal
    kind: str  # env | name | literal | config | param (a parameter marker in summaries)
    node: cst.CSTNode | None = field(default=None, repr=False)
    module: str = ""
    line: int = 0

    @property
    def rank(self) -> int:
        """Which source a message names when several reach a sink: the most specific one."""
        return 1 if self.kind == "name" else 0


@dataclass(frozen=True)
class Sym:
    """A value known only after the pass: resolved by the solver."""

    kind: str  # global | attr | ret | param | inst | call | import | icall
    key: tuple


@dataclass(frozen=True)
class Atom:
    """A symbolic piece of taint: a base with pending container operations."""

    base: Source | Sym
    ops: tuple = ()
    via: str = ""  # the last variable that held exactly the secret (for the fix message)


@dataclass(frozen=True)
class Label:
    """A resolved piece of taint: the secret `source`, under `path` inside the value."""

    source: Source
    path: tuple = ()
    via: str = ""

    @property
    def leaks(self) -> bool:
        """Does writing out the whole value show the secret?"""
        return not self.path or not _is_attr_key(self.path[0])


Taint = frozenset  # frozenset[Atom]


EMPTY: frozenset = frozenset()


def _is_attr_key(key: Key) -> bool:
    return isinstance(key, str) and key.startswith(".")


def _cap(atoms: Iterable[Atom]) -> frozenset:
    result = frozenset(atoms)
    if len(result) > MAX_ATOMS:  # deterministic subset: hash order varies between runs
        result = frozenset(sorted(result, key=_atom_repr)[:MAX_ATOMS])
    return result


# a value over the cap is capped again at every step it flows through: its atoms' reprs
# (dataclass reprs, nested) are worth keeping; equal atoms have equal reprs
_atom_repr = lru_cache(maxsize=4096)(repr)


def _with_op(atom: Atom, op: Op) -> Atom | None:
    """Apply a container operation symbolically; None when it provably drops the secret."""
    ops = atom.ops
    if ops and op[0] == GET and ops[-1][0] == PUT:
        put_key, get_key = ops[-1][1], op[1]
        if isinstance(get_key, int):
            return atom
        if put_key is None or get_key is None or put_key == get_key:
            return Atom(atom.base, ops[:-1], atom.via)
        return None
    if op[0] == RESET and ops and ops[-1][0] == RESET:
        return atom
    if len(ops) >= MAX_OPS:
        return atom
    return Atom(atom.base, (*ops, op), atom.via)


def _map_op(atoms: frozenset, op: Op) -> frozenset:
    return _cap(a for a in (_with_op(x, op) for x in atoms) if a is not None)


def _apply_path(path: tuple, ops: tuple) -> tuple | None:
    for kind, key in ops:
        if kind == PUT:
            path = ((key, *path))[:MAX_PATH]
        elif kind == GET:
            if not path or isinstance(key, int):
                continue
            head = path[0]
            if head is None or key is None or head == key:
                path = path[1:]
            else:
                return None
        elif kind == RESET:
            if path and _is_attr_key(path[0]):
                return None
            path = ()
    return path


def _with_via(atoms: frozenset, name: str) -> frozenset:
    """The value now sits in `name` (only for atoms that are the secret itself)."""
    return _cap(Atom(a.base, a.ops, name) if not any(o[0] == PUT for o in a.ops) else a
                for a in atoms)


@dataclass(eq=False)
class Site:
    """A place where a value leaves: a call, a raise, a return, a store."""

    kind: str  # call | raise | return | store
    # what a finding points at: the call, the raise, the return, the assignment target
    node: cst.CSTNode = field(repr=False)
    display: str  # `logger.debug`, `raise ValueError`, `return`, `resp.headers[]`
    callee: str = ""  # resolved dotted callee (calls) or target (stores)
    method: str = ""
    args: list[tuple[cst.CSTNode, frozenset]] = field(default_factory=list, repr=False)
    function: cst.CSTNode | None = field(default=None, repr=False)  # enclosing FunctionDef


@dataclass(frozen=True)
class Flow:
    """A secret reaching a sink."""

    node: cst.CSTNode = field(repr=False)
    sink: str
    kind: str
    label: Label
    arg: cst.CSTNode = field(repr=False)

    @property
    def source(self) -> Source:
        return self.label.source


@dataclass(frozen=True)
class Exported:
    """What an importing module sees of one name: its value, and the value of calling it."""

    value: frozenset = frozenset()  # frozenset[Label]
    call: frozenset = frozenset()  # labels of the call result that do not depend on arguments
    params: tuple[str, ...] = ()
    passthrough: tuple[tuple[str, tuple], ...] = ()  # (parameter, path) reaching the result
