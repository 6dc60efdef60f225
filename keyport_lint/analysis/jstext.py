"""Client-side source as text: JS/TS, inline `<script>` of HTML templates, Vue/Svelte files.

No JavaScript parser is involved: a small scanner blanks out comments (and, in HTML, everything
outside `<script>` blocks) while keeping every character's line and column, so regexes over the
result see only code and string literals.
"""

from __future__ import annotations

import re

SCRIPT_BLOCK = re.compile(r"(<script\b[^>]*>)(.*?)(</script\s*>)", re.IGNORECASE | re.DOTALL)
HTML_SUFFIXES = (".html", ".htm")
HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


def _blank(text: str) -> str:
    return "".join("\n" if ch == "\n" else " " for ch in text)


def code_only(text: str, filename: str) -> str:
    """The file's JavaScript with comments blanked; for HTML, only the inline scripts."""
    if filename.lower().endswith(HTML_SUFFIXES):
        text = HTML_COMMENT.sub(lambda m: _blank(m.group(0)), text)
        out, last = [], 0
        for match in SCRIPT_BLOCK.finditer(text):
            out.append(_blank(text[last:match.start(2)]))
            out.append(strip_js_comments(match.group(2)))
            last = match.end(2)
        out.append(_blank(text[last:]))
        return "".join(out)
    return strip_js_comments(text)


def strip_js_comments(text: str) -> str:
    """Blank `//` and `/* */` comments (and `<!-- -->`), leaving strings and template literals."""
    out = list(text)
    i, n = 0, len(text)
    quote = ""
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote or (ch == "\n" and quote != "`"):
                quote = ""
            i += 1
            continue
        if ch in "\"'`":
            quote = ch
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            end = n if end == -1 else end + 3
        else:
            i += 1
            continue
        for j in range(i, end):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


def mask_strings(code: str) -> str:
    """Blank the inside of string and template literals (quotes stay), so that searches for
    assignments and calls cannot match text inside a string."""
    out = list(code)
    i, n, quote = 0, len(code), ""
    while i < n:
        ch = code[i]
        if quote:
            if ch == "\\" and i + 1 < n:
                out[i] = " "
                if out[i + 1] != "\n":
                    out[i + 1] = " "
                i += 2
                continue
            if ch == quote or (ch == "\n" and quote != "`"):
                quote = ""
            elif ch != "\n":
                out[i] = " "
        elif ch in "\"'`":
            quote = ch
        i += 1
    return "".join(out)


def expression_at(code: str, start: int, paren: bool = False, limit: int = 2000) -> str:
    """The expression starting at `start`, up to a `;`, `,` or newline at depth 0, or the
    closing bracket of an enclosing construct; with `paren`, up to and including the bracket
    that closes the one at `start`. Bounded, and string-aware enough for URLs."""
    depth, i, quote = 0, start, ""
    end = min(len(code), start + limit)
    while i < end:
        ch = code[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
            if paren and depth == 0:
                return code[start:i + 1]
        elif depth == 0 and ch in ";,\n":
            break
        i += 1
    return code[start:i]


def balanced_args(text: str, open_paren: int, limit: int = 4000) -> str:
    """The text between a call's parentheses."""
    expr = expression_at(text, open_paren, paren=True, limit=limit)
    closed = len(expr) > 1 and expr[-1] in ")]}"
    return expr[1:-1] if closed else expr[1:]


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col
