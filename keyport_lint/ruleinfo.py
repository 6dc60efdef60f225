"""What the user reads about rules: `keyport-lint rules`, `keyport-lint explain`, the SARIF rule
metadata and docs/rules.md all come from here, so they cannot drift from the YAML or each other.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import TYPE_CHECKING, Any

from keyport_lint.catalog import Rule, settings_schema
from keyport_lint.errors import UserError
from keyport_lint.kinds import get_kind
from keyport_lint.yamlio import suggest

if TYPE_CHECKING:
    from keyport_lint.config import Config

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
ACRONYMS = {"api": "API", "http": "HTTP", "json": "JSON", "url": "URL", "hmac": "HMAC"}
FILE_KINDS = {"python": "Python files", "text": "text files (JS/TS, HTML, .env, JSON, YAML…)"}


def summary(rule: Rule) -> str:
    """One line saying what the rule flags: its message template up to the advice after `;`,
    with placeholders shown as `…` (the YAML has no separate short description)."""
    text = PLACEHOLDER.sub("…", rule.message).split(";", 1)[0].strip().rstrip(":").strip()
    return text[:1].upper() + text[1:] if text else title(rule)


def title(rule: Rule) -> str:
    """`hardcoded-api-key` -> `Hardcoded API key`."""
    words = [ACRONYMS.get(w, w) for w in rule.name.replace("_", "-").split("-") if w]
    text = " ".join(words) or rule.id
    return text[:1].upper() + text[1:]


def settings_used(rule: Rule) -> list[str]:
    """Shared settings that change what this rule reports: those its parameters name
    (`patterns-from: [key-patterns]`), those its kind reads, and the KeyPort-context markers
    when the rule (or part of it) fires only in KeyPort-related code."""
    known = settings_schema()
    used: list[str] = []

    def add(name: str) -> None:
        if name in known and name not in used:
            used.append(name)

    for value in rule.params.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                add(item)
    for name in get_kind(rule.kind).uses_settings:
        add(name)
    if rule.context == "keyport" or rule.params.get("keyport-context-for"):
        add("context-markers")
    return used


def find_rule(cfg: Config, code: str) -> Rule:
    """A rule by code (any case) or by name; a usage error with a hint otherwise."""
    wanted = code.strip()
    for rule in cfg.rules:
        if wanted.upper() == rule.id or wanted.lower() == rule.name:
            return rule
    codes = [r.id for r in cfg.rules]
    prefixed = [c for c in codes if c.startswith(wanted.upper())] if wanted else []
    if prefixed:
        hint = f" — {wanted} is a prefix; did you mean {', '.join(prefixed)}?"
    else:
        hint = suggest(wanted.upper(), codes) or suggest(wanted.lower(),
                                                         [r.name for r in cfg.rules])
    raise UserError(f"unknown rule code {wanted!r}{hint} (`keyport-lint rules` lists them)")


# -- rules table ---------------------------------------------------------------------------------

def rule_rows(cfg: Config) -> list[dict[str, Any]]:
    return [{
        "code": r.id, "name": r.name, "severity": cfg.severity_of(r),
        "default_severity": r.severity, "enabled": cfg.is_enabled(r.id), "kind": r.kind,
        "files": list(r.files), "summary": summary(r), "help_uri": r.help_uri,
    } for r in cfg.rules]


def rules_text(cfg: Config) -> str:
    rows = rule_rows(cfg)
    table = [("code", "name", "severity", "enabled")] + [
        (r["code"], r["name"], r["severity"] + ("*" if r["severity"] != r["default_severity"]
                                                else ""), "yes" if r["enabled"] else "no")
        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row))
             for row in table]
    if any(r["severity"] != r["default_severity"] for r in rows):
        lines.append("* severity changed by the config")
    return "\n".join(lines) + "\n"


def rules_json(cfg: Config) -> str:
    from keyport_lint import __version__

    doc = {"tool": "keyport-lint", "version": __version__, "rules": rule_rows(cfg)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- explain -------------------------------------------------------------------------------------

def _value(label: str, value: Any, indent: str) -> list[str]:
    """`label: value` as JSON (valid YAML), wrapped without breaking inside an item."""
    return textwrap.wrap(f"{label}: {json.dumps(value, ensure_ascii=False)}", width=88,
                         initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _wrap(text: str, indent: str = "  ", width: int = 88) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False) or [indent.rstrip()]


def _example(code: str) -> list[str]:
    return ["    " + line if line else "" for line in code.rstrip("\n").splitlines()]


def explain_text(rule: Rule, cfg: Config) -> str:
    severity = cfg.severity_of(rule)
    state = "enabled" if cfg.is_enabled(rule.id) else "disabled by the config"
    out = [f"{rule.id} {rule.name}",
           f"  severity {severity}"
           + (f" (built-in: {rule.severity})" if severity != rule.severity else "")
           + f" · {state} · kind {rule.kind} · checks "
           + " and ".join(FILE_KINDS.get(f, f) for f in rule.files)
           + (" · only in KeyPort-related code" if rule.context == "keyport" else ""),
           ""]
    out += ["Reports", *_wrap(PLACEHOLDER.sub("…", rule.message)), ""]
    if rule.help:
        out += ["Fix", *_wrap(PLACEHOLDER.sub("…", rule.help)), ""]
    if rule.rationale:
        out += ["Why", *_wrap(rule.rationale), ""]
    for label, key in (("Bad", "bad"), ("Good", "good")):
        if _examples(rule).get(key):
            out += [label, *_example(_examples(rule)[key]), ""]
    out += ["Configuration"]
    schema = settings_schema()
    used = settings_used(rule)
    if used:
        out += _wrap("Settings it uses (under `settings:` in .keyport-lint.yaml; a list there "
                     "extends the built-in one, {replace: [...]} replaces it):")
        for name in used:
            spec = schema[name]
            current = cfg.settings[name]
            changed = " (changed by the config)" if current != spec.default else ""
            out.append(f"    {name} ({spec.type}){changed}")
            out += _wrap(spec.doc, indent="        ")
            out += _value("value", current, "        ")
    params = {k: v for k, v in rule.params.items() if v not in (None, [], {}, "")}
    if params:
        where = f" ({rule.source}:{rule.line})" if rule.source else ""
        out.append(f"  Rule parameters{where}:")
        for name, value in params.items():
            out += _value(name, value, "    ")
    out += [
        "  Turn it off or tune it:",
        f"    ignore: [{rule.id}]                 (or --ignore {rule.id}; select: works alike)",
        f"    severity: {{{rule.id}: {'warning' if rule.severity == 'error' else 'error'}}}",
        f'    per-file-ignores: {{"tests/**": [{rule.id}]}}',
        f"    # keyport-lint: ignore[{rule.id}]   at the end of the reported line, or alone "
        "on the line above",
    ]
    if rule.help_uri:
        out += ["", f"Docs: {rule.help_uri}"]
    return "\n".join(out) + "\n"


def explain_json(rule: Rule, cfg: Config) -> str:
    schema = settings_schema()
    doc = {
        "code": rule.id, "name": rule.name, "severity": cfg.severity_of(rule),
        "default_severity": rule.severity, "enabled": cfg.is_enabled(rule.id),
        "kind": rule.kind, "files": list(rule.files), "context": rule.context,
        "message": rule.message, "help": rule.help, "rationale": rule.rationale,
        "examples": _examples(rule),
        "settings": [{"name": n, "type": schema[n].type, "doc": schema[n].doc,
                      "value": cfg.settings[n], "default": schema[n].default}
                     for n in settings_used(rule)],
        "parameters": rule.params, "help_uri": rule.help_uri,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- markdown (docs/rules.md, SARIF help) --------------------------------------------------------

def fence_language(rule: Rule) -> str:
    return "python" if "python" in rule.files else ""


def rule_help_markdown(rule: Rule) -> str:
    """The body of a rule's documentation: rationale, examples, knobs (no heading)."""
    schema = settings_schema()
    lang = fence_language(rule)
    parts = [f"{summary(rule)}.", ""]
    if rule.rationale:
        parts += [" ".join(rule.rationale.split()), ""]
    for label, key in (("Bad", "bad"), ("Good", "good")):
        example = _examples(rule).get(key)
        if example:
            parts += [f"**{label}**", "", f"```{lang}", example.rstrip("\n"), "```", ""]
    used = settings_used(rule)
    if used:
        parts += ["**Settings it uses** (under `settings:` in `.keyport-lint.yaml`):", ""]
        parts += [f"- `{n}`: {schema[n].doc}" for n in used]
        parts.append("")
    parts += [f"Suppress one finding with `# keyport-lint: ignore[{rule.id}]` at the end of its "
              "line (that line only) or alone on the line above; turn the rule off with "
              f"`ignore: [{rule.id}]`."]
    return "\n".join(parts).rstrip("\n") + "\n"


def rule_help_text(rule: Rule) -> str:
    """Plain-text help for consumers that do not render Markdown (SARIF `help.text`)."""
    parts = [f"{summary(rule)}."]
    if rule.rationale:
        parts += ["", " ".join(rule.rationale.split())]
    for label, key in (("Bad", "bad"), ("Good", "good")):
        if _examples(rule).get(key):
            parts += ["", f"{label}:", *_example(_examples(rule)[key])]
    used = settings_used(rule)
    if used:
        parts += ["", "Settings it uses: " + ", ".join(used) + "."]
    parts += ["", f"Suppress with: # keyport-lint: ignore[{rule.id}]"]
    return "\n".join(parts) + "\n"


def _examples(rule: Rule) -> dict[str, str]:
    """Examples as shown to people: the fake keys in them are redacted like any other key,
    so no output of the linter ever shows a full key, not even a documentation one."""
    from keyport_lint.config import default_settings
    from keyport_lint.redact import redactor_from
    from keyport_lint.settings import Settings

    own = [rule.params["pattern"]] if rule.kind == "secret-pattern" and \
        rule.params.get("pattern") else []
    redact = redactor_from(Settings(default_settings()), own)
    return {key: redact(text) for key, text in rule.examples.items()}
