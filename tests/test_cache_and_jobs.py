"""The result cache and worker processes change speed, never findings."""

from __future__ import annotations

import json
import os

import pytest

from .conftest import KEY, SECRET


def findings(result) -> list:
    return json.loads(result.stdout)["findings"]


def stats(result) -> dict:
    return json.loads(result.stdout)["stats"]


def make_dense_project(project, copies: int = 24) -> None:
    for i in range(copies):
        project.write(f"pkg/mod{i}.py", f'import logging\nfrom keyport import KeyPort\n'
                                        f'# copy {i}\nclient = KeyPort("{KEY}")\n'
                                        f'HOOK = "{SECRET}"\n')


def test_warm_run_equals_cold_run_and_parses_nothing(project):
    make_dense_project(project)
    cold = project.run("check", "--output-format", "json", ".")
    warm = project.run("check", "--output-format", "json", ".")
    assert findings(cold) == findings(warm) and findings(cold)
    assert stats(cold)["parsed"] == 24 and stats(warm)["parsed"] == 0
    assert stats(warm)["cached"] == 24
    cache = project.root / ".keyport-lint-cache"
    assert (cache / "CACHEDIR.TAG").is_file() and (cache / ".gitignore").is_file()
    for entry in cache.rglob("*.json"):
        text = entry.read_text()
        assert KEY not in text and SECRET not in text and KEY[8:] not in text


def test_editing_a_file_invalidates_only_it(project):
    make_dense_project(project, copies=3)
    project.run("check", ".")
    project.write("pkg/mod1.py", "import os\nfrom keyport import KeyPort\n"
                                 "client = KeyPort(os.environ['KEYPORT_API_KEY'])\n")
    result = project.run("check", "--output-format", "json", ".")
    assert stats(result)["parsed"] == 1 and stats(result)["cached"] == 2
    assert {f["path"] for f in findings(result)} == {"pkg/mod0.py", "pkg/mod2.py"}


def test_editing_an_imported_module_invalidates_the_importer(project):
    """The importer has no KeyPort text of its own: whether its print leaks the key depends
    only on what the imported module binds."""
    project.write("app/__init__.py", "")
    project.write("app/settings.py", "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    project.write("app/views.py", "from app.settings import TOKEN\n\nprint(TOKEN)\n")
    leak = [("app/views.py", 3, "KP201")]

    def run() -> list:
        return [(f["path"], f["line"], f["rule"])
                for f in findings(project.run("check", "--output-format", "json", "."))]

    assert run() == leak
    project.write("app/settings.py", "import os\nTOKEN = os.environ['GREETING']\n")
    assert run() == []
    project.write("app/settings.py", "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    assert run() == leak


def test_a_module_checked_and_asked_about_keeps_every_dependency(project):
    """app/a.py is checked first and its analyses are kept; app/b.py's question about it
    reuses them, and must still record app/c.py, where the key comes from."""
    project.write("app/__init__.py", "")
    project.write("app/a.py", "from app.c import KEY\n\nTOKEN = KEY\nprint(TOKEN)\n")
    project.write("app/b.py", "from app.a import TOKEN\n\nprint(TOKEN)\n")
    project.write("app/c.py", "import os\nKEY = os.environ['KEYPORT_API_KEY']\n")

    def run() -> list:
        return [(f["path"], f["line"], f["rule"])
                for f in findings(project.run("check", "--output-format", "json", "."))]

    assert run() == [("app/a.py", 4, "KP201"), ("app/b.py", 3, "KP201")]
    project.write("app/c.py", "import os\nKEY = os.environ['GREETING']\n")
    assert run() == []


def test_no_cache_flag_and_env_folder(project, tmp_path_factory):
    make_dense_project(project, copies=2)
    project.run("check", "--no-cache", ".")
    assert not (project.root / ".keyport-lint-cache").exists()
    elsewhere = tmp_path_factory.mktemp("cachehome") / "c"
    project.run("check", ".", env={"KEYPORT_LINT_CACHE_DIR": str(elsewhere)})
    assert (elsewhere / "CACHEDIR.TAG").is_file()
    assert not (project.root / ".keyport-lint-cache").exists()


def test_config_cache_dir_key(project):
    project.write(".keyport-lint.yaml", "cache-dir: build/kl-cache\n")
    make_dense_project(project, copies=2)
    project.run("check", ".")
    assert (project.root / "build" / "kl-cache" / "CACHEDIR.TAG").is_file()


def test_corrupt_entries_are_ignored(project):
    make_dense_project(project, copies=2)
    cold = project.run("check", "--output-format", "json", ".")
    for entry in (project.root / ".keyport-lint-cache").rglob("*.json"):
        entry.write_text("{not json")
    again = project.run("check", "--output-format", "json", ".")
    assert findings(again) == findings(cold) and stats(again)["parsed"] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_cache_is_a_warning(project):
    make_dense_project(project, copies=2)
    locked = project.root / ".keyport-lint-cache"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = project.run("check", ".")
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1
    assert "warning: cache folder" in result.stderr


def test_unwritable_cache_path_is_a_warning_even_as_root(project):
    make_dense_project(project, copies=2)
    blocker = project.root / "not-a-folder"
    blocker.write_text("a file where the cache folder should be\n")
    result = project.run("check", ".", env={"KEYPORT_LINT_CACHE_DIR": str(blocker / "c")})
    assert result.returncode == 1 and "KP101" in result.stdout
    assert "warning: cache folder" in result.stderr


def test_jobs_one_and_two_give_identical_findings(project):
    make_dense_project(project, copies=40)
    project.write("pkg/broken.py", f'KEYPORT_API_KEY = "{KEY}" +\n')
    one = project.run("check", "--no-cache", "--jobs", "1", "--output-format", "json", ".")
    two = project.run("check", "--no-cache", "--jobs", "2", "--output-format", "json", ".")
    assert findings(one) == findings(two)
    assert stats(one)["jobs"] == 1 and stats(two)["jobs"] == 2
    assert one.stdout.count("KP900") == 1


def test_results_from_workers_keep_their_dependencies_for_the_cache(project):
    """With --jobs 2 the importers are checked in two processes; each cache entry must still
    hold what its result depends on (the verdict made in the parent and the worker's check),
    or an edit to the imported module would be served a stale finding."""
    project.write("app/__init__.py", "")
    project.write("app/settings.py", "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    for i in range(12):
        project.write(f"app/v{i}.py", f"from app.settings import TOKEN\n\nprint(TOKEN)  # {i}\n")

    def run() -> tuple[list, int]:
        result = project.run("check", "--jobs", "2", "--output-format", "json", ".")
        return sorted((f["path"], f["rule"]) for f in findings(result)), stats(result)["jobs"]

    leaks = sorted((f"app/v{i}.py", "KP201") for i in range(12))
    jobs = min(2, len(os.sched_getaffinity(0)))
    assert run() == (leaks, jobs)  # the importers' results come from two processes
    project.write("app/settings.py", "import os\nTOKEN = os.environ['GREETING']\n")
    assert run()[0] == []
    project.write("app/settings.py", "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    assert run() == (leaks, 1)  # the first run's entries hold again: nothing to check


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores")
def test_without_worker_processes_the_run_goes_on_in_one(tmp_path, monkeypatch):
    """No fork, no semaphores (some containers): a warning, and every file still checked."""
    import concurrent.futures

    from keyport_lint.config import Config
    from keyport_lint.pipeline.run import run

    for i in range(12):
        (tmp_path / f"m{i}.py").write_text(f'from keyport import KeyPort\n'
                                           f'client = KeyPort("{KEY}")  # {i}\n')
    cfg = Config(root=tmp_path)
    one = run(["."], cfg, tmp_path, jobs=1)

    def unavailable(*args, **kwargs):
        raise OSError("no semaphores here")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", unavailable)
    two = run(["."], cfg, tmp_path, jobs=2)
    assert two.findings == one.findings and len(two.findings) == 12
    assert two.jobs == 1 and two.parsed == 12
    assert any("worker processes unavailable (OSError)" in w for w in two.warnings)


def test_files_the_prefilter_settles_are_served_from_the_stamps(project):
    """A warm run neither re-reads nor re-checks unchanged files without KeyPort text, and
    keeps their own findings (an unused suppression)."""
    for i in range(5):
        project.write(f"lib/m{i}.py", f"import os\nX = {i}\n")
    project.write("lib/noisy.py", "x = 1  # keyport-lint: ignore[KP101]\n")
    old = 1_000_000_000  # make every mtime old enough for its stamp to be trusted
    for path in (project.root / "lib").iterdir():
        os.utime(path, ns=(old, old))
    cold = project.run("check", "--output-format", "json", ".")
    warm = project.run("check", "--output-format", "json", ".")
    assert findings(cold) == findings(warm)
    assert [f["rule"] for f in findings(warm)] == ["KP901"]
    assert stats(cold)["cached"] == 0 and stats(warm)["cached"] == 6
    project.write("lib/noisy.py", "x = 1\n")  # new mtime: re-read, and the finding goes
    assert findings(project.run("check", "--output-format", "json", ".")) == []


def test_a_worker_keeps_no_text_read_ahead_and_answers_the_same(tmp_path, monkeypatch):
    """A worker is sent each file's text: modules it reads while checking (for a digest or a
    summary) are not kept for a pipeline that never takes them; its results do not change."""
    from keyport_lint.config import Config
    from keyport_lint.pipeline import run as run_module
    from keyport_lint.pipeline.discover import discover
    from keyport_lint.pipeline.source import read_source

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "settings.py").write_text(
        "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    (tmp_path / "app" / "views.py").write_text("from app.settings import TOKEN\n\nprint(TOKEN)\n")
    cfg = Config(root=tmp_path)
    targets, _ = discover(["app/views.py"], cfg, tmp_path, [], {})

    def check(as_worker: bool):
        state = run_module._Worker(cfg, tmp_path)
        if as_worker:
            monkeypatch.setattr(run_module, "_STATE", state)  # as forked from the parent
            monkeypatch.setattr(run_module, "_die_with_parent", lambda parent=None: None)
            run_module._init_worker(None, None)
        target = targets[0]
        source = read_source(target.path, target.display, target.kind, 10**6)
        outcome = state.process(target, source)
        return state, outcome

    parent, here = check(as_worker=False)
    worker, there = check(as_worker=True)
    settings = str(tmp_path / "app" / "settings.py")
    assert parent.project.table.take(settings, "app/settings.py", "python") is not None
    assert worker.project.table.take(settings, "app/settings.py", "python") is None
    assert [(f.rule, f.line) for f in here.findings] == [("KP201", 3)]
    assert here == there and here.deps == there.deps and settings in there.deps


def test_sources_and_targets_compare_and_hash_by_value():
    """The records workers receive and the run keys its results by (pickled, sent back)."""
    import pickle
    from pathlib import Path

    from keyport_lint.pipeline.discover import Target
    from keyport_lint.pipeline.source import Source

    target = Target(Path("a.py"), "a.py", "python", True, (3, 7))
    assert target == Target("a.py", "a.py", "python", True, (3, 7))
    assert hash(target) == hash(Target("a.py", "a.py", "python", True, (3, 7)))
    assert target != Target("a.py", "a.py", "python", False, (3, 7))
    source = Source(Path("a.py"), "a.py", "python", "x = 1\n", "d", (3, 7))
    assert pickle.loads(pickle.dumps(source)) == source
    assert source != Source(Path("a.py"), "a.py", "python", "x = 2\n", "d", (3, 7))
    assert source != target and {source, source.without_lower()} == {source}
