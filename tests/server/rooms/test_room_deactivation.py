"""Staff who deactivate an account, or give it a new password, end that person's live room
connections at once (their tokens are revoked, not only refused at the next request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient


def gone(client: RoomClient) -> Callable[[], bool]:
    return lambda: "/room" not in client.sio.namespaces


async def test_deactivating_a_person_ends_their_room_connection(
    cast: Cast, room_session: dict[str, Any], clients: Callable[..., Any]
) -> None:
    member = await clients(token=cast.member.token, session_id=room_session["id"])
    unit = await clients(token=cast.unit.token, session_id=room_session["id"])
    await member.wait_for(lambda: member.snapshots)
    reply = await cast.staff.patch(f"/api/people/{cast.ids['member']}", {"active": False})
    assert reply.status == 200, reply.text
    await member.wait_for(gone(member), seconds=3)
    assert (await unit.call("sync", {"since": -1}))["ok"] is True  # others stay


async def test_a_new_password_ends_the_persons_room_connection(
    cast: Cast, room_session: dict[str, Any], clients: Callable[..., Any]
) -> None:
    member = await clients(token=cast.member.token, session_id=room_session["id"])
    await member.wait_for(lambda: member.snapshots)
    url = f"/api/people/{cast.ids['member']}"
    assert (await cast.staff.patch(url, {"password": "another long passphrase 4"})).status == 200
    await member.wait_for(gone(member), seconds=3)
