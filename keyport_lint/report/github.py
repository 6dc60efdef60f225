"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

`::error file=app.py,line=3,col=5,endLine=3,endColumn=40,title=KP101::message`. Values are
escaped as the runner expects (actions/toolkit): `%`, CR and LF in the message; additionally `:`
and `,` in properties, so a message or path cannot end the command early or inject another.
GitHub draws columns only within one line, so a multi-line finding gets lines only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.finding import Finding
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: list[tuple[str, object]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(f: Finding) -> str:
    props: list[tuple[str, object]] = [("file", f.path), ("line", f.line)]
    if f.end_line == f.line:
        props.append(("col", f.column))
        if f.end_column > f.column:
            props += [("endLine", f.end_line), ("endColumn", f.end_column)]
    elif f.end_line > f.line:
        props.append(("endLine", f.end_line))
    props.append(("title", f.rule))
    return command("error" if f.severity == "error" else "warning", props, f.full_message())


def render(result: RunResult, opts: ReportOptions) -> str:
    lines = [annotation(f) for f in result.findings]
    lines += [command("error", [("title", "keyport-lint")], e) for e in result.errors]
    return "\n".join(lines) + ("\n" if lines else "")
