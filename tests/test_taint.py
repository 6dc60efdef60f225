"""The taint analysis on its own: sources, propagation, sanitisers, sinks, modules.

Snippets mark the lines where a flow must be found with `# leak`; every other line must stay
silent. The configuration is built here from the shared settings, as a rule kind would.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

from keyport_lint.analysis.taint import SinkSpec, TaintConfig, constant_value, taint_analysis
from keyport_lint.catalog import builtin_rules
from keyport_lint.config import Config
from keyport_lint.context import PythonContext
from keyport_lint.index import ProjectIndex
from keyport_lint.kinds.taint import combined_config
from keyport_lint.settings import Settings

from .conftest import KEY, SECRET

SETTINGS: Settings = Config(root=Path(".")).settings


RULES = {r.id: r for r in builtin_rules()}


def make_config(sanitizers: tuple[str, ...] = ()) -> TaintConfig:
    """The configuration of the built-in taint rules for both secrets (one pass, two labels),
    as the rule kind builds it; `sanitizers` adds inline sanitisers as a user rule would."""
    rules = [RULES["KP201"], RULES["KP202"]]
    if sanitizers:
        rules = [replace(r, params={**r.params, "sanitizers": list(sanitizers)}) for r in rules]
    return combined_config(rules, SETTINGS)


LOG_SINKS = SinkSpec(tuple(SETTINGS["log-sinks"]), tuple(SETTINGS["logger-names"]),
                     tuple(SETTINGS["logger-factories"]))


def context(code: str, display: str = "m.py", project: ProjectIndex | None = None,
            path: Path | None = None) -> PythonContext:
    text = textwrap.dedent(code)
    return PythonContext(display, text, cst.parse_module(text), SETTINGS, project, path)


def flows(code: str, sinks: SinkSpec = LOG_SINKS, config: TaintConfig | None = None,
          **kw: object) -> list[tuple[int, str, str]]:
    """(line, sink, source description) of every flow."""
    ctx = context(code, **kw)  # type: ignore[arg-type]
    result = taint_analysis(ctx, config or make_config())
    found = result.flows(sinks)
    positions = cst.MetadataWrapper(ctx.module, unsafe_skip_copy=True).resolve(PositionProvider)
    return sorted((positions[f.node].start.line, f.sink, f.source.desc) for f in found)


def leak_lines(code: str) -> list[int]:
    return [n for n, line in enumerate(textwrap.dedent(code).splitlines(), 1) if "# leak" in line]


def assert_leaks(code: str, **kw: object) -> list[tuple[int, str, str]]:
    found = flows(code, **kw)
    assert [line for line, _, _ in found] == leak_lines(code), found
    return found


HEADER = """\
import logging, os
from keyport import KeyPort
log = logging.getLogger(__name__)
"""


# -- within a function ------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "x = key\nlog.info(x)  # leak",
    "a, b = key, 'x'\nlog.info(b)\nlog.info(a)  # leak",
    "a, b = pair = (key, 1)\nlog.info(a)  # leak",
    "msg = 'k='\nmsg += key\nlog.info(msg)  # leak",
    "if (k := os.getenv('KEYPORT_API_KEY')):\n    log.info(k)  # leak",
    "log.info(f'key={key}')  # leak",
    "log.info('key=%s' % key)  # leak",
    "log.info('key=%s %s' % ('a', key))  # leak",
    "log.info('key={}'.format(key))  # leak",
    "log.info('key=' + key)  # leak",
    "log.info(str(key))  # leak",
    "log.info(repr(key))  # leak",
    "log.info(format(key))  # leak",
    "log.info(key.strip().upper())  # leak",
    "log.info(key.encode().decode())  # leak",
    "log.info(' '.join(['Bearer', key]))  # leak",
    "log.info([key, 1])  # leak",
    "log.info({'k': key})  # leak",
    "h = {'Authorization': 'Bearer ' + key, 'Accept': 'json'}\nlog.info(h)  # leak",
    "h = {'Authorization': 'Bearer ' + key, 'Accept': 'json'}\nlog.info(h['Accept'])",
    "h = {'Authorization': 'Bearer ' + key}\nlog.info(h['Authorization'])  # leak",
    "h = {'Authorization': 'Bearer ' + key}\nlog.info(h.get('Authorization'))  # leak",
    "h = {}\nh['Authorization'] = f'Bearer {key}'\nlog.info(h)  # leak",
    "h = {}\nh.update({'Authorization': key})\nlog.info(h)  # leak",
    "h = dict(Authorization=key)\nlog.info(h)  # leak",
    "parts = []\nparts.append(key)\nlog.info(parts)  # leak",
    "log.info([k for k in [key]])  # leak",
    "for part in [key]:\n    log.info(part)  # leak",
    "x = key if key else ''\nlog.info(x)  # leak",
    "log.info(key or 'missing')  # leak",
    "log.info(key[:40])  # leak",
    "log.info(key[4:])  # leak",
    "log.info(key[-4:])  # leak",
    "log.info(f'{key!r:>80}')  # leak",
    "import base64\nlog.info(base64.b64encode(key.encode()))  # leak",
    "import json\nlog.info(json.dumps({'api_key': key}))  # leak",
    "x = key\nx = 'other'\nlog.info(x)",
    "if flag:\n    x = key\nelse:\n    x = ''\nlog.info(x)  # leak",
])
def test_propagation_within_a_function(body: str) -> None:
    code = HEADER + "def f(flag):\n    key = os.environ['KEYPORT_API_KEY']\n" + textwrap.indent(
        body, "    ") + "\n"
    assert_leaks(code)


@pytest.mark.parametrize("expr", [
    "key[:12]", "key[:8]", "key[2:10]", "key[:PREFIX]", "f'{key[:12]}…'", "f'{key:.12}'",
    "len(key)", "bool(key)", "key == 'x'", "key is None", "not key",
    "'KEYPORT_API_KEY' in os.environ",
    "key.startswith('kp_live_')", "key.count('_')", "'set' if key else 'missing'",
    "hashlib.sha256(key.encode()).hexdigest()", "mask_key(key)", "redact(key)",
    "utils.key_fingerprint(key)", "truncate(key)", "obfuscate(key)", "key_prefix(key)",
    "'KEYPORT_API_KEY'", "ENV_NAME", "isinstance(key, str)", "type(key)",
])
def test_sanitisers_and_non_values(expr: str) -> None:
    code = HEADER + (
        "import hashlib, utils\nPREFIX = 12\nENV_NAME = 'KEYPORT_API_KEY'\n"
        f"key = os.environ[ENV_NAME]\nlog.info({expr})\n")
    assert flows(code) == []


def test_a_removeprefix_is_no_prefix() -> None:
    """String methods pass taint through even when their name looks like a sanitiser."""
    assert_leaks(HEADER + "key = os.environ['KEYPORT_API_KEY']\n"
                 "log.info(key.removeprefix('kp_live_'))  # leak\n")


def test_a_configured_sanitiser_and_sink() -> None:
    code = HEADER + ("import audit\nkey = os.environ['KEYPORT_API_KEY']\n"
                     "audit.record(audit.clean(key))\naudit.record(key)  # leak\n"
                     "log.info(audit.clean(key))\n")
    sinks = SinkSpec((*LOG_SINKS.patterns, "audit.record"), LOG_SINKS.logger_names,
                     LOG_SINKS.logger_factories)
    config = make_config(sanitizers=("audit.clean",))
    assert_leaks(code, sinks=sinks, config=config)


# -- sources ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "os.environ['KEYPORT_API_KEY']", "os.environ.get('KEYPORT_API_KEY')",
    "os.getenv('KEYPORT_API_KEY', '')", "config('KEYPORT_API_KEY')",
    "settings.KEYPORT_API_KEY", "settings['keyport_api_key']", "getattr(settings, 'KP_API_KEY')",
    "KEYPORT_API_KEY", "kp_api_key", "client.api_key", "self_made.api_key",
    f"{KEY!r}", "json.load(open('keyport.json'))['api_key']",
    "json.loads(Path('conf/keyport.json').read_text()).get('api_key')",
])
def test_sources(source: str) -> None:
    code = HEADER + ("import json\nfrom pathlib import Path\nfrom decouple import config\n"
                     f"value = {source}\nlog.info(value)  # leak\n")
    found = assert_leaks(code)
    assert KEY not in repr(found)


@pytest.mark.parametrize("not_source", [
    "license_key", "os.environ['LICENSE_KEY']", "os.environ['OPENAI_API_KEY']",
    "KEYPORT_LICENSE_KEY", "'kp_live_xxxxxxxxxxxxxxxxxxxxxxxx'", "'kp_live_YOUR_KEY_HERE_PLEASE'",
    "json.load(open('keyport.json'))['base_url']", "request.headers['X-KeyPort-Signature']",
])
def test_not_sources(not_source: str) -> None:
    code = HEADER + f"import json\ndef f(license_key, request):\n    log.info({not_source})\n"
    assert flows(code) == []


def test_the_whole_config_file_holds_the_key() -> None:
    assert_leaks(HEADER + "import json\nwith open('keyport.json') as fh:\n"
                 "    cfg = json.load(fh)\nlog.info('config %s', cfg)  # leak\n")


def test_generic_names_count_only_in_keyport_code() -> None:
    stripe = ("import logging, os, stripe\napi_key = os.environ['STRIPE_API_KEY']\n"
              "logging.info('stripe %s', api_key)\ndef f(api_key):\n    print(api_key)\n")
    assert flows(stripe) == []
    keyport = stripe.replace("stripe", "keyport")
    assert [line for line, _, _ in flows(keyport)] == [3, 5]


def test_another_vendors_module_attribute_is_not_a_source() -> None:
    code = HEADER + ("import openai\nopenai.api_key = os.environ['OPENAI_API_KEY']\n"
                     "log.info(openai.api_key)\nclient = KeyPort(os.environ['KEYPORT_API_KEY'])\n"
                     "log.info(client.api_key)  # leak\n")
    assert_leaks(code)


def test_secret_family_is_separate() -> None:
    code = HEADER + (f"SECRET = {SECRET!r}\nWEBHOOK = os.environ['KEYPORT_WEBHOOK_SECRET']\n"
                     "print(SECRET)  # leak\nprint(WEBHOOK)  # leak\n")
    found = assert_leaks(code)
    assert found[0][2].startswith("literal whsec_") and SECRET not in found[0][2]


# -- within a module ----------------------------------------------------------------------------

def test_return_values_and_parameters() -> None:
    code = HEADER + '''\
def get_key():
    return os.environ["KEYPORT_API_KEY"]

def headers(k):
    return {"Authorization": f"Bearer {k}", "Accept": "json"}

def wrap(x):
    return f"<{x}>"

def show(value):
    print(value)  # leak

def main():
    key = get_key()
    log.info(wrap("hello"))
    log.info(wrap(key))  # leak
    log.info(headers(key))  # leak
    log.info(headers(key)["Accept"])
    log.info(headers("none"))
    show(key)
'''
    assert_leaks(code)


def test_module_level_names_and_globals_mutated_in_functions() -> None:
    code = HEADER + '''\
KEY = os.environ["KEYPORT_API_KEY"]
HEADERS = {}
TIMEOUT = 10

def init():
    HEADERS["Authorization"] = "Bearer " + KEY

def dump():
    log.debug("%s %s", TIMEOUT, HEADERS)  # leak
    log.debug("key %s", KEY)  # leak
'''
    assert_leaks(code)


def test_self_attributes_across_methods() -> None:
    code = HEADER + '''\
class Client:
    def __init__(self, key, url):
        self.key = key
        self.url = url
        self.session = make_session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        self._log = logging.getLogger("client")

    def debug(self):
        self._log.info("url %s", self.url)
        self._log.info("key %s", self.key)  # leak
        self._log.info("headers %s", self.session.headers)  # leak

def main():
    c = Client(os.environ["KEYPORT_API_KEY"], "https://api.keyport.sbs")
    print(c.url)
    print(c.key)  # leak
'''
    assert_leaks(code)


def test_dataclass_fields_by_keyword_and_position() -> None:
    code = HEADER + '''\
from dataclasses import dataclass

@dataclass
class Conf:
    token: str
    url: str

conf = Conf(os.environ["KEYPORT_API_KEY"], url="https://api.keyport.sbs")
print(conf.url)
print(conf.token)  # leak
'''
    assert_leaks(code)


# -- sinks --------------------------------------------------------------------------------------

def test_log_sinks() -> None:
    code = '''\
import logging, os, sys, warnings, pprint
import click, structlog
from loguru import logger
from rich.console import Console
key = os.environ["KEYPORT_API_KEY"]
slog = structlog.get_logger()
console = Console()
logging.info("k %s", key)  # leak
logging.getLogger(__name__).warning(key)  # leak
logging.log(logging.INFO, "k %s", key)  # leak
logging.error("x", extra={"key": key})  # leak
print(key)  # leak
pprint.pprint({"k": key})  # leak
sys.stderr.write(key)  # leak
warnings.warn(f"key {key}")  # leak
click.echo(key)  # leak
logger.info("key {}", key)  # leak
slog.info("event", key=key)  # leak
console.print(key)  # leak
print("hello", file=sys.stderr)
other.info(key)
'''
    assert_leaks(code)


def test_exception_messages() -> None:
    code = HEADER + '''\
key = os.environ["KEYPORT_API_KEY"]
def check():
    if not key.startswith("kp_live_"):
        raise ValueError(f"bad key {key}")  # leak
    err = RuntimeError("bad key " + key)
    raise err  # leak
def fine():
    raise ValueError("KEYPORT_API_KEY is not set")
'''
    assert_leaks(code)


def test_response_sinks_for_kp501() -> None:
    """The same analysis answers other sink sets: returns of chosen functions, calls, stores."""
    code = HEADER + '''\
from flask import Flask, jsonify, make_response
app = Flask(__name__)
KEY = os.environ["KEYPORT_API_KEY"]

@app.get("/config")
def config():
    return jsonify(key=KEY)

@app.get("/raw")
def raw():
    return {"key": KEY}

def helper():
    return KEY

@app.get("/cookie")
def cookie():
    resp = make_response("ok")
    resp.set_cookie("kp", KEY)
    resp.headers["X-Key"] = KEY
    return resp
'''
    ctx = context(code)
    result = taint_analysis(ctx, make_config())
    handlers = {id(s) for s in ctx.module.body if isinstance(s, cst.FunctionDef)
                and s.decorators}
    spec = SinkSpec(("flask.jsonify", ".set_cookie", "return", "store:*.headers[]"))
    found = sorted((f.kind, f.sink) for f in result.flows(spec, functions=handlers))
    assert found == [("call", "jsonify"), ("call", "resp.set_cookie"), ("return", "return"),
                     ("store", "resp.headers[]")]


# -- across modules -----------------------------------------------------------------------------

def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def project_flows(root: Path, rel: str) -> list[tuple[int, str, str]]:
    from keyport_lint.analysis.context import marker_regex

    index = ProjectIndex(root, SETTINGS, marker_regex(SETTINGS))
    path = (root / rel).resolve()
    return flows(path.read_text(), display=rel, project=index, path=path)


def test_names_imported_from_project_modules(tmp_path: Path) -> None:
    write(tmp_path, {
        "settings.py": "import os\nSECRET_VALUE = os.environ['KEYPORT_API_KEY']\nTIMEOUT = 5\n",
        "app/__init__.py": "",
        "app/config.py": '''\
            import os

            class Settings:
                def __init__(self):
                    self.api_key = os.environ["KEYPORT_API_KEY"]
                    self.base_url = "https://api.keyport.sbs"

            settings = Settings()

            def bearer():
                return "Bearer " + settings.api_key

            def quote(value):
                return f"'{value}'"
            ''',
        "app/main.py": '''\
            import logging
            import settings as s
            from settings import SECRET_VALUE, TIMEOUT
            from .config import settings, bearer, quote
            log = logging.getLogger(__name__)
            log.info("%s", TIMEOUT)
            log.info("%s", SECRET_VALUE)  # leak
            log.info("%s", s.SECRET_VALUE)  # leak
            log.info("%s", settings.base_url)
            log.info("%s", settings.api_key)  # leak
            log.info("%s", bearer())  # leak
            log.info("%s", quote("hello"))
            log.info("%s", quote(SECRET_VALUE))  # leak
            ''',
    })
    found = project_flows(tmp_path, "app/main.py")
    assert [line for line, _, _ in found] == leak_lines((tmp_path / "app/main.py").read_text())
    assert ("KEYPORT_API_KEY", 2) in {(d, 2) for _, _, d in found}


def test_a_missing_module_leaves_the_name_to_decide(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": '''\
        import logging
        from vault import KEYPORT_API_KEY, TOKEN
        logging.info("%s", TOKEN)
        logging.info("%s", KEYPORT_API_KEY)  # leak
        '''})
    found = project_flows(tmp_path, "main.py")
    assert [line for line, _, _ in found] == [4]


def test_import_cycles_terminate(tmp_path: Path) -> None:
    write(tmp_path, {
        "a.py": "import os\nfrom b import B\nA = os.environ['KEYPORT_API_KEY'] + B\n",
        "b.py": "from a import A\nB = A\nprint(B)  # leak\n",
    })
    assert [line for line, _, _ in project_flows(tmp_path, "b.py")] == [3]


# -- robustness ---------------------------------------------------------------------------------

ODD_CODE = [
    "x = " + " + ".join(["KEYPORT_API_KEY"] * 300) + "\nprint(x)\n",
    "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
    "def f(key):\n    return f(key)\nprint(f(KEYPORT_API_KEY))\n",
    "def f(a):\n    return g(a)\ndef g(b):\n    return f(b)\nprint(f(KEYPORT_API_KEY))\n",
    "class A(B, metaclass=M):\n    x: int\n    def m(self, *a, **k): return self.m(*a, **k)\n",
    "lambda: print(KEYPORT_API_KEY)\n",
    "match x:\n    case {'a': b}:\n        print(b)\n",
    "async def f():\n    async with a as b:\n        async for c in b:\n"
    "            await print(c)\n",
    "try:\n    pass\nexcept* ValueError as e:\n    print(e)\n",
    "del x\nglobal y\nprint(*a, **k)\nx[1:2, ::3] = 4\n(a := 1)\n",
    "if a:\n" + "".join("    " * i + f"if a{i}:\n" for i in range(1, 60)) + "    " * 60 + "pass\n",
]


@pytest.mark.parametrize("code", ODD_CODE, ids=[str(i) for i in range(len(ODD_CODE))])
def test_odd_code_never_crashes(code: str) -> None:
    flows(HEADER + code)


def test_long_literal_concatenations_are_read_without_recursion() -> None:
    node: cst.BaseExpression = cst.SimpleString("'z'")
    for _ in range(5000):
        node = cst.ConcatenatedString(cst.SimpleString("'a'"), node)
    assert constant_value(node) == "a" * 5000 + "z"


def test_long_elif_chains_are_walked_without_recursion() -> None:
    """libcst's own visitors overflow on such code; the shared walk and the taint pass must
    not."""
    code = "x = 1\nif a:\n    x = 2\n" + "".join(
        f"elif a == {i}:\n    x = KEYPORT_API_KEY\n" for i in range(1500)) + "print(x)\n"
    try:
        ctx = context(code)
    except RecursionError:  # pragma: no cover - the parser of this platform gave up first
        pytest.skip("libcst cannot parse this deep a chain here")
    result = taint_analysis(ctx, make_config())
    assert [f.sink for f in result.flows(LOG_SINKS)] == ["print"]


def test_methods_and_classes_used_before_their_definition() -> None:
    code = HEADER + '''\
def make():
    return Client(os.environ["KEYPORT_API_KEY"])

class Client:
    def __init__(self, key):
        self.headers = self._headers(key)

    def dump(self):
        log.debug(self.headers)  # leak

    def _headers(self, key):
        return {"Authorization": "Bearer " + key}
'''
    assert_leaks(code)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
def test_generated_code_never_crashes_the_analysis() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    hypothesmith = pytest.importorskip("hypothesmith")
    from keyport_lint.analysis.facts import module_facts

    @hypothesis.settings(max_examples=50, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(hypothesmith.from_grammar())
    def check(code: str) -> None:
        try:  # a KeyPort import: generic names count, the widest analysis
            ctx = context("import keyport\n" + code)
            ctx.analysis(module_facts)
        except (cst.ParserSyntaxError, RecursionError):
            return  # not this analysis' input
        taint_analysis(ctx, make_config()).flows(LOG_SINKS)

    check()
