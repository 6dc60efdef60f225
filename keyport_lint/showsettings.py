"""`check --show-settings PATH`: the effective config of one file, and where each value came
from (a config file and line, the command line, or the built-in default)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyport_lint.config import default_settings

if TYPE_CHECKING:
    from keyport_lint.config import Config, ConfigTree


def _rel(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def settings_text(tree: ConfigTree, path: Path) -> str:
    target = path if path.is_absolute() else tree.cwd / path
    if target.is_dir():  # a folder: the config its files would get
        target = target / "__any_file__.py"
    cfg = tree.for_file(target)
    cwd = tree.cwd
    out = [f"Settings for {path.as_posix()}"]
    if cfg.path is None:
        out.append("config: none found above this file (built-in defaults)")
    else:
        layers = _layers(cfg)
        extends = " -> ".join(_rel(p, cwd) for p in reversed(layers[:-1]))
        out.append(f"config: {_rel(cfg.path, cwd)}" + (f" (extends {extends})" if extends else ""))
    out.append(f"root: {_rel(cfg.root, cwd) if cfg.root != cwd else '.'} (the project: "
               "exclude and per-file-ignores are relative to it)")
    anchor = cfg.anchor_root
    out.append(f"baseline paths relative to: {_rel(anchor, cwd) if anchor != cwd else '.'}")
    out.append("")
    rows: list[tuple[str, str, str]] = [
        ("select", _value(cfg.select if cfg.select != [""] else ["all"]),
         _origin(cfg, "select")),
        ("ignore", _value(cfg.ignore), _origin(cfg, "ignore")),
        ("fail-on", cfg.fail_on, _origin(cfg, "fail-on")),
        ("severity", _value(cfg.severity), _origin(cfg, "severity")),
        ("exclude", _value(cfg.exclude), _origin(cfg, "exclude")),
        ("per-file-ignores", _value(cfg.per_file_ignores), _origin(cfg, "per-file-ignores")),
        ("respect-gitignore", _value(cfg.respect_gitignore), _origin(cfg, "respect-gitignore")),
        ("cache-dir", cfg.cache_dir or ".keyport-lint-cache (in the root)",
         _origin(cfg, "cache-dir")),
        ("unsafe-fixes", _value(cfg.unsafe_fixes), _origin(cfg, "unsafe-fixes")),
        ("fixable", _value(cfg.fixable if cfg.fixable != [""] else ["all"]),
         _origin(cfg, "fixable")),
        ("unfixable", _value(cfg.unfixable), _origin(cfg, "unfixable")),
        ("rules enabled", " ".join(r.id for r in cfg.enabled_rules()), "select and ignore"),
    ]
    user = [r for r in cfg.rules if not r.id.startswith("KP")]
    if user:
        rows.append(("user rules", " ".join(r.id for r in user), _origin(cfg, "rules")
                     if "rules" in cfg.origins else _origin(cfg, "rule-files")))
    defaults = default_settings()
    for name, value in cfg.settings.as_dict().items():
        origin = _origin(cfg, f"settings.{name}")
        if value == defaults.get(name):
            origin = "default"
        rows.append((f"settings.{name}", _value(value), origin))
    for name, value, origin in rows:
        if len(value) > 90:
            value = value[:87] + "..."
        out.append(f"{name}: {value}  # {origin}")
    return "\n".join(out) + "\n"


def _layers(cfg: Config) -> list[Path]:
    return [p for p in cfg.sources if p.name in (".keyport-lint.yaml", ".keyport-lint.yml",
                                                  "pyproject.toml")]


def _origin(cfg: Config, key: str) -> str:
    places = cfg.origins.get(key)
    if not places:
        return "default"
    return ", then ".join(places)
