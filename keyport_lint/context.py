"""What a rule kind sees of one file: its text, its parsed module, settings, shared analyses.

Analyses are computed on first use and memoised per file, so rules that need the same facts
(literals, imports, handlers, taint) share one computation. Positions are resolved only for
nodes that end up reported: position metadata for every node would double the parse cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from keyport_lint.finding import Finding

if TYPE_CHECKING:
    import libcst as cst

    from keyport_lint.catalog import Rule
    from keyport_lint.index import ProjectIndex
    from keyport_lint.settings import Settings

T = TypeVar("T")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class FileContext:
    def __init__(self, display: str, text: str, settings: Settings,
                 project: ProjectIndex | None = None, path: Path | None = None) -> None:
        self.display = display
        self.path = path
        self.text = text
        self.settings = settings
        self.project = project
        self._lines: list[str] | None = None
        self._memo: dict[Any, Any] = {}
        self.findings: list[Finding] = []
        # literal secret values found in this file (e.g. KP103's unprefixed keys): every output
        # redacts them, whatever happens to the finding itself
        self.secrets: set[str] = set()

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = LINE_BREAK.split(self.text)
        return self._lines

    def analysis(self, compute: Callable[[Any], T]) -> T:
        """Run a shared analysis once per file and hand every rule the same result."""
        if compute not in self._memo:
            self._memo[compute] = compute(self)
        return self._memo[compute]

    def report_at(self, rule: Rule, line: int, column: int, end_line: int, end_column: int,
                  **fields: Any) -> None:
        self.findings.append(Finding(
            rule=rule.id, name=rule.name, severity=rule.severity, path=self.display,
            line=line, column=column, end_line=end_line, end_column=end_column,
            message=format_message(rule, fields), help=format_help(rule, fields, self.display),
        ))

    def finish(self) -> list[Finding]:
        return self.findings


def format_message(rule: Rule, fields: dict[str, Any]) -> str:
    try:
        return rule.message.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError):
        return rule.message


def format_help(rule: Rule, fields: dict[str, Any], display: str) -> str:
    """The rule's fix, or its advice for this kind of file (`help-for-files`, by file name)."""
    template = rule.help
    if rule.help_for_files:
        from fnmatch import fnmatchcase

        name = display.rsplit("/", 1)[-1]
        for pattern, text in rule.help_for_files:
            if any(fnmatchcase(name, p.strip()) for p in pattern.split(",")):
                template = text
                break
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError):
        return template


class NodeLine:
    """A message field naming the line of another node of the same module (a taint source):
    resolved in `PythonContext.finish` with the reported positions, so nothing pays for
    positions unless a finding is reported. `template` receives `{line}`."""

    __slots__ = ("node", "template")

    def __init__(self, node: cst.CSTNode, template: str = "{line}") -> None:
        self.node = node
        self.template = template

    def resolve(self, positions: Any) -> str:
        try:
            line = positions[self.node].start.line
        except KeyError:  # not a node of this module
            line = "?"
        return self.template.format(line=line)


class TextContext(FileContext):
    """A non-Python file (JS, HTML, .env, JSON …), read as lines."""


class PythonContext(FileContext):
    def __init__(self, display: str, text: str, module: cst.Module, settings: Settings,
                 project: ProjectIndex | None = None, path: Path | None = None) -> None:
        super().__init__(display, text, settings, project, path)
        self.module = module
        self._pending: list[
            tuple[Rule, cst.CSTNode, tuple[int, int], int | None, dict[str, Any]]] = []
        # (rule id, reported node, data): what a rule knows about repairing a finding (KP2:
        # the tainted argument), read by `keyport_lint/fix/` after suppressions
        self.fix_hints: list[tuple[str, cst.CSTNode, dict[str, Any]]] = []

    def fix_hint(self, rule: Rule, node: cst.CSTNode, **data: Any) -> None:
        """Tell the fixer about the finding reported at `node` (costs nothing unless a fix is
        computed)."""
        self.fix_hints.append((rule.id, node, data))

    def report(self, rule: Rule, node: cst.CSTNode, *, offset: tuple[int, int] = (0, 0),
               length: int | None = None, **fields: Any) -> None:
        """Report at `node`; `offset` (lines, column) and `length` narrow it inside a literal."""
        self._pending.append((rule, node, offset, length, fields))

    def finish(self) -> list[Finding]:
        if self._pending:
            positions = self._positions()
            for rule, node, (dline, dcol), length, fields in self._pending:
                rng = positions[node]
                line = rng.start.line + dline
                col = (rng.start.column if dline == 0 else 0) + dcol + 1
                end_line, end_col = rng.end.line, rng.end.column + 1
                if length is not None:
                    end_line, end_col = line, col + length
                fields = {k: v.resolve(positions) if isinstance(v, NodeLine) else v
                          for k, v in fields.items()}
                self.findings.append(Finding(
                    rule=rule.id, name=rule.name, severity=rule.severity, path=self.display,
                    line=line, column=col, end_line=end_line, end_column=end_col,
                    message=format_message(rule, fields),
                    help=format_help(rule, fields, self.display),
                ))
            self._pending.clear()
        return self.findings

    def _positions(self) -> Any:
        import libcst as cst
        from libcst.metadata import PositionProvider

        wrapper = cst.MetadataWrapper(self.module, unsafe_skip_copy=True)
        return wrapper.resolve(PositionProvider)
