"""Room fixtures: real Socket.IO clients on the test server's ``/room`` namespace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer
from sqlalchemy import event

from server.db import Database
from server.rooms.service import Event, RoomHub
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create

# How long a test client waits for an acknowledgement: the page's own wait for media signaling
# (web/js/media.js). In one CI run on two cores, among the browser tests at the end, the server
# took more than 5 s to answer an rtc.publish. (Speed is measured in bench/, not here.)
ANSWER_SECONDS = 15


class RoomClient:
    """A participant's connection: applies events in seq order, as a browser would."""

    def __init__(self, url: str, auth: dict[str, Any], language: str | None = "en") -> None:
        self.url, self.auth = url, auth
        # English unless asked otherwise, so tests can check the server's words.
        self.headers = {"Accept-Language": language} if language else {}
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.lobby: list[dict[str, Any]] = []
        self.refused: list[Any] = []
        self.sio.on("event", self.events.append, namespace="/room")
        self.sio.on("snapshot", self.snapshots.append, namespace="/room")
        self.sio.on("lobby", self.lobby.append, namespace="/room")
        self.sio.on("connect_error", self.refused.append, namespace="/room")

    async def connect(self) -> RoomClient:
        await self.sio.connect(
            self.url,
            auth=self.auth,
            headers=self.headers,
            namespaces=["/room"],
            transports=["websocket"],
            # The join waits for the database; on a loaded CI machine SQLite's write lock alone
            # has taken more than 5 s. (Speed is measured in bench/, not here.)
            wait_timeout=15,
        )
        return self

    async def command(self, command: str, /, **data: Any) -> dict[str, Any]:
        payload = {"type": command, "data": data}
        return await self.sio.call("command", payload, namespace="/room", timeout=ANSWER_SECONDS)  # type: ignore[no-any-return]

    async def call(self, event: str, payload: Any = None) -> dict[str, Any]:
        return await self.sio.call(event, payload, namespace="/room", timeout=ANSWER_SECONDS)  # type: ignore[no-any-return]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    async def wait_for(self, check: Callable[[], Any], seconds: float = 5.0) -> Any:
        for _ in range(int(seconds / 0.02)):
            if result := check():
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; events so far: {self.types()}")

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def room_session(cast: Cast) -> dict[str, Any]:
    """A handling session with a host (staff), a proposer (member) and the lead unit."""
    return await create(cast)


@pytest.fixture
async def clients(server: TestServer) -> AsyncIterator[Callable[..., Any]]:
    made: list[RoomClient] = []

    async def connect(language: str | None = "en", **auth: Any) -> RoomClient:
        client = RoomClient(str(server.make_url("")), auth, language)
        made.append(client)
        return await client.connect()

    yield connect
    for client in made:
        await client.close()


@contextmanager
def engine_events(database: Database, name: str) -> Iterator[list[tuple[Any, ...]]]:
    """The arguments of each of the engine's ``name`` events (``commit``,
    ``before_cursor_execute``, …) while the block runs."""
    seen: list[tuple[Any, ...]] = []

    def heard(*args: Any) -> None:
        seen.append(args)

    engine = database.engine.sync_engine
    event.listen(engine, name, heard)
    try:
        yield seen
    finally:
        event.remove(engine, name, heard)


class Hubs:
    """Room hubs of their own on the test database (each one a server process, as far as a
    room is concerned), all closed at the end; ``sent[hub]`` is what a hub broadcast."""

    def __init__(self, database: Database) -> None:
        self.database, self.made = database, list[RoomHub]()
        self.sent: dict[RoomHub, list[Event]] = {}

    def __call__(self, **options: Any) -> RoomHub:
        sent: list[Event] = []

        async def emit(_session_id: int, event: Event) -> None:
            sent.append(event)

        hub = RoomHub(database=self.database, emit=emit, **options)
        self.made.append(hub)
        self.sent[hub] = sent
        return hub


@pytest.fixture
async def hubs(database: Database) -> AsyncIterator[Hubs]:
    made = Hubs(database)
    yield made
    for hub in made.made:
        await hub.close()
