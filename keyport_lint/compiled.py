"""The built-in catalogue as validated last time: one JSON file in the user's cache home with
every built-in rule and setting spec, so a run reads one file instead of hashing, loading and
validating seven (and needs no kind module until a file is pre-filtered).

It is keyed, as Python's own bytecode cache is, on the name, size and modification time of the
rule files and of the code that validates them (catalog, schema, YAML loading, the kinds, fix
templates), plus the linter and Python versions: editing any of them validates afresh. Only a
catalogue that validated is written; anything unreadable or of the wrong shape is ignored and
the catalogue is validated again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyport_lint import __version__

if TYPE_CHECKING:
    from keyport_lint.catalog import Rule, SettingSpec

FORMAT = "1"
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_CODE = ("catalog.py", "compiled.py", "schema.py", "yamlio.py", os.path.join("fix", "template.py"))

Catalogue = tuple["tuple[Rule, ...]", "dict[str, SettingSpec]"]


def key(rules_dir: Path) -> str | None:
    """What the validated catalogue depends on; None when something cannot be stat'ed."""
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}\0".encode())
    try:
        for folder, suffix in ((str(rules_dir), ".yaml"),
                               (os.path.join(_PACKAGE, "kinds"), ".py")):
            with os.scandir(folder) as listing:
                entries = sorted((e for e in listing if e.name.endswith(suffix)),
                                 key=lambda e: e.name)
            for entry in entries:
                _add(digest, entry.path, entry.stat())
        for name in _CODE:
            path = os.path.join(_PACKAGE, name)
            _add(digest, path, os.stat(path))
    except OSError:
        return None
    return digest.hexdigest()[:32]


def _add(digest: Any, path: str, st: os.stat_result) -> None:
    digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))


def _path(name: str) -> str:
    home = os.environ.get("XDG_CACHE_HOME")
    if not home or not os.path.isabs(home):
        home = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(home, "keyport-lint", "catalog", f"validated-{name}.json")


def load(name: str) -> Catalogue | None:
    from keyport_lint.catalog import Rule, SettingSpec

    try:
        with open(_path(name), encoding="utf-8") as handle:
            data = json.load(handle)
        rules = tuple(Rule(
            id=_s(r[0]), kind=_s(r[1]), name=_s(r[2]), severity=_s(r[3]), message=_s(r[4]),
            help=_s(r[5]), help_for_files=tuple((_s(g), _s(t)) for g, t in r[6]),
            rationale=_s(r[7]), examples={_s(k): _s(v) for k, v in r[8].items()},
            help_uri=_s(r[9]), context=_s(r[10]), files=tuple(_s(f) for f in r[11]),
            params={_s(k): _decode(v, r[14]) for k, v in r[12]},
            metadata=_decode(r[13], r[14]), source=_s(r[14]), line=int(r[15]))
            for r in data["rules"])
        specs = {}
        for s in data["settings"]:
            specs[_s(s[0])] = SettingSpec(_s(s[0]), _s(s[1]),
                                          _decode(s[2], "rules/settings.yaml"), _s(s[3]),
                                          _number(s[4]), _number(s[5]), bool(s[6]))
        return rules, specs
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError):
        return None  # missing or unusable: validate again


def save(name: str, rules: tuple[Rule, ...], specs: dict[str, SettingSpec]) -> None:
    from keyport_lint.yamlio import write_compiled

    data = {
        "rules": [[r.id, r.kind, r.name, r.severity, r.message, r.help,
                   [list(pair) for pair in r.help_for_files], r.rationale, dict(r.examples),
                   r.help_uri, r.context, list(r.files),
                   [[k, _encode(v)] for k, v in r.params.items()], _encode(r.metadata),
                   r.source, r.line] for r in rules],
        "settings": [[s.name, s.type, _encode(s.default), s.doc, s.minimum, s.maximum,
                      s.no_empty_match] for s in specs.values()],
    }
    write_compiled(_path(name), data)


def _encode(value: Any) -> Any:
    """JSON that gives back the same types: YAML containers with their lines, plain
    containers, tuples, scalars (anything else cannot be compiled: the catalogue is then
    validated on every run)."""
    from keyport_lint.yamlio import LDict, LList, _freeze

    if isinstance(value, (LDict, LList)):
        return ["y", _freeze(value)]
    if isinstance(value, dict):
        return ["m", [[k, _encode(v)] for k, v in value.items()]]
    if isinstance(value, (list, tuple)):
        return ["a" if isinstance(value, list) else "t", [_encode(v) for v in value]]
    if value is None or isinstance(value, (str, int, float, bool)):
        return ["s", value]
    raise TypeError(f"cannot compile {type(value).__name__}")


def _decode(data: Any, source: str) -> Any:
    from keyport_lint.yamlio import _thaw

    tag, body = data
    if tag == "y":
        return _thaw(body, source)
    if tag == "m":
        return {k: _decode(v, source) for k, v in body}
    if tag in ("a", "t"):
        items = [_decode(v, source) for v in body]
        return items if tag == "a" else tuple(items)
    if tag == "s" and (body is None or isinstance(body, (str, int, float, bool))):
        return body
    raise ValueError("bad compiled catalogue")


def _number(value: Any) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise TypeError("not a number")
    return value


def _s(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value
