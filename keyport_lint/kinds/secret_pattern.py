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
        import re

        if rule.params.get("fix"):  # the fixer loads only for rules that have a template
            from keyport_lint.fix.template import validate

            validate(rule, raw)
        if not rule.params["pattern"] and not rule.params["patterns-from"]:
            raise UserError(f"rule {rule.id}: secret-pattern needs 'pattern' or 'patterns-from'",
                            raw.file or None, raw.line)
        pattern = rule.params["pattern"]
        if pattern and re.compile(pattern).search("") is not None:
            raise UserError(f"rule {rule.id}: pattern {pattern!r} matches the empty string; a "
                            "secret shape needs at least one character",
                            raw.file or None, raw.line_of("pattern"))
        entropy = rule.params["min-entropy"]
        if entropy is not None and not 0 <= entropy <= 8:
            raise UserError(f"rule {rule.id}: min-entropy must be between 0 and 8 (bits per "
                            f"character), got {entropy}", raw.file or None,
                            raw.line_of("min-entropy"))

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

    def _is_secret(self, rule: Rule, settings: Settings, text: str, pattern: str) -> bool:
        from keyport_lint.analysis.placeholders import is_placeholder

        words = rule.params["placeholder-words"]
        if words is None:
            words = settings["placeholder-words"]
        min_entropy = rule.params["min-entropy"]
        if min_entropy is None:
            min_entropy = settings["min-entropy"]
        prefix = literal_prefix(pattern)
        random_part = text[len(prefix):] if text.lower().startswith(prefix) else text
        return not is_placeholder(random_part, words, min_entropy)

    def _active(self, rule: Rule, ctx: FileContext) -> list[Any]:
        """The compiled patterns that apply in this file (KeyPort-gated ones only where the
        file is KeyPort-related): worked out once per file, not once per line."""
        from keyport_lint.analysis.context import is_keyport_related

        return [pattern for pattern, gated in self.patterns(rule, ctx.settings)
                if not gated or ctx.analysis(is_keyport_related)]

    def _matches(self, rule: Rule, ctx: FileContext, patterns: list[Any], text: str,
                 joins: bool) -> Iterable[tuple[int, int, str, str]]:
        """(start, end, matched text, pattern) of each secret, start and end in `text`. The
        patterns search the redaction view: escapes decoded (`kp\\x5flive_…`) and, where
        `joins`, string joins removed (`"kp_live_" + "…"` in a JS line)."""
        from keyport_lint import saferegex
        from keyport_lint.redact import view_of

        view = view_of(text[: ctx.settings["max-line-length"]], joins=joins)
        for pattern in patterns:
            for match in saferegex.finditer(pattern, view.text):
                if match.end() > match.start() and self._is_secret(
                        rule, ctx.settings, match.group(0), pattern.pattern):
                    yield (view.start(match.start()), view.end(match.end()), match.group(0),
                           pattern.pattern)

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        from keyport_lint.analysis.facts import module_facts
        from keyport_lint.redact import redact_match

        patterns = self._active(rule, ctx)
        for literal in ctx.analysis(module_facts).literals:
            joined = literal.joined
            for start, end, found, pattern in self._matches(rule, ctx, patterns, joined,
                                                            joins=False):
                part, offset = literal.locate(start)
                length = min(end, len(joined)) - start
                ctx.report(rule, part.node, offset=offset, length=length,
                           match=redact_match(found, ctx.settings, pattern), what=_what(rule))
        return ()

    def check_text(self, rule: Rule, ctx: TextContext) -> Iterable[None]:
        """Line by line; a line with neither a pattern's literal run, an escape nor a string
        join cannot match and costs a substring test (a million blank lines stay cheap)."""
        from keyport_lint.redact import JOIN, redact_match

        patterns = self._active(rule, ctx)
        if not patterns:
            return ()
        triggers = [literal_trigger(p.pattern) for p in patterns]
        needles = None if None in triggers else [t for t in triggers if t]
        for number, line in enumerate(ctx.lines, start=1):
            if needles is not None and "\\" not in line:
                lowered = line.lower()
                if not any(t in lowered for t in needles) and not JOIN.search(line):
                    continue
            for start, end, found, pattern in self._matches(rule, ctx, patterns, line,
                                                            joins=True):
                ctx.report_at(rule, number, start + 1, number, end + 1,
                              match=redact_match(found, ctx.settings, pattern), what=_what(rule))
        return ()


def _what(rule: Rule) -> Any:
    return rule.name.replace("-", " ")


KIND = SecretPattern()
