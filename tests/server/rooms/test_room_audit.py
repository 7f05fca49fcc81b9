"""Room acts in the audit log: admits and removals, with the connection's address."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.server.test_audit import trail


async def test_room_admits_and_removals_are_recorded_with_the_connections_address(
    cast: Cast, clients: Any
) -> None:
    public = await create_session(
        cast, kind="livelihood_hall", stage=None, visibility="public", agenda=[{"title": "提问"}]
    )
    sid = public["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    joined = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "市民 刘先生"})
    guest = await clients(guest_token=joined.body["guest_token"], session_id=sid)
    await host.wait_for(lambda: "lobby.enter" in host.types())
    key = f"g:{joined.body['guest_id']}"
    assert (await host.command("lobby.admit", who=key))["ok"]
    await guest.wait_for(lambda: "lobby.admit" in guest.types())
    assert (await guest.call("join"))["ok"]
    assert (await host.command("participant.remove", who=key))["ok"]
    entries = await trail(cast, session_id=sid)
    actions = [e["action"] for e in reversed(entries)]
    assert actions == [
        "session.create",
        "guest.join",
        "room.lobby.admit",
        "room.participant.remove",
    ]
    admit = next(e for e in entries if e["action"] == "room.lobby.admit")
    assert admit["actor_id"] == cast.ids["staff"]
    assert admit["address"] == "127.0.0.1"
    assert admit["detail"]["who"] == key and admit["detail"]["name"] == "市民 刘先生"
