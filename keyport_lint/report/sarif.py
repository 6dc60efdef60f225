"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

Every rule in force is listed in `tool.driver.rules` (code scanning shows their descriptions and
help); each finding is a result with a relative `%SRCROOT%` uri, a 1-based region and our
line-independent fingerprint under `partialFingerprints`, so an alert survives edits elsewhere in
the file. GitHub's own `primaryLocationLineHash` is left for upload-sarif to compute: it checks
any value given under that key against its own hash of the line and warns when they differ.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from keyport_lint import __version__
from keyport_lint.ruleinfo import rule_help_markdown, rule_help_text, summary

if TYPE_CHECKING:
    from keyport_lint.catalog import Rule
    from keyport_lint.finding import Finding
    from keyport_lint.pipeline.run import RunResult
    from keyport_lint.report import ReportOptions

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/keyport-lint/keyport-lint"
FINGERPRINT_KEY = "keyportLint/v1"
SRCROOT = "%SRCROOT%"

EMBEDDED_LINK = re.compile(r"\[[^\]]*\]\(")


def _security(rule: Rule) -> dict[str, Any]:
    """Code scanning ranks security alerts by `security-severity` (0-10: 9+ critical, 7+ high,
    4+ medium) and groups them by tags; both come from the rule's `metadata:` in its YAML."""
    if rule.kind == "diagnostic":  # the linter's own findings are not vulnerabilities
        return {"tags": ["keyport-lint"]}
    meta = rule.metadata
    cwes = [f"external/cwe/{c.lower()}" for c in meta.get("cwe", [])]
    builtin = ["keyport"] if rule.id.startswith("KP") else []
    score = meta.get("security-severity") or ("7.0" if rule.severity == "error" else "4.0")
    return {"tags": ["security", *builtin, *meta.get("tags", []), *cwes],
            "security-severity": score}


def _text(message: str) -> str:
    """SARIF reads `[text](target)` in plain-text messages as a link; escape brackets then."""
    if EMBEDDED_LINK.search(message):
        return message.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return message


def _descriptor(rule: Rule, opts: ReportOptions) -> dict[str, Any]:
    cfg = opts.config
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": summary(rule)},
        "fullDescription": {"text": " ".join(rule.rationale.split()) or summary(rule)},
        "help": {"text": rule_help_text(rule), "markdown": rule_help_markdown(rule)},
        "defaultConfiguration": {"level": cfg.severity_of(rule),
                                 "enabled": cfg.is_enabled(rule.id)},
        "properties": {**_security(rule), "kind": rule.kind},
    }
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    return descriptor


def _region(f: Finding) -> dict[str, int]:
    region = {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)}
    if (f.end_line, f.end_column) > (f.line, f.column):
        region["endLine"] = f.end_line
        region["endColumn"] = max(f.end_column, 1)
    return region


def _result(f: Finding, index: dict[str, int], baseline: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": f.rule}
    if f.rule in index:
        result["ruleIndex"] = index[f.rule]
    result.update({
        "level": "error" if f.severity == "error" else "warning",
        "message": {"text": _text(f.full_message())},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": quote(f.path, safe="/"), "uriBaseId": SRCROOT},
            "region": _region(f),
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    })
    if f.fix is not None:  # SARIF 2.1.0 §3.55: artifact changes with replacements
        result["fixes"] = [{
            "description": {"text": _text(f"{f.fix.title} ({f.fix.applicability} fix)")},
            "artifactChanges": [{
                "artifactLocation": {"uri": quote(f.path, safe="/"), "uriBaseId": SRCROOT},
                "replacements": [{
                    "deletedRegion": {"startLine": e.line, "startColumn": e.column,
                                      "endLine": e.end_line, "endColumn": e.end_column},
                    "insertedContent": {"text": e.content}} for e in f.fix.edits],
            }],
        }]
    if baseline:
        result["baselineState"] = "new"
    return result


def build(result: RunResult, opts: ReportOptions) -> dict[str, Any]:
    rules = list(opts.config.rules)
    index = {rule.id: i for i, rule in enumerate(rules)}
    invocation: dict[str, Any] = {"executionSuccessful": not result.errors}
    if result.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": _text(e)}} for e in result.errors]
    run = {
        "tool": {"driver": {
            "name": "keyport-lint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_descriptor(rule, opts) for rule in rules],
        }},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index, opts.baseline is not None) for f in result.findings],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(result: RunResult, opts: ReportOptions) -> str:
    return json.dumps(build(result, opts), indent=2, ensure_ascii=False) + "\n"
