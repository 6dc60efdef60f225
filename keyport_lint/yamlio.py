"""YAML loading that remembers line numbers, so every config error can name file and line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from keyport_lint.errors import UserError


class LDict(dict):
    """A mapping that knows the line of each key (1-based) and its own file."""

    file: str = ""
    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LList(list):
    """A sequence that knows the line of each item."""

    file: str = ""
    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


# libyaml's parser, where PyYAML was built with it, is 15x faster on the rule catalogue, which
# every run loads; both give nodes with marks, so line numbers are the same
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    source_name = ""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LDict:
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


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LList:
    result = LList()
    result.file = loader.source_name
    result.line = node.start_mark.line + 1
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.lines.append(item.start_mark.line + 1)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


MAX_NODES = 100_000  # values a document may expand to, aliases counted as often as used


def _expanded_size(node: yaml.Node, source_name: str) -> None:
    """Count the values a document holds once every alias is expanded, without expanding
    anything (each node's size is computed once): a 765-byte alias bomb expands to billions,
    which a fingerprint, a copy or a type check would then walk."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if key in sizes and not done:
            continue
        children: list[yaml.Node] = []
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


def load_yaml(text: str, source_name: str) -> Any:
    """Parse YAML text; syntax errors become a UserError at the offending line."""
    loader = _Loader(text)
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


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ruff-style hint for a misspelt key."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def where(container: Any, key: Any = None) -> tuple[str, int | None]:
    """File and line of a key inside a loaded container, for error messages."""
    file = getattr(container, "file", "") or ""
    if isinstance(container, (LDict, LList)):
        return file, container.line_of(key) if key is not None else container.line
    return file, None
