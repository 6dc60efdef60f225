"""Kind `secret-pattern`: a regex searched in string literals and in text-file lines.

Literals are searched after implicit concatenation, in f-string text, bytes and docstrings; the
finding sits on the exact line and column of the match, even inside a multi-line string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from keyport_lint.errors import UserError
from keyport_lint.kinds.base import Kind, literal_prefix, literal_trigger

if TYPE_CHECKING:
    from keyport_lint.catalog import Rule
    from keyport_lint.context import FileContext, PythonContext, TextContext
    from keyport_lint.settings import Settings
    from keyport_lint.yamlio import LDict


class SecretPattern(Kind):
    name = "secret-pattern"
    params: ClassVar[dict[str, tuple[str, Any]]] = {
        "pattern": ("regex", None),
        "patterns-from": ("list[str]", []),  # settings holding patterns (key-patterns …)
        "keyport-context-for": ("list[str]", []),  # of those, the ones that need KeyPort context
        "placeholder-words": ("list[str]", None),  # default: settings.placeholder-words
        "min-entropy": ("float", None),  # default: settings.min-entropy
        "fix": ("mapping", {}),  # a replacement template (keyport_lint/fix/template.py)
    }
    placeholders = frozenset({"match", "what"})
    default_files = ("python", "text")
    uses_settings = ("placeholder-words", "min-entropy", "max-line-length", "prefix-max")

    def validate(self, rule: Rule, raw: LDict) -> None:
        from keyport_lint.fix.template import validate

        validate(rule, raw)
        if not rule.params["pattern"] and not rule.params["patterns-from"]:
            raise UserError(f"rule {rule.id}: secret-pattern needs 'pattern' or 'patterns-from'",
                            raw.file or None, raw.line)

    def patterns(self, rule: Rule, settings: Settings) -> list[tuple[Any, bool]]:
        """(compiled pattern, needs KeyPort context) pairs; compiled with a time limit."""
        from keyport_lint import saferegex

        result = []
        if rule.params["pattern"]:
            result.append((saferegex.compile(rule.params["pattern"]), False))
        for setting in rule.params["patterns-from"]:
            gated = setting in rule.params["keyport-context-for"]
            result.extend((saferegex.compile(p), gated) for p in settings.get(setting, []))
        return result

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        tokens = set()
        sources = ([rule.params["pattern"]] if rule.params["pattern"] else []) + [
            p for setting in rule.params["patterns-from"] for p in settings.get(setting, [])]
        for pattern in sources:  # plain strings: the pre-filter must not load the regex engine
            token = literal_trigger(pattern)
            if token is None:
                return None
            tokens.add(token)
        return tokens

    def _is_secret(self, rule: Rule, settings: Settings, match: Any) -> bool:
        from keyport_lint.analysis.placeholders import is_placeholder

        words = rule.params["placeholder-words"]
        if words is None:
            words = settings["placeholder-words"]
        min_entropy = rule.params["min-entropy"]
        if min_entropy is None:
            min_entropy = settings["min-entropy"]
        text = match.group(0)
        prefix = literal_prefix(match.re.pattern)
        random_part = text[len(prefix):] if text.lower().startswith(prefix) else text
        return not is_placeholder(random_part, words, min_entropy)

    def _matches(self, rule: Rule, ctx: FileContext, text: str) -> Iterable[Any]:
        from keyport_lint import saferegex
        from keyport_lint.analysis.context import is_keyport_related

        text = text[: ctx.settings["max-line-length"]]
        for pattern, gated in self.patterns(rule, ctx.settings):
            if gated and not ctx.analysis(is_keyport_related):
                continue
            for match in saferegex.finditer(pattern, text):
                if self._is_secret(rule, ctx.settings, match):
                    yield match

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.analysis.facts import module_facts
        from keyport_lint.redact import redact_match

        for literal in ctx.analysis(module_facts).literals:
            joined = literal.joined
            for match in self._matches(rule, ctx, joined):
                part, offset = literal.locate(match.start())
                length = min(match.end(), len(joined)) - match.start()
                ctx.report(rule, part.node, offset=offset, length=length,
                           match=redact_match(match.group(0), ctx.settings, match.re.pattern),
                           what=_what(rule))
        return ()

    def check_text(self, rule: Rule, ctx: TextContext) -> Iterable[None]:
        from keyport_lint.redact import redact_match

        for number, line in enumerate(ctx.lines, start=1):
            for match in self._matches(rule, ctx, line):
                ctx.report_at(rule, number, match.start() + 1, number, match.end() + 1,
                              match=redact_match(match.group(0), ctx.settings, match.re.pattern),
                              what=_what(rule))
        return ()


def _what(rule: Rule) -> Any:
    return rule.name.replace("-", " ")


KIND = SecretPattern()
