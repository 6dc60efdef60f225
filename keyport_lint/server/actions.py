"""Findings in the protocol's shapes: diagnostics, code actions (fixes, suppress, explain) and
hovers. Pure functions of a `Checked`, so they are tested without a client.

Every string that leaves here has been through the config's redactor (findings arrive redacted;
rule texts and titles are redacted again, as user rules and fix titles may quote anything).
"""

from __future__ import annotations

from lsprotocol import types as lsp

from keyport_lint.catalog import Rule
from keyport_lint.context import LINE_BREAK
from keyport_lint.finding import Edit, Finding
from keyport_lint.redact import Redactor
from keyport_lint.server.session import Checked
from keyport_lint.server.suppressing import suppression_edit

SOURCE = "keyport-lint"
EXPLAIN_COMMAND = "keyport-lint.explain"
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


class Positions:
    """1-based character columns (findings, edits) to the protocol's 0-based positions in the
    negotiated encoding (UTF-16 unless the client offers another), and back."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.lines = LINE_BREAK.split(text)
        self.encoding = encoding

    def _units(self, chars: str) -> int:
        if self.encoding == "utf-32":
            return len(chars)
        if self.encoding == "utf-8":
            return len(chars.encode("utf-8", "surrogatepass"))
        return len(chars.encode("utf-16-le", "surrogatepass")) // 2

    def position(self, line: int, column: int) -> lsp.Position:
        if line > len(self.lines):  # past the end (a fix appending a line): the very end
            last = len(self.lines) - 1
            return lsp.Position(last, self._units(self.lines[last]))
        text = self.lines[max(line, 1) - 1]
        return lsp.Position(max(line, 1) - 1, self._units(text[:max(column, 1) - 1]))

    def range(self, line: int, column: int, end_line: int, end_column: int) -> lsp.Range:
        start = self.position(line, column)
        end = self.position(end_line, end_column)
        if (end.line, end.character) <= (start.line, start.character):
            end = lsp.Position(start.line, start.character + 1)  # a point: show one character
        return lsp.Range(start, end)

    def column(self, position: lsp.Position) -> tuple[int, int]:
        """A protocol position as (1-based line, 1-based character column)."""
        if position.line >= len(self.lines):
            return position.line + 1, 1
        text = self.lines[position.line]
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return position.line + 1, index + 1
            units += self._units(char)
        return position.line + 1, len(text) + 1


def _rules(checked: Checked) -> dict[str, Rule]:
    return {r.id: r for r in checked.config.rules} if checked.config is not None else {}


def finding_range(finding: Finding, positions: Positions) -> lsp.Range:
    return positions.range(finding.line, finding.column, finding.end_line, finding.end_column)


def diagnostics(checked: Checked, positions: Positions, redact: Redactor
                ) -> list[lsp.Diagnostic]:
    rules = _rules(checked)
    out = []
    for finding in checked.findings:
        rule = rules.get(finding.rule)
        message = redact(finding.message)
        if finding.help:
            message += f"\nhelp: {redact(finding.help)}"
        out.append(lsp.Diagnostic(
            range=finding_range(finding, positions), message=message,
            severity=SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Warning),
            code=finding.rule,
            code_description=lsp.CodeDescription(href=rule.help_uri)
            if rule is not None and rule.help_uri else None,
            source=SOURCE,
            tags=[lsp.DiagnosticTag.Unnecessary] if finding.rule == "KP901" else None))
    return out


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    """Do two ranges touch (an empty request range at a finding's edge counts)?"""
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and \
        (b.start.line, b.start.character) <= (a.end.line, a.end.character)


def findings_at(checked: Checked, positions: Positions, where: lsp.Range) -> list[Finding]:
    return [f for f in checked.findings if _overlaps(finding_range(f, positions), where)]


def text_edit(edit: Edit, positions: Positions) -> lsp.TextEdit:
    start = positions.position(edit.line, edit.column)
    end = positions.position(edit.end_line, edit.end_column)
    return lsp.TextEdit(lsp.Range(start, end), edit.content)


def code_actions(checked: Checked, uri: str, positions: Positions, where: lsp.Range,
                 redact: Redactor, only: list[str] | None = None, edits: bool = True
                 ) -> list[lsp.CodeAction]:
    """For each finding under `where`: its fix (labelled safe or unsafe), "suppress KPnnn on
    this line" and "explain KPnnn" (only that when `edits` is off: the buffer has changed
    since the check, so positions no longer hold)."""
    actions: list[lsp.CodeAction] = []
    explained: set[str] = set()
    quickfix = lsp.CodeActionKind.QuickFix.value
    if only and not any(quickfix.startswith(k) for k in only):  # every action is a quick fix
        return actions
    diags = {id(f): d for f, d in zip(checked.findings,
                                      diagnostics(checked, positions, redact))}
    for finding in findings_at(checked, positions, where):
        diag = [diags[id(finding)]]
        fix = finding.fix
        if fix is not None and edits:
            label = "safe fix" if fix.applicability == "safe" else "unsafe fix"
            actions.append(lsp.CodeAction(
                title=f"{redact(fix.title)} ({finding.rule}, {label})",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=diag,
                is_preferred=fix.applicability == "safe",
                edit=lsp.WorkspaceEdit(changes={
                    uri: [text_edit(e, positions) for e in fix.edits]})))
        kind = checked.target.kind if checked.target is not None else "python"
        suppress = suppression_edit(checked.text, kind, checked.path, finding.line,
                                    finding.rule) if edits else None
        if suppress is not None and finding.rule != "KP900":  # KP900: the file is unreadable
            actions.append(lsp.CodeAction(
                title=f"Suppress {finding.rule} on this line", kind=lsp.CodeActionKind.QuickFix,
                diagnostics=diag,
                edit=lsp.WorkspaceEdit(changes={uri: [text_edit(suppress, positions)]})))
        if finding.rule not in explained:
            explained.add(finding.rule)
            actions.append(lsp.CodeAction(
                title=f"Explain {finding.rule}", kind=lsp.CodeActionKind.QuickFix,
                diagnostics=diag,
                command=lsp.Command(f"Explain {finding.rule}", EXPLAIN_COMMAND,
                                    arguments=[finding.rule, uri])))
    return actions


def hover(checked: Checked, positions: Positions, at: lsp.Position, redact: Redactor
          ) -> lsp.Hover | None:
    """On a finding's range: what is wrong, then the rule's rationale and good/bad example."""
    from keyport_lint.ruleinfo import rule_help_markdown

    point = lsp.Range(at, at)
    rules = _rules(checked)
    parts: list[str] = []
    shown: set[str] = set()
    first: Finding | None = None
    for finding in findings_at(checked, positions, point):
        first = first or finding
        parts.append(f"**{finding.rule}** `{finding.name}` ({finding.severity}): "
                     f"{finding.message}" + (f" — {finding.help}" if finding.help else ""))
        rule = rules.get(finding.rule)
        if rule is not None and rule.id not in shown:
            shown.add(rule.id)
            parts.append(rule_help_markdown(rule))
            if rule.help_uri:
                parts.append(f"[{rule.id} documentation]({rule.help_uri})")
    if first is None:
        return None
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, redact("\n\n".join(parts))),
                     finding_range(first, positions))
