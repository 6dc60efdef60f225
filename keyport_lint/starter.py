"""`keyport-lint init`: a short commented starter `.keyport-lint.yaml`; `init --full` writes the
reference with every option.

Nothing in it is active (except `extend:` when a config further up already governs this folder,
so that adding the file changes nothing), and the settings part is generated from
rules/settings.yaml, so it lists every knob with its current documentation.

Convention: prose comments start with `##`, example lines with `# `; removing the `# ` from every
example line gives a config that loads (a test checks it).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from keyport_lint.catalog import settings_schema

HEADER = """\
## keyport-lint configuration, written by `keyport-lint init`.
##
## Nothing below is switched on: every option is commented out, so this file changes no finding
## until you edit it. Remove the leading `# ` from a line to use it.
## `keyport-lint rules` lists the rule codes and whether they run; `keyport-lint explain CODE`
## says what a rule checks and which of the settings below change it.
## Reference: https://github.com/keyport-lint/keyport-lint/blob/main/docs/rules.md
"""

BODY = """\

## Rules to run: codes or prefixes (default: all). `--select` on the command line replaces it.
# select: [KP1, KP9]

## Rules to skip (`--ignore` adds to this). The most specific of select/ignore wins.
# ignore: [KP103]

## Lowest severity that fails the run (exit code 1): warning (the default) or error.
# fail-on: warning

## Change a rule's severity: error or warning.
# severity: {KP901: error}

## Files and folders never checked, even when passed explicitly (as pre-commit does);
## gitignore-style patterns relative to this file. .gitignore is honoured anyway.
# exclude: ["migrations/**", "vendor/**"]

## Rules switched off for some files.
# per-file-ignores:
#   "tests/**": [KP101, KP103]

## Where per-file results are cached (relative to this file; the KEYPORT_LINT_CACHE_DIR
## environment variable wins; `check --no-cache` skips it). Keep it out of git.
# cache-dir: .keyport-lint-cache

## Extra import roots (relative to this file), searched before the detected ones: folders
## holding top-level packages are found by themselves; list namespace packages here.
# src: ["libs"]

## Walk folders honouring .gitignore (`check --no-respect-gitignore` for one run).
# respect-gitignore: true

## `check --fix`: apply unsafe fixes too (as --unsafe-fixes), and the codes or prefixes whose
## fixes may (fixable, default all) or may not (unfixable) apply.
# unsafe-fixes: false
# fixable: [KP2, KP9]
# unfixable: [KP4]

## More rules of the built-in kinds, inline or from files (same schema as rules/*.yaml):
##   rules:
##     - {id: ACME001, kind: secret-pattern, name: acme-key-hardcoded, pattern: "acme_[0-9a-f]{32}",
##        message: "ACME key {match} is hardcoded"}
##   rule-files: ["lint/rules/*.yaml"]
"""


def _flow(value: Any) -> str:
    """A YAML flow value (JSON is valid YAML and keeps regex backslashes intact)."""
    return json.dumps(value, ensure_ascii=False)


def _settings_section() -> str:
    lines = [
        "",
        "## Shared parameters used by several rules. A list here extends the built-in list;",
        "## {replace: [...]} replaces it; a number or string overrides it.",
        "# settings:",
    ]
    for name, spec in settings_schema().items():
        lines += textwrap.wrap(spec.doc, width=96, initial_indent="##   ",
                               subsequent_indent="##   ")
        builtin = textwrap.wrap(f"built-in: {_flow(spec.default)}", width=96,
                                initial_indent="##   ", subsequent_indent="##     ",
                                break_long_words=False, break_on_hyphens=False)
        if spec.type.startswith("list"):
            example: Any = []
            lines += builtin
        elif spec.type.startswith("dict") or spec.type == "mapping":
            example = {}
            lines += builtin
        else:
            example = spec.default
        lines.append(f"#   {name}: {_flow(example)}")
    return "\n".join(lines) + "\n"


SHORT = """\
## keyport-lint configuration (`keyport-lint init`). Everything is commented out, so this file
## changes no finding until you edit it: remove the leading `# ` from a line to use it.
## `keyport-lint init --full` writes the reference with every option and setting;
## `keyport-lint rules` lists the codes, `keyport-lint explain CODE` explains one.

## Rules to run or skip (codes or prefixes, any case; default: all).
# select: [KP1, KP2, KP3, KP4, KP5, KP9]
# ignore: [KP306]

## Lowest severity that fails the run: warning (the default) or error.
# fail-on: warning

## Never checked, even when passed explicitly (gitignore-style, relative to this file).
# exclude: ["migrations/**", "vendor/**"]

## Rules switched off for some files.
# per-file-ignores:
#   "tests/**": [KP101, KP103]

## Names that hold your KeyPort key, beyond the built-in ones (regexes).
# settings:
#   key-names: ["acme_licensing_key"]
"""


def starter_text(extend: str | None = None, full: bool = False) -> str:
    """The short starter, or with `full` the commented reference of every option."""
    text = HEADER if full else SHORT
    if extend:
        text += ("\n## This folder was already governed by the config below; extending it keeps "
                 "every finding\n## the same. Remove the line to start from the built-in "
                 f"defaults instead.\nextend: {_flow(extend)}\n")
    return text + BODY + _settings_section() if full else text


def uncommented(text: str) -> str:
    """Every example switched on (for the test that the examples are valid)."""
    return "\n".join(line[2:] if line.startswith("# ") else line
                     for line in text.splitlines()) + "\n"


def existing_here(directory: Path) -> Path | None:
    from keyport_lint.config import CONFIG_NAMES

    for name in CONFIG_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None
