"""A finding: what a rule reports, in the shape every output format reads."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Edit:
    """Replace the source between two 1-based positions (end exclusive) with `content`.

    Positions are those of findings (line, column in characters), so every consumer (the
    `--fix` writer, `--diff`, JSON/SARIF `fix` objects, editor code actions) reads one shape."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class Fix:
    """One repair of a finding. `safe` fixes keep what the program does apart from the leak;
    `unsafe` ones change behaviour on purpose (applied only when the user asks for them)."""

    applicability: str  # "safe" | "unsafe"
    title: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    severity: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str  # the diagnosis: what is wrong, short
    fingerprint: str = ""
    help: str = ""  # the fix, shown after the excerpt (text) or after the message (elsewhere)
    fix: Fix | None = None  # an automatic repair, when one single edit is right

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)

    def with_(self, **changes: object) -> Finding:
        return replace(self, **changes)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule, "name": self.name, "severity": self.severity, "path": self.path,
            "line": self.line, "column": self.column, "end_line": self.end_line,
            "end_column": self.end_column, "message": self.message,
            "help": self.help, "fingerprint": self.fingerprint,
            "fix": None if self.fix is None else {
                "applicability": self.fix.applicability, "title": self.fix.title,
                "edits": [{"line": e.line, "column": e.column, "end_line": e.end_line,
                           "end_column": e.end_column, "content": e.content}
                          for e in self.fix.edits]},
        }

    def full_message(self) -> str:
        """Diagnosis and fix in one sentence, for formats with one message field."""
        return f"{self.message}; {self.help}" if self.help else self.message
