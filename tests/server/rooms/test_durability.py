"""Rooms survive SIGKILL, and two server processes on Redis show everyone the same events once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from server.config import Config
from tests.conftest import REDIS_URL, Cast
from tests.server.sessions.test_sessions_api import create


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``xieshang serve`` in a child process, on the test's database."""

    def __init__(
        self,
        config: Config,
        port: int,
        redis_url: str | None = None,
        channel: str = "t",
        log: Path | None = None,
    ) -> None:
        self.port, self.log = port, log  # log: where its stderr goes (else nowhere)
        self.env = {
            **os.environ,
            "XIESHANG_DB": config.db_url,
            "XIESHANG_PORT": str(port),
            "XIESHANG_SECRET_KEY": config.secret_key or "",
            "XIESHANG_MAIL_DIR": str(config.mail_dir),
            "XIESHANG_ARGON2_TIME_COST": "1",
            "XIESHANG_ARGON2_MEMORY_KIB": "8",
            "XIESHANG_LOG_LEVEL": "WARNING",
            "XIESHANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        if redis_url:
            self.env |= {"XIESHANG_REDIS_URL": redis_url, "XIESHANG_REDIS_CHANNEL": channel}
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with contextlib.ExitStack() as files:
            stderr = files.enter_context(self.log.open("ab")) if self.log else None
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                env=self.env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr or asyncio.subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60  # a loaded CI machine can take many seconds to start one
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                try:
                    async with http.get(f"{self.url}/api/health") as reply:
                        if reply.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the server did not start")

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


class Listener:
    """A client that keeps the room's events in seq order, resyncing after reconnects."""

    def __init__(self, url: str, auth: dict[str, Any]) -> None:
        self.url, self.auth = url, auth
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5
        )
        self.seen: list[int] = []  # every event seq received, duplicates included
        self.state_seq = 0
        self.events: dict[int, dict[str, Any]] = {}
        self.sio.on("event", self._event, namespace="/room")
        self.sio.on("snapshot", self._snapshot, namespace="/room")
        self.snapshot: dict[str, Any] | None = None

    def _event(self, event: dict[str, Any]) -> None:
        self.seen.append(event["seq"])
        self.events[event["seq"]] = event

    def _snapshot(self, snapshot: dict[str, Any]) -> None:
        self.snapshot = snapshot
        self.state_seq = snapshot["seq"]

    async def connect(self) -> Listener:
        await self.sio.connect(
            self.url, auth=self.auth, namespaces=["/room"], transports=["websocket"], wait_timeout=5
        )
        return self

    async def command(self, command: str, /, **data: Any) -> dict[str, Any]:
        return await self.sio.call(
            "command", {"type": command, "data": data}, namespace="/room", timeout=5
        )  # type: ignore[no-any-return]


async def _wait(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
async def processes() -> AsyncIterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for process in started:
        await process.stop()


async def test_sigkill_loses_no_acknowledged_event_and_clients_resync(
    cast: Cast, config: Config, processes: list[ServerProcess]
) -> None:
    session = await create(cast)
    server = ServerProcess(config, free_port())
    processes.append(server)
    await server.start()
    host = await Listener(
        server.url, {"token": cast.staff.token, "session_id": session["id"]}
    ).connect()
    member = await Listener(
        server.url, {"token": cast.member.token, "session_id": session["id"]}
    ).connect()
    acked = []
    for command, data in [
        ("session.start", {}),
        ("agenda.next", {}),
        ("minutes.edit", {"item_id": 2, "op": "notes", "text": "提案人：满意", "base_version": 0}),
        ("chat.send", {"text": "纪要已记录"}),
    ]:
        reply = await host.command(command, **data)
        assert reply["ok"], reply
        acked.append(reply["seq"])
    await server.kill()  # mid-session, no clean shutdown
    await asyncio.sleep(0.3)
    await server.start()
    await _wait(
        lambda: (
            member.snapshot is not None
            and member.snapshot["seq"] >= acked[-1]
            and member.sio.connected
            and host.sio.connected
        )
    )
    state = member.snapshot["state"] if member.snapshot else {}
    assert state["status"] == "live"
    assert state["current"] == 2
    assert state["minutes"] == {}  # draft minutes: the host's, not the proposer's to read
    assert state["chat"][-1]["text"] == "纪要已记录"
    fresh = await host.sio.call("sync", {"since": -1}, namespace="/room", timeout=5)
    assert fresh["snapshot"]["state"]["minutes"]["2"]["notes"]["text"] == "提案人：满意"
    present = fresh["snapshot"]["state"]["presence"]
    assert set(present) == {f"p:{cast.ids['staff']}", f"p:{cast.ids['member']}"}
    assert all(p["devices"] == 1 for p in present.values()), (
        "connections of the killed process linger"
    )
    after = await host.command("agenda.prev")
    assert after["ok"] and after["seq"] > acked[-1], after
    await host.sio.disconnect()
    await member.sio.disconnect()


@pytest.mark.redis
async def test_two_processes_on_redis_deliver_every_event_once_in_the_same_order(
    cast: Cast, config: Config, processes: list[ServerProcess]
) -> None:
    assert REDIS_URL is not None
    session = await create(cast)
    channel = f"t{os.getpid()}{free_port()}"
    one = ServerProcess(config, free_port(), REDIS_URL, channel)
    two = ServerProcess(config, free_port(), REDIS_URL, channel)
    processes.extend([one, two])
    await one.start()
    await two.start()
    sid = session["id"]
    a = await Listener(one.url, {"token": cast.staff.token, "session_id": sid}).connect()
    b = await Listener(two.url, {"token": cast.member.token, "session_id": sid}).connect()
    c = await Listener(two.url, {"token": cast.unit.token, "session_id": sid}).connect()
    await a.command("session.start")

    async def chatter(client: Listener, label: str) -> list[int]:
        seqs = []
        for i in range(15):
            reply = await client.command("chat.send", text=f"{label}{i}")
            assert reply["ok"], reply
            seqs.append(reply["seq"])
        return seqs

    sent = await asyncio.gather(chatter(a, "a"), chatter(b, "b"), chatter(c, "c"))
    all_seqs = sorted(s for batch in sent for s in batch)
    assert len(all_seqs) == len(set(all_seqs)) == 45
    last = all_seqs[-1]
    for listener in (a, b, c):
        await _wait(lambda listener=listener: last in listener.events)
        assert len(listener.seen) == len(set(listener.seen)), "an event arrived twice"
        assert set(all_seqs) <= set(listener.events)
    order = [a.events[s]["data"]["text"] for s in all_seqs]
    for listener in (b, c):
        assert [listener.events[s]["data"]["text"] for s in all_seqs] == order
    for listener in (a, b, c):
        await listener.sio.disconnect()
