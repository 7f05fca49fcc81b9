"""The Janus system of the SFU benchmark: a Janus started from ``deploy/janus/`` (as the tests
do, loopback only) pinned with the xieshang server to the server CPU, the server driving it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from tests.server.media.janus_setup import JanusProcess, _ready, build_shim, launch, missing


def pin_all_threads(pid: int, cpus: set[int] | None) -> None:
    """Pin every thread of ``pid`` (threads made later inherit their creator's pinning)."""
    if not cpus:
        return
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), cpus)


async def start(workdir: Path, cpus: set[int] | None) -> tuple[JanusProcess, dict[str, str]]:
    """A running Janus and the server settings that use it."""
    reason = missing()
    if reason is not None:
        raise SystemExit(f"the janus system {reason}")
    shim = build_shim(workdir)
    janus = None
    for attempt in range(2):
        folder = workdir / f"janus-{attempt}"
        janus = launch(folder, shim, secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        try:
            await _ready(janus.url, process=janus.process)
            break
        except RuntimeError:
            janus.stop()
            log = (folder / "janus.log").read_text(errors="replace")[-3000:]
            print(f"Janus did not start (attempt {attempt + 1}); its log ends:\n{log}", flush=True)
    else:
        raise SystemExit("Janus would not start")
    assert janus is not None
    pin_all_threads(janus.process.pid, cpus)
    env = {
        "XIESHANG_JANUS_URLS": janus.url,
        "XIESHANG_JANUS_API_SECRET": janus.api_secret,
        "XIESHANG_JANUS_ADMIN_KEY": janus.admin_key,
        "XIESHANG_RECORDING_DIR": str(workdir / "recordings"),
    }
    return janus, env


def stop(janus: Any) -> None:
    if janus is not None:
        janus.stop()
