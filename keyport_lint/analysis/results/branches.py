"""Tests and comparisons: which branch handles which status or validity, `match`
cases, HTTP status checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from keyport_lint.analysis.facts import dotted_name
from keyport_lint.analysis.results.interpreter import _InterpreterState
from keyport_lint.analysis.results.syntax import (
    _block_statements,
    _bool_return,
    _irrefutable,
    _is_bool_literal,
    _is_exit,
    _pattern_statuses,
    _strings,
    _walk_comparisons,
)
from keyport_lint.analysis.results.values import (
    BOOL,
    HTTP_STATUS,
    INT,
    NONE,
    PARAM,
    RESPONSE,
    RESULT_KINDS,
    STATUS,
    STR,
    TUPLE,
    VALID,
    Gate,
    Handled,
    StatusCompare,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.results.values import Value


class _Branches(_InterpreterState):
    """Tests, comparisons and match cases."""

    def _truth(self, expr: cst.BaseExpression) -> None:
        """`expr` decides a branch by its truth value."""
        while True:
            if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Not:
                expr = expr.expression
            elif type(expr) is cst.Call and dotted_name(expr.func) == "bool" \
                    and len(expr.args) == 1:
                expr = expr.args[0].value
            else:
                break
        if type(expr) is cst.BooleanOperation:
            for operand in (expr.left, expr.right):
                self._truth(operand)
            return
        if id(expr) in self.tested:
            return
        self.tested.add(id(expr))
        value = self.ev(expr)
        if value is None or not value.is_validation:
            return
        name = expr.value if type(expr) is cst.Name else None
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
            regions = [(else0, else1)] if type(orelse) is cst.Else else []
            if statements and _is_exit(statements[-1]) and orelse is None:
                parent = self.unit.if_parent.get(id(node))
                regions.append((end, self.unit.block_end.get(id(parent), end)))
        keyword = "elif" if id(node) in self.unit.elifs else "if"
        self.f.gates.append(Gate(node, value, regions, self._bool_shape(node), keyword))

    def _bool_shape(self, node: cst.If) -> bool:
        """`if valid: return True / return False`: a helper that only returns the flag."""
        if not _bool_return(_block_statements(node.body)):
            return False
        if type(node.orelse) is cst.Else:
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
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            inner = self._polarity(test.expression)
            return (not inner[0], inner[1]) if inner else None
        if type(test) is cst.Call and dotted_name(test.func) == "bool" and len(test.args) == 1:
            return self._polarity(test.args[0].value)
        if type(test) is cst.BooleanOperation:
            parts = [self._polarity(test.left), self._polarity(test.right)]
            known = [p for p in parts if p is not None]
            if not known or self._mentions_failure(test):
                return None
            if type(test.operator) is cst.And and all(p[0] for p in known):
                return known[0]
            if type(test.operator) is cst.Or and not any(p[0] for p in known):
                return known[0]
            return None
        if type(test) is cst.Comparison and len(test.comparisons) == 1:
            return self._compare_polarity(test)
        value = self.ev(test)
        if value is not None and value.kind == VALID and value.is_validation:
            return True, value
        return None

    def _compare_polarity(self, test: cst.Comparison) -> tuple | None:
        comparison = test.comparisons[0]
        left, right = self.ev(test.left), self.ev(comparison.comparator)
        op = comparison.operator
        negative = (type(op) is cst.NotEqual or type(op) is cst.IsNot or type(op) is cst.NotIn)
        for subject, other in ((left, right), (right, left)):
            if subject is None or other is None or not subject.is_validation:
                continue
            if subject.kind == VALID and other.kind == BOOL:
                node = comparison.comparator if subject is left else test.left
                truthy = type(node) is cst.Name and node.value == "True"
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
            if case.pattern is not None and type(case.pattern) is cst.MatchAs \
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
            self._note_param(status.param, strings, unknown)
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
                            and type(comparison.operator) in (cst.In, cst.NotIn):
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
        ordering = type(op) in (cst.LessThan, cst.LessThanEqual, cst.GreaterThan,
                                 cst.GreaterThanEqual)
        if any(200 <= n < 300 for n in numbers) or (ordering and any(200 <= n <= 400
                                                                       for n in numbers)):
            self.f.http_tests.append((node, subject))
        self.f.handling.append(Handled(self.index, codes=frozenset(numbers)))

