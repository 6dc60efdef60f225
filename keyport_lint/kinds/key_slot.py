"""Kind `key-slot`: a non-placeholder literal in a place that holds the KeyPort key or secret.

Slots: the SDK constructor's key argument, names/attributes/dict keys/keywords/parameters with
KeyPort key or secret names, env-read fallbacks (`os.getenv("KEYPORT_API_KEY", "…")`), and the
`Authorization: Bearer …` header in a module that talks to the KeyPort API.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.kinds.base import Kind, literal_trigger, setting_triggers

if TYPE_CHECKING:
    from keyport_lint.analysis.facts import Literal, ModuleFacts
    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext
    from keyport_lint.settings import Settings


class KeySlot(Kind):
    name = "key-slot"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        # SDK calls whose argument is the key: {call: dotted, arg: index, keyword: name}
        "sdk-calls": ("list[mapping]", []),
        # callee patterns (fnmatch on the resolved dotted name) whose second argument or
        # `default=` is the fallback for the env var named by the first
        "fallback-calls": ("list[str]", []),
        "fallback-keywords": ("list[str]", ["default"]),
        "names-from": ("list[str]", ["key-names", "secret-names"]),
        "bearer-header": ("bool", True),
        "min-length": ("int", 8),
    }
    placeholders = frozenset({"slot"})
    user_facing = False  # KP103 only: its slots are KeyPort-specific
    uses_settings = ("api-hosts", "key-patterns", "secret-patterns", "placeholder-words",
                     "min-entropy")

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        tokens = setting_triggers(settings, rule.params["names-from"])
        return None if tokens is None else tokens | {"keyport"}

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.analysis.facts import module_facts

        facts = ctx.analysis(module_facts)
        names = ctx.settings.names_regex(
            [p for s in rule.params["names-from"] for p in ctx.settings.get(s, [])])
        talks_to_api = any(host in ctx.text for host in ctx.settings["api-hosts"])
        for literal in facts.literals:
            slot = self._slot(rule, literal, facts, names, talks_to_api)
            if slot is None:
                continue
            value = literal.value or ""
            if slot.startswith("Authorization"):
                value = value.split(None, 1)[1] if " " in value else ""
            if self._hardcoded(rule, ctx.settings, value):
                ctx.secrets.add(value)
                ctx.report(rule, literal.node, slot=slot)
        return ()

    def _slot(self, rule: Rule, literal: Literal, facts: ModuleFacts, names: re.Pattern[str],
              talks_to_api: bool) -> str | None:
        slot = literal.slot
        if slot is None or literal.value is None:
            return None
        if slot.kind in ("keyword", "call-arg"):
            for spec in rule.params["sdk-calls"]:
                if slot.call != spec.get("call"):
                    continue
                if slot.kind == "keyword" and slot.name == spec.get("keyword"):
                    return f"{slot.call}({slot.name}=…)"
                if slot.kind == "call-arg" and slot.index == spec.get("arg", -2):
                    return f"{slot.call}(…)"
            if self._is_fallback(rule, slot, names):
                return f"the fallback of {slot.call}({_first_arg(slot)!r})"
        if slot.kind in ("name", "attribute", "subscript", "dict-key", "keyword", "param") \
                and names.fullmatch(slot.name):
            return slot.name
        # {"Authorization": "Bearer …"} and headers["Authorization"] = "Bearer …"
        if rule.params["bearer-header"] and talks_to_api and slot.kind in ("dict-key",
                                                                           "subscript") \
                and slot.name.lower() == "authorization" \
                and literal.value.lower().startswith("bearer "):
            return "Authorization: Bearer header"
        return None

    def _is_fallback(self, rule: Rule, slot: object, names: re.Pattern[str]) -> bool:
        call = slot.call  # type: ignore[attr-defined]
        if not any(fnmatch.fnmatchcase(call, p) for p in rule.params["fallback-calls"]):
            return False
        first = _first_arg(slot)
        if first is None or not names.fullmatch(first):
            return False
        if slot.kind == "call-arg":  # type: ignore[attr-defined]
            return slot.index == 1  # type: ignore[attr-defined]
        return slot.name in rule.params["fallback-keywords"]  # type: ignore[attr-defined]

    def _hardcoded(self, rule: Rule, settings: Settings, value: str) -> bool:
        from keyport_lint.analysis.placeholders import is_placeholder, looks_like_value

        if not looks_like_value(value, rule.params["min-length"]):
            return False
        for pattern in settings["key-patterns"] + settings["secret-patterns"]:
            token = literal_trigger(pattern, min_len=1)
            if token and value.lower().startswith(token):
                return False  # a prefixed key is KP101/KP102's finding
        return not is_placeholder(value, settings["placeholder-words"], settings["min-entropy"])


def _first_arg(slot: object) -> str | None:
    import libcst as cst

    from keyport_lint.analysis.facts import evaluated

    call = slot.call_node  # type: ignore[attr-defined]
    if call is None or not call.args:
        return None
    first = call.args[0].value
    if isinstance(first, cst.SimpleString) and call.args[0].keyword is None:
        value = evaluated(first)
        return value if isinstance(value, str) else None
    return None


KIND = KeySlot()
