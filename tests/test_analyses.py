"""Shared analyses: results independent of the selection, no crash on odd but valid code,
no quiet give-up on long chains, and work linear in the input."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyport_lint.testing import case_config, run_case

from .conftest import FIXTURES


def _rules(case: Path, select: list[str]) -> list[tuple[str, int, str]]:
    cfg = case_config(case, set())
    cfg.select = select
    result = run_case(case, cfg)
    assert not result.errors, result.errors
    return [(f.path, f.line, f.rule) for f in result.findings]


def test_a_configured_webhook_handler_is_an_endpoint_whatever_runs_first() -> None:
    # KP3's webhook classification once appended the functions settings.webhook-handlers names
    # to the memoised web-handler list, so KP501 saw them only when a KP3 rule ran before it
    case = FIXTURES / "KP501" / "bad_configured_handler"
    want = [("billing/hooks.py", 18, "KP501")]
    assert _rules(case, ["KP501"]) == want
    assert [f for f in _rules(case, ["KP301", "KP501"]) if f[2] == "KP501"] == want


def _long_chains_module() -> str:
    """A KeyPort webhook module with a 330-branch `elif` chain and 400-term concatenations."""
    terms = " + ".join(f"'p{i} '" for i in range(400))
    branches = "".join(f"    elif event['type'] == 'license.e{i}':\n        logger.info('e{i}')\n"
                       for i in range(1, 330))
    return ("import logging\nimport os\n\nfrom flask import Flask, request\n\n"
            "logger = logging.getLogger(__name__)\n"
            "KEYPORT_API_KEY = os.environ['KEYPORT_API_KEY']\napp = Flask(__name__)\n"
            f"BANNER = {terms} + 'end'\n\n\n"
            "@app.post('/webhooks/keyport')\ndef keyport_webhook():\n"
            "    event = request.get_json()\n"
            "    if event['type'] == 'license.e0':\n        logger.info('start')\n"
            f"{branches}    else:\n        logger.info({terms} + KEYPORT_API_KEY)\n"
            "    return 'ok'\n")


def test_long_elif_chains_and_concatenations_are_analysed(project) -> None:
    from keyport_lint.config import Config
    from keyport_lint.pipeline.run import run

    text = _long_chains_module()
    project.write("hooks.py", text)
    result = run(["hooks.py"], Config(root=project.root), cwd=project.root)
    assert not result.errors, result.errors
    lines = text.splitlines()
    want = {("KP301", next(i for i, s in enumerate(lines, 1) if s.startswith("def "))),
            ("KP201", next(i for i, s in enumerate(lines, 1) if "+ KEYPORT_API_KEY" in s))}
    assert {(f.rule, f.line) for f in result.findings} == want


def _binding_calls(assignments: int) -> int:
    """Python and C calls the taint pass makes on a KeyPort module of N module-level
    assignments (each rebinding clears the dotted names under it)."""
    import sys
    from pathlib import Path

    import libcst as cst

    from keyport_lint.analysis.taint import taint_analysis
    from keyport_lint.catalog import builtin_rules
    from keyport_lint.config import Config
    from keyport_lint.context import PythonContext
    from keyport_lint.kinds.taint import build_config

    lines = ["import keyport", "import os", "settings = keyport.Settings()"]
    lines += [f"settings.field_{i} = os.environ['X_{i}']\nvalue_{i} = settings.field_{i}"
              for i in range(assignments)]
    text = "\n".join(lines) + "\n"
    settings = Config(root=Path(".")).settings
    ctx = PythonContext("m.py", text, cst.parse_module(text), settings)
    rule = next(r for r in builtin_rules() if r.id == "KP201")
    config, _ = build_config(rule, settings)
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        taint_analysis(ctx, config)
    finally:
        sys.setprofile(None)
    return calls


def test_binding_names_is_linear_in_the_module() -> None:
    # a pass that scanned every bound name per assignment was quadratic: 5k assignments took
    # 6 s, 10k took 18 s; the count of calls must grow like the input, not like its square
    small, large = _binding_calls(400), _binding_calls(800)
    assert large < 2.3 * small, (small, large)


@pytest.mark.parametrize("extra", ["", "type Alias = int\n"], ids=["ast", "fallback"])
def test_statement_positions_equal_whole_module_positions(extra: str) -> None:
    """Positions come from `ast` line starts plus one statement's libcst positions; they must
    be exactly libcst's whole-module positions (also where `ast` cannot parse: fallback)."""
    import libcst as cst
    from libcst.metadata import PositionProvider

    from keyport_lint.analysis.positions import node_spans
    from keyport_lint.config import Config
    from keyport_lint.context import PythonContext

    settings = Config(root=Path(".")).settings
    cases = sorted(FIXTURES.glob("KP3*/*.py"))[:12] + sorted(FIXTURES.glob("KP2*/*.py"))[:6]
    for case in cases:
        text = case.read_text(encoding="utf-8") + extra
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            pytest.skip("this libcst does not parse the newer syntax")
        ctx = PythonContext(case.name, text, module, settings)
        whole = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        nodes = [n for n in whole if isinstance(n, (cst.Name, cst.Call, cst.FunctionDef,
                                                    cst.SimpleString, cst.If))]
        spans = node_spans(ctx, nodes)
        for node in nodes:
            rng = whole[node]
            assert spans[id(node)] == (rng.start.line, rng.start.column, rng.end.line,
                                       rng.end.column), (case.name, node)


def test_the_shared_walk_visits_in_libcsts_order() -> None:
    """Collectors written for libcst's visitor see the same events from the iterative walk:
    node visits and leaves, and field events, in the same order (pruning included)."""
    import inspect

    import libcst as cst

    from keyport_lint.analysis.fastvisit import TOKENS, FastVisitor, walk

    node_types = [t for t in vars(cst).values() if isinstance(t, type)
                  and issubclass(t, cst.CSTNode) and not inspect.isabstract(t)]
    fields = [("If", "body"), ("If", "orelse"), ("FunctionDef", "body"), ("Try", "body"),
              ("Call", "args"), ("FunctionDef", "params")]

    def recorder(opaque: frozenset) -> FastVisitor:
        methods: dict = {"OPAQUE": opaque}
        for t in node_types:
            methods[f"visit_{t.__name__}"] = (
                lambda self, n: self.log.append(("v", type(n).__name__))
                or (False if isinstance(n, cst.Lambda) else None))
            methods[f"leave_{t.__name__}"] = (
                lambda self, n: self.log.append(("l", type(n).__name__)))
        for owner, field in fields:
            methods[f"visit_{owner}_{field}"] = (
                lambda self, n, f=field: self.log.append(("fv", type(n).__name__, f)))
            methods[f"leave_{owner}_{field}"] = (
                lambda self, n, f=field: self.log.append(("fl", type(n).__name__, f)))
        collector = type("Recorder", (FastVisitor,), methods)()
        collector.log = []  # type: ignore[attr-defined]
        return collector

    class Reference(cst.CSTVisitor):
        def __init__(self, opaque: frozenset) -> None:
            self.log: list = []
            self.opaque = opaque

        def on_visit(self, node: cst.CSTNode) -> bool:
            if type(node) in self.opaque:
                return False
            self.log.append(("v", type(node).__name__))
            return not isinstance(node, cst.Lambda)

        def on_leave(self, node: cst.CSTNode) -> None:
            if type(node) not in self.opaque:
                self.log.append(("l", type(node).__name__))

        def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            if (type(node).__name__, attribute) in fields:
                self.log.append(("fv", type(node).__name__, attribute))

        def on_leave_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            if (type(node).__name__, attribute) in fields:
                self.log.append(("fl", type(node).__name__, attribute))

    code = "".join(p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("KP3*/*.py")))
    code += "f = lambda x: (x, [y for y in x])\n"
    module = cst.parse_module(code)
    for opaque in (frozenset(), TOKENS):
        mine, theirs = recorder(opaque), Reference(opaque)
        walk(module, mine)
        module.visit(theirs)
        assert mine.log == theirs.log  # type: ignore[attr-defined]


def test_json_stats_count_one_walk_and_the_taint_pass_per_parsed_file(project) -> None:
    import json

    project.write("app.py", "import logging\nimport os\n\nlog = logging.getLogger(__name__)\n"
                            "KEYPORT_API_KEY = os.environ['KEYPORT_API_KEY']\n"
                            "log.info(KEYPORT_API_KEY)\n")
    result = project.run("check", "--no-cache", "--exit-zero", "--output-format", "json", ".")
    stats = json.loads(result.stdout)["stats"]
    assert stats["parsed"] == 1
    assert stats["walks_per_parsed_file"] == 2  # the shared walk and the taint pass


def test_child_fields_are_the_fields_libcst_visits_in_source_order() -> None:
    """`child_fields` reads the field names from the code of libcst's
    `_visit_and_replace_children` (its constants); they must be the names its source passes
    to `visit_*`, in that order, for every node type."""
    import dataclasses
    import inspect
    import re

    from keyport_lint.analysis.fastvisit import NODE_TYPES, child_fields

    visit = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')
    checked = 0
    for kind in NODE_TYPES:
        if not dataclasses.is_dataclass(kind) or inspect.isabstract(kind):
            continue
        source = inspect.getsource(kind._visit_and_replace_children)
        assert child_fields(kind) == tuple(dict.fromkeys(visit.findall(source))), kind
        checked += 1
    assert checked > 150


def test_name_globs_answer_as_the_translated_regex() -> None:
    """Literal names are matched by set lookup, wildcards by regex: the answer must be the
    one fnmatch's translation gives, for every name-pattern list of the settings."""
    import fnmatch
    import re

    from keyport_lint.analysis.nameglobs import Globs
    from keyport_lint.config import Config

    settings = Config(root=Path(".")).settings
    lists = [v for v in settings.as_dict().values()
             if isinstance(v, list) and v and all(isinstance(p, str) for p in v)]
    names = {n for v in lists for p in v for n in (p, p.replace("*", "x"), p + ".y",
                                                    "a." + p, p.upper(), p[:-1])}
    names |= {"logger.info", "os.environ.get", "requests.post", "x", ""}
    checked = 0
    for patterns in lists:
        globs = Globs(tuple(patterns))
        regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
        for name in names:
            assert bool(globs.match(name)) == bool(regex.match(name)), (patterns, name)
            assert (globs.match(name) is None) == (regex.match(name) is None)
            checked += 1
    assert checked > 1000
