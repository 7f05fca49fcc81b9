"""The server as people install it: a wheel built from a clean copy, installed in a fresh venv.

The copy holds what a checkout has before any `npm ci` (no node_modules), and the venv reaches
the test environment's packages for the dependencies but never this source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "server", "scheduling", "web")
SKIPPED = shutil.ignore_patterns("node_modules", "__pycache__", "*.egg-info")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess: no path into this checkout, no xieshang settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"} and not k.startswith("XIESHANG_")
    }
    return env | extra


def build_wheel(folder: Path) -> Path:
    """Build the wheel of a clean copy of the checkout into ``folder``."""
    source = folder / "source"
    source.mkdir(parents=True)
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=SKIPPED, symlinks=True)
        else:
            shutil.copyfile(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(folder), str(source)],
        check=True,
        cwd=folder,
        env=clean_env(),
        timeout=300,
    )
    return next(folder.glob("xieshang-*.whl"))


def install(wheel: Path, target: Path) -> Path:
    """Install ``wheel`` alone into a new venv at ``target``; returns its ``bin`` folder.

    The dependencies come from this interpreter's site-packages, named by a ``.pth`` file: its
    path lines are added to ``sys.path`` after the venv's own, and ``.pth`` files there (such as
    an editable install of this checkout) are not run.
    """
    venv.create(target, with_pip=False)
    paths = {"base": str(target), "platbase": str(target)}
    site = Path(sysconfig.get_path("purelib", vars=paths))
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "test-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    bin_dir = target / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        cwd=target,
        env=clean_env(),
        timeout=300,
    )
    return bin_dir
