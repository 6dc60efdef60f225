"""The injected-marker precision corpus: real webhook and payment packages as KeyPort code.

Real code without KeyPort in it gives no finding because the rules never get past the KeyPort
context. To test what they do *with* that context, every module of a few webhook-heavy packages
(dj-stripe, svix, slack_bolt and slack_sdk, authlib, stripe: the `corpus` extra, pinned) is
copied with a KeyPort marker line injected at its top (after any `from __future__` import,
which must stay first), so every file reaches the full analyses. Every finding on that corpus
is either a real match of the rules' definitions or a false positive to fix.

    python benchmarks/precision_corpus.py            # the whole corpus, findings listed
    python benchmarks/precision_corpus.py --sample   # the fixed sample the test suite runs

Third-party code is never committed: the corpus is built from the installed packages into a
temporary folder. Exit status 0 when the run gives no finding, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PACKAGES = ("djstripe", "svix", "slack_bolt", "slack_sdk", "authlib", "stripe")
MARKER = "import keyport  # precision corpus: injected KeyPort marker\n"
SAMPLE_PER_MILLE = 110  # about a ninth of the modules: a few hundred, stable across runs
# modules that once gave a false positive stay in the sample whatever their hash
REGRESSIONS = frozenset({
    "authlib/oauth1/rfc5849/base_server.py",  # signature *method name* in a supported list
    "stripe/_webhook.py",  # static HMAC helper; its caller signs "%d.%s" % (timestamp, payload)
    "slack_sdk/socket_mode/builtin/connection.py",  # WebSocket handshake, no HTTP handler
    "djstripe/models/api.py",  # a real match: the full api_key raised in an exception message
})
FUTURE = re.compile(r"^from[ \t]+__future__[ \t]+import[ \t]*(\([^)]*\)|[^\n]*)", re.MULTILINE)


def package_dir(name: str) -> Path | None:
    """Where an installed package lives (found, never imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def inject(text: str) -> str:
    """The module with the marker line at its top, after its `from __future__` imports."""
    end = 0
    for match in FUTURE.finditer(text):
        end = match.end()
    if end:
        newline = text.find("\n", end)
        end = len(text) if newline < 0 else newline + 1
        return text[:end] + ("" if text[:end].endswith("\n") else "\n") + MARKER + text[end:]
    return MARKER + text


def in_sample(relative: str) -> bool:
    """A stable pseudo-random choice by path: the same modules every run and machine."""
    if relative in REGRESSIONS:
        return True
    digest = hashlib.sha256(relative.encode("utf-8")).digest()
    return int.from_bytes(digest[:2], "big") % 1000 < SAMPLE_PER_MILLE


def build(dest: Path, sample: bool = False,
          packages: tuple[str, ...] = PACKAGES) -> tuple[list[str], list[Path]]:
    """Copy the installed packages' modules into `dest` with the marker injected. Returns the
    packages missing and the files written."""
    missing: list[str] = []
    written: list[Path] = []
    for name in packages:
        folder = package_dir(name)
        if folder is None:
            missing.append(name)
            continue
        for path in sorted(folder.rglob("*.py")):
            relative = (Path(name) / path.relative_to(folder)).as_posix()
            if sample and not in_sample(relative):
                continue
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8", errors="replace")
            target.write_text(inject(text), encoding="utf-8")
            written.append(target)
    return missing, written


def run(dest: Path) -> dict:
    """Run keyport-lint on the corpus (a process, no cache) and return its JSON report."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    config = dest / ".keyport-lint.yaml"
    config.write_text("select: [KP]\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "keyport_lint", "check", "--no-cache",
                           "--output-format", "json", "."], cwd=dest, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"keyport-lint failed ({done.returncode}): {done.stderr[-2000:]}")
    report: dict = json.loads(done.stdout)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", action="store_true", help="only the test suite's sample")
    parser.add_argument("--keep", metavar="DIR", help="build the corpus here and keep it")
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES),
                        help="packages to copy (default: %(default)s)")
    args = parser.parse_args(argv)
    dest = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kp-corpus-"))
    try:
        missing, files = build(dest, sample=args.sample, packages=tuple(args.packages))
        if missing:
            print(f"not installed (pip install 'keyport-lint[corpus]'): {', '.join(missing)}")
        report = run(dest)
        findings = report["findings"]
        print(f"{len(files)} modules, {report['stats']['files']} files checked, "
              f"{len(findings)} findings")
        for rule, count in sorted(Counter(f["rule"] for f in findings).items()):
            print(f"  {rule}: {count}")
        for f in findings:
            print(f"{f['path']}:{f['line']}: {f['rule']} {f['message']}")
        for error in report["errors"]:
            print(f"error: {error}")
        return 1 if findings or report["errors"] else 0
    finally:
        if not args.keep:
            shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
