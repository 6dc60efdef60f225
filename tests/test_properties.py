"""Generated and mangled code thrown at the whole pipeline: it must never crash.

Every file gets KeyPort text prepended so the pre-filter lets it through to the parser and the
rules. A crash would surface as an exception or as a run-level error.
"""

from __future__ import annotations

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
