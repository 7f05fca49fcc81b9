"""The live-room protocol over real Socket.IO clients: connect, commands, events, lobby, sync."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create


async def test_a_participant_gets_a_snapshot_and_everyone_sees_commands_in_order(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    await host.wait_for(lambda: host.snapshots)
    snapshot = (await member.wait_for(lambda: member.snapshots))[0]
    assert snapshot["state"]["title"] == room_session["title"]
    assert [i["title"] for i in snapshot["state"]["agenda"]] == [
        a["title"] for a in room_session["agenda"]
    ]
    ack = await host.command("session.start")
    assert ack["ok"] is True
    await host.command("agenda.next")
    await member.wait_for(lambda: "agenda.next" in member.types())
    seqs = [e["seq"] for e in member.events]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    last = member.events[-1]
    assert set(last) == {"seq", "type", "data", "at", "by"}
    assert last["by"] == f"p:{cast.ids['staff']}"
    refused = await member.command("agenda.next")
    assert refused == {
        "ok": False,
        "error": {"code": "forbidden", "message": "Only hosts and staff drive the agenda."},
    }
    assert (await cast.staff.get(f"/api/sessions/{sid}")).body["status"] == "live"


async def test_people_outside_the_session_cannot_connect(
    cast: Cast, room_session: dict[str, Any], server: Any
) -> None:
    for auth in (
        {"token": cast.member2.token, "session_id": room_session["id"]},
        {"token": "forged-token-0123456789", "session_id": room_session["id"]},
        {"session_id": room_session["id"]},
        {"token": cast.member.token},
    ):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[Any] = []
        client.on("connect_error", reasons.append, namespace="/room")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                str(server.make_url("")),
                auth=auth,
                namespaces=["/room"],
                transports=["websocket"],
                wait_timeout=5,
            )
        assert reasons and reasons[0]["message"], auth


async def test_a_guest_waits_in_the_lobby_sees_only_lobby_events_and_joins_when_admitted(
    cast: Cast, clients: Any
) -> None:
    public = await create(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        agenda=[{"title": "议题介绍"}, {"title": "群众提问"}],
    )
    sid = public["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    joined = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "市民 刘先生"})
    assert joined.status == 200
    guest = await clients(guest_token=joined.body["guest_token"], session_id=sid)
    await guest.wait_for(lambda: guest.lobby)
    assert guest.snapshots == []
    await host.wait_for(lambda: "lobby.enter" in host.types())
    await host.command("session.start")
    await host.command("chat.send", text="欢迎各位")
    key = f"g:{joined.body['guest_id']}"
    assert (await guest.command("chat.send", text="我能说话吗"))["error"]["code"] == "in_lobby"
    assert (await guest.call("sync", {"since": 0}))["error"]["code"] == "in_lobby"
    await host.command("lobby.admit", who=key)
    await guest.wait_for(lambda: "lobby.admit" in guest.types())
    assert set(guest.types()) <= {"lobby.enter", "lobby.admit"}  # nothing else leaked
    joined_ack = await guest.call("join")
    assert joined_ack["ok"] is True
    assert joined_ack["snapshot"]["state"]["chat"][0]["text"] == "欢迎各位"
    asked = await guest.command("chat.send", text="加装电梯补贴怎么申请？", kind="question")
    assert asked["ok"] is True
    await host.wait_for(
        lambda: any(e["type"] == "chat.send" and e["by"] == key for e in host.events)
    )


async def test_guests_cannot_join_private_or_ended_sessions(
    cast: Cast, room_session: dict[str, Any]
) -> None:
    private = await cast.anon.post(f"/api/sessions/{room_session['id']}/guest-join", {"name": "x"})
    assert private.status == 404
    assert (await cast.anon.post("/api/sessions/99999/guest-join", {"name": "x"})).status == 404
    assert (
        await cast.anon.post(f"/api/sessions/{room_session['id']}/guest-join", {"name": ""})
    ).status == 400


async def test_sync_gives_the_missed_events_or_a_snapshot(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    await host.wait_for(lambda: host.snapshots)
    seq = host.snapshots[0]["seq"]
    await host.command("session.start")
    await host.command("hand.raise")
    reply = await host.call("sync", {"since": seq})
    assert [e["type"] for e in reply["events"]] == ["session.start", "hand.raise"]
    fresh = await host.call("sync", {"since": -1})
    assert fresh["snapshot"]["seq"] == seq + 2
    assert fresh["snapshot"]["state"]["queue"] == [f"p:{cast.ids['staff']}"]


async def test_a_vote_is_secret_until_the_poll_closes(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    await host.command("session.start")
    opened = await host.command(
        "poll.open", question="是否同意办理方案？", options=["同意", "不同意"]
    )
    poll_id = opened["seq"]
    assert (await member.command("poll.vote", poll_id=poll_id, choices=[1]))["ok"] is True
    vote = await host.wait_for(
        lambda: next((e for e in host.events if e["type"] == "poll.vote"), None)
    )
    assert "choices" not in vote["data"]
    snapshot = (await host.call("sync", {"since": -1}))["snapshot"]["state"]["polls"][str(poll_id)]
    assert snapshot["voters"] == 1 and "votes" not in snapshot
    await host.command("poll.close", poll_id=poll_id)
    closed = await member.wait_for(
        lambda: next((e for e in member.events if e["type"] == "poll.close"), None)
    )
    assert closed["data"]["results"] == [0, 1]


async def test_too_many_commands_are_refused_not_queued(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    host = await clients(token=cast.staff.token, session_id=room_session["id"])
    replies = [await host.command("chat.send", text=f"{i}") for i in range(40)]
    assert all(r["ok"] for r in replies[:20])  # a burst of 20 is fine
    refused = [r for r in replies if not r["ok"]]
    assert refused and {r["error"]["code"] for r in refused} == {"rate_limited"}
    await asyncio.sleep(0.3)  # the bucket refills at 10 a second
    assert (await host.command("chat.send", text="again"))["ok"] is True
    snapshot = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert len(snapshot["chat"]) == 41 - len(refused)


async def test_in_person_check_in_by_the_halls_qr_code(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    link = await cast.staff.get(f"/api/sessions/{sid}/checkin-link")
    assert link.status == 200
    assert link.body["url"].endswith(link.body["token"])
    assert (await cast.member.get(f"/api/sessions/{sid}/checkin-link")).status == 404
    done = await cast.member.post(f"/api/sessions/{sid}/checkin", {"token": link.body["token"]})
    assert done.status == 200, done.text
    event = await host.wait_for(
        lambda: next((e for e in host.events if e["type"] == "presence.checkin"), None)
    )
    assert event["data"]["who"] == f"p:{cast.ids['member']}"
    state = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert state["attendance"][f"p:{cast.ids['member']}"]["attendance"] == "in_person"
    assert (
        await cast.member2.post(f"/api/sessions/{sid}/checkin", {"token": link.body["token"]})
    ).status == 404
    forged = await cast.member.post(
        f"/api/sessions/{sid}/checkin", {"token": link.body["token"][:-4] + "AAAA"}
    )
    assert forged.status == 403


async def test_a_removed_participants_check_in_is_forbidden_not_a_conflict(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    # A room refusal reaching HTTP answers by its code: forbidden is 403 (RoomError was 409).
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    link = await cast.staff.get(f"/api/sessions/{sid}/checkin-link")
    removed = await host.command("participant.remove", who=f"p:{cast.ids['member']}")
    assert removed["ok"] is True, removed
    refused = await cast.member.post(f"/api/sessions/{sid}/checkin", {"token": link.body["token"]})
    assert refused.status == 403, refused.text
    assert refused.body["code"] == "forbidden"


async def test_a_unit_cannot_edit_another_units_action_items(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    await cast.staff.patch(
        f"/api/sessions/{sid}",
        {
            "participants": [
                {"person_id": cast.ids["staff"], "role": "host"},
                {"person_id": cast.ids["unit"], "role": "unit"},
                {"person_id": cast.ids["unit2"], "role": "unit"},
            ],
            "agenda": [{"title": "办理进展"}],
            "allow_conflicts": True,
        },
    )
    host = await clients(token=cast.staff.token, session_id=sid)
    unit = await clients(token=cast.unit.token, session_id=sid)
    other = await clients(token=cast.unit2.token, session_id=sid)
    await host.command("session.start")
    added = await host.command(
        "minutes.edit",
        item_id=1,
        op="action.add",
        text="出台细则",
        owner_unit_id=cast.unit_ids["a"],
        due="2027-03-31",
    )
    entry = str(added["seq"])
    mine = await unit.command(
        "minutes.edit", item_id=1, op="action.update", entry_id=entry, text="已起草", base_version=1
    )
    assert mine["ok"], mine
    theirs = await other.command(
        "minutes.edit", item_id=1, op="action.update", entry_id=entry, text="x", base_version=2
    )
    assert theirs["error"]["code"] == "forbidden"


async def test_a_turned_away_guest_is_refused_at_connect_with_a_reason(
    cast: Cast, clients: Any, server: Any
) -> None:
    public = await create(cast, kind="livelihood_hall", stage=None, visibility="public", agenda=[])
    host = await clients(token=cast.staff.token, session_id=public["id"])
    joined = await cast.anon.post(f"/api/sessions/{public['id']}/guest-join", {"name": "捣乱者"})
    guest = await clients(guest_token=joined.body["guest_token"], session_id=public["id"])
    await guest.wait_for(lambda: guest.lobby)
    await host.command("lobby.deny", who=f"g:{joined.body['guest_id']}")
    await guest.close()
    again = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    again.on("connect_error", reasons.append, namespace="/room")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect(
            str(server.make_url("")),
            auth={"guest_token": joined.body["guest_token"], "session_id": public["id"]},
            headers={"Accept-Language": "en"},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=5,
        )
    assert "turned away" in reasons[0]["message"]
