"""The shared validation-results analysis: what it finds, so KP4 and KP502 can rely on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import libcst.matchers as m
import pytest

from keyport_lint.analysis.results import (
    BODY,
    CLIENT,
    RAW,
    RESPONSE,
    SDK_RESULT,
    STATUS,
    VALID,
    FunctionResults,
    ResultsAnalysis,
    Value,
    validation_results,
)
from keyport_lint.config import Config
from keyport_lint.context import PythonContext


def analyse(*parts: str) -> tuple[ResultsAnalysis, cst.Module]:
    text = "\n".join(textwrap.dedent(p) for p in parts)
    module = cst.parse_module(text)
    ctx = PythonContext("t.py", text, module, Config(root=Path(".")).settings)
    return ctx.analysis(validation_results), module


def function(analysis: ResultsAnalysis, name: str) -> FunctionResults:
    return next(f for f in analysis.functions if f.name == name)


def returned(analysis: ResultsAnalysis, name: str) -> Value | None:
    """The value of the last `return` of a function."""
    returns = function(analysis, name).returns
    return returns[-1][1] if returns else None


HEADER = """
import json, os, urllib.request
import aiohttp, httpx, requests
from keyport import KeyPort
from tornado.httpclient import AsyncHTTPClient
URL = "https://api.keyport.sbs/api/v1/validate"
"""


@pytest.mark.parametrize("source", [
    "client = KeyPort(os.environ['K'])\ndef f(k):\n    return client.validate(k)",
    "def f(k):\n    with KeyPort('x') as kp:\n        return kp.validate(k)",
    "def f(k):\n    return KeyPort.from_config_file('keyport.json').validate(k)",
    "def f(k, kp: KeyPort):\n    return kp.validate(k)",
    "def make():\n    return KeyPort('x')\ndef f(k):\n    return make().validate(k)",
    "def make() -> KeyPort:\n    return CACHE['c']\ndef f(k):\n    return make().validate(k)",
    "class S:\n    def __init__(self):\n        self.c = KeyPort('x')\n"
    "    def f(self, k):\n        return self.c.validate(k)",
    "class S:\n    c = KeyPort('x')\n    def f(self, k):\n        return self.c.validate(k)",
    "class S:\n    @property\n    def c(self):\n        return KeyPort('x')\n"
    "    def f(self, k):\n        return self.c.validate(k)",
])
def test_sdk_results_from_every_kind_of_client(source: str) -> None:
    analysis, _ = analyse(HEADER, source)
    value = returned(analysis, "f")
    assert value is not None and value.kind == SDK_RESULT and value.origin == "sdk"
    assert value.is_result and value.is_validation


@pytest.mark.parametrize("source, kind", [
    ("def f(k):\n    return requests.post(URL, json={})", RESPONSE),
    ("def f(k):\n    return requests.post(URL, json={}).json()", BODY),
    ("def f(k):\n    return json.loads(requests.post(URL).text)", BODY),
    ("def f(k):\n    return requests.request('POST', URL).content", RAW),
    ("def f(k):\n    with httpx.Client() as c:\n        return c.post(URL).json()", BODY),
    ("async def f(k):\n    async with httpx.AsyncClient() as c:\n"
     "        r = await c.post(URL)\n    return r.json()", BODY),
    ("async def f(k):\n    async with aiohttp.ClientSession() as s:\n"
     "        async with s.post(URL, json={}) as r:\n            return await r.json()", BODY),
    ("def f(k):\n    req = urllib.request.Request(URL, data=b'')\n"
     "    with urllib.request.urlopen(req) as r:\n        return json.load(r)", BODY),
    ("async def f(k):\n    r = await AsyncHTTPClient().fetch(URL, method='POST')\n"
     "    return json.loads(r.body)", BODY),
    ("def f(k):\n    base = 'https://api.keyport.sbs/api/v1'\n"
     "    return requests.post(base + '/validate').json()", BODY),
])
def test_raw_http_results_and_parsed_bodies(source: str, kind: str) -> None:
    analysis, _ = analyse(HEADER, source)
    value = returned(analysis, "f")
    assert value is not None and value.kind == kind and value.origin == "http"
    assert value.is_validation
    assert value.is_result == (kind == BODY)
    assert value.is_raw_response == (kind in (RESPONSE, RAW))


def test_status_and_valid_through_assignment_unpacking_get_and_subscript() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def f(k):
            result = client.validate(k)
            valid, status = result["valid"], result.get("status")
            lowered = status.lower()
            return valid, lowered
    """)
    values = function(analysis, "f").values
    assert values["result"].kind == SDK_RESULT
    assert values["valid"].kind == VALID and values["status"].kind == STATUS
    assert values["lowered"].kind == STATUS and values["lowered"].is_validation


def test_generic_request_helper_is_resolved_at_each_call_site() -> None:
    analysis, _ = analyse(HEADER, """
        class API:
            def __init__(self, base):
                self.base = base
                self.session = requests.Session()
            def _call(self, path, payload):
                return self.session.post(f"{self.base}{path}", json=payload).json()
            def validate(self, k):
                return self._call("/api/v1/validate", {"license_key": k})
            def lookup(self, k):
                return self._call(f"/api/v1/license/{k}", {})
    """)
    generic = returned(analysis, "_call")
    assert generic is not None and generic.kind == BODY and not generic.is_validation
    assert returned(analysis, "validate").is_result
    lookup = returned(analysis, "lookup")
    assert lookup is not None and not lookup.is_validation and lookup.endpoint == "api"


def test_helpers_returning_results_status_and_flags() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def fetch(k):
            return client.validate(k)
        def status_of(k):
            return fetch(k)["status"]
        def is_ok(k):
            return client.validate(k)["valid"]
        def both(k):
            r = fetch(k)
            return r["valid"], r["status"]
        def use(k):
            ok, why = both(k)
            return why
    """)
    assert returned(analysis, "status_of").kind == STATUS
    assert returned(analysis, "is_ok").kind == VALID
    assert returned(analysis, "use").kind == STATUS


def test_parameters_take_the_results_their_callers_pass() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def render(result):
            return result["status"]
        def page(k):
            return render(client.validate(k))
    """)
    assert returned(analysis, "render").kind == STATUS
    assert returned(analysis, "page").kind == STATUS


@pytest.mark.parametrize("source", [
    "import stripe\ndef f(i):\n    return stripe.PaymentIntent.retrieve(i)",
    "def f(k):\n    return requests.get('https://api.example.com/x').json()",
    "def f(k):\n    return KeyPort('x').get_license(k)",
    "def f(k):\n    return requests.get(f'https://api.keyport.sbs/api/v1/license/{k}').json()",
    "def f(d):\n    return d.get('status')",
    "def f(k):\n    return validate(k)",
])
def test_other_services_and_lookups_are_not_validation_results(source: str) -> None:
    analysis, _ = analyse(HEADER, source)
    value = returned(analysis, "f")
    assert value is None or not value.is_validation
    assert not function(analysis, "f").results


def test_value_of_answers_for_evaluated_expressions() -> None:
    """KP502 asks what a returned expression holds."""
    analysis, module = analyse(HEADER, """
        def handler(k):
            resp = requests.post(URL, json={"license_key": k})
            return resp.text
    """)
    ret = m.findall(module, m.Return())[0]
    value = analysis.value_of(ret.value)
    assert value is not None and value.is_raw_response


def test_keyport_calls_and_the_try_that_guards_them() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def helper(k):
            return client.get_license(k)
        def f(k):
            try:
                helper(k)
                requests.post(URL)
                requests.get("https://example.com/")
            except Exception:
                pass
    """)
    [(guard, calls)] = analysis.guarded_calls
    assert isinstance(guard, cst.Try) and len(calls) == 2


def test_exception_names_caught_or_registered_anywhere() -> None:
    analysis, _ = analyse(HEADER, """
        from keyport import KeyPortAuthError, KeyPortRateLimitError
        app.register_error_handler(KeyPortAuthError, handler)
        try:
            pass
        except (KeyPortRateLimitError, ValueError):
            pass
    """)
    assert {"KeyPortAuthError", "KeyPortRateLimitError", "ValueError"} <= analysis.exception_refs


@pytest.mark.parametrize("source", [
    "def f(x):\n    return f(x)\ndef g(x):\n    return g(f(x))",
    "def f(*a, **k):\n    return f(*a, **k)[0]",
    "x = (y := x)\nz = [q for q in z if (w := q)]",
    "class A(A):\n    pass\nclass B(A):\n    def m(self):\n        return self.m().n",
    "def f():\n    match x:\n        case {**rest}:\n            pass\n        case [a, *b] if a:\n"
    "            pass\n        case C(d=1):\n            pass",
    "lambda: (yield)\nasync def g():\n    async for a in b:\n        await a\n",
    "r = KeyPort('x').validate(k)\nr[0][1:2]['status'] += 1\ndel r\nglobal q\n",
    "def f(client: 'KeyPort'):\n    return client.validate()['valid'].status",
    "s = '\\N{BAD}'\nt = b'\\xff' + 'x'\nu = f'{s!r:>{t}}' % 3",
])
def test_odd_code_never_crashes(source: str) -> None:
    analyse(HEADER, source)


def test_client_value_is_tracked() -> None:
    analysis, _ = analyse(HEADER, "c = KeyPort('x')\n")
    assert function(analysis, "<module>").values["c"] == Value(CLIENT)


def test_names_by_kind_and_function_lookup() -> None:
    analysis, module = analyse(HEADER, """
        client = KeyPort("x")
        def f(k):
            result = client.validate(k)
            resp = requests.post(URL)
            data = resp.json()
            status = data["status"]
            other = requests.get("https://example.com").json()
    """)
    found = analysis.function(m.findall(module, m.FunctionDef())[0])
    assert found is function(analysis, "f")
    assert found.names(SDK_RESULT, BODY) == ["result", "data"]
    assert found.names(RESPONSE) == ["resp"] and found.names(STATUS) == ["status"]


def test_relative_paths_need_a_client_with_a_base_url() -> None:
    analysis, _ = analyse(HEADER, """
        def kp(k):
            with httpx.Client(base_url="https://api.keyport.sbs") as http:
                return http.post("/api/v1/validate").json()
        def own(test_client, k):
            return test_client.post("/api/v1/validate").json()
        @app.post("/api/v1/validate")
        def route(k):
            return None
    """)
    assert returned(analysis, "kp").is_result
    assert returned(analysis, "own") is None
    assert not function(analysis, "route").results


# -- replaying only what changed ----------------------------------------------------------------
# A unit is replayed in a later round only when something it read from the other units changed
# after it last ran. Each case below is found only because the unit that read the shared state
# too early is replayed: the reader comes first in the module, the writer after it.

def test_caller_defined_before_its_helper_sees_the_helpers_result() -> None:
    analysis, _ = analyse(HEADER, """
        def view(k):
            return make().validate(k)
        def make():
            return build()
        def build():
            return KeyPort("x")
    """)
    value = returned(analysis, "view")
    assert value is not None and value.kind == SDK_RESULT and value.is_result
    made = returned(analysis, "make")
    assert made is not None and made.kind == CLIENT


def test_method_reads_the_client_an_initialiser_below_it_stores() -> None:
    analysis, _ = analyse(HEADER, """
        class Licensing:
            def check(self, k):
                return self.client.validate(k)
            def __init__(self):
                self.client = KeyPort("x")
    """)
    value = returned(analysis, "check")
    assert value is not None and value.kind == SDK_RESULT and value.is_result


def test_parameter_bound_by_a_caller_below_the_function() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def status_of(result):
            return result["status"]
        def view(k):
            return status_of(client.validate(k))
    """)
    value = returned(analysis, "status_of")
    assert value is not None and value.kind == STATUS and value.is_validation


def test_statuses_told_apart_by_a_helper_below_the_caller() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def view(k):
            result = client.validate(k)
            return decide(result["status"])
        def decide(status):
            relay(status)
        def relay(status):
            if status == "active":
                allow()
            elif status == "expired":
                renew()
    """)
    statuses, _, _ = function(analysis, "view").handled()
    assert {"active", "expired"} <= statuses



def test_nested_function_reads_a_name_its_enclosing_function_binds_from_a_later_helper() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def outer(k):
            def inner():
                return result
            result = fetch(k)
            return inner()
        def fetch(k):
            return client.validate(k)
    """)
    value = returned(analysis, "inner")
    assert value is not None and value.kind == SDK_RESULT and value.is_result


def test_unguarded_keyport_call_of_a_helper_below_the_caller() -> None:
    analysis, _ = analyse(HEADER, """
        client = KeyPort("x")
        def view(k):
            try:
                check(k)
            except Exception:
                pass
        def check(k):
            client.validate(k)
    """)
    assert function(analysis, "view").keyport_calls


def test_a_redefined_method_binds_the_last_def_as_python_does() -> None:
    analysis, _ = analyse(HEADER, """
        class Licensing:
            def client(self):
                return None
            def client(self):
                return KeyPort("x")
            def check(self, k):
                return self.client().validate(k)
    """)
    value = returned(analysis, "check")
    assert value is not None and value.kind == SDK_RESULT and value.is_result


def test_a_property_with_a_setter_still_reads_its_getter() -> None:
    analysis, _ = analyse(HEADER, """
        class Licensing:
            @property
            def client(self):
                return KeyPort("x")
            @client.setter
            def client(self, value):
                pass
            def check(self, k):
                return self.client.validate(k)
    """)
    value = returned(analysis, "check")
    assert value is not None and value.kind == SDK_RESULT and value.is_result
