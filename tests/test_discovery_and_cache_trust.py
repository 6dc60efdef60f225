"""Discovery that cannot be switched off from inside the tree, files read safely, a cache no
one else can write, workers that never outlive the run (issues 13, 18, 19)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import KEY, ROOT

LEAK = f'import logging\nimport keyport\nKEY = "{KEY}"\n'


def _dead_pid() -> int:
    """A process id no process can have (a finished child's id may be reused meanwhile)."""
    try:
        with open("/proc/sys/kernel/pid_max") as handle:
            return int(handle.read()) + 1
    except (OSError, ValueError):
        return 2**22 + 1


def rules_and_paths(result) -> list[tuple[str, str]]:
    return [(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]]


def stats(result) -> dict:
    return json.loads(result.stdout)["stats"]


# -- .gitignore semantics --------------------------------------------------------------------

def test_nested_gitignore_negation_and_a_repository_inside_a_plain_folder(project):
    project.write(".gitignore", "build/\n*.gen.py\n!keep.gen.py\n")
    project.write("build/a.py", LEAK)
    project.write("x.gen.py", LEAK)
    project.write("keep.gen.py", LEAK)
    project.write("sub/.gitignore", "local.py\n")
    project.write("sub/local.py", LEAK)
    project.write("local.py", LEAK)  # the nested file's pattern applies below sub/ only
    # a repository inside a folder that is not one: the outer patterns stop at its root
    project.write("inner/.git/HEAD", "ref: refs/heads/main\n")
    project.write("inner/x.gen.py", LEAK)
    project.write("inner/.gitignore", "secret_dir/\n")
    project.write("inner/secret_dir/a.py", LEAK)
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    paths = {p for _, p in rules_and_paths(result)}
    assert paths == {"keep.gen.py", "local.py", "inner/x.gen.py"}


def test_walking_from_a_subfolder_applies_the_repository_root_patterns(project):
    project.write(".git/HEAD", "ref: refs/heads/main\n")
    project.write(".gitignore", "gen/\n")
    project.write("src/gen/a.py", LEAK)
    project.write("src/b.py", LEAK)
    result = project.run("check", "--no-cache", "--output-format", "json", "src")
    assert {p for _, p in rules_and_paths(result)} == {"src/b.py"}


# -- nothing inside the tree switches discovery off --------------------------------------------

def test_cachedir_tag_counts_only_with_the_standard_signature(project):
    project.write("hidden/CACHEDIR.TAG", "")  # one `touch` must not hide a folder of keys
    project.write("hidden/a.py", LEAK)
    project.write("cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n")
    project.write("cache/a.py", LEAK)
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert {p for _, p in rules_and_paths(result)} == {"hidden/a.py"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any folder")
def test_a_folder_that_cannot_be_listed_is_a_warning_naming_it(project):
    project.write("locked/a.py", LEAK)
    project.write("b.py", LEAK)
    os.chmod(project.root / "locked", 0o311)  # enter, not list
    try:
        result = project.run("check", "--no-cache", "--output-format", "json", ".")
    finally:
        os.chmod(project.root / "locked", 0o755)
    assert "locked" in result.stderr and "cannot be listed" in result.stderr
    assert ("KP101", "b.py") in rules_and_paths(result)


def test_a_fifo_named_like_a_module_is_never_opened(project):
    project.write("b.py", LEAK)
    os.mkfifo(project.root / "x.py")
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert "x.py: not a regular file" in result.stderr
    assert rules_and_paths(result) == [("KP101", "b.py")]
    named = project.run("check", "--no-cache", "--output-format", "json", "x.py", "b.py")
    assert "x.py: not a regular file" in named.stderr
    assert rules_and_paths(named) == [("KP101", "b.py")]


def test_a_file_name_that_is_not_utf8_is_checked_and_shown_escaped(project):
    folder = os.fsencode(project.root) + b"/d\xff"
    os.mkdir(folder)
    with open(folder + b"/k\xfe.py", "w") as handle:
        handle.write(LEAK)
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert result.returncode == 1, result.stderr
    assert rules_and_paths(result) == [("KP101", "d\\xff/k\\xfe.py")]


@pytest.mark.parametrize("encoding", ["undefined", "punycode", "kp_test_zz9Qw8Er7Ty6Ui5Op4"])
def test_odd_coding_cookies_are_kp900_without_quoting_the_name(project, encoding):
    project.write("odd.py", f"# coding: {encoding}\nimport keyport\nKEY = '{KEY}'\n")
    project.write("b.py", LEAK)
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert "internal error" not in result.stderr
    found = json.loads(result.stdout)["findings"]
    assert ("KP101", "b.py") in rules_and_paths(result)
    assert any(f["rule"] == "KP900" and f["path"] == "odd.py" for f in found)
    assert encoding not in result.stdout + result.stderr


# -- the pre-filter ----------------------------------------------------------------------------

def test_a_generic_word_alone_does_not_send_a_file_to_the_parser(project):
    project.write("client.py", "import requests\n\ndef call(api_key):\n"
                               "    print(api_key)\n    return requests.get(URL, api_key)\n")
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert stats(result)["parsed"] == 0 and rules_and_paths(result) == []
    # the same words in a KeyPort-related file (by its imports) are parsed and judged
    project.write("conf.py", "import os\nKEYPORT_API_KEY = os.environ['KEYPORT_API_KEY']\n")
    project.write("client.py", "import conf\n\ndef call(api_key):\n    print(api_key)\n")
    related = project.run("check", "--no-cache", "--output-format", "json", "client.py")
    assert stats(related)["parsed"] == 1


# -- the cache ---------------------------------------------------------------------------------

def _entries(root: Path) -> list[Path]:
    return [p for p in (root / ".keyport-lint-cache").rglob("*.json") if p.is_file()]


def test_a_cache_entry_the_user_did_not_write_is_never_trusted(project, tmp_path_factory):
    project.write("pkg/a.py", LEAK + "def f():\n    return KEY\n")
    first = project.run("check", "--output-format", "json", ".")
    assert ("KP101", "pkg/a.py") in rules_and_paths(first)
    # an attacker commits entries claiming the file is clean: rewrite every finding away
    for entry in _entries(project.root):
        raw = entry.read_bytes()
        head, _, payload = raw.partition(b"\n")
        data = json.loads(payload)
        if "findings" in data:
            data["findings"], data["excerpts"] = [], {}
        if "stamps" in data:
            for rec in data["stamps"].values():
                rec[4] = {"display": "pkg/a.py", "findings": [], "excerpts": {}, "group": 0}
        entry.write_bytes(head + b"\n" + json.dumps(data).encode())
    again = project.run("check", "--output-format", "json", ".")
    assert ("KP101", "pkg/a.py") in rules_and_paths(again)
    # entries made with another user's key (another machine, another CI image) are ignored
    other = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("other-home"))}
    elsewhere = project.run("check", "--output-format", "json", ".", env=other)
    assert stats(elsewhere)["cached"] == 0


def test_an_entry_of_the_wrong_shape_is_a_miss(project, monkeypatch):
    project.write("pkg/a.py", LEAK + "def f():\n    return KEY\n")
    project.run("check", "--output-format", "json", ".")
    sys.path.insert(0, str(ROOT))
    try:
        from keyport_lint.cache import Cache
        from keyport_lint.config import Config

        cache = Cache(project.root / ".keyport-lint-cache", Config(root=project.root))
        for entry in _entries(project.root):
            if "stamps" not in entry.name:
                cache._write(entry, {"salt": cache.salt, "display": "pkg/a.py",
                                     "hash": "x", "findings": 7})
    finally:
        sys.path.pop(0)
    again = project.run("check", "--output-format", "json", ".")
    assert again.returncode == 1, again.stderr
    assert ("KP101", "pkg/a.py") in rules_and_paths(again)


@pytest.mark.parametrize("bad", [
    {"pairs": [["a.py"]], "groups": []},  # a pair of one
    {"pairs": [["a.py", 3]], "groups": []},  # a digest that is no string
    {"pairs": ["ab"], "groups": []},  # a string where a pair belongs
    {"pairs": [["a.py", "d"]], "groups": [[[1], []]]},  # a member past the pairs
    {"pairs": [["a.py", "d"]], "groups": [[[True], []]]},  # a bool is no index
    {"pairs": [["a.py", "d"]], "groups": [[[0], [0]]]},  # a group below itself: a cycle
    {"pairs": [["a.py", "d"]], "groups": [[[0], [1]], [[0], [0]]]},  # a child before it
])
def test_an_authentic_stamps_file_of_the_wrong_shape_is_ignored(tmp_path, bad):
    from keyport_lint.cache import Cache
    from keyport_lint.config import Config

    cfg = Config(root=tmp_path)
    cache = Cache(tmp_path / "cache", cfg)
    stamp = [1, 2, "d", 3, {"display": "a.py", "findings": [], "group": 0}]
    good = {"stamps": {"k": stamp}, "pairs": [["a.py", "d"]], "groups": [[[0], []]]}
    cache._prepare()
    cache._write(cache.stamps_file, good)
    assert Cache(tmp_path / "cache", cfg)._stamps == {"k": stamp}
    cache._write(cache.stamps_file, {"stamps": {"k": stamp}, **bad})
    loaded = Cache(tmp_path / "cache", cfg)
    assert loaded._stamps == {} and loaded._groups == []


@pytest.mark.parametrize("folder", [".", "src"])
def test_cache_dir_never_writes_into_a_folder_holding_other_files(project, folder):
    project.write("src/app.py", LEAK)
    project.write(".keyport-lint.yaml", f"cache-dir: {folder}\n")
    result = project.run("check", ".")
    assert result.returncode == 2 and "cache-dir" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project.root / folder / "CACHEDIR.TAG").exists()
    assert not (project.root / folder / ".gitignore").exists()
    assert project.run("check", "--no-cache", ".").returncode == 1


def test_a_module_created_after_a_warm_run_is_seen(project):
    main = project.write("app/main.py", "from conf import TOKEN\nprint(TOKEN)\n")
    old = time.time() - 3600
    os.utime(main, (old, old))  # old enough for its stamp to be trusted
    before = project.run("check", "--output-format", "json", ".")
    assert rules_and_paths(before) == []
    time.sleep(0.05)
    project.write("app/conf.py", "import os\nTOKEN = os.environ['KEYPORT_API_KEY']\n")
    after = project.run("check", "--output-format", "json", ".")
    assert ("KP201", "app/main.py") in rules_and_paths(after)


def test_no_key_in_a_path_reaches_the_cache(project):
    named = KEY.replace("kp_live_", "kp_live_x")
    project.write(f"{named}/a.py", LEAK)
    project.write(f"b_{named}.py", "x = 1\n")
    project.write("c.py", "x = 1\n")
    project.run("check", ".")
    written = b"".join(p.read_bytes() for p in (project.root / ".keyport-lint-cache").rglob("*")
                       if p.is_file())
    assert written, "the cache should hold something"
    for start in range(0, len(named) - 16):
        assert named[start:start + 16].encode() not in written


def test_temporary_files_of_a_dead_writer_are_removed(project):
    project.write("a.py", "x = 1\n")
    project.run("check", ".")
    folder = next((project.root / ".keyport-lint-cache").glob("v*"))
    orphan = folder / f".tmp-{_dead_pid()}-abc.part"
    orphan.write_text("half")
    project.write("b.py", "y = 2\n")  # something to write
    project.run("check", ".")
    assert not orphan.exists()


# -- workers -----------------------------------------------------------------------------------

def test_jobs_is_capped_at_the_usable_cores(project):
    for i in range(12):
        project.write(f"m{i}.py", LEAK)
    result = project.run("check", "--no-cache", "--jobs", "64", "--output-format", "json", ".")
    assert stats(result)["jobs"] <= len(os.sched_getaffinity(0))


def _children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read()
                if int(stat[stat.rindex(b")") + 2:].split()[1]) == pid:
                    out.add(int(entry))
            except (OSError, ValueError):
                pass
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two usable cores")
def test_workers_exit_when_the_parent_is_terminated(project):
    body = (ROOT / "tests" / "fixtures" / "KP201" / "bad_sinks.py").read_text()
    for i in range(400):
        project.write(f"pkg/m{i}.py", body + f"# copy {i}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "keyport_lint", "check", "--no-cache",
                             "--jobs", "2", "."], cwd=project.root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()  # --jobs 2: this process and one worker
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if workers:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run ended before its workers could be seen")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{w}") and
                                         _state(w) != "Z" for w in workers):
        time.sleep(0.05)
    assert not [w for w in workers if os.path.exists(f"/proc/{w}") and _state(w) != "Z"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_worker_whose_parent_died_before_it_started_exits():
    """The pool's pid travels to each worker: one forked just before the parent died (now
    adopted by another process) exits at once instead of living on without a parent."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = ("import os, sys\nfrom keyport_lint.pipeline.run import _die_with_parent\n"
            "_die_with_parent(int(sys.argv[1]))\nprint('alive')\n")
    orphan = subprocess.run([sys.executable, "-c", code, "1"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert orphan.returncode == 1 and not orphan.stdout and not orphan.stderr
    child = subprocess.run([sys.executable, "-c", code, str(os.getpid())], env=env,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 0 and "alive" in child.stdout


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        return stat[stat.rindex(b")") + 2:].split()[0].decode()
    except (OSError, ValueError):
        return "X"


def test_a_file_edited_during_the_run_and_reverted_is_checked_again(tmp_path, monkeypatch):
    """The result is filed under the hash of the bytes analysed, not of bytes read earlier."""
    from keyport_lint.cache import Cache
    from keyport_lint.config import Config
    from keyport_lint.pipeline import run as pipeline
    from keyport_lint.pipeline.run import run

    path = tmp_path / "a.py"
    path.write_text(LEAK)
    old = time.time() - 3600
    os.utime(path, (old, old))  # old enough for a stamp of it to be trusted
    real = pipeline.read_source  # where the run reads each file (once)

    def edited_meanwhile(*args, **kwargs):
        path.write_text("x = 1\n")  # someone saves a clean version while the run reads ...
        try:
            return real(*args, **kwargs)
        finally:
            path.write_text(LEAK)  # ... and reverts it (a checkout restores the time too)
            os.utime(path, (old, old))

    cfg = Config(root=tmp_path)
    monkeypatch.setattr(pipeline, "read_source", edited_meanwhile)
    first = run(["."], cfg, tmp_path, cache=Cache(tmp_path / ".keyport-lint-cache", cfg))
    assert first.findings == []  # what was on disk when it was read
    monkeypatch.setattr(pipeline, "read_source", real)
    again = run(["."], cfg, tmp_path, cache=Cache(tmp_path / ".keyport-lint-cache", cfg))
    assert [f.rule for f in again.findings] == ["KP101"]


# -- start-up ----------------------------------------------------------------------------------

def test_the_compiled_catalogue_spares_pyyaml_and_an_unchanged_run_writes_nothing(tmp_path):
    home, folder = tmp_path / "home", tmp_path / "project"
    folder.mkdir()
    (folder / "plain.py").write_text("import os\nprint(os.getcwd())\n")
    code = ("import sys\nfrom keyport_lint.cli import main\n"
            "try:\n    main(['check', '.'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print('YAML' if 'yaml' in sys.modules else 'NO-YAML', code)\n")
    env = {"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "XDG_CACHE_HOME": str(home)}

    def once() -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                              text=True, env=env)
        return done.stdout.strip().splitlines()[-1]

    assert once() == "YAML 0"  # the first run parses the catalogue and compiles it
    assert once() == "NO-YAML 0"
    stamps = next((folder / ".keyport-lint-cache").rglob("stamps-*.json"))
    before = stamps.stat().st_mtime_ns
    time.sleep(0.05)
    assert once() == "NO-YAML 0"
    assert stamps.stat().st_mtime_ns == before  # nothing changed: nothing written


def test_the_validated_catalogue_is_keyed_on_the_rule_files_and_gives_the_same_rules(
        tmp_path, monkeypatch):
    import shutil

    from keyport_lint import catalog, compiled

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    rules = tmp_path / "rules"
    shutil.copytree(catalog.rules_dir(), rules)
    before = compiled.key(rules)
    assert before is not None and compiled.key(rules) == before
    keys = next(rules.glob("*.yaml"))
    keys.write_text(keys.read_text() + "\n# edited\n")
    assert compiled.key(rules) != before  # an edited rule file is validated afresh
    fresh = (catalog._load_builtin_rules(), catalog._load_settings_schema())
    assert compiled.load(before) is None  # nothing compiled yet
    compiled.save(before, *fresh)
    served = compiled.load(before)
    assert served is not None
    assert served[0] == fresh[0]
    assert [r.params for r in served[0]] == [r.params for r in fresh[0]]
    assert {n: s.default for n, s in served[1].items()} == \
        {n: s.default for n, s in fresh[1].items()}
    stored = Path(compiled._path(before))
    stored.write_text('{"rules": [["KP101"]], "settings": []}')
    assert compiled.load(before) is None  # the wrong shape: validated again, no error


def test_a_folder_past_path_max_is_a_warning_and_the_run_goes_on(project):
    project.write("b.py", LEAK)
    here = os.getcwd()
    os.chdir(project.root)
    try:
        for _ in range(24):  # 24 × 201 characters: past PATH_MAX (4096)
            name = "d" * 200
            os.mkdir(name)
            os.chdir(name)
        with open("deep.py", "w") as handle:
            handle.write(LEAK)
    finally:
        os.chdir(here)
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "cannot be listed" in result.stderr
    assert ("KP101", "b.py") in rules_and_paths(result)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_named_like_a_module_is_never_opened(project):
    import stat as stat_module

    project.write("b.py", LEAK)
    os.mknod(project.root / "zero.py", 0o644 | stat_module.S_IFCHR, os.makedev(1, 5))
    result = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert "zero.py: not a regular file" in result.stderr
    assert rules_and_paths(result) == [("KP101", "b.py")]


def test_a_partial_compiled_catalogue_of_a_dead_writer_is_removed(tmp_path, monkeypatch):
    from keyport_lint import yamlio

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    catalog = tmp_path / "keyport-lint" / "catalog"
    catalog.mkdir(parents=True)
    orphan = catalog / f"0123.json.{_dead_pid()}.part"
    orphan.write_text("[\"d\", 1, [")
    text = "rules: []\n"
    value = yamlio.load_yaml(text, "rules/x.yaml", compiled=True)
    yamlio.remember(text, "rules/x.yaml", value)  # the next write cleans up
    assert not orphan.exists()
    assert yamlio.load_yaml(text, "rules/x.yaml", compiled=True).compiled
