"""Automatic fixes: each fixable finding gets a `Fix` (safe or unsafe) computed here, after the
rules and suppressions ran, from the finding's position, the parsed module and, for taint
findings, the tainted argument the rule pointed at (`PythonContext.fix_hint`).

One module per fix family; `apply.py` orders, checks overlap, re-parses and writes; `driver.py`
is `check --fix/--diff`. Edits never copy source text that could hold a key: they insert
fixed text (`[:12]`, `hmac.compare_digest(`, `["valid"]`), a status name from the settings,
an environment variable read, or edit the linter's own comments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from keyport_lint.finding import Finding, Fix

if TYPE_CHECKING:
    from keyport_lint.fix.base import FixContext

Family = Callable[[Finding, "FixContext"], "Fix | None"]


# rule code -> (module of keyport_lint.fix, function): imported only when used, so a file whose
# only fixable finding is a stale suppression never imports libcst
FAMILIES: dict[str, tuple[str, str]] = {
    "KP101": ("envvar", "fix"), "KP102": ("envvar", "fix"), "KP103": ("envvar", "fix"),
    "KP201": ("mask", "fix"), "KP202": ("mask", "fix"),
    "KP304": ("compare", "fix"),
    "KP402": ("status", "fix_truthiness"), "KP403": ("status", "fix_status"),
    "KP901": ("suppression", "fix_unused"), "KP902": ("suppression", "fix_bare"),
}


def family_of(code: str) -> Family | None:
    """The function that computes a built-in rule's fix (None where no single edit is
    right)."""
    import importlib

    where = FAMILIES.get(code)
    if where is None:
        return None
    module = importlib.import_module(f"{__name__}.{where[0]}")
    return getattr(module, where[1])  # type: ignore[no-any-return]


TEXT_ONLY = ("KP901", "KP902")  # suppression comments: fixed from the lines alone


def attach_fixes(findings: list[Finding], make_context: Callable[[], FixContext | None]
                 ) -> list[Finding]:
    """`findings` with a `fix` on each one a family can repair. The context (positions of
    the module's nodes) is built only when some finding may get a fix."""
    if not any(f.rule in FAMILIES or not f.rule.startswith("KP") for f in findings):
        return findings
    fc = make_context()
    if fc is None:
        return findings
    user = {r.id: r for r in fc.cfg.rules if r.params.get("fix")}
    out = []
    for finding in findings:
        fix = None
        try:
            # the families other than KP901/KP902 read the parsed module
            family = family_of(finding.rule) if fc.module is not None or (
                finding.rule in TEXT_ONLY) else None
            if family is not None:
                fix = family(finding, fc)
            elif finding.rule in user and fc.module is not None:
                from keyport_lint.fix import template

                fix = template.fix(finding, fc, user[finding.rule])
        except Exception:  # a bug in a fixer must not stop the check: no fix is better than
            fix = None  # a wrong one, and the finding is reported all the same
        out.append(finding.with_(fix=fix) if fix is not None else finding)
    return out


def fix_from_dict(data: object) -> Fix | None:
    from keyport_lint.finding import Edit

    if not isinstance(data, dict) or data.get("applicability") not in ("safe", "unsafe"):
        return None
    try:
        return Fix(str(data["applicability"]), str(data["title"]), tuple(
            Edit(int(e["line"]), int(e["column"]), int(e["end_line"]), int(e["end_column"]),
                 str(e["content"])) for e in data["edits"]))
    except (KeyError, TypeError, ValueError):
        return None
