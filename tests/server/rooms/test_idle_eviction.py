"""Idle eviction never drops a room a join is entering (the narrow race of issue #20)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.config import Config
from server.rooms.routes import HUB
from tests.conftest import Cast


@pytest.fixture
def config(config: Config) -> Config:
    # No idle time at all: a room nobody is attached to is evicted at the next turn of the
    # event loop, i.e. at the first database wait of the join that loaded it. (The setting's
    # floor is 1 s; the hub takes any value, and 0 forces the interleaving every time.)
    return dataclasses.replace(config, room_idle_seconds=0)


async def test_a_join_that_loads_the_room_keeps_it_and_stays_present(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    sid = room_session["id"]
    hub = server.app[HUB]
    host = await clients(token=cast.staff.token, session_id=sid)
    snapshot = (await host.wait_for(lambda: host.snapshots))[0]
    me = f"p:{cast.ids['staff']}"
    # Evicted mid-join, the room was reloaded without the joiner counted and, as the only
    # process, took the joiner for a connection of a dead process: presence.reset.
    assert me in snapshot["state"]["presence"], snapshot["state"]["presence"]
    await asyncio.sleep(0.1)  # many turns of the event loop: the idle clock had its chance
    assert sid in hub.rooms and hub.rooms[sid].connections == 1
    assert (await host.command("chat.send", text="还在"))["ok"]
    member = await clients(token=cast.member.token, session_id=sid)
    state = (await member.wait_for(lambda: member.snapshots))[0]["state"]
    assert me in state["presence"] and f"p:{cast.ids['member']}" in state["presence"]
    assert "presence.reset" not in host.types()
    await member.close()
    await host.close()
    for _ in range(50):  # and with everyone gone, the idle clock still empties memory
        if sid not in hub.rooms:
            break
        await asyncio.sleep(0.02)
    assert sid not in hub.rooms
