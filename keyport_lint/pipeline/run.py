"""The whole run: discover → per-file pipeline → redaction and fingerprints → one RunResult."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from keyport_lint.analysis.context import marker_regex
from keyport_lint.config import Config
from keyport_lint.finding import Finding
from keyport_lint.index import ProjectIndex
from keyport_lint.pipeline.checkfile import FileResult, check_file
from keyport_lint.pipeline.discover import discover
from keyport_lint.pipeline.prefilter import build_prefilter
from keyport_lint.redact import Redactor

WHITESPACE = re.compile(r"\s+")


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0
    parsed: int = 0
    seconds: float = 0.0
    excerpts: dict[tuple[str, int], str] = field(default_factory=dict)  # redacted lines


def redactor_for(cfg: Config) -> Redactor:
    """Every secret shape in force: built-in settings plus user secret-pattern rules,
    selected or not: a match is redacted whether its rule runs, is ignored or suppressed."""
    patterns = list(cfg.settings["key-patterns"]) + list(cfg.settings["secret-patterns"])
    for rule in cfg.rules:
        if rule.kind == "secret-pattern" and rule.params.get("pattern"):
            patterns.append(rule.params["pattern"])
    return Redactor(patterns, cfg.settings["prefix-max"])


def run(paths: list[str], cfg: Config, cwd: Path | None = None) -> RunResult:
    started = time.perf_counter()
    cwd = cwd or Path.cwd()
    targets, errors = discover(paths, cfg, cwd)
    project = ProjectIndex(cfg.root, cfg.settings, marker_regex(cfg.settings))
    prefilter = build_prefilter(cfg.enabled_rules(), cfg.settings)
    redact = redactor_for(cfg)
    result = RunResult(errors=list(errors), files=len(targets))
    for target in targets:
        file_result = check_file(target, cfg, prefilter, project)
        _collect(result, file_result, redact)
    result.findings.sort(key=Finding.sort_key)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _collect(result: RunResult, fr: FileResult, redact: Redactor) -> None:
    result.parsed += fr.parsed
    if fr.error:
        result.errors.append(redact(fr.error, fr.secrets))
    seen: dict[tuple[str, str], int] = {}
    for finding in fr.findings:
        raw_line = fr.lines.get(finding.line, "")
        normalised = WHITESPACE.sub(" ", redact.hashed(raw_line, fr.secrets)).strip()
        occurrence = seen.get((finding.rule, normalised), 0)
        seen[(finding.rule, normalised)] = occurrence + 1
        digest = hashlib.sha256(
            f"{finding.rule}\0{finding.path}\0{normalised}\0{occurrence}".encode(
                "utf-8", "surrogatepass")).hexdigest()[:20]
        result.findings.append(finding.with_(
            message=redact(finding.message, fr.secrets), fingerprint=digest))
        if raw_line:
            result.excerpts[(finding.path, finding.line)] = redact(raw_line, fr.secrets)
