"""Imports and marker tokens read from a module's text, without parsing it: what the module
table needs to follow imports and to decide, from bytes, whether a module can hold a KeyPort
marker at all."""

from __future__ import annotations

import re

FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+(?P<dots>\.*)(?P<module>[\w.]*)[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|[^\n#;]+)", re.MULTILINE)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+(?P<modules>[\w., \t]+)", re.MULTILINE)
NAMES_NOISE = re.compile(r"[()\\\n]")


Import = tuple[str, str, str]


def import_statements(text: str) -> tuple[Import, ...]:
    """(module, names, alias) per import read from the text: `names` is the raw list of a
    `from` import (split only when needed), "" for a plain `import`, whose `as` name is
    `alias` ("" when none)."""
    if "import" not in text:
        return ()
    # only lines holding the word can hold an import: find those, then match at their start
    starts: list[int] = []
    pos = text.find("import")
    while pos >= 0:
        start = text.rfind("\n", 0, pos) + 1
        if not starts or starts[-1] != start:
            starts.append(start)
        pos = text.find("import", pos + 6)
    out: list[Import] = []
    for start in starts:
        match = FROM_IMPORT.match(text, start)
        if match is not None:
            out.append((match.group("dots") + match.group("module"), match.group("names"), ""))
    for start in starts:
        match = PLAIN_IMPORT.match(text, start)
        if match is not None:
            for name in match.group("modules").split(","):
                name, _, alias = name.strip().partition(" as ")
                name = name.strip()
                if name:
                    out.append((name, "", alias.strip()))
    return tuple(out)


def imported_names(names: str) -> list[tuple[str, str]]:
    """`from m import a, b as c`: [("a", "a"), ("b", "c")] — the name in `m` and the name it
    is bound to; ("*", "*") for a star import. Names that are not identifiers are left out."""
    out = []
    for name in NAMES_NOISE.sub(" ", names).split(","):
        name, _, alias = name.strip().partition(" as ")
        name, alias = name.strip(), alias.strip()
        if name == "*" or name.isidentifier():
            out.append((name, alias if alias.isidentifier() else name))
    return out


def submodule_candidates(base: str, names: str) -> list[str]:
    """`from base import a, b`: `base.a` and `base.b` may be modules too."""
    out = []
    for name in NAMES_NOISE.sub(" ", names).split(","):
        name = name.strip().split(" as ")[0].strip()
        if name and name != "*" and name.isidentifier():
            sep = "" if base.endswith(".") or not base else "."
            out.append(f"{base}{sep}{name}")
    return out


def literal_runs(pattern: str, min_len: int = 3) -> tuple[str, ...]:
    """The lower-case literal runs (of `min_len` or more) that every match of `pattern`
    contains: `kp_(?:product_)?api_key` needs both `kp_` and `api_key`. Empty when none."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python < 3.11
        import sre_parse  # type: ignore[no-redef]
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return ()
    runs: list[str] = []
    run: list[str] = []
    for op, arg in parsed:
        if op is sre_parse.LITERAL:
            run.append(chr(arg))
            continue
        if op is sre_parse.SUBPATTERN and arg[-1] is not None and all(
                sub_op is sre_parse.LITERAL for sub_op, _ in arg[-1]):
            run.extend(chr(a) for _, a in arg[-1])
            continue
        runs.append("".join(run))
        run = []
    runs.append("".join(run))
    return tuple(r.lower() for r in runs if len(r) >= min_len)


def gate_tokens(needs: tuple[tuple[bytes, ...], ...]) -> tuple[bytes, ...]:
    """A few substrings one of which any text satisfying one of `needs` holds (each entry:
    runs that must all be there), chosen greedily by patterns covered × length (capped: past
    seven characters a token is rare enough), so the common case — none of them — costs a
    scan or two per file."""
    uncovered = [set(runs) for runs in needs]
    candidates = {run for runs in needs for run in runs}
    gate: list[bytes] = []
    while uncovered:
        best = max(sorted(candidates), key=lambda c: sum(
            any(c in run for run in runs) for runs in uncovered) * min(len(c), 7))
        gate.append(best)
        uncovered = [runs for runs in uncovered if not any(best in run for run in runs)]
    return tuple(gate)
