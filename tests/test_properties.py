"""Generated and mangled code thrown at the whole pipeline: it must never crash.

Every file gets KeyPort text prepended so the pre-filter lets it through to the parser and the
rules. A crash would surface as an exception or as a run-level error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyport_lint.config import Config
from keyport_lint.pipeline.run import run

from .conftest import FIXTURES, KEY

HEADER = f'import keyport\nKEYPORT_API_KEY = "{KEY}"\n'
SEEDS = sorted(p.read_bytes() for p in FIXTURES.rglob("*.py"))
CONFIG = Config(root=Path(tempfile.gettempdir()))


def _check(data: bytes, name: str = "gen.py") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result = run([str(path)], CONFIG, cwd=Path(tmp))
    assert result.errors == []
    for finding in result.findings:
        assert finding.line >= 1 and finding.column >= 1
        assert KEY not in finding.message


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_generated_programs_never_crash(source: str) -> None:
    _check((HEADER + source).encode("utf-8", "surrogatepass"))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_generated_syntax_trees_never_crash(source: str) -> None:
    _check((HEADER + source).encode("utf-8", "surrogatepass"))


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["insert", "delete", "flip"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=6)) or b"("
        elif op == "delete" and data:
            del data[at: at + draw(st.integers(1, 20))]
        elif data:
            data[at] = draw(st.integers(0, 255))
    return b"# keyport\n" + bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(mangled())
def test_mangled_fixtures_never_crash(data: bytes) -> None:
    _check(data)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(mangled(), st.sampled_from([".env", "bundle.js", "page.html", "keyport.json"]))
def test_mangled_text_files_never_crash(data: bytes, name: str) -> None:
    _check(data, name)


# -- shapes real code takes, generated (issue 18): class decorators, nested classes, handlers,
# long elif chains, deep nesting. At least a thousand modules; none may stop a rule (KP903).
# Nesting beyond the parser's safe bounds (pipeline/depth.py) must be KP900, and only then.

GENERATED_MODULES = int(os.environ.get("KEYPORT_LINT_GENERATED", "1000"))
STATEMENT_HEADER = (
    "import hashlib\nimport hmac\nimport logging\nimport os\nfrom dataclasses import "
    "dataclass, field\n\nimport keyport\nfrom flask import Flask, jsonify, request\n\n"
    "app = Flask(__name__)\nlog = logging.getLogger(__name__)\n"
    "KEYPORT_API_KEY = os.environ['KEYPORT_API_KEY']\n"
    "KEYPORT_WEBHOOK_SECRET = os.environ['KEYPORT_WEBHOOK_SECRET']\n")
CLASS_DECORATORS = ["@dataclass", "@dataclass(frozen=True)", "@dataclass(slots=True, order=True)",
                    "@register", "@app.route('/keyport/webhook', methods=['POST'])",
                    "@functools.total_ordering", "@keyport.webhook"]
STATUSES = ["active", "expired", "revoked", "suspended", "machine_mismatch", "invalid"]


def _indent(block: str, levels: int = 1) -> str:
    return "\n".join(("    " * levels + line) if line else line for line in block.split("\n"))


def elif_chain(draw: st.DrawFn, subject: str, length: int) -> str:
    lines = [f"if {subject} == {STATUSES[0]!r}:", "    return 'ok'"]
    for i in range(1, length):
        status = STATUSES[i % len(STATUSES)] + ("" if i < len(STATUSES) else str(i))
        lines += [f"elif {subject} == {status!r}:",
                  "    " + draw(st.sampled_from(["return 'deny'", "log.info('status %s', "
                                                  f"{subject})", "pass"]))]
    if draw(st.booleans()):
        lines += ["else:", "    log.warning('unknown %s', KEYPORT_API_KEY[:12])"]
    return "\n".join(lines)


@st.composite
def classes(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(["Event", "License", "Hook", "Result", "Config"])) + str(depth)
    decorators = draw(st.lists(st.sampled_from(CLASS_DECORATORS), max_size=3))
    bases = draw(st.sampled_from(["", "(object)", "(Base)", "(keyport.Model)"]))
    body = [draw(st.sampled_from(["kind: str", "key: str = ''", "items: list = field("
                                  "default_factory=list)", "status: str = 'active'"]))
            for _ in range(draw(st.integers(0, 3)))]
    if draw(st.booleans()):
        body.append("def verify(self, body, signature):\n    expected = hmac.new("
                    "KEYPORT_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()\n"
                    "    return hmac.compare_digest(expected, signature)")
    if draw(st.booleans()):
        body.append("def post(self):\n    event = request.get_json()\n"
                    + _indent(elif_chain(draw, "event['type']", draw(st.integers(1, 12))))
                    + "\n    return jsonify(ok=True)")
    if depth < 2 and draw(st.booleans()):
        body.append(draw(classes(depth + 1)))
    header = "\n".join([*decorators, f"class {name}{bases}:"])
    return header + "\n" + _indent("\n\n".join(body) or "pass")


@st.composite
def handlers(draw: st.DrawFn) -> str:
    route = draw(st.sampled_from(["/keyport/webhook", "/webhooks/keyport", "/licence"]))
    verify = draw(st.sampled_from([
        "",
        "if not hmac.compare_digest(hmac.new(KEYPORT_WEBHOOK_SECRET.encode(), body, "
        "hashlib.sha256).hexdigest(), request.headers['KeyPort-Signature']):\n"
        "    return '', 401\n"]))
    length = draw(st.integers(1, 8) | st.integers(1, 60))
    return (f"@app.post({route!r})\ndef handler():\n    body = request.get_data()\n"
            + _indent(verify) + "\n    event = request.get_json()\n    status = event['status']\n"
            + _indent(elif_chain(draw, "status", length)) + "\n    return jsonify(ok=True)")


@st.composite
def deep(draw: st.DrawFn) -> tuple[str, bool]:
    """Nesting near and beyond the bounds: (code, beyond a bound)."""
    from keyport_lint.pipeline.depth import MAX_ARITH, MAX_CHAIN, MAX_ELIF

    kind = draw(st.sampled_from(["brackets", "not", "lambda", "plus", "elif"]))
    if kind == "brackets":
        n = draw(st.integers(1, 20) | st.integers(MAX_CHAIN // 2 - 10, MAX_CHAIN // 2 + 10))
        pairs = draw(st.lists(st.sampled_from(["()", "[]", "f()", "{1:}"]), min_size=n,
                              max_size=n))
        opens = "".join(p[:-1] for p in pairs)
        closes = "".join(p[-1] for p in reversed(pairs))
        return f"x = {opens}KEYPORT_API_KEY{closes}", 2 * n > MAX_CHAIN
    bound = {"elif": MAX_ELIF, "plus": MAX_ARITH}.get(kind, MAX_CHAIN)
    n = draw(st.integers(1, 30) | st.integers(bound - 20, bound + 20))
    if kind == "elif":
        return "def check(status):\n" + _indent(elif_chain(draw, "status", n + 1)), \
            n > MAX_ELIF
    if kind == "plus":
        return "x = " + " + ".join(["KEYPORT_API_KEY"] * (n + 1)), n > MAX_ARITH
    word = "not " if kind == "not" else "lambda: "
    return f"x = {word * n}KEYPORT_API_KEY", n > MAX_CHAIN


@st.composite
def realistic_modules(draw: st.DrawFn, deep_parts: bool = False) -> tuple[str, bool]:
    parts, beyond = [STATEMENT_HEADER], False
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.sampled_from(["class", "handler", "log"]
                                      + (["deep", "deep"] if deep_parts else [])))
        if choice == "class":
            parts.append(draw(classes()))
        elif choice == "handler":
            parts.append(draw(handlers()))
        elif choice == "deep":
            code, too_deep = draw(deep())
            parts.append(code)
            beyond = beyond or too_deep
        else:
            parts.append(draw(st.sampled_from([
                "log.info('key %s', KEYPORT_API_KEY)", "print(KEYPORT_API_KEY[:12])",
                f"client = keyport.KeyPort({KEY!r})"])))
    return "\n\n\n".join(parts) + "\n", beyond


_MODULES = tempfile.TemporaryDirectory()
def _check_generated(source: str, beyond: bool) -> None:
    folder = Path(_MODULES.name)
    path = folder / "gen.py"
    path.write_text(source, encoding="utf-8")
    result = run([str(path)], Config(root=folder), cwd=folder)
    assert result.errors == []  # any internal error fails the test
    rules = {f.rule for f in result.findings}
    assert "KP903" not in rules
    assert ("KP900" in rules) == beyond, source[:2000]


@settings(max_examples=GENERATED_MODULES, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(realistic_modules())
def test_generated_realistic_modules_never_stop_a_rule(module: tuple[str, bool]) -> None:
    _check_generated(*module)


@settings(max_examples=GENERATED_MODULES // 10, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(realistic_modules(deep_parts=True))
def test_deep_nesting_is_kp900_beyond_the_bounds_and_checked_within(
        module: tuple[str, bool]) -> None:
    _check_generated(*module)
