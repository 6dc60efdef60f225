"""One traversal that collects the module facts most rules share.

- the import alias table (local name -> dotted origin), a light stand-in for libcst's
  QualifiedNameProvider, which costs several times the parse;
- every string literal with the slot it sits in (assigned name, dict key, call argument,
  parameter default), so secret rules look at literals, not at the whole tree again;
- comment text, so KeyPort markers that appear only in comments do not make code "KeyPort code".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import libcst as cst

from keyport_lint.analysis.fastvisit import TOKENS, FastVisitor, opaque_types
from keyport_lint.context import PythonContext


@dataclass(eq=False)
class Slot:
    """Where a literal sits. `name` is the assigned/keyed/keyword name when there is one."""

    kind: str  # name | attribute | subscript | dict-key | keyword | param | call-arg
    name: str = ""
    call: str = ""  # resolved dotted callee for keyword / call-arg
    index: int = -1  # positional index for call-arg
    call_node: cst.Call | None = None
    container: cst.CSTNode | None = None  # the Dict for dict-key slots


@dataclass(eq=False)
class Part:
    """One token of a literal: a plain string or the literal text of an f-string."""

    node: cst.CSTNode
    content: str  # the raw source text between the quotes (escapes not processed)
    lead: int  # characters in the token before the content (prefix and quotes)


@dataclass(eq=False)
class Literal:
    node: cst.CSTNode
    parts: list[Part]
    value: str | None  # evaluated text when fully literal (no f-string fields)
    slot: Slot | None = None

    @property
    def joined(self) -> str:
        return "".join(p.content for p in self.parts)

    def locate(self, offset: int) -> tuple[Part, tuple[int, int]]:
        """Map an offset in `joined` to its part and (lines, column) inside that token."""
        for part in self.parts:
            if offset < len(part.content) or part is self.parts[-1]:
                inner = part.lead + offset
                raw = _token_text(part)
                before = raw[:inner]
                nl = before.count("\n")
                col = inner - (before.rfind("\n") + 1) if nl else inner
                return part, (nl, col)
            offset -= len(part.content)
        raise AssertionError("unreachable")


@dataclass(eq=False)
class ModuleFacts:
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)  # origins of `from X import *`
    literals: list[Literal] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    calls: list[tuple[str, cst.Call]] = field(default_factory=list)  # (resolved callee, call)

    def resolve(self, node: cst.CSTNode | None) -> str:
        """Dotted name of a Name/Attribute chain with its first segment resolved via imports."""
        return self.resolve_dotted(dotted_name(node), calls=False)

    def resolve_dotted(self, dotted: str, *, calls: bool = True) -> str:
        """The one name resolver: a dotted name as written (`log.info`, and with `calls`
        `get_logger().info`) with its first segment resolved through the import table."""
        if not dotted:
            return ""
        head, _, rest = dotted.partition(".")
        called = calls and head.endswith("()")
        origin = self.imports.get(head[:-2] if called else head)
        if origin is None:
            return dotted
        origin += "()" if called else ""
        return f"{origin}.{rest}" if rest else origin


def dotted_name(node: cst.CSTNode | None) -> str:
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    if type(node) is cst.Call:
        base = dotted_name(node.func)
        return f"{base}()" if base else ""
    return ""


def _token_text(part: Part) -> str:
    node = part.node
    if isinstance(node, cst.SimpleString):
        return node.value
    if isinstance(node, cst.FormattedStringText):
        return node.value
    return ""


def _simple_part(node: cst.SimpleString) -> Part:
    raw = node.value
    prefix_len = len(node.prefix)
    quote = node.quote
    return Part(node, raw[prefix_len + len(quote): len(raw) - len(quote)], prefix_len + len(quote))


@lru_cache(maxsize=1 << 16)
def _evaluate_token(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except Exception:  # malformed escapes in odd code: treat as non-literal
        return None


def evaluated(node: cst.CSTNode) -> Any:
    """The value of a literal token (string, bytes, number), or None.

    libcst's `evaluated_value` runs `ast.literal_eval` (a compile) on every call; the value
    depends only on the token's text, so one cache serves every analysis and every file.
    """
    return _evaluate_token(node.value)  # type: ignore[attr-defined]


def literal_text(node: cst.CSTNode | None, *, concatenated: bool = True,
                 allow_bytes: bool = True) -> str | None:
    """The one literal evaluator every analysis uses: the text of a plain string literal
    (bytes decoded as latin-1 unless `allow_bytes` is False), or of an implicit
    concatenation of them (read iteratively: chains can be long), else None."""
    if isinstance(node, cst.SimpleString):
        value = evaluated(node)
        if isinstance(value, bytes):
            return value.decode("latin-1") if allow_bytes else None
        return value if isinstance(value, str) else None
    if concatenated and isinstance(node, cst.ConcatenatedString):
        pieces: list[str] = []
        stack: list[cst.BaseExpression] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, cst.ConcatenatedString):
                stack.extend((item.right, item.left))
                continue
            piece = literal_text(item, concatenated=False, allow_bytes=allow_bytes)
            if piece is None:  # an f-string piece: not a literal
                return None
            pieces.append(piece)
        return "".join(pieces)
    return None


def _evaluated(node: cst.SimpleString) -> str | None:
    return literal_text(node)


def _module_name(node: cst.BaseExpression | None) -> str:
    return dotted_name(node) if node is not None else ""


class _Collector(FastVisitor):
    """Measured on Django's query.py, MatcherDecoratableVisitor's per-node matcher bookkeeping
    costs 3x the parse even with no decorated method, a plain CSTVisitor about 0.8x, and this
    dispatch-table visitor that skips tokens and names less than half of that."""

    # comments inside parentheses live in ParenthesizedWhitespace: keep entering it
    OPAQUE = (TOKENS - {cst.ParenthesizedWhitespace}) | opaque_types(
        cst.Name, cst.Integer, cst.Float, cst.Imaginary)

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.slots: dict[int, Slot] = {}
        self.in_concat: set[int] = set()

    # -- imports -----------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = _module_name(alias.name)
            if alias.asname and isinstance(alias.asname.name, cst.Name):
                self.facts.imports[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.facts.imports[head] = head

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = "." * len(node.relative) + _module_name(node.module)
        if isinstance(node.names, cst.ImportStar):
            if module and module not in self.facts.star_imports:
                self.facts.star_imports.append(module)
            return
        for alias in node.names:
            name = _module_name(alias.name)
            local = (alias.asname.name.value
                     if alias.asname and isinstance(alias.asname.name, cst.Name) else name)
            sep = "" if module.endswith(".") else "."
            self.facts.imports[local] = f"{module}{sep}{name}" if module else name

    # -- comments ----------------------------------------------------------------------------
    def visit_Comment(self, node: cst.Comment) -> None:
        self.facts.comments.append(node.value)

    # -- slots: record where the next literal sits ---------------------------------------------
    def _slot(self, value: cst.CSTNode | None, slot: Slot) -> None:
        if value is not None and isinstance(value, (cst.SimpleString, cst.ConcatenatedString,
                                                   cst.FormattedString, cst.BinaryOperation)):
            self.slots[id(value)] = slot

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target_slot(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target_slot(node.target, node.value)

    def _target_slot(self, target: cst.BaseExpression, value: cst.CSTNode | None) -> None:
        if isinstance(target, cst.Name):
            self._slot(value, Slot("name", target.value))
        elif isinstance(target, cst.Attribute):
            self._slot(value, Slot("attribute", target.attr.value))
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
            index = target.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                key = _evaluated(index.value)
                if key is not None:
                    self._slot(value, Slot("subscript", key))

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = _evaluated(element.key)
                if key is not None:
                    self._slot(element.value, Slot("dict-key", key, container=node))

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.facts.resolve(node.func)
        self.facts.calls.append((callee, node))
        position = 0
        for arg in node.args:
            if arg.keyword is not None:
                self._slot(arg.value, Slot("keyword", arg.keyword.value, callee, -1, node))
            elif not arg.star:
                self._slot(arg.value, Slot("call-arg", "", callee, position, node))
                position += 1

    def visit_Param(self, node: cst.Param) -> None:
        if node.default is not None:
            self._slot(node.default, Slot("param", node.name.value))

    # -- literals ----------------------------------------------------------------------------
    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        """`"kp_live_" + "3f9a…"`: a chain of `+` whose every operand is a string literal is
        one literal, like implicit concatenation (a key split this way is still a key)."""
        if id(node) in self.in_concat or not isinstance(node.operator, cst.Add):
            return
        links: list[cst.BinaryOperation] = []
        stack: list[cst.BaseExpression] = [node]
        flat: list[cst.BaseExpression] = []
        while stack:
            item = stack.pop()
            if isinstance(item, cst.BinaryOperation) and isinstance(item.operator, cst.Add):
                links.append(item)
                stack.append(item.right)
                stack.append(item.left)
            elif isinstance(item, (cst.SimpleString, cst.ConcatenatedString,
                                   cst.FormattedString)):
                flat.append(item)
            else:
                return  # not all literal: each string in it stands alone
        self.in_concat.update(id(link) for link in links[1:])
        self._chain(node, flat)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if id(node) in self.in_concat:  # an inner link of a chain the outermost one handled
            return
        self._chain(node, [node])

    def _chain(self, node: cst.CSTNode, items: list[cst.BaseExpression]) -> None:
        parts: list[Part] = []
        values: list[str] | None = []
        stack: list[cst.BaseExpression] = list(reversed(items))
        flat: list[cst.BaseExpression] = []
        while stack:  # left-to-right flattening of nested concatenations
            item = stack.pop()
            if isinstance(item, cst.ConcatenatedString):
                self.in_concat.add(id(item))
                stack.append(item.right)
                stack.append(item.left)
            else:
                flat.append(item)
        for item in flat:
            self.in_concat.add(id(item))
            if isinstance(item, cst.SimpleString):
                parts.append(_simple_part(item))
                value = _evaluated(item)
                if values is not None and value is not None:
                    values.append(value)
                else:
                    values = None
            elif isinstance(item, cst.FormattedString):
                parts.extend(_fstring_parts(item))
                values = None
        self._add(node, parts, "".join(values) if values is not None else None)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if id(node) not in self.in_concat:
            self._add(node, [_simple_part(node)], _evaluated(node))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if id(node) not in self.in_concat:
            has_fields = any(isinstance(p, cst.FormattedStringExpression) for p in node.parts)
            parts = _fstring_parts(node)
            value = None if has_fields else "".join(p.content for p in parts)
            self._add(node, parts, value)

    def _add(self, node: cst.CSTNode, parts: list[Part], value: str | None) -> None:
        self.facts.literals.append(Literal(node, parts, value, self.slots.get(id(node))))


def _fstring_parts(node: cst.FormattedString) -> list[Part]:
    parts = []
    for piece in node.parts:
        if isinstance(piece, cst.FormattedStringText):
            parts.append(Part(piece, piece.value, 0))
    return parts


def module_facts(ctx: PythonContext) -> ModuleFacts:
    """Memoised per file; collected by the shared walk (`analysis/model.py`)."""
    from keyport_lint.analysis.model import module_records

    return ctx.analysis(module_records).facts
