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


def families() -> dict[str, Family]:
    """Rule code -> the function that computes its fix (None where no single edit is right)."""
    from keyport_lint.fix import compare, envvar, mask, status, suppression

    return {
        "KP101": envvar.fix, "KP102": envvar.fix, "KP103": envvar.fix,
        "KP201": mask.fix, "KP202": mask.fix,
        "KP304": compare.fix,
        "KP402": status.fix_truthiness, "KP403": status.fix_status,
        "KP901": suppression.fix_unused, "KP902": suppression.fix_bare,
    }


TEXT_ONLY = ("KP901", "KP902")  # suppression comments: fixed from the lines alone


def attach_fixes(findings: list[Finding], make_context: Callable[[], FixContext | None]
                 ) -> list[Finding]:
    """`findings` with a `fix` on each one a family can repair. The context (positions of
    the module's nodes) is built only when some finding may get a fix."""
    table = families()
    if not any(f.rule in table or not f.rule.startswith("KP") for f in findings):
        return findings
    fc = make_context()
    if fc is None:
        return findings
    user = {r.id: r for r in fc.cfg.rules if r.params.get("fix")}
    out = []
    for finding in findings:
        family = table.get(finding.rule)
        if fc.module is None and finding.rule not in TEXT_ONLY:
            family = None  # the other families read the parsed module
        fix = None
        try:
            if family is not None:
                fix = family(finding, fc)
            elif finding.rule in user and fc.module is not None:
                from keyport_lint.fix import template

                fix = template.fix(finding, fc, user[finding.rule])
        except (RecursionError, ValueError, KeyError, IndexError):
            fix = None  # no fix is better than a wrong one
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
