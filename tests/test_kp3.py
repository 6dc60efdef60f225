"""KP3 beyond the fixtures: the shared endpoint analysis KP5 builds on, the pre-filter, the
settings users extend, and the kind's own validation."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from keyport_lint.catalog import load_rule_document
from keyport_lint.config import Config, load_config
from keyport_lint.errors import UserError
from keyport_lint.yamlio import load_yaml


def _context(tmp_path: Path, source: str, name: str = "app.py", cfg: Config | None = None):
    from keyport_lint.analysis.context import marker_regex
    from keyport_lint.context import PythonContext
    from keyport_lint.index import ProjectIndex
    from keyport_lint.pipeline.parse import parse_python

    cfg = cfg or Config(root=tmp_path)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(source)
    path.write_text(text, encoding="utf-8")
    project = ProjectIndex(tmp_path, cfg.settings, marker_regex(cfg.settings))
    return PythonContext(name, text, parse_python(text), cfg.settings, project, path=path)


def _handlers(ctx) -> dict[str, object]:
    from keyport_lint.analysis.handlers import web_handlers

    return {h.qualname: h for h in ctx.analysis(web_handlers).handlers}


def test_endpoints_are_found_without_any_keyport_context(tmp_path: Path) -> None:
    """KP5 reuses the endpoint analysis for any handler, whatever it receives."""
    ctx = _context(tmp_path, """
        from fastapi import APIRouter, Depends, FastAPI, Request
        from pydantic import BaseModel

        app = FastAPI()
        router = APIRouter()

        class Order(BaseModel):
            sku: str

        @app.get("/status")
        def status():
            return {"ok": True}

        @router.post("/orders")
        async def create_order(order: Order, user=Depends(current_user)):
            return order

        async def raw(request: Request):
            return {"n": len(await request.body())}

        app.add_api_route("/raw", raw, methods=["PUT"])
    """)
    found = _handlers(ctx)
    assert set(found) == {"status", "create_order", "raw"}
    status, order, raw = found["status"], found["create_order"], found["raw"]
    assert (status.framework, status.methods, status.paths) == ("fastapi", {"GET"}, ["/status"])
    assert status.read_kinds == frozenset()
    assert order.methods == {"POST"} and [p.name.value for p in order.body_params] == ["order"]
    assert order.decorators == ["router.post"]
    assert [d.value for d in order.dependencies] == ["current_user"]
    assert "parsed" in order.read_kinds
    assert raw.methods == {"PUT"} and raw.paths == ["/raw"] and "raw" in raw.read_kinds
    assert raw.request_roots == {"request"}


def test_django_views_flask_classes_and_helpers(tmp_path: Path) -> None:
    ctx = _context(tmp_path, """
        import json
        from django.http import JsonResponse
        from django.views import View

        def _load(request):
            return json.loads(request.body)

        def helper(request):
            return request.GET.get("q")

        def search(request):
            return JsonResponse({"q": helper(request)})

        class Orders(View):
            def post(self, request):
                return JsonResponse(_load(request))

            def render_row(self, row):
                return row
    """, name="shop/views.py")
    found = _handlers(ctx)
    assert set(found) == {"search", "Orders.post"}  # helpers called in the module are not views
    assert found["Orders.post"].methods == {"POST"}
    assert found["search"].framework == "django"


def test_files_without_keyport_text_are_not_parsed(project) -> None:
    project.write("github.py", """
from flask import Flask, request
app = Flask(__name__)

@app.post("/webhooks/github")
def github():
    return request.get_json()
""")
    project.write("keyport.py", """
from flask import Flask, request
app = Flask(__name__)

@app.post("/hooks/licensing")
def licensing():
    return request.headers["X-KeyPort-Event"]
""")
    result = project.run("check", "--select", "KP3", "--output-format", "json")
    report = json.loads(result.stdout)
    assert report["stats"]["parsed"] == 1
    assert [(f["path"], f["rule"], f["line"]) for f in report["findings"]] == [
        ("keyport.py", "KP301", 6)]


def test_settings_extend_headers_and_verifiers(project) -> None:
    """A team's own header name and verifier, added in config, need no Python."""
    source = """
from flask import Flask, request
from acme.security import check_license_signature

app = Flask(__name__)

@app.post("/hooks/licensing")
def licensing():
    {verify}return request.headers["X-Acme-License-Signature"]
"""
    project.write(".keyport-lint.yaml", "settings:\n"
                  "  webhook-headers: ['x-acme-license-[a-z-]+']\n")
    project.write("hooks.py", source.format(verify=""))
    result = project.run("check", "--select", "KP301", "--output-format", "json")
    assert [f["line"] for f in json.loads(result.stdout)["findings"]] == [8]

    project.write(".keyport-lint.yaml", "settings:\n"
                  "  webhook-headers: ['x-acme-license-[a-z-]+']\n"
                  "  verifiers: ['acme.security.check_license_signature']\n")
    project.write("hooks.py", source.format(verify="check_license_signature(request)\n    "))
    result = project.run("check", "--select", "KP301", "--output-format", "json")
    assert json.loads(result.stdout)["findings"] == []


def test_reported_at_the_def_line_not_the_decorator(project) -> None:
    project.write("hooks.py", """
from flask import Flask, request
app = Flask(__name__)

@app.route(
    "/webhooks/keyport",
    methods=["POST"],
)
async def keyport_webhook():
    return await request.get_json()
""")
    report = json.loads(project.run("check", "--select", "KP301",
                                    "--output-format", "json").stdout)
    (finding,) = report["findings"]
    assert (finding["line"], finding["column"]) == (9, 1)
    assert (finding["end_line"], finding["end_column"]) == (9, len("async def keyport_webhook") + 1)


def test_bad_check_names_the_file_and_line() -> None:
    doc = load_yaml(textwrap.dedent("""
        rules:
          - id: KP399
            kind: webhook-verification
            check: unverfied
            message: "not verified"
    """), "rules/kp3-extra.yaml")
    with pytest.raises(UserError) as caught:
        load_rule_document(doc, "rules/kp3-extra.yaml", builtin=True)
    assert "check must be one of" in str(caught.value)
    assert caught.value.line == 5  # type: ignore[attr-defined]


def test_kp3_triggers_follow_the_settings(tmp_path: Path) -> None:
    from keyport_lint.kinds import get_kind

    (tmp_path / ".keyport-lint.yaml").write_text(
        "settings:\n  webhook-handlers: ['billing.hooks.on_license_*']\n", encoding="utf-8")
    cfg = load_config(cwd=tmp_path)
    rule = next(r for r in cfg.rules if r.id == "KP301")
    tokens = get_kind(rule.kind).triggers(rule, cfg.settings)
    assert tokens is not None
    assert {"keyport", "x-keyport-", "on_license_"} <= tokens


@pytest.mark.parametrize("code", [f"KP30{i}" for i in range(1, 8)])
def test_rule_examples_reproduce(tmp_path: Path, code: str) -> None:
    """`explain` shows these examples: the bad one must give the finding, the good one none."""
    from keyport_lint.catalog import builtin_rules
    from keyport_lint.pipeline.run import run

    rule = next(r for r in builtin_rules() if r.id == code)
    for key, wanted in (("bad", True), ("good", False)):
        folder = tmp_path / key
        folder.mkdir()
        (folder / "example.py").write_text(rule.examples[key], encoding="utf-8")
        cfg = Config(root=folder)
        cfg.select = [code]
        hits = [f for f in run(["example.py"], cfg, cwd=folder).findings if f.rule == code]
        assert bool(hits) == wanted, (key, [(f.line, f.message) for f in hits])


def test_a_view_method_naming_its_instance_otherwise_still_passes_the_request(
        tmp_path: Path) -> None:
    """`this.request` handed whole to a helper is a read of the request, as `self.request`
    is: the instance's name is the method's first parameter, not a literal `self`."""
    ctx = _context(tmp_path, """
        import json
        from django.http import JsonResponse
        from django.views import View

        def _load(request):
            return json.loads(request.body)

        class Orders(View):
            def post(this, *args, **kwargs):
                return JsonResponse(_load(this.request))

        class Refunds(View):
            def post(self, *args, **kwargs):
                return JsonResponse(_load(self.request))
    """, name="shop/views.py")
    found = _handlers(ctx)
    assert "passed" in found["Orders.post"].read_kinds
    assert "passed" in found["Refunds.post"].read_kinds
