"""The rule catalogue: rules/*.yaml (shipped in the wheel) validated by one schema.

Every rule is data: id, kind, name, severity, message, rationale, examples and the kind's own
parameters. Python implements only the kinds (keyport_lint/kinds/).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from keyport_lint.errors import UserError
from keyport_lint.kinds import get_kind, kind_names
from keyport_lint.kinds.base import REQUIRED
from keyport_lint.schema import TYPES, check_type
from keyport_lint.yamlio import LDict, load_yaml, read_text_file, remember, suggest, where

SEVERITIES = ("error", "warning")
COMMON_FIELDS = {
    "id", "kind", "name", "severity", "message", "help", "help-for-files", "rationale",
    "examples", "help-uri", "context", "files", "metadata",
}
METADATA_FIELDS = ("cwe", "security-severity", "tags")
CWE_ID = re.compile(r"\ACWE-[0-9]+\Z")
# `\Z`, not `$`: `$` also matches before a trailing newline, and an id is printed in outputs
BUILTIN_ID = re.compile(r"\AKP[0-9]{3}\Z")
USER_ID = re.compile(r"\A[A-Z][A-Z0-9]*[0-9]{3}\Z")
DOCS_URI = "https://github.com/keyport-lint/keyport-lint/blob/main/docs/rules.md#{id}"


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue (a dataclass: `dataclasses.replace` makes variants)."""

    id: str
    kind: str
    name: str
    severity: str
    message: str
    help: str = ""  # the fix, shown after the diagnosis (`message`); same placeholders
    # file-name glob -> help for those files (first match wins; `help` otherwise)
    help_for_files: tuple[tuple[str, str], ...] = ()
    rationale: str = ""
    examples: dict[str, str] = field(default_factory=dict)
    help_uri: str = ""
    context: str = "any"
    files: tuple[str, ...] = ("python",)
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    # cwe (list of CWE-N), security-severity (a 0-10 score as text), tags: for SARIF
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    source: str = ""
    line: int = 0

    def __hash__(self) -> int:
        return hash(self.id)


def rules_dir() -> Path:
    """The built-in rules folder: inside the installed package, or the repository's rules/."""
    packaged = Path(__file__).resolve().parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _fail(msg: str, container: Any, key: Any = None) -> UserError:
    file, line = where(container, key)
    return UserError(msg, file or None, line)


def validate_rule(raw: Any, *, builtin: bool) -> Rule:
    """Check one rule mapping against the common schema and its kind's parameters."""
    if not isinstance(raw, LDict):
        raise _fail("each rule must be a mapping", raw)
    for required in ("id", "kind", "message"):
        if required not in raw:
            raise _fail(f"rule is missing required field {required!r}", raw)
    rule_id = raw["id"]
    if not isinstance(rule_id, str):
        raise _fail("rule id must be a string", raw, "id")
    pattern = BUILTIN_ID if builtin else USER_ID
    if not pattern.match(rule_id):
        raise _fail(f"invalid rule id {rule_id!r}: ids look like ACME001 "
                    "(capitals, then three digits)", raw, "id")
    if not builtin and rule_id.startswith("KP"):
        raise _fail(f"rule id {rule_id!r}: the KP prefix is reserved for built-in rules",
                    raw, "id")
    kind_name = raw["kind"]
    if kind_name not in kind_names():
        hint = suggest(kind_name, set(kind_names()))
        raise _fail(f"rule {rule_id}: unknown kind {kind_name!r}{hint}"
                    f" (kinds: {', '.join(sorted(kind_names()))})", raw, "kind")
    kind = get_kind(kind_name)
    if not builtin and not kind.user_facing:
        raise _fail(f"rule {rule_id}: kind {kind_name!r} is reserved for built-in rules",
                    raw, "kind")
    allowed = COMMON_FIELDS | set(kind.params)
    for key in raw:
        if key not in allowed:
            raise _fail(f"rule {rule_id}: unknown field {key!r}{suggest(key, allowed)}", raw, key)
    for key in ("name", "message", "help", "rationale", "help-uri"):
        if key in raw:
            check_type(raw[key], "str", raw, key, f"rule {rule_id}: {key}")
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise _fail(f"rule {rule_id}: severity must be one of {', '.join(SEVERITIES)}",
                    raw, "severity")
    context = raw.get("context", kind.default_context)
    if context not in ("any", "keyport"):
        raise _fail(f"rule {rule_id}: context must be 'any' or 'keyport'", raw, "context")
    files = raw.get("files", list(kind.default_files))
    check_type(files, "list[str]", raw, "files", f"rule {rule_id}: files")
    for f in files:
        if f not in ("python", "text"):
            raise _fail(f"rule {rule_id}: files entries are 'python' or 'text', not {f!r}",
                        raw, "files")
    examples = raw.get("examples", {})
    check_type(examples, "mapping", raw, "examples", f"rule {rule_id}: examples")
    for key in examples:
        if key not in ("bad", "good"):
            raise _fail(f"rule {rule_id}: examples has only 'bad' and 'good', not {key!r}",
                        examples, key)
    metadata = _metadata(raw, rule_id)
    params: dict[str, Any] = {}
    for name, (type_name, default) in kind.params.items():
        assert type_name in TYPES, type_name
        if name in raw:
            check_type(raw[name], type_name, raw, name, f"rule {rule_id}: {name}")
            params[name] = raw[name]
        elif default is REQUIRED:
            raise _fail(f"rule {rule_id}: kind {kind_name} needs field {name!r}", raw)
        else:
            params[name] = default
    message = raw["message"]
    check_type(message, "str", raw, "message", f"rule {rule_id}: message")
    _check_template(message, kind_name, kind.placeholders, rule_id, raw, "message")
    help_text = raw.get("help", "")
    _check_template(help_text, kind_name, kind.placeholders, rule_id, raw, "help")
    by_file = raw.get("help-for-files", {})
    check_type(by_file, "mapping", raw, "help-for-files", f"rule {rule_id}: help-for-files")
    for glob, text in by_file.items():
        check_type(text, "str", by_file, glob, f"rule {rule_id}: help-for-files[{glob!r}]")
        _check_template(text, kind_name, kind.placeholders, rule_id, by_file, glob)
    rule = Rule(
        id=rule_id, kind=kind_name, name=raw.get("name", rule_id.lower()), severity=severity,
        message=message, help=help_text,
        help_for_files=tuple((str(g), str(t)) for g, t in by_file.items()),
        rationale=raw.get("rationale", ""), examples=dict(examples),
        help_uri=raw.get("help-uri", DOCS_URI.format(id=rule_id.lower()) if builtin else ""),
        context=context, files=tuple(files), params=params, metadata=metadata,
        source=raw.file, line=raw.line,
    )
    kind.validate(rule, raw)
    return rule


def _metadata(raw: LDict, rule_id: str) -> dict[str, Any]:
    """`metadata:` of a rule: its CWE ids, security-severity (0-10) and tags, which SARIF
    consumers (GitHub code scanning) use to rank and group alerts."""
    meta = raw.get("metadata", {})
    check_type(meta, "mapping", raw, "metadata", f"rule {rule_id}: metadata")
    out: dict[str, Any] = {}
    for key in meta:
        if key not in METADATA_FIELDS:
            raise _fail(f"rule {rule_id}: metadata has only {', '.join(METADATA_FIELDS)}, "
                        f"not {key!r}", meta, key)
    cwe = meta.get("cwe", [])
    cwes = [cwe] if isinstance(cwe, str) else cwe
    if not isinstance(cwes, list) or not all(isinstance(c, str) and CWE_ID.match(c)
                                             for c in cwes):
        raise _fail(f"rule {rule_id}: metadata.cwe is a CWE id like CWE-798, or a list of them",
                    meta, "cwe")
    out["cwe"] = list(cwes)
    if "security-severity" in meta:
        score = meta["security-severity"]
        if isinstance(score, bool) or not isinstance(score, (int, float)) or \
                not 0 <= score <= 10:
            raise _fail(f"rule {rule_id}: metadata.security-severity is a number from 0 to 10",
                        meta, "security-severity")
        out["security-severity"] = f"{float(score):.1f}"
    tags = meta.get("tags", [])
    check_type(tags, "list[str]", meta, "tags", f"rule {rule_id}: metadata.tags")
    out["tags"] = list(tags)
    return out


def _check_template(text: str, kind_name: str, offered: frozenset[str], rule_id: str,
                    container: Any, key: Any) -> None:
    """A message or help template may use only the placeholders its kind fills in."""
    what = key if key in ("message", "help") else f"help-for-files[{key!r}]"
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError as exc:
        raise _fail(f"rule {rule_id}: bad {what} template: {exc}", container, key) from None
    unknown = {f.split(".")[0].split("[")[0] for f in fields} - set(offered)
    if unknown:
        raise _fail(f"rule {rule_id}: unknown placeholder {{{sorted(unknown)[0]}}} in {what}; "
                    f"kind {kind_name} offers: {', '.join(sorted(offered)) or 'none'}",
                    container, key)


def load_rule_document(doc: Any, source: str, *, builtin: bool) -> list[Rule]:
    if doc is None:
        return []
    if not isinstance(doc, LDict) or "rules" not in doc:
        raise UserError("a rule file holds a mapping with a 'rules:' list", source, 1)
    for key in doc:
        if key != "rules":
            raise _fail(f"unknown top-level key {key!r} in a rule file (only 'rules')", doc, key)
    items = doc["rules"]
    check_type(items, "list[mapping]", doc, "rules", "rules")
    rules = []
    seen: dict[str, int] = {}
    for raw in items:
        rule = validate_rule(raw, builtin=builtin)
        if rule.id in seen:
            raise _fail(f"duplicate rule id {rule.id} (first defined at line {seen[rule.id]})",
                        raw, "id")
        seen[rule.id] = raw.line
        rules.append(rule)
    return rules


def load_rule_file(path: Path, *, builtin: bool, display: str | None = None) -> list[Rule]:
    name = display or str(path)
    text = read_text_file(path, name, "rule file")
    doc = load_yaml(text, name, compiled=builtin)
    rules = load_rule_document(doc, name, builtin=builtin)
    if builtin:
        remember(text, name, doc)  # valid: later runs may skip PyYAML and this check
    return rules


@lru_cache(maxsize=1)
def _validated() -> tuple[tuple[Rule, ...], dict[str, SettingSpec]] | None:
    """The built-in rules and setting specs, from the compiled catalogue when the files and
    code it was validated with are unchanged (keyport_lint/compiled.py), else validated now
    and compiled; None when the compiled form cannot be keyed (then each is validated)."""
    from keyport_lint import compiled

    name = compiled.key(rules_dir())
    if name is None:
        return None
    found = compiled.load(name)
    if found is None:
        global _VALIDATING
        specs = _VALIDATING = _load_settings_schema()  # rule kinds consult the settings
        try:
            found = (_load_builtin_rules(), specs)
        finally:
            _VALIDATING = None
        compiled.save(name, *found)
    return found


_VALIDATING: dict[str, SettingSpec] | None = None  # the specs while the rules are validated


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    """All built-in rules, sorted by id; a broken built-in file is a packaging bug."""
    found = _validated()
    return found[0] if found is not None else _load_builtin_rules()


def _load_builtin_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    base = rules_dir()
    for path in sorted(base.glob("*.yaml")):
        if path.name == "settings.yaml":
            continue
        rules.extend(load_rule_file(path, builtin=True, display=f"rules/{path.name}"))
    ids = [r.id for r in rules]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise UserError(f"duplicate built-in rule ids: {', '.join(sorted(dupes))}")
    return tuple(sorted(rules, key=lambda r: r.id))


class SettingSpec:
    """One setting of settings.yaml. (A plain class: a dataclass costs every run a
    millisecond to define.)"""

    __slots__ = ("default", "doc", "maximum", "minimum", "name", "no_empty_match", "type")

    def __init__(self, name: str, type: str, default: Any, doc: str,
                 minimum: float | None = None, maximum: float | None = None,
                 no_empty_match: bool = False) -> None:
        self.name, self.type, self.default, self.doc = name, type, default, doc
        self.minimum = minimum  # bounds of a number (`min:`, `max:` in settings.yaml)
        self.maximum = maximum
        self.no_empty_match = no_empty_match  # patterns that must not match the empty string

    def __repr__(self) -> str:
        return f"SettingSpec(name={self.name!r}, type={self.type!r}, default={self.default!r})"


@lru_cache(maxsize=1)
def settings_schema() -> dict[str, SettingSpec]:
    if _VALIDATING is not None:
        return _VALIDATING
    found = _validated()
    return found[1] if found is not None else _load_settings_schema()


def _load_settings_schema() -> dict[str, SettingSpec]:
    path = rules_dir() / "settings.yaml"
    text = path.read_text(encoding="utf-8")
    doc = load_yaml(text, "rules/settings.yaml", compiled=True)
    specs = {}
    for name, spec in doc["settings"].items():
        specs[name] = SettingSpec(name, spec["type"], spec["default"], spec.get("doc", ""),
                                  spec.get("min"), spec.get("max"),
                                  bool(spec.get("no-empty-match", False)))
        if not doc.compiled:  # the compiled form holds only defaults checked already
            check_type(spec["default"], spec["type"], spec, "default", f"settings.{name}")
    remember(text, "rules/settings.yaml", doc)
    return specs
