"""Import-following reads what the code uses: a package's other names, and the modules behind
them, are not needed; every shape the text cannot narrow is followed whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyport_lint.config import load_config
from keyport_lint.index import ProjectIndex
from keyport_lint.pipeline.source import read_source
from keyport_lint.settings import marker_regex

VENDOR = "import os\n\nKEYPORT_API_KEY = os.environ['KEYPORT_API_KEY']\nTOKEN = KEYPORT_API_KEY\n"
PLAIN = "TIMEOUT = 30\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _index(root: Path) -> ProjectIndex:
    cfg = load_config(cwd=root)
    return ProjectIndex(root, cfg.settings, marker_regex(cfg.settings), root)


def _reaches(root: Path, files: dict[str, str], importer: str = "app/jobs.py") -> bool:
    _write(root, {"app/__init__.py": "", "app/settings/vendor.py": VENDOR,
                  "app/settings/plain.py": PLAIN, **files})
    index = _index(root)
    path = root / importer
    index.table.learn(str(path), read_source(path, importer, "python", 1 << 20))
    return index.table.reaches_keyport(str(path))


INIT = "from .vendor import TOKEN as API_TOKEN\nfrom .plain import TIMEOUT\n"


@pytest.mark.parametrize(("init", "jobs", "expected"), [
    # `from pkg import NAME`: the statements binding NAME in the package, nothing else
    (INIT, "from app.settings import API_TOKEN\nprint(API_TOKEN)\n", True),
    (INIT, "from app.settings import TIMEOUT\nprint(TIMEOUT)\n", False),
    # `import pkg`: the attributes the code reads
    (INIT, "import app.settings as settings\nprint(settings.API_TOKEN)\n", True),
    (INIT, "import app.settings as settings\nprint(settings.TIMEOUT)\n", False),
    # the package passed around as a value: every attribute may be read
    (INIT, "import app.settings as settings\nhandle(settings)\n", True),
    # a name assigned in the package from a KeyPort value, through a helper defined there
    ("from .vendor import TOKEN\nfrom .plain import TIMEOUT\n\n\ndef _load(v):\n"
     "    return v.strip()\n\n\nAPI_TOKEN = _load(TOKEN)\nWAIT = TIMEOUT * 2\n",
     "from app.settings import API_TOKEN\nprint(API_TOKEN)\n", True),
    ("from .vendor import TOKEN\nfrom .plain import TIMEOUT\n\n\ndef _load(v):\n"
     "    return v.strip()\n\n\nAPI_TOKEN = _load(TOKEN)\nWAIT = TIMEOUT * 2\n",
     "from app.settings import WAIT\nprint(WAIT)\n", False),
    # an object changed by another statement of the package
    ("from .plain import TIMEOUT\nfrom . import vendor\n\n\nclass Config:\n    pass\n\n\n"
     "config = Config()\nconfig.key = vendor.TOKEN\n",
     "from app.settings import config\nprint(config.key)\n", True),
    ("from .plain import TIMEOUT\nfrom . import vendor\n\n\nclass Config:\n    pass\n\n\n"
     "config = Config()\nconfig.retries = 3\nvendor.TOKEN.strip()\n",
     "from app.settings import config\nprint(config.retries)\n", False),
    # a name set from inside a function (`global`)
    ("from .vendor import TOKEN\n\nAPI_TOKEN = None\n\n\ndef setup():\n"
     "    global API_TOKEN\n    API_TOKEN = TOKEN\n",
     "from app.settings import API_TOKEN\nprint(API_TOKEN)\n", True),
    # a submodule named in the import, whatever the package binds
    ("", "from app.settings import vendor\nprint(vendor.TOKEN)\n", True),
    # shapes the text cannot narrow: the whole package
    ("from .vendor import *\nfrom .plain import TIMEOUT\n",
     "from app.settings import TIMEOUT\nprint(TIMEOUT)\n", True),
    (INIT + "globals()['X'] = 1\n", "from app.settings import TIMEOUT\nprint(TIMEOUT)\n", True),
    (INIT + "\n\ndef __getattr__(name):\n    return API_TOKEN\n",
     "from app.settings import OTHER\nprint(OTHER)\n", True),
    (INIT + "\n\ndef __getattr__(name):\n    return API_TOKEN\n",
     "from app.settings import TIMEOUT\nprint(TIMEOUT)\n", False),
    ("from .vendor import TOKEN as API_TOKEN\nfrom .plain import (\n",
     "from app.settings import TIMEOUT\nprint(TIMEOUT)\n", True),  # cannot be parsed
])
def test_what_the_code_uses_is_followed(tmp_path: Path, init: str, jobs: str,
                                        expected: bool) -> None:
    files = {"app/settings/__init__.py": init, "app/jobs.py": jobs}
    assert _reaches(tmp_path, files) is expected


def test_a_package_text_with_markers_counts_for_any_name(tmp_path: Path) -> None:
    files = {"app/settings/__init__.py": "# reads KEYPORT_API_KEY\n" + INIT,
             "app/jobs.py": "from app.settings import TIMEOUT\n"}
    assert _reaches(tmp_path, files) is True


def test_importing_a_keyport_module_counts_even_unused(tmp_path: Path) -> None:
    files = {"app/jobs.py": "import app.settings.vendor as vendor\n"}
    assert _reaches(tmp_path, files) is True


def test_one_name_of_a_package_that_imports_everything_reads_a_handful(tmp_path: Path
                                                                       ) -> None:
    """The staged-file case: `import pkg` in a module pulls in the whole package (its
    `__init__` imports every module), but the code reads one attribute of it."""
    files = {f"pkg/mod{i}.py": f"from pkg import helpers\n\nVALUE{i} = helpers.f({i})\n"
             for i in range(60)}
    files["pkg/__init__.py"] = "api_base = 'https://example.com'\n" + "".join(
        f"from pkg.mod{i} import VALUE{i}\n" for i in range(60))
    files["pkg/helpers.py"] = "import pkg\n\n\ndef f(x):\n    return pkg.api_base\n"
    files["pkg/options.py"] = ("import pkg\n\n\nclass Options:\n    def base(self):\n"
                               "        return pkg.api_base\n")
    files["pkg/request.py"] = "from pkg.options import Options\n"
    _write(tmp_path, files)
    index = _index(tmp_path)
    path = tmp_path / "pkg/request.py"
    index.table.learn(str(path), read_source(path, "pkg/request.py", "python", 1 << 20))
    assert index.table.reaches_keyport(str(path)) is False
    assert len(index.table._modules) <= 4  # request, options, the package's __init__
    # the same package with a KeyPort module among its names still reaches it through them
    _write(tmp_path, {"pkg/mod7.py": VENDOR.replace("TOKEN", "VALUE7")})
    files_index = _index(tmp_path)
    helper = tmp_path / "pkg/helpers.py"
    _write(tmp_path, {"pkg/helpers.py": "import pkg\n\n\ndef f(x):\n    return pkg.VALUE7\n"})
    files_index.table.learn(str(helper), read_source(helper, "h", "python", 1 << 20))
    assert files_index.table.reaches_keyport(str(helper)) is True


def test_the_answer_does_not_depend_on_how_it_was_computed(tmp_path: Path) -> None:
    """Whole-module answers first (a run over the tree) or uses only (one staged file), in
    any order: the same answers."""
    files = {"app/settings/__init__.py": INIT,
             "app/a.py": "from app.settings import API_TOKEN\n",
             "app/b.py": "from app.settings import TIMEOUT\n",
             "app/c.py": "import app.settings as s\nprint(s.TIMEOUT)\n",
             "app/d.py": "from app import b\nfrom app.c import s\n",
             "app/e.py": "from app.a import API_TOKEN as T\n"}
    _write(tmp_path, {"app/__init__.py": "", "app/settings/vendor.py": VENDOR,
                      "app/settings/plain.py": PLAIN, **files})
    paths = sorted(str(p) for p in tmp_path.rglob("*.py"))
    answers = []
    for order, targets in ((paths, frozenset(paths)), (paths[::-1], frozenset(paths)),
                           (paths, frozenset()), (paths[::-1], frozenset())):
        index = _index(tmp_path)
        index.table.seed({}, targets)
        got = {}
        for path in order:
            index.table.learn(path, read_source(Path(path), path, "python", 1 << 20))
            got[path] = index.table.reaches_keyport(path)
        answers.append(got)
    assert all(a == answers[0] for a in answers)
    assert answers[0][str(tmp_path / "app/a.py")] is True
    assert answers[0][str(tmp_path / "app/e.py")] is True
    assert answers[0][str(tmp_path / "app/b.py")] is False
    assert answers[0][str(tmp_path / "app/d.py")] is False


def _stats(result) -> dict:
    return json.loads(result.stdout)["stats"]


def test_a_narrowed_answer_still_sees_the_module_it_used_change(project) -> None:
    """The answer depends on the texts of what was used: the warm run notices when a module
    the importer uses gains KeyPort text, and parses the importer then."""
    project.write("app/__init__.py", "")
    project.write("app/settings/__init__.py", INIT)
    project.write("app/settings/vendor.py", VENDOR)
    project.write("app/settings/plain.py", PLAIN)
    project.write("app/jobs.py", "from app.settings import TIMEOUT\n\n\ndef run(api_token):\n"
                                 "    print(api_token, TIMEOUT)\n")
    cold = project.run("check", "--output-format", "json", "app/jobs.py")
    assert _stats(cold)["parsed"] == 0
    project.write("app/settings/plain.py", "TIMEOUT = 30  # KEYPORT_API_KEY is elsewhere\n")
    warm = project.run("check", "--output-format", "json", "app/jobs.py")
    assert _stats(warm)["parsed"] == 1


def test_a_decorator_registering_on_a_used_object_is_followed(tmp_path: Path) -> None:
    init = ("from .plain import TIMEOUT\nfrom .vendor import TOKEN\n\n\nclass Registry:\n"
            "    def add(self, f):\n        return f\n\n\nregistry = Registry()\n\n\n"
            "@registry.add\ndef send():\n    return TOKEN\n")
    files = {"app/settings/__init__.py": init,
             "app/jobs.py": "from app.settings import registry\nprint(registry)\n"}
    assert _reaches(tmp_path, files) is True


@pytest.mark.parametrize("keyport_at_the_end", [False, True])
def test_uses_spreading_far_fall_back_to_whole_modules(tmp_path: Path,
                                                       keyport_at_the_end: bool) -> None:
    """Following uses parses each module it narrows; when the uses of one staged file spread
    over more modules than `USES_FIRST_BUDGET` (a few files of a package importing much of its
    environment), whole modules, read but not parsed, answer "no" instead, and only a "yes"
    is narrowed: the same answer, at a bounded number of parses."""
    from keyport_lint.following import USES_FIRST_BUDGET

    length = USES_FIRST_BUDGET * 2
    files = {"lib/__init__.py": "", "app/entry.py": "from lib.m0 import V0\nprint(V0)\n"}
    for i in range(length):
        files[f"lib/m{i}.py"] = f"from lib.m{i + 1} import V{i + 1}\n\nV{i} = V{i + 1}\n"
    files[f"lib/m{length}.py"] = (VENDOR.replace("TOKEN", f"V{length}") if keyport_at_the_end
                                  else f"V{length} = 1\n")
    _write(tmp_path, files)
    index = _index(tmp_path)
    path = tmp_path / "app/entry.py"
    index.table.learn(str(path), read_source(path, "app/entry.py", "python", 1 << 20))
    assert index.table.reaches_keyport(str(path)) is keyport_at_the_end
    if not keyport_at_the_end:
        assert len(index.table.following._uses) <= USES_FIRST_BUDGET
