"""Rooms keep time (speaking turns end on the server), admit the hall's device, and leave
memory when nobody is connected."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from server.rooms.routes import HUB
from server.rooms.service import RoomHub
from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create


def at(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["at"])


def first(client: RoomClient, kind: str) -> Any:
    return lambda: next((e for e in client.events if e["type"] == kind), None)


async def test_a_speaking_turn_ends_by_itself_when_its_time_is_up(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    await host.command("session.start")
    member_key = f"p:{cast.ids['member']}"
    granted = await host.command("floor.grant", who=member_key, seconds=1)
    assert granted["ok"], granted
    grant = await member.wait_for(first(member, "floor.grant"))
    state = (await member.call("sync", {"since": -1}))["snapshot"]["state"]
    assert state["floor"]["until"] == (at(grant) + dt.timedelta(seconds=1)).isoformat()
    assert state["floor"]["grant"] == grant["seq"]
    expired = await member.wait_for(first(member, "floor.expire"), seconds=5)
    assert expired["by"] is None  # the server's own doing
    assert expired["data"] == {"who": member_key, "grant": grant["seq"]}
    assert at(expired) - at(grant) >= dt.timedelta(seconds=1)
    state = (await member.call("sync", {"since": -1}))["snapshot"]["state"]
    assert state["floor"] is None
    assert (await member.command("floor.expire", grant=grant["seq"]))["error"]["code"] == (
        "unknown_command"
    )


async def test_an_extended_turn_lasts_longer_and_a_revoked_one_does_not_expire(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    await clients(token=cast.member.token, session_id=sid)
    await host.command("session.start")
    member_key = f"p:{cast.ids['member']}"
    await host.command("floor.grant", who=member_key, seconds=1)
    extended = await host.command("floor.extend", seconds=1)
    assert extended["ok"], extended
    grant = await host.wait_for(first(host, "floor.grant"))
    expired = await host.wait_for(first(host, "floor.expire"), seconds=6)
    assert at(expired) - at(grant) >= dt.timedelta(seconds=2)
    assert (await host.command("floor.extend", seconds=30))["error"]["code"] == "conflict"

    await host.command("floor.grant", who=member_key, seconds=1)
    await host.command("floor.revoke")
    await host.wait_for(first(host, "floor.revoke"))
    await asyncio.sleep(1.5)
    assert host.types().count("floor.expire") == 1  # only the first turn's


async def test_a_turn_still_ends_after_a_restart_that_lost_its_timer(
    cast: Cast, config: Config, room_session: dict[str, Any], server: TestServer
) -> None:
    sid = room_session["id"]
    auth = {"token": cast.staff.token, "session_id": sid}
    host = await RoomClient(str(server.make_url("")), auth).connect()
    await host.command("session.start")
    await host.command("floor.grant", who=f"p:{cast.ids['staff']}", seconds=1)
    await host.close()
    await server.app[HUB].close()  # the process dies: its timer with it

    again = TestServer(create_app(config), host="127.0.0.1")
    await again.start_server()
    try:
        host = await RoomClient(str(again.make_url("")), auth).connect()
        await host.wait_for(first(host, "floor.expire"), seconds=5)
        await host.close()
    finally:
        await again.close()


async def test_the_hall_joins_as_a_device_in_person_and_can_be_given_the_floor(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    assert (await cast.member.post(f"/api/sessions/{sid}/hall-device", {})).status == 404
    made = await cast.staff.post(f"/api/sessions/{sid}/hall-device", {})
    assert made.status == 200, made.text
    assert made.body["venue_id"] == cast.venue_id and made.body["venue_name"]
    token = made.body["device_token"]
    host = await clients(token=cast.staff.token, session_id=sid)
    hall = await clients(device_token=token, session_id=sid)
    key = f"h:{cast.venue_id}"
    snapshot = (await hall.wait_for(lambda: hall.snapshots))[0]
    here = snapshot["state"]["presence"][key]
    assert (here["role"], here["attendance"], here["name"]) == (
        "hall",
        "in_person",
        made.body["venue_name"],
    )
    await host.command("session.start")
    assert (await hall.command("hand.raise"))["ok"]
    assert (await host.command("floor.grant", who=key, seconds=60))["ok"]
    refused = await hall.command("agenda.next")
    assert refused["error"]["code"] == "forbidden"
    assert (await hall.command("chat.send", text="会场"))["error"]["code"] == "forbidden"


@pytest.mark.parametrize("tamper", ["forged", "other_session"])
async def test_a_hall_pass_works_only_for_its_own_session(
    cast: Cast, room_session: dict[str, Any], server: TestServer, tamper: str
) -> None:
    other = await create(cast)
    token = (await cast.staff.post(f"/api/sessions/{other['id']}/hall-device", {})).body[
        "device_token"
    ]
    if tamper == "forged":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        session_id = other["id"]
    else:
        session_id = room_session["id"]
    client = RoomClient(str(server.make_url("")), {"device_token": token, "session_id": session_id})
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect()
    reason = str(client.refused[0]).lower()
    assert ("another session" if tamper == "other_session" else "not valid") in reason, reason


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, room_idle_seconds=1)


async def test_a_room_nobody_is_in_leaves_memory_and_comes_back_intact(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    sid = room_session["id"]
    hub = server.app[HUB]
    host = await clients(token=cast.staff.token, session_id=sid)
    await host.command("session.start")
    await host.command("chat.send", text="散会前的最后一句")
    await host.close()
    for _ in range(150):
        if sid not in hub.rooms:
            break
        await asyncio.sleep(0.02)
    assert sid not in hub.rooms
    back = await clients(token=cast.staff.token, session_id=sid)
    state = (await back.wait_for(lambda: back.snapshots))[0]["state"]
    assert state["status"] == "live"
    assert state["chat"][-1]["text"] == "散会前的最后一句"
    assert sid in hub.rooms


async def test_joins_racing_a_restarted_room_load_are_not_wiped_by_its_reset(
    cast: Cast, room_session: dict[str, Any], database: Any
) -> None:
    """After a crash the first load of a room resets stale presence; a join that arrives while
    it loads must land after that reset, not before it."""
    sid = room_session["id"]

    async def emit(_session_id: int, _event: Any) -> None:
        return None

    before = RoomHub(database=database, emit=emit)
    await before.record(sid, "presence.join", {"who": "p:1", "name": "旧连接"}, "p:1")
    await before.close()  # the process "dies" with p:1 still present
    after = RoomHub(database=database, emit=emit)
    people = [f"p:{i}" for i in range(1, 21)]
    joins = [after.record(sid, "presence.join", {"who": p, "name": p}, p) for p in people]
    await asyncio.gather(*joins)
    _seq, state = await after.snapshot(sid)
    assert set(state["presence"]) == set(people)
    assert all(p["devices"] == 1 for p in state["presence"].values())
    await after.close()
