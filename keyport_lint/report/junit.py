"""JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure Pipelines…).

One testcase per finding, failed, named by code and place; a clean run is one passing testcase,
so the report never looks empty. Run-level problems are `<error>` testcases. Characters XML 1.0
cannot hold (control characters from odd source text) are replaced, so the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SUITE = "keyport-lint"


def _x(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


def render(result: RunResult, opts: ReportOptions) -> str:
    findings = result.findings
    failures, errors = len(findings), len(result.errors)
    tests = failures + errors or 1
    root = ET.Element("testsuites", name=SUITE, tests=str(tests), failures=str(failures),
                      errors=str(errors), time=f"{result.seconds:.3f}")
    suite = ET.SubElement(root, "testsuite", name=SUITE, tests=str(tests),
                          failures=str(failures), errors=str(errors), skipped="0",
                          time=f"{result.seconds:.3f}")
    for f in findings:
        where = f"{f.path}:{f.line}:{f.column}"
        case = ET.SubElement(suite, "testcase", name=_x(f"{f.rule} {f.name} at {where}"),
                             classname=_x(f.path), file=_x(f.path), line=str(f.line))
        failure = ET.SubElement(case, "failure", message=_x(f.message), type=f.rule)
        failure.text = _x(f"{where}: {f.rule} [{f.severity}] {f.message}"
                          + (f"\nhelp: {f.help}" if f.help else ""))
    for number, error in enumerate(result.errors, start=1):
        case = ET.SubElement(suite, "testcase", name=f"run error {number}", classname=SUITE)
        ET.SubElement(case, "error", message=_x(error), type="run-error").text = _x(error)
    if not findings and not errors:
        ET.SubElement(suite, "testcase", name=f"no findings in {result.files} files",
                      classname=SUITE)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
