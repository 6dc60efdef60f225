"""Monorepo source roots: detected from listings, configurable with `src`."""

from __future__ import annotations

from pathlib import Path

from keyport_lint.config import load_config
from keyport_lint.modules import scan_folder
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
