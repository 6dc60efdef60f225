"""Configuration: discovery, `extend` chains, validation with file and line, effective rules.

`.keyport-lint.yaml` or `[tool.keyport-lint]` in pyproject.toml (YAML wins in one directory).
Each file is checked under the nearest config above it, with its `extend` chain, as ruff does
(`ConfigTree`), unless `--config` names one for every file. Rule codes are case-insensitive.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from keyport_lint.catalog import (
    Rule,
    builtin_rules,
    load_rule_document,
    load_rule_file,
    settings_schema,
)
from keyport_lint.errors import UserError
from keyport_lint.globs import glob_regex as glob_regex  # re-exported: kinds translate globs too
from keyport_lint.globs import rule_file_matches
from keyport_lint.schema import check_type
from keyport_lint.settings import Settings
from keyport_lint.yamlio import LDict, LList, load_yaml, read_text_file, suggest, where

CONFIG_NAMES = (".keyport-lint.yaml", ".keyport-lint.yml")
TOP_KEYS = {
    "extend": "str",
    "select": "list[str]",
    "ignore": "list[str]",
    "fail-on": "str",
    "severity": "mapping",
    "exclude": "list[str]",
    "per-file-ignores": "mapping",
    "settings": "mapping",
    "rules": "list[mapping]",
    "rule-files": "list[str]",
    "cache-dir": "str",
    "respect-gitignore": "bool",
    "src": "list[str]",
    "fixable": "list[str]",
    "unfixable": "list[str]",
    "unsafe-fixes": "bool",
}
SEVERITIES = ("error", "warning")


class Config:
    """One config in force (a file's nearest, with its `extend` chain), or the built-in
    defaults. (A plain class: a dataclass of this size costs every run about two
    milliseconds to define.)"""

    def __init__(self, root: Path, path: Path | None = None, select: list[str] | None = None,
                 ignore: list[str] | None = None, fail_on: str = "warning",
                 severity: dict[str, str] | None = None, exclude: list[str] | None = None,
                 per_file_ignores: dict[str, list[str]] | None = None,
                 settings: Settings | None = None, rules: tuple[Rule, ...] | None = None,
                 cache_dir: str | None = None, respect_gitignore: bool = True,
                 src: list[str] | None = None, sources: list[Path] | None = None,
                 origins: dict[str, list[str]] | None = None, anchor: Path | None = None,
                 fixable: list[str] | None = None, unfixable: list[str] | None = None,
                 unsafe_fixes: bool = False) -> None:
        self.root = root
        self.path = path
        self.select: list[str] = select if select is not None else [""]
        self.ignore: list[str] = ignore if ignore is not None else []
        self.fail_on = fail_on
        self.severity: dict[str, str] = severity if severity is not None else {}
        self.exclude: list[str] = exclude if exclude is not None else []
        self.per_file_ignores: dict[str, list[str]] = \
            per_file_ignores if per_file_ignores is not None else {}
        self.settings = settings if settings is not None else Settings(default_settings())
        self.rules = rules if rules is not None else builtin_rules()
        self.cache_dir = cache_dir
        self.respect_gitignore = respect_gitignore
        # extra import roots (absolute), searched before the detected ones (ruff's `src`)
        self.src: list[str] = src if src is not None else []
        self.sources: list[Path] = sources if sources is not None else []  # files that shaped it
        # key (`select`, `settings.key-names`…) -> where its value came from (`file:line`, flag)
        self.origins: dict[str, list[str]] = origins if origins is not None else {}
        # the folder baseline paths and fingerprints are relative to: the outermost config
        # folder of the `extend` chain above root (so adding a config that extends changes
        # none), or root
        self.anchor = anchor
        # `check --fix`: codes or prefixes whose fixes may apply, and those whose may not
        # (ruff's `fixable`/`unfixable`); `unsafe-fixes: true` is `--unsafe-fixes` here
        self.fixable: list[str] = fixable if fixable is not None else [""]
        self.unfixable: list[str] = unfixable if unfixable is not None else []
        self.unsafe_fixes = unsafe_fixes

    def __repr__(self) -> str:
        return f"Config(root={self.root!r}, path={self.path!r})"

    @property
    def anchor_root(self) -> Path:
        return self.anchor or self.root

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def is_enabled(self, code: str) -> bool:
        return _selected(code, self.select, self.ignore)

    def enabled_rules(self) -> list[Rule]:
        return [r for r in self.rules if self.is_enabled(r.id)]

    def severity_of(self, rule: Rule) -> str:
        best, level = -1, rule.severity
        for prefix, value in self.severity.items():
            if rule.id.startswith(prefix) and len(prefix) > best:
                best, level = len(prefix), value
        return level

    def fingerprint(self) -> str:
        """A hash of everything that shapes findings (for caches)."""
        h = hashlib.sha256()
        h.update(repr((self.select, self.ignore, self.severity, self.exclude, self.src,
                       sorted(self.per_file_ignores.items()),
                       sorted(self.settings.as_dict().items(), key=lambda kv: kv[0]))).encode())
        for rule in self.rules:
            h.update(repr((rule.id, rule.kind, rule.severity, rule.message, rule.help,
                           rule.help_for_files, rule.files,
                           rule.context, sorted(rule.params.items(), key=str))).encode())
        return h.hexdigest()


def _selected(code: str, select: list[str], ignore: list[str]) -> bool:
    """ruff's rule: the most specific matching prefix wins; a tie goes to ignore."""
    sel = max((len(p) for p in select if code.startswith(p)), default=-1)
    ign = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return sel > ign


def default_settings() -> dict[str, Any]:
    return {name: spec.default for name, spec in settings_schema().items()}


# -- discovery ---------------------------------------------------------------------------------

def discover_config(start: Path) -> Path | None:
    for directory in [start, *start.parents]:
        found = _config_in(directory)
        if found is not None:
            return found
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        text = read_text_file(path, str(path), "pyproject.toml")
    except UserError:
        return False
    return "keyport-lint" in text and _tool_table(path, text) is not None


def _tool_table(path: Path, text: str) -> Any:
    if sys.version_info >= (3, 11):  # imported here: most runs read no pyproject.toml table
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        match = re.search(r"line (\d+)", str(exc))
        raise UserError(f"invalid TOML: {exc}", str(path),
                        line or (int(match.group(1)) if match else None)) from None
    tool = data.get("tool", {})
    return tool.get("keyport-lint") if isinstance(tool, dict) else None


def _locate_toml(value: Any, text_lines: list[str], file: str, start: int) -> Any:
    """Wrap TOML data in LDict/LList with best-effort key lines, for error messages."""
    if isinstance(value, dict):
        out = LDict()
        out.file, out.line = file, start
        for key, item in value.items():
            line = start
            pattern = re.compile(rf"""^\s*["']?{re.escape(str(key))}["']?\s*=""")
            header = re.compile(rf"""^\s*\[+[^\]]*\b{re.escape(str(key))}["']?\]+""")
            for i in range(max(start - 1, 0), len(text_lines)):
                if pattern.match(text_lines[i]) or header.match(text_lines[i]):
                    line = i + 1
                    break
            out[key] = _locate_toml(item, text_lines, file, line)
            out.lines[key] = line
        return out
    if isinstance(value, list):
        out_list = LList(_locate_toml(v, text_lines, file, start) for v in value)
        out_list.file, out_list.line = file, start
        out_list.lines = [start] * len(value)
        return out_list
    return value


def read_config_document(path: Path, display: str) -> LDict:
    text = read_text_file(path, display, "config")
    if path.name == "pyproject.toml":
        table = _tool_table(path, text)
        if table is None:
            raise UserError("no [tool.keyport-lint] table", display)
        lines = text.splitlines()
        start = next((i + 1 for i, line in enumerate(lines)
                      if re.match(r"^\s*\[tool\.[\"']?keyport-lint[\"']?\]", line)), 1)
        return _locate_toml(table, lines, display, start)
    doc = load_yaml(text, display)
    if doc is None:
        empty = LDict()
        empty.file, empty.line = display, 1
        return empty
    if not isinstance(doc, LDict):
        raise UserError("the config must be a mapping of keys such as select, ignore, settings",
                        display, 1)
    return doc


# -- loading -----------------------------------------------------------------------------------

def load_config(explicit: Path | None = None, cwd: Path | None = None) -> Config:
    cwd = cwd or Path.cwd()
    path = explicit if explicit is not None else discover_config(cwd)
    if path is None:
        root = _git_root(cwd) or cwd
        return Config(root=root)
    if explicit is not None and not path.is_file():
        raise UserError("config file not found", str(path))
    path = path.resolve()
    layers = _load_layers(path, cwd, seen=[])
    return _build(layers, root=path.parent, path=path)


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)


def _load_layers(path: Path, cwd: Path, seen: list[Path]) -> list[tuple[Path, LDict]]:
    if path in seen:
        raise UserError("'extend' forms a cycle: " + " -> ".join(
            _display(p, cwd) for p in [*seen, path]), _display(path, cwd))
    doc = read_config_document(path, _display(path, cwd))
    _validate_top(doc)
    layers: list[tuple[Path, LDict]] = []
    if "extend" in doc:
        parent = (path.parent / Path(doc["extend"]).expanduser()).resolve()
        if not parent.is_file():
            file, line = where(doc, "extend")
            raise UserError(f"'extend' names a missing file: {doc['extend']}", file, line)
        layers.extend(_load_layers(parent, cwd, [*seen, path]))
    layers.append((path, doc))
    return layers


def _validate_top(doc: LDict) -> None:
    for key, value in doc.items():
        if key not in TOP_KEYS:
            file, line = where(doc, key)
            raise UserError(f"unknown key {key!r}{suggest(key, TOP_KEYS)}", file, line)
        check_type(value, TOP_KEYS[key], doc, key, key)
    if "fail-on" in doc and doc["fail-on"] not in SEVERITIES:
        file, line = where(doc, "fail-on")
        raise UserError("fail-on must be 'error' or 'warning'", file, line)
    for code, level in doc.get("severity", {}).items():
        if level not in SEVERITIES:
            file, line = where(doc["severity"], code)
            raise UserError(f"severity of {code} must be 'error' or 'warning'", file, line)
    for pattern, codes in doc.get("per-file-ignores", {}).items():
        check_type(codes, "list[str]", doc["per-file-ignores"], pattern,
                   f"per-file-ignores[{pattern!r}]")


def _merge_setting(name: str, current: Any, value: Any, container: LDict) -> Any:
    spec = settings_schema()[name]
    if isinstance(value, dict) and spec.type.startswith("list"):
        if set(value) != {"replace"}:
            file, line = where(container, name)
            raise UserError(f"settings.{name}: a mapping here must be {{replace: [...]}}",
                            file, line)
        value = value["replace"]
        check_type(value, spec.type, container, name, f"settings.{name}")
        check_range(spec, value, container, name)
        return list(value)
    check_type(value, spec.type, container, name, f"settings.{name}")
    check_range(spec, value, container, name)
    if spec.type.startswith("list"):
        return list(current) + [v for v in value if v not in current]
    if spec.type.startswith("dict"):
        merged = dict(current)
        merged.update(value)
        return merged
    return value


def check_range(spec: Any, value: Any, container: Any, name: str) -> None:
    """Bounds declared in settings.yaml: numbers within `min`/`max`; secret shapes that
    cannot match the empty string (one that can would report every position of every file)."""
    file, line = where(container, name)
    if spec.minimum is not None and value < spec.minimum:
        raise UserError(f"settings.{name} must be at least {spec.minimum:g}, got {value}",
                        file, line)
    if spec.maximum is not None and value > spec.maximum:
        raise UserError(f"settings.{name} must be at most {spec.maximum:g}, got {value}",
                        file, line)
    if spec.no_empty_match:
        for pattern in value:
            if re.compile(pattern).search("") is not None:
                raise UserError(f"settings.{name}: pattern {pattern!r} matches the empty "
                                "string; a secret shape needs at least one character",
                                file, line)


def _build(layers: list[tuple[Path, LDict]], root: Path, path: Path) -> Config:
    cfg = Config(root=root, path=path)
    settings = default_settings()
    schema = settings_schema()
    user_rules: dict[str, Rule] = {}
    for layer_path, doc in layers:
        cfg.sources.append(layer_path)
        base = layer_path.parent
        for key in doc:
            if key not in ("settings", "select", "ignore", "fail-on", "exclude", "src"):
                cfg.origins.setdefault(key, []).append(f"{doc.file}:{doc.line_of(key)}")
            elif key != "settings":  # these replace what a parent config set
                cfg.origins[key] = [f"{doc.file}:{doc.line_of(key)}"]
        if "select" in doc:
            cfg.select = [str(c).upper() for c in doc["select"]]
        if "ignore" in doc:
            cfg.ignore = [str(c).upper() for c in doc["ignore"]]
        if "fail-on" in doc:
            cfg.fail_on = doc["fail-on"]
        cfg.severity.update({str(k).upper(): v for k, v in doc.get("severity", {}).items()})
        if "exclude" in doc:
            cfg.exclude = [r for r in (_rebase(p, base, root) for p in doc["exclude"])
                           if r is not None]
        for pattern, codes in doc.get("per-file-ignores", {}).items():
            rebased = _rebase(pattern, base, root)
            if rebased is not None:
                cfg.per_file_ignores[rebased] = [str(c).upper() for c in codes]
        if "respect-gitignore" in doc:
            cfg.respect_gitignore = doc["respect-gitignore"]
        if "src" in doc:  # relative to the config that names them; replaces a parent's
            cfg.src = [os.path.normpath(base / folder) for folder in doc["src"]]
        if "fixable" in doc:
            cfg.fixable = [str(c).upper() for c in doc["fixable"]]
        if "unfixable" in doc:
            cfg.unfixable = [str(c).upper() for c in doc["unfixable"]]
        if "unsafe-fixes" in doc:
            cfg.unsafe_fixes = doc["unsafe-fixes"]
        if "cache-dir" in doc:
            cfg.cache_dir = str((base / doc["cache-dir"]).resolve())
        for name, value in doc.get("settings", {}).items():
            if name not in schema:
                file, line = where(doc["settings"], name)
                raise UserError(f"unknown setting {name!r}{suggest(name, schema)}", file, line)
            settings[name] = _merge_setting(name, settings[name], value, doc["settings"])
            cfg.origins.setdefault(f"settings.{name}", []).append(
                f"{doc['settings'].file}:{doc['settings'].line_of(name)}")
        for pattern in doc.get("rule-files", []):
            matches = rule_file_matches(base, pattern, doc)
            if not matches:
                file, line = where(doc, "rule-files")
                raise UserError(f"rule-files pattern {pattern!r} matches no file", file, line)
            for match in matches:
                cfg.sources.append(Path(match))
                for rule in load_rule_file(Path(match), builtin=False,
                                           display=_display(Path(match), Path.cwd())):
                    user_rules[rule.id] = rule
        if "rules" in doc:
            wrapper = LDict(rules=doc["rules"])
            wrapper.file, wrapper.line = doc.file, doc.line_of("rules")
            wrapper.lines["rules"] = wrapper.line
            for rule in load_rule_document(wrapper, doc.file, builtin=False):
                user_rules[rule.id] = rule
    cfg.settings = Settings(settings)
    cfg.anchor = next((p.parent for p, _ in layers
                       if p.parent == root or p.parent in root.parents), root)
    cfg.rules = tuple(sorted([*builtin_rules(), *user_rules.values()], key=lambda r: r.id))
    known = cfg.rule_ids()
    for _layer, doc in layers:
        for key in ("select", "ignore"):
            for i, code in enumerate(doc.get(key, [])):
                _check_code(code, known, doc[key], i, key)
        for key in ("severity",):
            for code in doc.get(key, {}):
                _check_code(code, known, doc[key], code, key)
        for pattern, codes in doc.get("per-file-ignores", {}).items():
            for i, code in enumerate(codes):
                _check_code(code, known, doc["per-file-ignores"][pattern], i, "per-file-ignores")
    return cfg


def _check_code(code: str, known: list[str], container: Any, key: Any, what: str) -> None:
    code = str(code).upper()
    if not any(k.startswith(code) for k in known) or not code:
        file, line = where(container, key)
        raise UserError(f"{what}: unknown rule code or prefix {code!r}{suggest(code, known)}",
                        file, line)


def _rebase(pattern: str, base: Path, root: Path) -> str | None:
    """Glob patterns are relative to the config that declares them; store them root-relative.

    None when a parent config's anchored pattern points beside root, so it matches nothing here.
    """
    if base == root or pattern.startswith("*"):
        return pattern
    if base in root.parents:  # an `extend`ed config in a folder above this one
        down = root.relative_to(base).as_posix() + "/"
        body = pattern.lstrip("/")
        if not pattern.startswith("/") and "/" not in body.rstrip("/"):
            return pattern  # unanchored (`migrations/`): matches at any depth, here too
        return "/" + body[len(down):] if body.startswith(down) else None
    if pattern.startswith("/"):
        return pattern
    try:
        prefix = base.relative_to(root).as_posix()
    except ValueError:
        return pattern
    return f"{prefix}/{pattern}"


def _git_root(cwd: Path) -> Path | None:
    for directory in [cwd, *cwd.parents]:
        if (directory / ".git").exists():
            return directory
    return None


def apply_cli(cfg: Config, select: tuple[str, ...], ignore: tuple[str, ...],
              fail_on: str | None, check: bool = True) -> Config:
    """CLI flags: --select replaces the config's select, --ignore adds to its ignore.

    `check=False` for the configs of other folders, which may not define a user rule the
    command line names (it is checked against the config of the working directory)."""
    known = cfg.rule_ids()
    select = tuple(c.upper() for c in select)
    ignore = tuple(c.upper() for c in ignore)
    for code in (*select, *ignore) if check else ():
        if not code or not any(k.startswith(code) for k in known):
            raise UserError(f"unknown rule code or prefix {code!r}{suggest(code, known)}")
    if select:
        cfg.select = list(select)
        cfg.origins["select"] = ["command line (--select)"]
    if ignore:
        cfg.ignore = [*cfg.ignore, *ignore]
        cfg.origins.setdefault("ignore", []).append("command line (--ignore)")
    if fail_on:
        cfg.fail_on = fail_on
        cfg.origins["fail-on"] = ["command line (--fail-on)"]
    return cfg


class ConfigTree:
    """The config of each file: the nearest `.keyport-lint.yaml` or `[tool.keyport-lint]`
    above it, with its `extend` chain, as ruff resolves monorepos; `--config` (`explicit`)
    governs every file. Each folder is looked up once per run, on strings: a run over a
    thousand files in two hundred folders asks the file system about each folder once."""

    def __init__(self, base: Config, cwd: Path, explicit: bool = False,
                 adjust: Any = None) -> None:
        self.base, self.cwd, self.explicit = base, cwd, explicit
        self.adjust = adjust or (lambda cfg: cfg)  # command-line overrides for other configs
        self._cwd = str(cwd)
        self._nearest: dict[str, Path | None] = {}  # folder -> its config file
        self._git_tops: dict[str, str | None] = {}  # folder -> its repository root
        self._by_dir: dict[str, Config] = {}  # folder -> the config of its files
        self._loaded: dict[Path, Config] = {}  # by config file
        self._defaults: dict[Path, Config] = {}  # files under no config, by project root
        self._paths: list[str] = []  # the paths named on the command line
        self._arguments: list[str] | None = None  # their folders, outermost first (on demand)
        if base.path is not None:
            self._loaded[base.path] = base
        else:
            self._defaults[base.root] = base

    def name_arguments(self, paths: list[str]) -> None:
        """The paths the run was asked to check: a file under no config, no repository and
        outside the working folder is rooted at the one of them that holds it. Their folders
        are worked out only for such a file (a hook run names every file: no stat each)."""
        self._paths, self._arguments = list(paths), None

    def _argument_folders(self) -> list[str]:
        if self._arguments is None:
            folders = set()
            for path in self._paths:
                full = os.path.normpath(os.path.join(self._cwd, path))
                folders.add(full if os.path.isdir(full) else os.path.dirname(full))
            self._arguments = sorted(folders, key=len)
        return self._arguments

    def nearest(self, directory: Path | str) -> Path | None:
        def probe(folder: str) -> Path | None:
            here = _config_in(folder)
            return here.resolve() if here is not None else None
        return _walk_up(str(directory), self._nearest, probe)

    def _git_top(self, directory: str) -> str | None:
        """`_git_root` for a folder, each folder above it asked once per run."""
        def probe(folder: str) -> str | None:
            return folder if os.path.exists(os.path.join(folder, ".git")) else None
        return _walk_up(directory, self._git_tops, probe)

    def for_file(self, path: Path | str) -> Config:
        if self.explicit:
            return self.base
        path = str(path)
        folder = os.path.dirname(path)  # as given: the usual key (files of one folder)
        cfg = self._by_dir.get(folder)
        if cfg is None:
            directory = os.path.normpath(os.path.dirname(
                path if os.path.isabs(path) else os.path.join(self._cwd, path)))
            cfg = self._by_dir.get(directory)
            if cfg is None:
                cfg = self._by_dir[directory] = self._config_of(directory)
            if os.path.isabs(folder):  # a relative one depends on the working folder
                self._by_dir[folder] = cfg
        return cfg

    def _config_of(self, directory: str) -> Config:
        found = self.nearest(directory)
        if found is None:  # the built-in defaults, rooted at the repository (or see below)
            top = self._git_top(directory)
            root = Path(top) if top is not None else Path(self._default_root(directory))
            if root not in self._defaults:
                self._defaults[root] = self.adjust(Config(root=root))
            return self._defaults[root]
        if found not in self._loaded:
            layers = _load_layers(found, self.cwd, seen=[])
            self._loaded[found] = self.adjust(_build(layers, root=found.parent, path=found))
        return self._loaded[found]

    def _default_root(self, directory: str) -> str:
        """The project root of a file under no config and no repository: the working folder
        when it holds the file, else the outermost folder named on the command line that does
        (else the file's folder). Never a working folder the file is not in: imports would
        resolve against unrelated packages there, and findings would depend on where the
        command was typed."""
        if _within(directory, self._cwd):
            return self._cwd
        for folder in self._argument_folders():
            if _within(directory, folder):
                return folder
        return directory

    def configs(self) -> list[Config]:
        return [*self._loaded.values(), *self._defaults.values()]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _config_in(directory: Path | str) -> Path | None:
    directory = str(directory)
    for name in CONFIG_NAMES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return Path(candidate)
    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject) and _has_tool_table(Path(pyproject)):
        return Path(pyproject)
    return None


T = TypeVar("T")


def _walk_up(directory: str, memo: dict[str, T | None],
             probe: Callable[[str], T | None]) -> T | None:
    """The first answer of `probe` from `directory` up to the filesystem root; every folder
    passed on the way is memoised with it, so each folder is asked once per run."""
    chain: list[str] = []
    found: T | None = None
    current = directory
    while True:
        if current in memo:
            found = memo[current]
            break
        chain.append(current)
        found = probe(current)
        if found is not None:
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for seen in chain:
        memo[seen] = found
    return found
