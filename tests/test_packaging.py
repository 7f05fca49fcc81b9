"""The distribution lists every package folder, and ships the web front end and migrations."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
