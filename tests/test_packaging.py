"""The distribution lists every package folder and ships a front end that needs no Node.js.

The browser libraries are vendored in web/vendor/ (`make vendor`); these tests hold them to the
npm lockfile, and tests/web/test_installed.py runs the pages from an installed wheel.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.installed import build_wheel

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "web" / "vendor"
NODE_MODULES = ROOT / "web" / "node_modules"


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for folder in ("server", "scheduling")
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert on_disk - listed == set()
    assert "xieshang_web" in listed


def _manifest() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads((VENDOR / "MANIFEST.json").read_text())["files"]
    return entries


def test_vendored_libraries_are_the_releases_the_npm_lockfile_pins() -> None:
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())["packages"]
    for entry in _manifest():
        locked = lock[f"node_modules/{entry['package']}"]
        assert (entry["version"], entry["integrity"]) == (locked["version"], locked["integrity"])
        digest = hashlib.sha256((VENDOR / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{entry['file']} changed: run `make vendor`"
    direct = json.loads((ROOT / "web" / "package.json").read_text())["dependencies"]
    shipped = {e["package"]: e["version"] for e in _manifest()}
    assert {name: shipped.get(name) for name in direct} == direct


def test_every_file_in_web_vendor_is_listed_in_its_manifest() -> None:
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()}
    assert on_disk - {"MANIFEST.json"} == {e["file"] for e in _manifest()}
    assert any(name.startswith("licenses/") for name in on_disk)


@pytest.mark.skipif(
    not NODE_MODULES.is_dir() and not REQUIRE_SERVICES,
    reason="web/node_modules is not installed (make test runs npm ci, which checks the "
    "lockfile's tarball integrity; the vendored bytes are compared with what it installed)",
)
def test_vendored_bytes_are_the_files_npm_ci_installed_from_the_lockfile() -> None:
    for entry in _manifest():
        package = NODE_MODULES / entry["package"]
        assert json.loads((package / "package.json").read_text())["version"] == entry["version"]
        installed = (package / entry["path"]).read_bytes()
        assert (VENDOR / entry["file"]).read_bytes() == installed, entry["file"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_ships_the_front_end_and_its_libraries_but_no_npm_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = {n.removeprefix("xieshang_web/") for n in archive.namelist()}
    vendored = {f"vendor/{e['file']}" for e in _manifest()}
    assert vendored | {"index.html", "js/app.js", "css/app.css", "vendor/MANIFEST.json"} <= names
    npm = {n for n in names if "node_modules" in n or n.startswith("package")}
    assert npm == set()


def test_the_wheel_ships_the_message_catalogs(wheel: Path) -> None:
    """server/i18n.py reads the .po files at run time: an installed server answers in Chinese."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "server/locale/zh_CN/LC_MESSAGES/messages.po" in names
