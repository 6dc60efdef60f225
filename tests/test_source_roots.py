"""Monorepo source roots: detected from listings, configurable with `src`."""

from __future__ import annotations

from pathlib import Path

from keyport_lint.config import load_config
from keyport_lint.modules import ClosureDeps, Listing, ModuleTable, scan_folder
from keyport_lint.sourceroots import detect_roots, nearest_first


def _tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_folders_holding_top_level_packages_are_roots(tmp_path: Path) -> None:
    _tree(tmp_path, ["libs/keyport_common/__init__.py", "libs/keyport_common/sub/__init__.py",
                     "services/api/src/api/__init__.py", "node_modules/x/__init__.py",
                     ".venv/lib/pkg/__init__.py", "docs/readme.py"])
    roots, listed = detect_roots(str(tmp_path), scan_folder)
    assert roots == (str(tmp_path / "libs"), str(tmp_path / "services/api/src"))
    # every listing consulted is a dependency (a package created later changes the answer)
    assert str(tmp_path / "docs") in listed
    assert str(tmp_path / "node_modules") not in listed


def test_a_service_resolves_its_own_package_first(tmp_path: Path) -> None:
    a, b = str(tmp_path / "svc_a"), str(tmp_path / "svc_b")
    assert nearest_first((a, b), str(tmp_path / "svc_b" / "app")) == (b, a)


def test_src_is_relative_to_its_config_and_enters_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / ".keyport-lint.yaml").write_text('src: ["shared", "libs/py"]\n')
    cfg = load_config(tmp_path / ".keyport-lint.yaml", cwd=tmp_path)
    assert cfg.src == [str(tmp_path / "shared"), str(tmp_path / "libs" / "py")]
    (tmp_path / ".keyport-lint.yaml").write_text('src: ["shared"]\n')
    assert load_config(tmp_path / ".keyport-lint.yaml", cwd=tmp_path).fingerprint() != \
        cfg.fingerprint()


def _table(root: Path) -> tuple[ModuleTable, set[object]]:
    consulted: set[object] = set()
    return ModuleTable(root, None, None, 1 << 20, consulted.update), consulted


def _flat(items: set[object]) -> set[str]:
    out: set[str] = set()
    for item in items:
        out |= {str(i) for i in item.flatten()} if isinstance(item, ClosureDeps) else {str(item)}
    return out


def _services(root: Path, count: int) -> None:
    files = []
    for i in range(count):
        files += [f"svc_{i:03}/app_{i}/__init__.py", f"svc_{i:03}/app_{i}/mod.py",
                  f"svc_{i:03}/main.py"]
    _tree(root, [*files, "svc_000/shared/__init__.py", "svc_002/shared/__init__.py",
                 "svc_002/shared/util.py"])


def _listings_per_resolution(root: Path) -> tuple[int, str | None, str | None]:
    table, _ = _table(root)
    table.detected_roots()
    table._holding("app_1")  # the run's one-off work: detection and the first-name index
    scans = 0
    scan = table._scan

    def counting(folder: str) -> tuple[frozenset[str], frozenset[str]]:
        nonlocal scans
        scans += 1
        return scan(folder)

    table._scan = counting  # type: ignore[method-assign]
    importer = str(root / "svc_001" / "main.py")
    found = table.resolve(importer, "app_1.mod")
    shared = table.resolve(importer, "shared.util")
    return scans, found, shared


def test_resolution_costs_the_same_with_ten_roots_or_two_hundred(tmp_path: Path) -> None:
    few, many = tmp_path / "few", tmp_path / "many"
    _services(few, 10)
    _services(many, 200)
    scans_few, found, shared = _listings_per_resolution(few)
    assert found == str(few / "svc_001" / "app_1" / "mod.py")
    # svc_000 holds `shared` too, without `util`: svc_002's is the one found
    assert shared == str(few / "svc_002" / "shared" / "util.py")
    scans_many, found, shared = _listings_per_resolution(many)
    assert found == str(many / "svc_001" / "app_1" / "mod.py")
    assert shared == str(many / "svc_002" / "shared" / "util.py")
    assert scans_many == scans_few


def test_a_root_without_the_module_is_still_a_dependency(tmp_path: Path) -> None:
    # `app_1` created later in svc_000 (nearer no one, but earlier in order) must be seen:
    # every root's listing is recorded, the ones that did not hold the name included
    _services(tmp_path, 5)
    table, consulted = _table(tmp_path)
    assert table.resolve(str(tmp_path / "svc_001" / "main.py"), "app_1") == str(
        tmp_path / "svc_001" / "app_1" / "__init__.py")
    deps = _flat(consulted)
    for i in range(5):
        assert str(tmp_path / f"svc_{i:03}") in deps
    assert isinstance(next(i for i in consulted if isinstance(i, ClosureDeps)), ClosureDeps)
    assert all(isinstance(i, Listing) for i in table.detected_roots()[1].own)
