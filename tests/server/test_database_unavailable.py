"""A database that cannot be used answers 503 with Retry-After, not 500 "internal".

PostgreSQL is reached through a TCP relay that the test cuts, as a crashed or unplugged database
server looks to a running server (the shared PostgreSQL itself is never stopped). SQLite is made
busy by another connection holding its write lock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import socketio
from aiohttp.test_utils import TestServer
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from server.app import create_app, openapi_document
from server.config import Config
from server.db import Database
from server.errors import unavailable
from tests.conftest import PG_URL, Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session


class Relay:
    """A TCP relay to ``upstream`` that can be cut (connections dropped, new ones refused)."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._listener: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._listener = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)


@pytest.fixture
async def relayed(config: Config, cast: Cast) -> AsyncIterator[tuple[Relay, TestServer]]:
    """A second server on the test database, reaching PostgreSQL only through a relay."""
    where = urlsplit(config.db_url)
    assert where.hostname is not None and where.port is not None
    relay = Relay(where.hostname, where.port)
    await relay.start()
    url = config.db_url.replace(f"@{where.hostname}:{where.port}/", f"@127.0.0.1:{relay.port}/")
    srv = TestServer(create_app(dataclasses.replace(config, db_url=url)), host="127.0.0.1")
    await srv.start_server()
    yield relay, srv
    await srv.close()
    await relay.cut()


def _assert_unavailable(reply: Any) -> None:
    assert reply.status == 503, reply.text
    assert reply.content_type == "application/problem+json"
    assert reply.body["code"] == "unavailable"
    assert "try again" in reply.body["detail"].lower()
    assert int(reply.headers["Retry-After"]) >= 1


needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="cuts a relay to PostgreSQL: set XIESHANG_TEST_DATABASE_URL (CI does)"
)


@pytest.mark.postgres
@needs_postgres
async def test_api_requests_answer_503_while_postgresql_cannot_be_reached(
    cast: Cast, relayed: tuple[Relay, TestServer]
) -> None:
    relay, srv = relayed
    staff = cast.staff.as_(cast.staff.token)
    staff.base = str(srv.make_url("")).rstrip("/")
    assert (await staff.get("/api/me")).status == 200

    await relay.cut()
    _assert_unavailable(await staff.get("/api/me"))
    _assert_unavailable(await staff.post("/api/units", {"name": "市民政局"}))
    login = {"username": "member", "password": "correct horse battery"}
    _assert_unavailable(await staff.as_(None).post("/api/auth/login", login))
    health = await staff.as_(None).get("/api/health")
    assert (health.status, health.body["database"]) == (503, "unavailable")

    await relay.start()  # the database is back on the same address: so is the server
    assert (await staff.get("/api/me")).status == 200


@pytest.mark.postgres
@needs_postgres
async def test_room_commands_and_connects_are_refused_as_unavailable_while_postgresql_is_away(
    cast: Cast, relayed: tuple[Relay, TestServer]
) -> None:
    relay, srv = relayed
    sid = (await create_session(cast))["id"]
    url = str(srv.make_url(""))
    host = RoomClient(url, {"token": cast.staff.token, "session_id": sid})
    await host.connect()
    try:
        await relay.cut()
        ack = await host.command("session.start")
        assert ack["ok"] is False
        assert ack["error"]["code"] == "unavailable" and ack["error"]["retry_after"] >= 1
        late = RoomClient(url, {"token": cast.unit.token, "session_id": sid})
        with pytest.raises(socketio.exceptions.ConnectionError):
            await late.connect()
        assert late.refused[0]["message"].startswith("The database cannot be reached")
        assert late.refused[0]["data"]["code"] == "unavailable"
        await relay.start()
        assert (await host.command("session.start"))["ok"] is True
    finally:
        await host.close()


@pytest.mark.postgres
@needs_postgres
async def test_a_connection_lost_inside_a_transaction_counts_as_unavailable(
    config: Config,
) -> None:
    where = urlsplit(config.db_url)
    assert where.hostname is not None and where.port is not None
    relay = Relay(where.hostname, where.port)
    await relay.start()
    url = config.db_url.replace(f"@{where.hostname}:{where.port}/", f"@127.0.0.1:{relay.port}/")
    database = Database.from_url(url)
    try:
        with pytest.raises(DBAPIError) as lost:
            async with database.read() as db:
                await db.execute(sql("SELECT 1"))
                await relay.cut()
                await db.execute(sql("SELECT 2"))
        away = unavailable(lost.value)
        assert away is not None and away.status == 503, lost.value
    finally:
        await database.close()
        await relay.cut()


def test_the_api_document_declares_503_where_the_database_is_used() -> None:
    paths = openapi_document()["paths"]
    assert "503" in paths["/api/me"]["get"]["responses"]
    assert "503" in paths["/api/proposals/{proposal_id}/attachments"]["post"]["responses"]


@pytest.mark.skipif(PG_URL is not None, reason="SQLite's write lock; this run uses PostgreSQL")
async def test_a_write_while_another_holds_the_sqlite_lock_answers_503(
    cast: Cast, config: Config
) -> None:
    # The write waits the whole BUSY_TIMEOUT_MS (15 s) first. (Emptying the server's pool to
    # give new connections a shorter wait dropped connections still checked out, unclosed.)
    path = config.db_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    # Another process's long write, as far as the server sees. Taken in a thread: the server
    # may be inside a write of its own, which needs the event loop to finish.
    await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
    try:
        _assert_unavailable(await cast.staff.post("/api/units", {"name": "市民政局"}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (await cast.staff.post("/api/units", {"name": "市民政局"})).status == 201


@pytest.mark.skipif(PG_URL is not None, reason="SQLite's write lock; this run uses PostgreSQL")
async def test_a_write_waits_out_a_lock_held_for_longer_than_five_seconds(
    cast: Cast, config: Config
) -> None:
    # A busy process can hold the lock for seconds (each statement of a transaction is a trip
    # through the event loop); a CI run answered a sign-in 503 after SQLite's common 5 s wait.
    path = config.db_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")  # as above
    held = 6.0

    def release_later() -> None:
        time.sleep(held)
        holder.execute("ROLLBACK")
        holder.close()

    releasing = asyncio.get_running_loop().run_in_executor(None, release_later)
    started = time.perf_counter()
    reply = await cast.staff.post("/api/units", {"name": "市民政局"})
    waited = time.perf_counter() - started
    await releasing
    assert reply.status == 201, reply.text
    assert waited >= held - 0.5  # it really waited for the holder
