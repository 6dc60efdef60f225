"""YAML loading that remembers line numbers, so every config error can name file and line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
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


def load_yaml(text: str, source_name: str) -> Any:
    """Parse YAML text; syntax errors become a UserError at the offending line."""
    loader = _Loader(text)
    loader.source_name = source_name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise UserError(f"invalid YAML: {exc.problem or exc.context}", source_name, line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"invalid YAML: {exc}", source_name) from None
    finally:
        loader.dispose()


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
