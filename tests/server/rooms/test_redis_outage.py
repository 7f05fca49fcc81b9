"""A Redis outage between two server processes: clients still get every event once, in order.

The test runs its own ``redis-server`` (no persistence) so it can kill it with SIGKILL and
bring it back on the same port, with two real ``xieshang serve`` processes on it and real
Socket.IO clients on each. The room log in the database is the source of truth: while Redis is
away each process reads what the other appended from the log, and when it is back they catch up.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
import socketio
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.rooms import service
from tests.conftest import REQUIRE_SERVICES, Cast
from tests.server.rooms.test_durability import ServerProcess, free_port
from tests.server.sessions.test_sessions_api import create

REDIS_SERVER = shutil.which("redis-server")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        REDIS_SERVER is None and not REQUIRE_SERVICES,
        reason="needs the redis-server program (Debian package redis-server; .ci/run installs it)",
    ),
]


class PrivateRedis:
    """A ``redis-server`` of this test's own, to kill and start again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.port, self.directory = free_port(), directory
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        assert REDIS_SERVER is not None, "redis-server is not installed"
        self.proc = await asyncio.create_subprocess_exec(
            *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        client = aioredis.from_url(self.url)
        try:
            for _ in range(200):
                try:
                    if await client.ping():
                        return
                except (aioredis.ConnectionError, OSError):
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        raise AssertionError("redis-server did not start")

    async def command(self, *args: str) -> Any:
        client = aioredis.from_url(self.url)
        try:
            return await client.execute_command(*args)
        finally:
            await client.aclose()

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()


class RoomWatcher:
    """A room client that does what ``web/js/room-client.js`` does: it applies events in seq
    order, ignores what it already has, and syncs on a gap or when the server says ``resync``.

    ``received`` keeps the seq of every ``event`` message in arrival order, to check that the
    server sent each event once and in order.
    """

    def __init__(self, url: str, auth: dict[str, Any]) -> None:
        self.url, self.auth = url, auth
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[int] = []
        self.seq = -1
        self.chat: list[str] = []
        self.lobby: set[str] = set()  # who waits in the lobby (as far as this test looks)
        self.resyncs = 0  # ``resync`` hints from the server
        self.gaps = 0  # gaps the client found itself
        self._lock = asyncio.Lock()
        self.sio.on("snapshot", self._snapshot, namespace="/room")
        self.sio.on("event", self._event, namespace="/room")
        self.sio.on("resync", self._resync, namespace="/room")

    async def connect(self) -> RoomWatcher:
        await self.sio.connect(
            self.url, auth=self.auth, namespaces=["/room"], transports=["websocket"], wait_timeout=5
        )
        return self

    async def _snapshot(self, snapshot: dict[str, Any]) -> None:
        async with self._lock:
            self._take(snapshot)

    def _take(self, snapshot: dict[str, Any]) -> None:
        self.seq = snapshot["seq"]
        self.chat = [line["text"] for line in snapshot["state"]["chat"]]
        self.lobby = set(snapshot["state"]["lobby"])

    def _apply(self, event: dict[str, Any]) -> None:
        self.seq = event["seq"]
        if event["type"] == "chat.send":
            self.chat.append(event["data"]["text"])
        elif event["type"] == "lobby.enter":
            self.lobby.add(event["data"]["who"])

    async def _event(self, event: dict[str, Any]) -> None:
        self.received.append(event["seq"])
        async with self._lock:
            if self.seq < 0 or event["seq"] <= self.seq:
                return
            if event["seq"] == self.seq + 1:
                self._apply(event)
            else:
                self.gaps += 1
                await self._sync()

    async def _resync(self, _hint: Any = None) -> None:
        self.resyncs += 1
        async with self._lock:
            await self._sync()

    async def _sync(self) -> None:
        answer = await self.sio.call("sync", {"since": self.seq}, namespace="/room", timeout=5)
        assert answer["ok"], answer
        if "snapshot" in answer:
            self._take(answer["snapshot"])
            return
        for event in answer["events"]:
            if event["seq"] > self.seq:
                self._apply(event)

    async def command(self, kind: str, /, **data: Any) -> int:
        reply = await self.sio.call(
            "command", {"type": kind, "data": data}, namespace="/room", timeout=8
        )
        assert reply["ok"], reply
        return int(reply["seq"])

    async def say(self, text: str) -> int:
        return await self.command("chat.send", text=text)


async def _until(check: Any, what: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting until {what}")


async def _health(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/health") as reply:
        body: dict[str, Any] = await reply.json()
        body["http_status"] = reply.status
        return body


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    await server.start()
    yield server
    await server.kill()


@pytest.fixture
async def processes() -> AsyncIterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for process in started:
        await process.stop()


@pytest.fixture
async def watchers(processes: list[ServerProcess]) -> AsyncIterator[list[RoomWatcher]]:
    """Clients, disconnected before the servers stop (a server waits for open websockets)."""
    connected: list[RoomWatcher] = []
    yield connected
    for watcher in connected:
        await watcher.sio.disconnect()


@pytest.mark.timeout(180)
async def test_events_cross_processes_through_a_redis_outage_once_and_in_order(
    cast: Cast,
    config: Config,
    processes: list[ServerProcess],
    watchers: list[RoomWatcher],
    private_redis: PrivateRedis,
) -> None:
    session = await create(cast)
    channel = f"outage{os.getpid()}"
    one = ServerProcess(config, free_port(), private_redis.url, channel)
    two = ServerProcess(config, free_port(), private_redis.url, channel)
    processes.extend([one, two])
    await asyncio.gather(one.start(), two.start())
    sid = session["id"]
    host = await RoomWatcher(one.url, {"token": cast.staff.token, "session_id": sid}).connect()
    member = await RoomWatcher(two.url, {"token": cast.member.token, "session_id": sid}).connect()
    watchers.extend([host, member])
    said: list[str] = []

    async def both_have_everything() -> bool:
        return all(w.chat[-len(said) :] == said for w in watchers)

    async def talk(label: str) -> None:
        for i in range(5):  # each side in turn, so the log's order is the order said
            for watcher, who in ((host, "host"), (member, "member")):
                said.append(f"{label} {who} {i}")
                await watcher.say(said[-1])

    await talk("before")
    await _until(both_have_everything, "both sides saw the events before the outage")

    await private_redis.kill()
    for process in (one, two):
        health = await _health(process.url)
        assert (health["http_status"], health["status"], health["redis"]) == (
            200,
            "degraded",
            "unavailable",
        ), health
    await talk("during")
    await _until(both_have_everything, "the events said without Redis crossed over", 10)

    await private_redis.start()
    await talk("after")  # right away: the listeners may not have subscribed again yet
    await _until(both_have_everything, "the events said as Redis came back crossed over", 10)

    async def healthy() -> bool:
        return [(await _health(p.url))["status"] for p in (one, two)] == ["ok", "ok"]

    await _until(healthy, "both processes report ok again", 10)
    await talk("later")
    await _until(both_have_everything, "the events said after recovery crossed over", 10)
    for watcher in watchers:
        assert watcher.received == sorted(set(watcher.received)), (
            "an event arrived twice or out of order"
        )
        assert watcher.gaps == 0, "the server left a gap for its client to find"
        assert watcher.chat[-len(said) :] == said


@pytest.fixture
async def two_servers(config: Config, private_redis: PrivateRedis) -> AsyncIterator[list[str]]:
    """Two server processes' worth of app in this process, on the private Redis."""
    shared = config.with_changes(redis_url=private_redis.url, redis_channel=f"in{os.getpid()}")
    servers = [TestServer(create_app(shared), host="127.0.0.1") for _ in range(2)]
    for srv in servers:
        await srv.start_server()
    yield [str(srv.make_url("")).rstrip("/") for srv in servers]
    for srv in servers:
        await srv.close()


async def test_a_guest_waiting_on_another_process_is_admitted_during_a_redis_outage(
    cast: Cast, two_servers: list[str], private_redis: PrivateRedis
) -> None:
    session = await create(cast, kind="livelihood_hall", stage=None, visibility="public")
    joined = await cast.anon.post(f"/api/sessions/{session['id']}/guest-join", {"name": "市民"})
    key = f"g:{joined.body['guest_id']}"
    host = RoomWatcher(two_servers[0], {"token": cast.staff.token, "session_id": session["id"]})
    guest = socketio.AsyncClient(reconnection=False)
    heard: list[tuple[int, str]] = []
    guest.on("event", lambda e: heard.append((e["seq"], e["type"])), namespace="/room")
    try:
        await host.connect()
        await guest.connect(
            two_servers[1],
            auth={"guest_token": joined.body["guest_token"], "session_id": session["id"]},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=5,
        )

        async def host_saw_the_guest() -> bool:
            return host.seq > 0 and any(k == key for k in host.lobby)

        await _until(host_saw_the_guest, "the host saw the guest enter the lobby")
        await private_redis.kill()
        admitted = await host.command("lobby.admit", who=key)

        async def guest_heard() -> bool:
            return any(seq == admitted for seq, _type in heard)

        await _until(guest_heard, "the guest on the other process heard it was admitted")
        assert [t for _seq, t in heard] == ["lobby.enter", "lobby.admit"], heard
    finally:
        await host.sio.disconnect()
        await guest.disconnect()


async def test_events_a_process_could_not_publish_reach_the_others_when_it_can_again(
    cast: Cast, config: Config, private_redis: PrivateRedis
) -> None:
    # Process one signs in to Redis as a user that may lose the right to publish; two, which
    # keeps listening all along, never notices anything wrong by itself.
    await private_redis.command("ACL", "SETUSER", "one", "on", "nopass", "~*", "&*", "+@all")
    channel = f"pub{os.getpid()}"
    urls = [f"redis://one:pw@127.0.0.1:{private_redis.port}/0", private_redis.url]
    servers = [
        TestServer(create_app(config.with_changes(redis_url=u, redis_channel=channel)))
        for u in urls
    ]
    for srv in servers:
        await srv.start_server()
    session = await create(cast)
    auth = {"session_id": session["id"]}
    host = RoomWatcher(str(servers[0].make_url("")), {**auth, "token": cast.staff.token})
    member = RoomWatcher(str(servers[1].make_url("")), {**auth, "token": cast.member.token})
    try:
        await host.connect()
        await member.connect()
        await host.say("before")
        await _until(_has_said(member, "before"), "the member heard the host through Redis")

        async def settled() -> bool:  # both listening, and done catching up from the start
            health = [await _health(str(srv.make_url("")).rstrip("/")) for srv in servers]
            return [h["status"] for h in health] == ["ok", "ok"]

        await _until(settled, "both processes are linked through Redis")
        await asyncio.sleep(1.0)
        await private_redis.command("ACL", "SETUSER", "one", "-publish")
        await host.say("unheard 1")
        await host.say("unheard 2")
        await asyncio.sleep(0.5)
        assert member.chat[-1] == "before", "process one could publish after all"
        await private_redis.command("ACL", "SETUSER", "one", "+publish")
        await _until(_has_said(member, "unheard 2"), "process two caught up with one")
        assert member.chat[-3:] == ["before", "unheard 1", "unheard 2"]
        assert member.received == sorted(set(member.received))
        assert member.gaps == 0
    finally:
        for watcher in (host, member):
            await watcher.sio.disconnect()
        for srv in servers:
            await srv.close()


async def test_a_room_further_behind_than_the_log_pushes_is_told_to_resync(
    cast: Cast,
    two_servers: list[str],
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = await create(cast)
    urls = two_servers
    host = RoomWatcher(urls[0], {"token": cast.staff.token, "session_id": session["id"]})
    member = RoomWatcher(urls[1], {"token": cast.member.token, "session_id": session["id"]})
    try:
        await host.connect()
        await member.connect()
        await host.say("before")
        await _until(_has_said(member, "before"), "the member heard the host through Redis")
        # Any gap is now "too far behind": the server cannot push it and must say resync.
        monkeypatch.setattr(service, "MAX_SYNC", 0)
        await private_redis.kill()
        await host.say("during")
        await _until(_has_said(member, "during"), "the member synced after a resync hint")
        assert member.resyncs >= 1
        assert member.gaps == 0
    finally:
        for watcher in (host, member):
            await watcher.sio.disconnect()


def _has_said(watcher: RoomWatcher, text: str) -> Any:
    async def check() -> bool:
        return bool(watcher.chat) and watcher.chat[-1] == text

    return check


async def test_draft_minutes_crossing_processes_reach_only_those_who_read_drafts(
    cast: Cast, two_servers: list[str], private_redis: PrivateRedis
) -> None:
    # The hub publishes each event once; every process's delivery gate makes the views. A
    # minutes edit must arrive in full only with the hosts, through Redis and through the
    # catch-up from the log while Redis is away, and every client must keep the seq running.
    session = await create(
        cast,
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member2"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer"},
        ],
        agenda=[{"title": "进展"}],
    )
    auth = {"session_id": session["id"]}
    seen: dict[str, list[dict[str, Any]]] = {"host": [], "proposer": []}
    staff = RoomWatcher(two_servers[0], {**auth, "token": cast.staff.token})
    others = {
        "host": RoomWatcher(two_servers[1], {**auth, "token": cast.member2.token}),
        "proposer": RoomWatcher(two_servers[1], {**auth, "token": cast.member.token}),
    }
    for who, watcher in others.items():

        async def keep(event: dict[str, Any], w: RoomWatcher = watcher, who: str = who) -> None:
            seen[who].append(event)
            await w._event(event)

        watcher.sio.on("event", keep, namespace="/room")
    try:
        for watcher in (staff, *others.values()):
            await watcher.connect()
        await staff.command("session.start")

        async def edit_then_say(text: str) -> None:
            await staff.command("minutes.edit", item_id=1, op="decision.add", text=text)
            await staff.say(f"after {text}")

        await edit_then_say("议定一")
        await _until(_has_said(others["proposer"], "after 议定一"), "the edit crossed")
        await private_redis.kill()
        await edit_then_say("议定二")
        await _until(_has_said(others["proposer"], "after 议定二"), "the log was read")
        for who, events in seen.items():
            edits = [e for e in events if e["type"] == "minutes.edit"]
            texts = [e["data"].get("text") for e in edits]
            expected = ["议定一", "议定二"] if who == "host" else [None, None]
            assert texts == expected, (who, edits)
            assert others[who].received == sorted(set(others[who].received)), who
            assert others[who].gaps == 0, who
    finally:
        for watcher in (staff, *others.values()):
            await watcher.sio.disconnect()
