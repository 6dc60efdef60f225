"""What a rule kind provides. Kinds are stateless; one instance serves every rule of the kind."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from keyport_lint.catalog import Rule
    from keyport_lint.context import PythonContext, TextContext
    from keyport_lint.settings import Settings
    from keyport_lint.yamlio import LDict


try:  # Python 3.11+ keeps the regex parser here; sre_parse is its deprecated alias
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse  # type: ignore[no-redef]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class Kind:
    """A rule kind: parameters it accepts, pre-filter triggers, and the check itself."""

    name: ClassVar[str] = ""
    # parameter name -> (schema type, default or REQUIRED)
    params: ClassVar[dict[str, tuple[str, Any]]] = {}
    placeholders: ClassVar[frozenset[str]] = frozenset()
    default_files: ClassVar[tuple[str, ...]] = ("python",)
    default_context: ClassVar[str] = "any"
    # rules of this kind also run on files whose only link to KeyPort is an import of a
    # KeyPort-related project module (values followed across modules)
    follows_imports: ClassVar[bool] = False
    # can users write rules of this kind in their config? (diagnostics are the linter's own)
    user_facing: ClassVar[bool] = True
    # shared settings the kind reads besides those its parameters name (`patterns-from: [...]`);
    # `keyport-lint explain` lists both as the rule's config knobs
    uses_settings: ClassVar[tuple[str, ...]] = ()

    def validate(self, rule: Rule, raw: LDict) -> None:
        """Extra checks beyond the parameter types (raise UserError)."""

    def triggers(self, rule: Rule, settings: Settings) -> set[str] | None:
        """Lower-case substrings of which a file must contain one for this rule to fire there.

        None means the rule can fire in any file of its types (no pre-filter).
        """
        return None

    def check_python(self, rule: Rule, ctx: PythonContext) -> Iterable[None]:
        return ()

    def check_text(self, rule: Rule, ctx: TextContext) -> Iterable[None]:
        return ()


@lru_cache(maxsize=1024)
def literal_trigger(pattern: str, min_len: int = 3) -> str | None:
    """The longest run of literal characters every match of `pattern` must contain.

    Used to derive pre-filter tokens from the same regexes the rules use, so user additions
    widen the pre-filter automatically. None when the pattern has no such run.
    """
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    best, run = "", []
    for op, arg in parsed:
        if op is sre_parse.LITERAL:
            run.append(chr(arg))
            continue
        if op is sre_parse.SUBPATTERN and arg[-1] is not None:
            inner = literal_trigger_parsed(arg[-1])
            if inner is not None:
                run.append(inner)
                continue
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []
    if len("".join(run)) > len(best):
        best = "".join(run)
    return best.lower() if len(best) >= min_len else None


def setting_triggers(settings: Settings, names: Any) -> set[str] | None:
    """Pre-filter tokens of every pattern in the named settings; None when one pattern has
    no literal run (then no token can stand for it)."""
    tokens: set[str] = set()
    for name in names:
        for pattern in settings.get(name, []) or []:
            token = literal_trigger(pattern)
            if token is None:
                return None
            tokens.add(token)
    return tokens


def literal_trigger_parsed(sub: Any) -> str | None:
    """A subpattern counts only when it is entirely literal (e.g. a non-capturing group)."""
    chars = []
    for op, arg in sub:
        if op is not sre_parse.LITERAL:
            return None
        chars.append(chr(arg))
    return "".join(chars)


@lru_cache(maxsize=1024)
def literal_prefix(pattern: str) -> str:
    """The literal characters every match starts with (`acme_sk_` for `acme_sk_[0-9a-f]{32}`):
    what redaction may show of a secret, since it carries no secret information."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return ""
    chars = []
    for op, arg in parsed:
        if op is sre_parse.LITERAL:
            chars.append(chr(arg))
        elif op is sre_parse.SUBPATTERN and arg[-1] is not None and \
                literal_trigger_parsed(arg[-1]) is not None:
            chars.append(literal_trigger_parsed(arg[-1]) or "")
        else:
            break
    return "".join(chars)
