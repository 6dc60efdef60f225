"""What a rule kind sees of one file: its text, its parsed module, settings, shared analyses.

Analyses are computed on first use and memoised per file, so rules that need the same facts
(literals, imports, handlers, taint) share one computation. Positions are resolved only for
nodes that end up reported, statement by statement (`analysis/positions.py`): position
metadata for every node would double the parse cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from keyport_lint.errors import AnalysisFailed
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
        self._deps: dict[Any, set[Path]] = {}
        self._holders = 0  # the pipeline checking this file, the project index keeping it
        # whole-module tree walks and passes (the shared walk, the taint pass, a position
        # pass over the whole module): JSON `stats.walks_per_parsed_file`
        self.walks = 0
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
        """Run a shared analysis once per file and hand every rule the same result.

        The project modules an analysis consulted are kept with its result and replayed to
        the project index on every later use: a context the index shares between files
        (asked about by one file, checked as another) still records, for the result cache,
        every module each file's findings depend on. An analysis that raised fails every rule
        that asks for it again (AnalysisFailed), and only those: it is not run twice."""
        if compute in self._memo:
            deps = self._deps.get(compute)
            if deps and self.project is not None:
                self.project.touch(deps)
            value = self._memo[compute]
            if isinstance(value, AnalysisFailed):
                raise value
            return value  # type: ignore[no-any-return]
        try:
            if self.project is None:
                value = compute(self)
            else:  # `project.recording()` without a generator context manager per analysis
                deps = self.project.open_recorder()
                try:
                    value = compute(self)
                finally:
                    self.project.close_recorder()
                if deps:
                    self._deps[compute] = deps
        except Exception as exc:
            failed = exc if isinstance(exc, AnalysisFailed) else AnalysisFailed(
                _analysis_name(compute), exc)
            self._memo[compute] = failed
            if failed is exc:
                raise
            raise failed from exc
        self._memo[compute] = value
        return value

    def memoised(self, compute: Callable[[Any], T]) -> T | None:
        """The memoised result of an analysis, None when it was not computed (or failed)."""
        value = self._memo.get(compute)
        return None if isinstance(value, AnalysisFailed) else value  # type: ignore[no-any-return]

    def forget(self, compute: Callable[[Any], Any]) -> None:
        """Drop one memoised analysis (asked again, it is recomputed)."""
        self._memo.pop(compute, None)
        self._deps.pop(compute, None)

    def hold(self) -> None:
        self._holders += 1

    def let_go(self) -> None:
        """Analyses keep their context (a cycle through the memo, which CPython frees only in
        a full collection, with the whole tree: on KeyPort-dense code a quarter of the run
        went to such collections). Once nobody holds the context, the memo is dropped, so
        reference counting frees the tree and its analyses at once (asked again, an analysis
        is recomputed)."""
        self._holders -= 1
        if self._holders <= 0:
            self._memo.clear()
            self._deps.clear()

    def report_at(self, rule: Rule, line: int, column: int, end_line: int, end_column: int,
                  **fields: Any) -> None:
        self.findings.append(Finding(
            rule=rule.id, name=rule.name, severity=rule.severity, path=self.display,
            line=line, column=column, end_line=end_line, end_column=end_column,
            message=format_message(rule, fields), help=format_help(rule, fields, self.display),
        ))

    def finish(self) -> list[Finding]:
        return self.findings


def _analysis_name(compute: Any) -> str:
    owner = getattr(compute, "__self__", None)
    name = getattr(compute, "__name__", None) or type(compute).__name__
    if owner is not None:
        return f"{type(owner).__name__}.{name}"
    return str(name)


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

    def resolve(self, spans: dict[int, tuple[int, int, int, int]]) -> str:
        span = spans.get(id(self.node))  # None: not a node of this module
        return self.template.format(line=span[0] if span is not None else "?")


class TextContext(FileContext):
    """A non-Python file (JS, HTML, .env, JSON …), read as lines."""


class PythonContext(FileContext):
    def __init__(self, display: str, text: str, module: cst.Module, settings: Settings,
                 project: ProjectIndex | None = None, path: Path | None = None) -> None:
        super().__init__(display, text, settings, project, path)
        self.module = module
        if project is not None and path is not None:
            project.adopt(self)  # questions about this module reuse this tree
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

    def pending_rules(self) -> list[str]:
        """Ids of rules whose findings wait for positions (what a failed `finish` loses)."""
        return sorted({rule.id for rule, *_ in self._pending})

    def finish(self) -> list[Finding]:
        if self._pending:
            from keyport_lint.analysis.positions import module_positions

            lines = [v.node for *_, fields in self._pending for v in fields.values()
                     if isinstance(v, NodeLine)]
            spans = self.analysis(module_positions).spans(
                [node for _, node, *_ in self._pending] + lines)
            for rule, node, (dline, dcol), length, fields in self._pending:
                start_line, start_col, end_line, end_col = spans[id(node)]
                line = start_line + dline
                col = (start_col if dline == 0 else 0) + dcol + 1
                end_col += 1
                if length is not None:
                    end_line, end_col = line, col + length
                fields = {k: v.resolve(spans) if isinstance(v, NodeLine) else v
                          for k, v in fields.items()}
                self.findings.append(Finding(
                    rule=rule.id, name=rule.name, severity=rule.severity, path=self.display,
                    line=line, column=col, end_line=end_line, end_column=end_col,
                    message=format_message(rule, fields),
                    help=format_help(rule, fields, self.display),
                ))
            self._pending.clear()
        return self.findings
