"""Real Janus instances for the tests: a per-test copy of ``deploy/janus/`` with its own ports,
only the VideoRoom plugin and the WebSocket transport, bound to 127.0.0.1.

Janus leaves loopback out of its ICE candidates, so the set-up builds a small ``LD_PRELOAD``
library (``loopback_ifaddrs.c``, with gcc) that makes ``lo`` look like an ordinary interface;
Janus then offers exactly one host candidate, 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "deploy" / "janus"
SHIM = Path(__file__).with_name("loopback_ifaddrs.c")
JANUS = shutil.which("janus") or "/usr/bin/janus"
LIBS = Path("/usr/lib/x86_64-linux-gnu/janus")
REQUIRE_SERVICES = os.environ.get("XIESHANG_TEST_REQUIRE_SERVICES") == "1"


def missing() -> str | None:
    """Why Janus tests cannot run here, or None when they can."""
    if not Path(JANUS).exists():
        return "needs Janus: apt-get install janus janus-tools (.ci/run does)"
    if not shutil.which("janus-pp-rec"):
        return "needs janus-pp-rec: apt-get install janus-tools (.ci/run does)"
    if not shutil.which("gcc"):
        return "needs gcc to build the loopback shim for Janus"
    if not (LIBS / "plugins" / "libjanus_videoroom.so").exists():
        return f"no Janus VideoRoom plugin in {LIBS}"
    return None


def build_shim(folder: Path) -> Path:
    """Compile the getifaddrs wrapper into ``folder``."""
    target = folder / "loopback_ifaddrs.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(target), str(SHIM), "-ldl"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class JanusProcess:
    """One running Janus (kill it with :meth:`kill` to test failover)."""

    folder: Path
    port: int
    api_secret: str
    admin_key: str
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return (self.folder / "janus.log").read_text(errors="replace")[-4000:]


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def write_config(
    folder: Path,
    *,
    port: int,
    api_secret: str,
    admin_key: str,
    session_timeout: int = 60,
    reclaim_session_timeout: int = 40,
) -> None:
    """A config folder with only the VideoRoom plugin and the WebSocket transport."""
    for sub, lib in (
        ("plugins", "plugins/libjanus_videoroom.so"),
        ("transports", "transports/libjanus_websockets.so"),
        ("events", None),
        ("loggers", None),
    ):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        if lib is not None:
            (folder / sub / Path(lib).name).symlink_to(LIBS / lib)
    base = random.randrange(20000, 59000, 200)
    values = {
        "config_dir": str(folder),
        "debug_level": "4",
        "session_timeout": str(session_timeout),
        "reclaim_session_timeout": str(reclaim_session_timeout),
        "api_secret": api_secret,
        "admin_secret": secrets.token_urlsafe(24),
        "admin_key": admin_key,
        "rtp_ports": f"{base}-{base + 199}",
        "ice_interfaces": "lo",
        "ws_port": str(port),
        "ws_interface": "lo",
        "ws_ip": "127.0.0.1",
    }
    for template in TEMPLATES.glob("*.jcfg"):
        (folder / template.name).write_text(_fill(template.read_text(), values))


async def _ready(url: str, seconds: float = 20.0, process: Any = None) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(int(seconds / 0.1)):
            if process is not None and process.poll() is not None:
                break
            try:
                async with http.ws_connect(url, protocols=("janus-protocol",)):
                    return
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(0.1)
    raise RuntimeError(f"Janus did not open {url}")


def launch(
    folder: Path,
    shim: Path,
    api_secret: str,
    admin_key: str,
    *,
    port: int | None = None,
    session_timeout: int = 60,
    reclaim_session_timeout: int = 40,
) -> JanusProcess:
    """Start one Janus from a fresh copy of the templates (not yet accepting connections)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    write_config(
        folder,
        port=port,
        api_secret=api_secret,
        admin_key=admin_key,
        session_timeout=session_timeout,
        reclaim_session_timeout=reclaim_session_timeout,
    )
    env = {**os.environ, "LD_PRELOAD": str(shim)}
    command = [JANUS, "-F", str(folder), "-C", str(folder / "janus.jcfg")]
    process = subprocess.Popen(
        [*command, "-N", "-o", "-L", str(folder / "janus.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    return JanusProcess(folder, port, api_secret, admin_key, process)


async def start_janus(
    folder: Path, shim: Path, api_secret: str, admin_key: str, **options: Any
) -> JanusProcess:
    """Start one Janus; returns once it accepts connections."""
    janus = launch(folder, shim, api_secret, admin_key, **options)
    try:
        await _ready(janus.url, process=janus.process)
    except RuntimeError:
        janus.stop()
        raise RuntimeError(janus.log()) from None
    except BaseException:
        janus.stop()
        raise
    return janus


# ---- fixtures: ``from tests.server.media.janus_setup import janus_fixture, shim_fixture``


@pytest.fixture(name="shim", scope="session")
def shim_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reason = missing()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"XIESHANG_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    yield build_shim(tmp_path_factory.mktemp("shim"))


@pytest.fixture(name="janus")
async def janus_fixture(shim: Path, tmp_path: Path) -> AsyncIterator[list[JanusProcess]]:
    """Two Janus instances sharing one random API secret and admin key."""
    api_secret, admin_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    started: list[JanusProcess] = []
    try:
        for name in ("janus-a", "janus-b"):
            started.append(await start_janus(tmp_path / name, shim, api_secret, admin_key))
        yield started
    finally:
        for process in started:
            process.stop()
