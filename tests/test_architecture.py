"""The import rules of DESIGN.md, enforced: pure code stays pure, layers point inward."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_only_config_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("server", "scheduling")
        for path in (ROOT / folder).rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") and path.name != "config.py"
    ]
    assert offenders == []
