"""The definitions model: one record per def, lambda and class, read through the public API."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from keyport_lint.analysis.definitions import (
    KEYWORD_ONLY,
    POSITIONAL,
    POSITIONAL_ONLY,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    ClassRecord,
    Definitions,
    FunctionRecord,
    module_definitions,
)
from keyport_lint.config import Config
from keyport_lint.context import PythonContext

MODULE = '''\
import functools as ft
from flask import Flask as App
from typing import Optional as Opt
import pydantic

app = App(__name__)


def outer(a, /, b: int = 1, *args: str, c: Opt = None, **kw):
    setup()

    def inner(x):
        return helper(x)

    handler = lambda y: y.run()
    return inner(a)


class Base(pydantic.BaseModel, metaclass=Meta):
    path = "/hooks"
    limit: int = 3

    def method(self, item):
        self.items.append(item)
        return item

    @staticmethod
    def static(value):
        return value

    @classmethod
    def build(klass, *, size):
        return klass(size)

    @property
    def prop(this):
        yield this.x

    class Inner:
        def deep(self):
            pass


@app.post("/x")
@ft.lru_cache
async def view(request: pydantic.BaseModel):
    data = await request.json()
    return data


def make():
    class Local(Base):
        def run(me):
            return me
    return Local
'''


def _definitions(text: str = MODULE) -> Definitions:
    settings = Config(root=Path(".")).settings
    ctx = PythonContext("m.py", text, cst.parse_module(text), settings)
    return module_definitions(ctx)


def _fn(defs: Definitions, qualname: str) -> FunctionRecord:
    record = defs.by_qualname[qualname]
    assert isinstance(record, FunctionRecord)
    return record


def _cls(defs: Definitions, qualname: str) -> ClassRecord:
    record = defs.by_qualname[qualname]
    assert isinstance(record, ClassRecord)
    return record


def _return_codes(record: FunctionRecord) -> list[str]:
    return [cst.Module([]).code_for_node(r) for r in record.returns]


def test_qualified_names_and_parents_follow_python() -> None:
    defs = _definitions()
    assert [f.qualname for f in defs.functions if not f.is_lambda] == [
        "outer", "outer.<locals>.inner", "Base.method", "Base.static", "Base.build", "Base.prop",
        "Base.Inner.deep", "view", "make", "make.<locals>.Local.run"]
    assert [c.qualname for c in defs.classes] == ["Base", "Base.Inner", "make.<locals>.Local"]
    outer = _fn(defs, "outer")
    inner = _fn(defs, "outer.<locals>.inner")
    assert inner.parent is outer and outer.parent is None
    assert outer.functions == {"inner": inner}
    assert set(defs.module_functions) == {"outer", "view", "make"}
    assert set(defs.module_classes) == {"Base"}
    assert _cls(defs, "make.<locals>.Local").in_function
    assert not _cls(defs, "Base.Inner").in_function
    assert defs.function(outer.node) is outer and defs.class_(outer.node) is None


def test_parameters_kinds_annotations_and_defaults() -> None:
    outer = _fn(_definitions(), "outer")
    assert [(p.name, p.kind) for p in outer.params] == [
        ("a", POSITIONAL_ONLY), ("b", POSITIONAL), ("args", VAR_POSITIONAL),
        ("c", KEYWORD_ONLY), ("kw", VAR_KEYWORD)]
    # annotations resolve through the module's aliases
    assert [p.annotation for p in outer.params] == ["", "int", "str", "typing.Optional", ""]
    b = outer.params[1]
    assert isinstance(b.default, cst.Integer) and b.default.value == "1"
    assert isinstance(b.annotation_node, cst.Name)
    assert outer.params[0].default is None
    assert [p.name for p in outer.positional] == ["a", "b"]
    assert outer.self_name == "" and outer.cls is None and outer.bound == outer.params


def test_methods_bind_self_and_cls_but_not_staticmethods() -> None:
    defs = _definitions()
    base = _cls(defs, "Base")
    method, static, build, prop = (_fn(defs, f"Base.{n}")
                                   for n in ("method", "static", "build", "prop"))
    assert method.cls is base and base.methods["method"] is method
    assert (method.self_name, method.first, [p.name for p in method.bound]) == (
        "self", "self", ["item"])
    assert (static.self_name, static.first, [p.name for p in static.bound]) == (
        "", "", ["value"])
    assert (build.self_name, build.first, [p.name for p in build.bound]) == (
        "klass", "cls", ["size"])
    assert build.bound[0].kind == KEYWORD_ONLY and build.positional == ()
    assert prop.self_name == "this" and prop.decorated({"property"})
    # a def nested in a function is not a method even in a class's method
    assert _fn(defs, "outer.<locals>.inner").cls is None


def test_decorators_resolve_through_aliases() -> None:
    view = _fn(_definitions(), "view")
    assert [(d.written, d.resolved, d.last) for d in view.decorators] == [
        ("app.post", "app.post", "post"), ("ft.lru_cache", "functools.lru_cache", "lru_cache")]
    assert isinstance(view.decorators[0].call, cst.Call) and view.decorators[1].call is None
    assert view.is_async and not _fn(_definitions(), "outer").is_async
    assert view.params[0].annotation == "pydantic.BaseModel"


def test_classes_bases_assignments_and_methods() -> None:
    defs = _definitions()
    base = _cls(defs, "Base")
    assert base.bases == ("pydantic.BaseModel",) and base.written_bases == (
        "pydantic.BaseModel",)
    assert set(base.assigns) == {"path", "limit"}
    assert list(base.methods) == ["method", "static", "build", "prop"]
    local = _cls(defs, "make.<locals>.Local")
    assert local.bases == ("Base",) and list(local.methods) == ["run"]
    assert _fn(defs, "make").classes == {"Local": local} and not _fn(defs, "outer").classes
    assert _fn(defs, "make").returns[0].value == "Local"  # type: ignore[attr-defined]


def test_returns_belong_to_their_own_body() -> None:
    defs = _definitions()
    outer = _fn(defs, "outer")
    inner = _fn(defs, "outer.<locals>.inner")
    lam = next(f for f in defs.functions if f.is_lambda)
    # not inner's `return helper(x)`, not the lambda's body
    assert _return_codes(outer) == ["inner(a)"]
    assert _return_codes(inner) == ["helper(x)"]
    assert _return_codes(lam) == ["y.run()"]
    assert lam.parent is outer and lam.name == "<lambda>" and lam.qualname == (
        "outer.<locals>.<lambda>")
    assert [p.name for p in lam.params] == ["y"]
    assert not _fn(defs, "Base.prop").returns  # a `yield` is not a return


def test_decorator_lambdas_and_defaults_belong_to_the_enclosing_scope() -> None:
    defs = _definitions('''\
def outer():
    @register(lambda: pick())
    def inner(x=default()):
        pass
''')
    outer = _fn(defs, "outer")
    inner = _fn(defs, "outer.<locals>.inner")
    lam = next(f for f in defs.functions if f.is_lambda)
    assert lam.parent is outer and _return_codes(lam) == ["pick()"]
    assert inner.parent is outer and outer.functions == {"inner": inner}
    assert not inner.returns and not outer.returns


def test_staticmethod_through_builtins_and_method_without_positional_params() -> None:
    defs = _definitions('''\
import builtins


class C:
    @builtins.staticmethod
    def s(a):
        pass

    def star(*args):
        pass
''')
    assert _fn(defs, "C.s").self_name == ""
    star = _fn(defs, "C.star")
    assert star.self_name == "" and [p.kind for p in star.bound] == [VAR_POSITIONAL]


def test_a_name_defined_twice_binds_its_last_definition() -> None:
    # as Python binds it: a pasted-twice method or a redefined class is the last one, in a
    # class body as at module level (also under a module-level `if`)
    defs = _definitions('''\
import sys


class C:
    def post(self, a):
        pass

    def post(self, b):
        pass


class D:
    pass


if sys.platform == "win32":
    class D:
        pass


def f(x):
    pass


def f(y):
    pass
''')
    post = defs.classes[0].methods["post"]
    assert [p.name for p in post.bound] == ["b"]
    assert defs.module_classes["D"] is defs.classes[-1]
    assert defs.module_functions["f"].params[0].name == "y"
    assert defs.by_qualname["C.post"] is post


def test_a_property_setter_leaves_the_name_bound_to_its_getter() -> None:
    defs = _definitions('''\
class Settings:
    @property
    def secret(self):
        return self._secret

    @secret.setter
    def secret(self, value):
        self._secret = value

    @secret.deleter
    def secret(self):
        del self._secret
''')
    getter = defs.functions[0]
    assert defs.classes[0].methods["secret"] is getter
    assert defs.by_qualname["Settings.secret"] is getter
    assert not getter.accessor and defs.functions[1].accessor


def test_records_are_read_only_after_the_walk() -> None:
    # every rule shares the memoised records: a reader changing one fails here, not by
    # making findings depend on --select
    import pytest

    defs = _definitions()
    outer, base = _fn(defs, "outer"), _cls(defs, "Base")
    with pytest.raises(TypeError):
        base.methods["extra"] = outer  # type: ignore[index]
    with pytest.raises(TypeError):
        base.assigns["path"] = outer.returns[0]  # type: ignore[index]
    with pytest.raises(TypeError):
        outer.functions["extra"] = outer  # type: ignore[index]
    with pytest.raises(AttributeError):
        outer.returns.append(outer.returns[0])  # type: ignore[attr-defined]
    assert outer.functions == {"inner": _fn(defs, "outer.<locals>.inner")}


def _snapshot(defs: Definitions) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for f in defs.functions:
        out.append((f.qualname, f.self_name, f.first, tuple(p.name for p in f.params),
                    tuple(p.name for p in f.bound), tuple(d.resolved for d in f.decorators),
                    len(f.returns), tuple(f.functions), tuple(f.classes)))
    for c in defs.classes:
        out.append((c.qualname, c.bases, tuple(c.methods), tuple(c.assigns),
                    tuple(d.resolved for d in c.decorators)))
    out.append((tuple(defs.by_qualname), tuple(defs.module_functions),
                tuple(defs.module_classes), len(defs.by_id)))
    return out


def test_every_rule_reads_the_records_without_changing_them() -> None:
    # endpoints, verification, results and taint all read one model: running every
    # built-in rule over modules full of handlers, methods and helpers leaves it as it was
    from keyport_lint.catalog import builtin_rules
    from keyport_lint.kinds import get_kind

    from .conftest import FIXTURES

    settings = Config(root=Path(".")).settings
    rules = [r for r in builtin_rules() if r.kind != "diagnostic"]
    cases = sorted(FIXTURES.glob("KP3*/bad_*.py")) + sorted(FIXTURES.glob("KP40*/bad_*.py"))
    cases += sorted(FIXTURES.glob("KP50[12]/bad_*.py")) + sorted(FIXTURES.glob("KP20*/bad_*.py"))
    assert len(cases) > 20
    reported = 0
    for case in cases:
        text = case.read_text()
        ctx = PythonContext(str(case), text, cst.parse_module(text), settings)
        defs = module_definitions(ctx)
        before = _snapshot(defs)
        for rule in rules:
            list(get_kind(rule.kind).check_python(rule, ctx))
        reported += len(ctx.finish())
        assert module_definitions(ctx) is defs
        assert _snapshot(defs) == before, case.name
    assert reported > 50  # the rules did run and report
