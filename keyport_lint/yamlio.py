"""YAML loading that remembers line numbers, so every config error can name file and line."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from keyport_lint.errors import UserError

COMPILED_FORMAT = "1"


class LDict(dict):
    """A mapping that knows the line of each key (1-based) and its own file."""

    file: str = ""
    line: int = 0
    compiled: bool = False  # served from the compiled catalogue

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LList(list):
    """A sequence that knows the line of each item."""

    file: str = ""
    line: int = 0
    compiled: bool = False

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


@lru_cache(maxsize=1)
def _loader_class() -> Any:
    """PyYAML, imported on first use: a run served by the compiled catalogue never loads it.
    libyaml's parser, where PyYAML was built with it, is 15x faster on the rule catalogue;
    both give nodes with marks, so line numbers are the same."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[misc, valid-type]
        source_name = ""

    def construct_mapping(loader: Any, node: Any) -> LDict:
        loader.flatten_mapping(node)
        result = LDict()
        result.file = loader.source_name
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise UserError("mapping keys must be plain values", loader.source_name,
                                key_node.start_mark.line + 1)
            if key in result:
                raise UserError(f"duplicate key {key!r}", loader.source_name,
                                key_node.start_mark.line + 1)
            result[key] = loader.construct_object(value_node, deep=True)
            result.lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(loader: Any, node: Any) -> LList:
        result = LList()
        result.file = loader.source_name
        result.line = node.start_mark.line + 1
        for item in node.value:
            result.append(loader.construct_object(item, deep=True))
            result.lines.append(item.start_mark.line + 1)
        return result

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                            construct_sequence)
    return _Loader


def load_yaml(text: str, source_name: str, compiled: bool = False) -> Any:
    """Parse YAML text; syntax errors become a UserError at the offending line.

    `compiled` (the built-in catalogue only): serve the tree from a compiled form in the
    user's cache home, keyed on the text's hash, so a run need not import PyYAML at all; the
    root then has `compiled = True`. The caller calls `remember` once it has validated a
    freshly parsed tree, so only valid trees are ever served compiled."""
    if compiled:
        found = _compiled_get(text, source_name)
        if found is not None:
            if isinstance(found[0], (LDict, LList)):
                found[0].compiled = True
            return found[0]
    return _parse(text, source_name)


def remember(text: str, source_name: str, value: Any) -> None:
    """Keep the compiled form of a validated tree (see `load_yaml(..., compiled=True)`)."""
    if not getattr(value, "compiled", False):
        _compiled_put(text, source_name, value)


MAX_NODES = 100_000  # values a document may expand to, aliases counted as often as used


def _expanded_size(node: Any, source_name: str) -> None:
    """Count the values a document holds once every alias is expanded, without expanding
    anything (each node's size is computed once): a 765-byte alias bomb expands to billions,
    which a fingerprint, a copy or a type check would then walk."""
    import yaml

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if key in sizes and not done:
            continue
        children: list[Any] = []
        if isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        elif isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        if not done:
            sizes[key] = -1  # in progress (a recursive alias stays -1 and counts once)
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        total = 1 + sum(max(sizes.get(id(child), 1), 1) for child in children)
        sizes[key] = total
        if total > MAX_NODES:
            raise UserError(f"YAML aliases expand to more than {MAX_NODES:,} values "
                            "(an alias bomb?); write the values out or use fewer aliases",
                            source_name, current.start_mark.line + 1)


def _parse(text: str, source_name: str) -> Any:
    import yaml

    loader = _loader_class()(text)
    loader.source_name = source_name
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, source_name)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise UserError(f"invalid YAML: {exc.problem or exc.context}", source_name, line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"invalid YAML: {exc}", source_name) from None
    finally:
        loader.dispose()


MAX_CONFIG_BYTES = 1_000_000  # a config or rule file larger than this is refused


def read_text_file(path: Path, display: str, what: str = "config") -> str:
    """A config or rule file's text: regular files only (never a device such as /dev/zero, a
    FIFO or a folder) and at most MAX_CONFIG_BYTES, so no path can make loading hang."""
    import os
    import stat

    try:
        info = os.stat(path)
    except OSError as exc:
        raise UserError(f"cannot read {what}: {exc.strerror or exc}", display) from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"cannot read {what}: not a regular file (devices, FIFOs and folders "
                        "are never read)", display)
    if info.st_size > MAX_CONFIG_BYTES:
        raise UserError(f"{what} is {info.st_size:,} bytes, over the {MAX_CONFIG_BYTES:,}-byte "
                        "limit", display)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {what}: {exc.strerror or exc}", display) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UserError(f"{what} is over the {MAX_CONFIG_BYTES:,}-byte limit", display)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"cannot read {what}: not UTF-8 text", display) from None


# -- the compiled catalogue ------------------------------------------------------------------
# JSON of the loaded tree with its line numbers: ["d", line, [[key, line, value]…]] for a
# mapping, ["l", line, [[line, value]…]] for a sequence, ["s", value] for a scalar.

def _compiled_path(text: str, source_name: str) -> str:
    home = os.environ.get("XDG_CACHE_HOME")
    if not home or not os.path.isabs(home):
        home = os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(f"{COMPILED_FORMAT}\0{source_name}\0{text}".encode(
        "utf-8", "surrogatepass")).hexdigest()[:32]
    return os.path.join(home, "keyport-lint", "catalog", f"{key}.json")


def _compiled_get(text: str, source_name: str) -> tuple[Any] | None:
    path = _compiled_path(text, source_name)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return (_thaw(data, source_name),)
    except (OSError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None  # missing or unusable: parse the YAML


def _compiled_put(text: str, source_name: str, value: Any) -> None:
    write_compiled(_compiled_path(text, source_name), _freeze(value))


def write_compiled(path: str, data: Any) -> None:
    """A compiled form in the user's cache home, written whole or not at all. Every `_` is
    stored as its JSON escape: the rules' examples hold (made-up) keys, and no file the
    linter writes shows a key's text, whatever reads it; `json.load` gives the text back."""
    tmp = f"{path}.{os.getpid()}.part"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        _tidy(os.path.dirname(path))
        with open(tmp, "w", encoding="utf-8") as handle:
            # "_" never occurs in JSON outside strings, nor inside an escape sequence
            handle.write(json.dumps(data).replace("_", "\\u005f"))
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _tidy(folder: str) -> None:
    """Partial files of writers that died mid-write (named `<key>.json.<pid>.part`), and
    compiled files an older linter wrote before every `_` was escaped (their examples show
    keys as text; this writer's files never hold a literal `_`, so one that does is not ours
    to keep). Writes are rare: only when the rule files or the linter change."""
    for name in os.listdir(folder):
        if name.endswith(".json"):
            full = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                with open(full, "rb") as handle:
                    stale = b"_" in handle.read()
                if stale:
                    os.unlink(full)
            continue
        if not name.endswith(".part"):
            continue
        try:
            pid = int(name.rsplit(".", 2)[-2])
            os.kill(pid, 0)
            continue  # its writer is alive
        except ProcessLookupError:
            pass
        except (ValueError, IndexError, OSError):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, name))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        lines = value.lines if isinstance(value, LDict) else {}
        return ["d", getattr(value, "line", 0),
                [[k, lines.get(k, 0), _freeze(v)] for k, v in value.items()]]
    if isinstance(value, list):
        items: list[int] = value.lines if isinstance(value, LList) else []
        return ["l", getattr(value, "line", 0),
                [[items[i] if i < len(items) else 0, _freeze(v)] for i, v in enumerate(value)]]
    if value is None or isinstance(value, (str, int, float, bool)):
        return ["s", value]
    raise TypeError(f"cannot compile {type(value).__name__}")


def _thaw(data: Any, source_name: str) -> Any:
    tag = data[0]
    if tag == "d":
        out = LDict()
        out.file, out.line = source_name, int(data[1])
        for key, line, value in data[2]:
            out[key] = _thaw(value, source_name)
            out.lines[key] = int(line)
        return out
    if tag == "l":
        seq = LList()
        seq.file, seq.line = source_name, int(data[1])
        for line, value in data[2]:
            seq.append(_thaw(value, source_name))
            seq.lines.append(int(line))
        return seq
    if tag == "s" and (data[1] is None or isinstance(data[1], (str, int, float, bool))):
        return data[1]
    raise ValueError("bad compiled catalogue")


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ruff-style hint for a misspelt key."""
    import difflib

    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def where(container: Any, key: Any = None) -> tuple[str, int | None]:
    """File and line of a key inside a loaded container, for error messages."""
    file = getattr(container, "file", "") or ""
    if isinstance(container, (LDict, LList)):
        return file, container.line_of(key) if key is not None else container.line
    return file, None
