"""Kind `taint`: a secret (the KeyPort key, the webhook secret) reaching a sink unmasked.

The rule's parameters name shared settings for sources, sinks and sanitisers (so users extend
them once under `settings:`), plus optional inline additions. The analysis itself is
`analysis/taint.py`, shared with other kinds (KP501 asks it about response sinks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.errors import UserError
from keyport_lint.kinds.base import Kind, literal_trigger

if TYPE_CHECKING:
    from keyport_lint.analysis.taint import SinkSpec, TaintConfig
    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings
    from keyport_lint.yamlio import LDict

SETTING_PARAMS = ("names-from", "generic-names-from", "literals-from", "sinks-from",
                  "sanitizers-from")


class Taint(Kind):
    name = "taint"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        # sources: settings holding name patterns and literal shapes
        "names-from": ("list[str]", []),  # e.g. [key-names]: KeyPort-specific names, anywhere
        "generic-names-from": ("list[str]", []),  # e.g. [generic-key-names]: KeyPort code only
        "literals-from": ("list[str]", []),  # e.g. [key-patterns]: literal shapes (KP101's)
        "config-fields": ("list[str]", []),  # fields of keyport.json that hold it
        # inline sources, for rules about other secrets (user rules): name patterns (variables,
        # attributes, dict keys, env vars; matched whole, case-insensitively), literal shapes,
        # and callees whose result is the secret
        "names": ("list[regex]", []),
        "literals": ("list[regex]", []),
        "calls": ("list[str]", []),
        # sinks and sanitisers: settings plus inline additions (same entry syntax)
        "sinks-from": ("list[str]", ["log-sinks"]),
        "sinks": ("list[str]", []),
        "sanitizers-from": ("list[str]", ["sanitizers"]),
        "sanitizers": ("list[str]", []),
        # the variable named in the fix when the sink's value has no better name
        "fix-name": ("str", "key"),
        # `return` sinks count in any function, or only in web handlers (KP501: what a browser
        # receives; the shared handler analysis decides what an endpoint is)
        "returns-in": ("str", "any"),
    }
    # source: what the value came from; line: its line (or file and line); origin: both;
    # sink: the sink call; name: the variable to slice in the fix; prefix: settings.prefix-max
    placeholders = frozenset({"source", "line", "origin", "sink", "name", "prefix"})
    follows_imports = True

    def validate(self, rule: Rule, raw: LDict) -> None:
        from keyport_lint.catalog import settings_schema

        known = settings_schema()
        p = rule.params
        if not any(p[k] for k in ("names-from", "generic-names-from", "literals-from",
                                  "config-fields", "names", "literals", "calls")):
            raise UserError(f"rule {rule.id}: a taint rule needs a source: names, literals, "
                            "calls (or names-from / literals-from naming shared settings)",
                            raw.file or None, raw.line)
        if p["returns-in"] not in ("any", "web-handlers"):
            raise UserError(f"rule {rule.id}: returns-in is 'any' or 'web-handlers'",
                            raw.file or None, raw.line_of("returns-in") or raw.line)
        for param in SETTING_PARAMS:
            for name in rule.params[param]:
                if name not in known:
                    raise UserError(f"rule {rule.id}: {param} names unknown setting {name!r}",
                                    raw.file or None, raw.line_of(param) or raw.line)

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        # generic names count only in KeyPort-related code, which holds a marker itself or
        # imports a project module that does (follows_imports covers the latter)
        tokens = {"keyport"}
        patterns = [p for param in ("names-from", "literals-from")
                    for setting in rule.params[param] for p in settings.get(setting, [])]
        patterns += rule.params["names"] + rule.params["literals"]
        for pattern in patterns:
            token = literal_trigger(pattern)
            if token is None:
                return None
            tokens.add(token)
        for call in rule.params["calls"]:
            last = call.rsplit(".", 1)[-1].lower()
            if len(last) < 3 or any(ch in last for ch in "*?["):
                return None
            tokens.add(last)
        return tokens

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.analysis.context import is_keyport_related
        from keyport_lint.analysis.taint import origin_text, taint_analysis
        from keyport_lint.context import NodeLine

        own_sources = rule.params["names"] or rule.params["literals"] or rule.params["calls"]
        if not own_sources and not ctx.analysis(is_keyport_related) and not (
                ctx.project is not None and ctx.path is not None
                and ctx.project.reaches_keyport(ctx.path, ctx.text)):
            return ()  # no source can exist here: not KeyPort code, imports nothing of it
        config, sinks = build_config(rule, ctx.settings)
        result = taint_analysis(ctx, config)
        functions = None
        if rule.params["returns-in"] == "web-handlers":
            from keyport_lint.analysis.webhooks import endpoints

            functions = {id(h.node) for h in endpoints(ctx)}
        family = family_of(rule)
        for flow in result.flows(sinks, functions):
            source = flow.source
            if source.family != family:
                continue
            remote = origin_text(source)
            if remote is not None:
                line: Any = f"{source.module} line {source.line}" if source.line else (
                    source.module)
                origin: Any = remote
            else:
                line = NodeLine(source.node)  # type: ignore[arg-type]
                origin = NodeLine(source.node, _escape(source.desc) + ", line {line}")  # type: ignore[arg-type]
            ctx.report(rule, flow.node, source=source.desc, line=line, origin=origin,
                       sink=flow.sink, name=flow.label.via or rule.params["fix-name"],
                       prefix=ctx.settings["prefix-max"])
            ctx.fix_hint(rule, flow.node, arg=flow.arg, via=flow.label.via,
                         whole=not flow.label.path, sink_kind=flow.kind)
        return ()


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _settings_list(settings: Settings, names: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        for value in settings.get(name, []) or []:
            if value not in out:
                out.append(value)
    return tuple(out)


def build_config(rule: Rule, settings: Settings) -> tuple[TaintConfig, SinkSpec]:
    """The analysis configuration and sink spec of a rule (memoised per rule and settings:
    asked once per file and rule).

    One pass serves every secret: the configuration holds the rule's own family and the
    families of the built-in taint rules that run under the same knobs (sanitisers,
    propagators), so KP201, KP202 and KP501 share one computation per file; each rule keeps
    the flows of its own family (`family_of`)."""
    key = (rule.id, id(rule), id(settings))
    cached = _CONFIGS.get(key)
    if cached is not None and cached[0] is settings and cached[1] is rule:
        return cached[2]
    built = _build_config(rule, settings)
    if len(_CONFIGS) > 256:  # runs keep one settings object; tests make many
        _CONFIGS.clear()
    _CONFIGS[key] = (settings, rule, built)
    return built


_CONFIGS: dict[tuple, tuple[Any, Any, tuple[TaintConfig, SinkSpec]]] = {}


def _build_config(rule: Rule, settings: Settings) -> tuple[TaintConfig, SinkSpec]:
    from dataclasses import replace

    from keyport_lint.catalog import builtin_rules

    config, sinks = _single_config(rule, settings)
    families = {f.name: f for f in config.families}
    for other in builtin_rules():
        if other.kind != "taint" or other.id == rule.id:
            continue
        theirs, _ = _single_config(other, settings)
        if replace(theirs, families=config.families) == config:
            families.update({f.name: f for f in theirs.families if f.name not in families})
    merged = replace(config, families=tuple(families[n] for n in sorted(families)))
    return merged, sinks


def combined_config(rules: Iterable[Rule], settings: Settings) -> TaintConfig:
    """One configuration for several taint rules: their families as labels of one pass, and
    the union of their sanitisers and propagators."""
    from dataclasses import replace

    configs = [_single_config(r, settings)[0] for r in rules]
    families = {f.name: f for c in configs for f in c.families}
    first = configs[0]
    return replace(first, families=tuple(families[n] for n in sorted(families)),
                   sanitizers=tuple(dict.fromkeys(s for c in configs for s in c.sanitizers)),
                   propagators=tuple(dict.fromkeys(p for c in configs for p in c.propagators)))


def family_of(rule: Rule) -> str:
    """The family name a rule's sources carry (rules with the same sources share it)."""
    p = rule.params
    return "+".join(p["names-from"]) + ("+" + rule.id if p["names"] or p["literals"]
                                        or p["calls"] else "") or rule.id


def _single_config(rule: Rule, settings: Settings) -> tuple[TaintConfig, SinkSpec]:
    from keyport_lint.analysis.taint import Family, SinkSpec, TaintConfig

    p = rule.params
    family = Family(
        name=family_of(rule),
        names=_settings_list(settings, p["names-from"]) + tuple(p["names"]),
        generic_names=_settings_list(settings, p["generic-names-from"]),
        literals=_settings_list(settings, p["literals-from"]) + tuple(p["literals"]),
        config_fields=tuple(p["config-fields"]),
        calls=tuple(p["calls"]),
    )
    config = TaintConfig(
        families=(family,),
        env_reads=tuple(settings.get("env-reads", [])),
        propagators=tuple(settings.get("taint-propagators", [])),
        sanitizers=_settings_list(settings, p["sanitizers-from"]) + tuple(p["sanitizers"]),
        sanitizer_names=tuple(settings.get("sanitizer-names", [])),
        config_files=tuple(settings.get("config-files", [])),
        config_loaders=tuple(settings.get("config-loaders", [])),
        prefix_max=settings["prefix-max"],
        suffix_max=settings["suffix-max"],
        placeholder_words=tuple(settings["placeholder-words"]),
        min_entropy=settings["min-entropy"],
    )
    sinks = SinkSpec(
        patterns=_settings_list(settings, p["sinks-from"]) + tuple(p["sinks"]),
        logger_names=tuple(settings.get("logger-names", [])),
        logger_factories=tuple(settings.get("logger-factories", [])),
    )
    return config, sinks


KIND = Taint()
