"""The edit behind "suppress KPnnn on this line": a trailing `# keyport-lint: ignore[KPnnn]`,
merged into a suppression already on the line, in the comment syntax of the file's type.

The edit only inserts text (a comment, or a code into a comment), so it can never copy a key.
Where a trailing comment would change what the file means (the line ends inside a multi-line
string; a `.env` or `.ini` value would swallow it), the comment goes alone on the line above,
which suppresses the same findings; where neither is possible (the line is inside a string, a
JSON file has no comments) there is no edit.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import PurePath

from keyport_lint.context import LINE_BREAK
from keyport_lint.finding import Edit
from keyport_lint.suppress import PATTERN

TRAILING = {  # file ending -> (open, close) of a comment that may follow code on a line
    ".yaml": ("#", ""), ".yml": ("#", ""), ".toml": ("#", ""),
    ".js": ("//", ""), ".mjs": ("//", ""), ".cjs": ("//", ""), ".jsx": ("//", ""),
    ".ts": ("//", ""), ".tsx": ("//", ""),
}
OWN_LINE = {".env": ("#", ""), ".ini": ("#", ""), ".cfg": ("#", "")}  # values run to the end
MARKUP = {".html", ".htm", ".vue", ".svelte"}  # HTML comments, JS ones inside <script>


def suppression_edit(text: str, kind: str, path: PurePath, line: int, code: str
                     ) -> Edit | None:
    """The edit that suppresses `code` on 1-based `line` of `text`, or None."""
    lines = LINE_BREAK.split(text)
    if not 0 < line <= len(lines):
        return None
    current = lines[line - 1]
    found, merged = _merge(current, line, code)
    if found:
        return merged  # None: the code is listed already (the finding is on another line)
    if kind == "python":
        where = _python_place(text, line)
        if where is None:
            return None
        return _comment(lines, line, ("#", ""), own_line=where == "above", code=code)
    suffix = ".env" if path.name == ".env" or path.name.startswith(".env.") else \
        path.suffix.lower()
    if suffix in TRAILING:
        return _comment(lines, line, TRAILING[suffix], own_line=False, code=code)
    if suffix in OWN_LINE:
        return _comment(lines, line, OWN_LINE[suffix], own_line=True, code=code)
    if suffix in MARKUP:
        upto = "\n".join(lines[:line]).lower()
        in_script = upto.count("<script") > upto.count("</script")
        syntax = ("//", "") if in_script else ("<!--", " -->")
        return _comment(lines, line, syntax, own_line=False, code=code)
    return None  # no comment syntax (JSON) or an unknown type: per-file-ignores instead


def _merge(current: str, line: int, code: str) -> tuple[bool, Edit | None]:
    """Add `code` to a `keyport-lint: ignore[...]` already on the line (or name it in a bare
    `ignore`, which is KP902 on its own): (found one, the edit)."""
    for match in PATTERN.finditer(current):
        codes = match.group("codes")
        bracket = match.group("bracket")
        if bracket is None:
            at = match.end() + 1
            return True, Edit(line, at, line, at, f"[{code}]")
        if not bracket.endswith("]"):
            continue
        listed = [c.strip().upper() for c in (codes or "").split(",") if c.strip()]
        if code in listed:
            return True, None
        at = match.end()  # just before "]" (1-based column of "]")
        return True, Edit(line, at, line, at, f", {code}" if listed else code)
    return False, None


def _comment(lines: list[str], line: int, syntax: tuple[str, str], own_line: bool,
             code: str) -> Edit:
    opening, closing = syntax
    comment = f"{opening} keyport-lint: ignore[{code}]{closing}"
    if own_line:
        current = lines[line - 1]
        indent = current[:len(current) - len(current.lstrip())]
        return Edit(line, 1, line, 1, f"{indent}{comment}\n")
    current = lines[line - 1]
    end = len(current.rstrip()) + 1
    return Edit(line, end, line, len(current) + 1, f"  {comment}")


def _python_place(text: str, line: int) -> str | None:
    """"end" when a comment may trail the line, "above" when it must go alone on the line
    above, None when the line lies inside a string (no comment can reach it)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return "end"  # mid-edit code that does not tokenize: a trailing comment is the best bet
    starts_inside = ends_inside = False
    for tok in tokens:
        (first, _), (last, _) = tok.start, tok.end
        if tok.type in (tokenize.NL, tokenize.NEWLINE) or first == last:
            continue
        if first < line <= last:
            starts_inside = True
        if first <= line < last:
            ends_inside = True
    if not ends_inside:
        return "end"
    if not starts_inside and not _continued(text, line - 1):
        return "above"
    return None


def _continued(text: str, line: int) -> bool:
    """Does 1-based `line` end with a backslash continuation (a comment line may not follow)?"""
    lines = LINE_BREAK.split(text)
    return 0 < line <= len(lines) and lines[line - 1].rstrip().endswith("\\")
