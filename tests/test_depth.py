"""Issue 18: deep nesting never reaches the native parser (it segfaults or runs for minutes);
the structure scan before it makes such files KP900 and the run goes on."""

from __future__ import annotations

import json

import pytest

from keyport_lint.pipeline.depth import MAX_ARITH, MAX_CHAIN, MAX_ELIF, TooDeep, check_depth

from .conftest import KEY

HEADER = "import keyport\n"


CRASHERS = {
    "brackets": lambda: "x = " + "(" * 10_000 + "1" + ")" * 10_000,
    "lists": lambda: "x = " + "[" * 2_000 + "]" * 2_000,
    "calls": lambda: "x = " + "f(" * 1_500 + ")" * 1_500,
    "not": lambda: "x = " + "not " * 10_000 + "y",
    "lambda": lambda: "x = " + "lambda: " * 4_000 + "1",
    "ifexp": lambda: "x = " + "a if b else " * 6_000 + "c",
    "plus": lambda: "x = " + " + ".join(["'a'"] * 10_000),
    "elif": lambda: "if a:\n    pass\n" + "elif a:\n    pass\n" * 10_000,
}
FLAT = {
    "negatives": lambda: "x = [" + ", ".join(f"-{i} + {i}.5" for i in range(20_000)) + "]",
    "dict": lambda: "x = {" + ", ".join(f"'k{i}': not a" for i in range(20_000)) + "}",
    "comment": lambda: 'x = "((((((((((" * 3  # ' + "(" * 500 + "\n" * 2,
    "docstring": lambda: '"""' + "(" * 5_000 + '"""\n',
    "statements": lambda: "\n".join(f"y{i} = a + b - c * d" for i in range(20_000)),
    "ifs": lambda: "\n".join("if a:\n    pass\nelif b:\n    pass" for _ in range(2_000)),
    "attributes": lambda: "x = f(a)(b)(c)" + ".y" * 100,
}


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_nesting_that_crashes_the_parser_is_kp900(project, name: str) -> None:
    """Today each of these kills the process (exit -11) or hangs it; the key in the other
    file must still be reported."""
    source = CRASHERS[name]()
    project.write("deep.py", HEADER + source + "\n")
    project.write("keys.py", f'KEY = "{KEY}"\n')
    proc = project.run("check", "--no-cache", "--output-format", "json")
    assert proc.returncode == 1, proc.stderr
    found = [(f["path"], f["rule"]) for f in json.loads(proc.stdout)["findings"]]
    assert found == [("deep.py", "KP900"), ("keys.py", "KP101")]
    message = json.loads(proc.stdout)["findings"][0]["message"]
    assert "nest" in message or "elif" in message


def test_the_bounds_are_exact() -> None:
    check_depth("x = " + "[" * (MAX_CHAIN // 2) + "]" * (MAX_CHAIN // 2))
    with pytest.raises(TooDeep):
        check_depth("x = " + "[" * (MAX_CHAIN // 2 + 1) + "]" * (MAX_CHAIN // 2 + 1))
    check_depth("x = " + "not " * MAX_CHAIN + "y")
    with pytest.raises(TooDeep):
        check_depth("x = " + "not " * (MAX_CHAIN + 1) + "y")
    elifs = "if a:\n    pass\n" + "elif a:\n    pass\n" * MAX_ELIF
    check_depth(elifs)
    with pytest.raises(TooDeep):
        check_depth(elifs + "elif a:\n    pass\n")
    check_depth("x = " + " + ".join(["a"] * (MAX_ARITH + 1)))
    with pytest.raises(TooDeep):
        check_depth("x = " + " + ".join(["a"] * (MAX_ARITH + 2)))


@pytest.mark.parametrize("name", sorted(FLAT))
def test_flat_code_of_any_length_passes(name: str) -> None:
    """Long but flat: separators end a chain; strings and comments hold no structure."""
    check_depth(FLAT[name]())


def test_the_quick_proof_never_passes_what_the_scan_refuses() -> None:
    """Most files are proved shallow from counts alone (no token loop); the proof must never
    pass a text the token scan refuses: random texts around the bounds, and every fixture."""
    import random

    from keyport_lint.pipeline import depth

    from .conftest import FIXTURES

    atoms = ["(", ")", "[", "]", "{", "}", ",", ";", "\n", "\\\n", "\\\r\n", " not ", " and ",
             ".a", " x ", "1.5", "1.e", " + ", " if ", " else ", "\r\n", "#(\n", "'('"]
    weights = [9, 2, 4, 1, 2, 1, 1, 1, 2, 1, 1, 3, 2, 3, 1, 1, 1, 2, 1, 1, 1, 1, 1]
    rng = random.Random(12)
    texts = ["".join(rng.choices(atoms, weights, k=rng.randint(100, 700)))
             for _ in range(3000)]
    texts += [case.read_text(encoding="utf-8") for case in sorted(FIXTURES.rglob("*.py"))]
    refused = proved = 0
    for text in texts:
        code = depth._SKIP.sub('""', text)
        try:
            depth._scan(code)
        except TooDeep:
            refused += 1
            assert not depth._surely_shallow(code), text
        else:
            proved += depth._surely_shallow(code)
    assert refused > 100 and proved > 1000, (refused, proved)
