"""Every benchmark still runs: each one's `--smoke` (tiny sizes, a few seconds, the same checks of
its results) as a subprocess, which must exit 0.

The full runs take minutes and are run by hand (bench/README.md); these keep them from rotting
between runs, as bench_api_scheduling.py did when the per-address API limit came in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 100  # seconds per smoke; each takes 1-25 s on the two-core development machine

SMOKES = {
    "scheduling": "bench/bench_scheduling.py",
    "api_scheduling": "bench/bench_api_scheduling.py",
    "busy_upload": "bench/bench_busy_upload.py",
    "fuzz": "bench/fuzz/run.py",
    "flood": "bench/flood/run.py",
    "fanout": "bench/fanout/run.py",
    "hall": "bench/hall/run.py",  # the join storm: guests get passes, wait, are admitted, vote
    "sfu": "bench/sfu/sfu_bench.py",  # the embedded SFU, and Janus when `janus` is on PATH
    # Chromium over a shaped link (network namespaces as root; unshaped on loopback otherwise)
    "weaklink": "bench/weaklink/run.py",
}


def _missing(name: str) -> str | None:
    """Why a smoke cannot run here: the fan-out's clients are Node.js programs, the weak-link
    measurement drives Chromium."""
    if name == "weaklink":
        found = shutil.which("chromium") or Path("/usr/bin/chromium").exists()
        return None if found else "needs Chromium (apt install chromium)"
    if name != "fanout":
        return None
    if shutil.which("node") is None or not (ROOT / "bench/fanout/node_modules").is_dir():
        return "needs Node.js and `npm ci` in bench/fanout (make install-test does it)"
    return None


@pytest.mark.bench_smoke
@pytest.mark.timeout(TIMEOUT + 20)
@pytest.mark.parametrize("name", sorted(SMOKES))
def test_the_benchmark_smoke_passes(name: str) -> None:
    if reason := _missing(name):
        if REQUIRE_SERVICES:  # CI installs everything: a missing part there is a failure
            pytest.fail(f"XIESHANG_TEST_REQUIRE_SERVICES=1 but this smoke {reason}")
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, SMOKES[name], "--smoke"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"{SMOKES[name]} --smoke:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
