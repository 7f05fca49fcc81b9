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


async def test_minutes_edits_reviews_approvals_corrections_and_exports_are_recorded(
    cast: Cast, clients: Any
) -> None:
    from tests.server.record.test_minutes import held_session

    sid = (await held_session(cast, clients))["session"]["id"]
    url = f"/api/sessions/{sid}/minutes"
    content = (await cast.staff.get(url)).body["content"]
    await cast.staff.put(url, {"base_version": 1, "content": content, "note": "补充"})
    await cast.staff.post(f"{url}/transitions", {"to": "in_review", "base_version": 2})
    await cast.staff.post(f"{url}/transitions", {"to": "approved", "base_version": 3})
    fixed = {**content, "summary": "更正"}
    await cast.staff.post(
        f"{url}/corrections", {"base_version": 4, "content": fixed, "reason": "单位名称更正"}
    )
    assert (await cast.member.get(f"/api/sessions/{sid}/minutes.md")).status == 200
    minutes = [e for e in await trail(cast, action="minutes.") if e["session_id"] == sid]
    assert [(e["action"], e["detail"]["version"]) for e in reversed(minutes)] == [
        ("minutes.edit", 2),
        ("minutes.in_review", 3),
        ("minutes.approved", 4),
        ("minutes.correction", 5),
        ("minutes.export", 4),
    ]
    assert minutes[1]["detail"]["reason"] == "单位名称更正"
    assert minutes[0]["actor_id"] == cast.ids["member"] and minutes[0]["detail"]["format"] == "md"
    ended = await trail(cast, session_id=sid, action="room.session.end")
    assert len(ended) == 1 and ended[0]["actor_id"] == cast.ids["staff"]
