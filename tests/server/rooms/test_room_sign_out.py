"""A room connection lives no longer than the login token it was opened with: signing out ends
it at once on its own process and within seconds on any other; an expired token likewise."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.audit import service as audit
from server.config import Config
from server.db import Database
from server.directory import service as directory
from tests.conftest import PASSWORD, ApiClient, Cast
from tests.server.rooms.conftest import RoomClient


@asynccontextmanager
async def another_server(config: Config, check_seconds: int) -> AsyncIterator[TestServer]:
    """A second server process's worth of application on the same database."""
    srv = TestServer(
        create_app(config.with_changes(room_token_check_seconds=check_seconds)), host="127.0.0.1"
    )
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


async def sign_in(base: str, http: ClientSession, username: str) -> ApiClient:
    """A fresh login token for ``username`` (each sign-in is a token of its own)."""
    api = ApiClient(http, base)
    reply = await api.post("/api/auth/login", {"username": username, "password": PASSWORD})
    assert reply.status == 200, reply.text
    return api.as_(reply.body["token"])


def gone(client: RoomClient) -> Callable[[], bool]:
    return lambda: "/room" not in client.sio.namespaces


async def test_signing_out_ends_that_tokens_room_connections_at_once(
    cast: Cast, room_session: dict[str, Any], config: Config
) -> None:
    sid = room_session["id"]
    # Checks an hour apart: only signing out itself can end the connection in time.
    async with another_server(config, 3600) as srv, ClientSession() as http:
        base = str(srv.make_url("")).rstrip("/")
        leaving, staying = await sign_in(base, http, "member"), await sign_in(base, http, "member")
        room: dict[str, RoomClient] = {}
        for name, api in (("leaving", leaving), ("staying", staying)):
            room[name] = await RoomClient(base, {"token": api.token, "session_id": sid}).connect()
        try:
            await room["leaving"].wait_for(lambda: room["leaving"].snapshots)
            assert (await leaving.post("/api/auth/logout")).status == 204
            await room["leaving"].wait_for(gone(room["leaving"]), seconds=3)
            synced = await room["staying"].call("sync", {"since": -1})
            assert synced["ok"] is True  # the other token's connection goes on
        finally:
            for client in room.values():
                await client.close()


async def test_signing_out_on_another_process_ends_the_connection_within_seconds(
    cast: Cast, room_session: dict[str, Any], config: Config
) -> None:
    async with another_server(config, 1) as srv:
        auth = {"token": cast.member.token, "session_id": room_session["id"]}
        client = await RoomClient(str(srv.make_url("")), auth).connect()
        try:
            await client.wait_for(lambda: client.snapshots)
            # Signed out through the suite's server: a process of its own, the same database.
            assert (await cast.member.post("/api/auth/logout")).status == 204
            await client.wait_for(gone(client), seconds=5)
        finally:
            await client.close()


async def test_an_expired_login_token_ends_its_room_connection_within_seconds(
    cast: Cast, room_session: dict[str, Any], config: Config, database: Database
) -> None:
    limits = audit.LoginLimits(per_account=5, per_address=30, window=dt.timedelta(minutes=15))
    short = await directory.login(
        database, config.passwords(), "member", PASSWORD, dt.timedelta(seconds=2), limits
    )
    async with another_server(config, 1) as srv:
        auth = {"token": short.token, "session_id": room_session["id"]}
        client = await RoomClient(str(srv.make_url("")), auth).connect()
        try:
            await client.wait_for(lambda: client.snapshots)
            assert (await client.call("sync", {"since": -1}))["ok"] is True
            await client.wait_for(gone(client), seconds=6)
        finally:
            await client.close()
