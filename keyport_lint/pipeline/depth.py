"""A cheap structure scan before the native parser sees a file.

libcst's native parser recurses without a guard. Measured here (Python 3.11, 8 MB stack): 1,500
nested brackets, 4,000 chained `lambda:`, 6,000 chained `a if b else`, 10,000 `not` or 9,000
`elif` kill the process with a segmentation fault, and a 6,000-term `+` chain runs for minutes.
The shared walk has no recursion and the readers evaluate `+`/`and` chains from their deepest
link, so `elif` chains and arithmetic chains are bounded only by the parser (3,000-term chains
are analysed); the recursive readers left follow 200 nested brackets or 300 chained attributes
and keywords, and raise RecursionError (a KP903) at about 250 and 400. CPython itself refuses
brackets nested more than 200 deep. A file beyond the bounds below is KP900 and is never parsed:
real modules stay far inside them.
"""

from __future__ import annotations

import re

# how deep one expression nests: chained operators and keywords, plus two per open bracket
# (a call or a subscript is two nodes deep), so at most 150 nested brackets
MAX_CHAIN = 300
MAX_ELIF = 3000  # `elif` branches of one `if` (each nests the next in the tree)
MAX_ARITH = 3000  # arithmetic and comparison operators chained at one level

# strings and comments, skipped whole (their content cannot nest anything)
_SKIP = re.compile(
    r"""(?:[rRbBuUfF]{1,2})?(?:'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)'''
    r"""|'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?)|\#[^\n]*""", re.DOTALL)
_TOKEN = re.compile(
    r"[(\[{]|[)\]}]|[,;]|\\\r?\n|\n"
    r"|\b(?:not|and|or|if|else|lambda|await|in|is)\b"
    r"|(?P<arith>\*\*|//|<<|>>|[<>=!]=|[-+*/%@&|^~<>])"
    r"|\b\d[\d_]*\.\d*|(?<![\w.])\.\d|\.(?=[A-Za-z_])")
_ELIF = re.compile(r"^([ \t]*)(if|elif)\b", re.MULTILINE)
# every token the scan counts as a chained operator or keyword matches this (attribute dots
# after a number included): counting these bounds the scan's count from above
_CHAINED = re.compile(r"\b(?:not|and|or|if|else|lambda|await|in|is)\b|\.(?=[A-Za-z_])")
_ARITH_CHARS = "-+*/%@&|^~<>!="


class TooDeep(Exception):
    """The file nests beyond what the parser survives; the message says which bound."""


def check_depth(text: str, max_lines: int | None = None) -> None:
    """Raise TooDeep when `text` nests beyond the bounds above (or has more than `max_lines`
    lines). Linear in the text."""
    if max_lines is not None:
        lines = text.count("\n") + 1
        if lines > max_lines:
            raise TooDeep(f"{lines} lines, over the {max_lines}-line limit "
                          "(settings.max-python-lines)")
    code = _SKIP.sub('""', text)
    if not _surely_shallow(code):
        _scan(code)
    if code.count("elif") > MAX_ELIF:
        _elif_runs(code)


def _surely_shallow(code: str) -> bool:
    """A proof, from counts the regex engine and `str.count` make, that the token scan
    would find no bound exceeded (False: it may, so the scan decides).

    Between two newlines outside brackets, the depth the scan adds up is at most two per
    bracket opened plus one per chained operator or keyword seen since the first of them
    (a `,` or `;` only lowers it); no level can chain more arithmetic operators than the
    file holds characters that start one."""
    if sum(map(code.count, _ARITH_CHARS)) > MAX_ARITH:
        return False
    opens = code.count("(") + code.count("[") + code.count("{")
    if 2 * opens + len(_CHAINED.findall(code)) <= MAX_CHAIN:
        return True  # the whole file adds up to less than the bound
    opened = chained = balance = 0
    for line in code.split("\n"):
        opens = line.count("(") + line.count("[") + line.count("{")
        opened += opens
        chained += len(_CHAINED.findall(line))
        if 2 * opened + chained > MAX_CHAIN:
            return False
        balance += opens - line.count(")") - line.count("]") - line.count("}")
        if balance < 0:  # a stray closing bracket: the scan's own count decides
            return False
        if balance == 0 and not line.rstrip("\r").endswith("\\"):
            opened = chained = 0  # a newline outside brackets: the scan starts again
    return True


def _scan(code: str) -> None:
    brackets = 0
    chains = [0]  # per open bracket: operators chained at that level since the last comma
    arith = [0]  # the same for arithmetic and comparison operators (cheap to read)
    total = 0  # brackets plus chained operators: how deep the tree goes here
    for match in _TOKEN.finditer(code):
        token = match.group(0)
        first = token[0]
        if first in "([{":
            brackets += 1
            chains.append(0)
            arith.append(0)
            total += 2
            if total > MAX_CHAIN:
                raise TooDeep(f"code nesting more than {MAX_CHAIN} levels (brackets count "
                              "twice, chained operators and keywords once)")
        elif first in ")]}":
            if brackets:
                brackets -= 1
                total -= 2 + chains.pop()
                arith.pop()
        elif first in ",;" or (first == "\n" and not brackets):
            total -= chains[-1]
            chains[-1] = 0
            arith[-1] = 0
        elif first in "\\\n" or first.isdigit() or (first == "." and token[1:2].isdigit()):
            continue  # a line continuation, a line break inside brackets, a number
        elif match.group("arith"):
            arith[-1] += 1
            if arith[-1] > MAX_ARITH:
                raise TooDeep(f"code nesting of more than {MAX_ARITH} operators chained in "
                              "one expression")
        else:
            chains[-1] += 1
            total += 1
            if total > MAX_CHAIN:
                raise TooDeep(f"code nesting more than {MAX_CHAIN} levels (brackets count "
                              "twice, chained operators and keywords once)")



def _elif_runs(code: str) -> None:
    runs: dict[str, int] = {}
    for match in _ELIF.finditer(code):
        indent, keyword = match.groups()
        if keyword == "if":
            runs[indent] = 0
        else:
            runs[indent] = runs.get(indent, 0) + 1
            if runs[indent] > MAX_ELIF:
                raise TooDeep(f"an `if` with more than {MAX_ELIF} `elif` branches")
