"""What each viewer sees of a room, in snapshots, live events and ``sync``: the minutes being
written only by those who read draft minutes through the API (staff, leaders, the session's
hosts), and a hidden chat message's text only by hosts."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create

NOTES = "住建局介绍了加装电梯进展（草稿）"


async def public_session(cast: Cast) -> dict[str, Any]:
    """A public hall: staff host, a non-staff host (member2), the proposer, the lead unit and a
    leader who takes part as a member."""
    return await create(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member2"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer"},
            {"person_id": cast.ids["unit"], "role": "unit"},
            {"person_id": cast.ids["leader"], "role": "member"},
        ],
        agenda=[{"title": "议题介绍"}, {"title": "群众提问"}],
    )


async def admitted_guest(cast: Cast, clients: Any, host: RoomClient, sid: int) -> RoomClient:
    joined = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "市民 刘先生"})
    guest = await clients(guest_token=joined.body["guest_token"], session_id=sid)
    await guest.wait_for(lambda: guest.lobby)
    assert (await host.command("lobby.admit", who=f"g:{joined.body['guest_id']}"))["ok"]
    await guest.wait_for(lambda: "lobby.admit" in guest.types())
    assert (await guest.call("join"))["ok"]
    return guest


def edits(client: RoomClient) -> list[dict[str, Any]]:
    return [e for e in client.events if e["type"] == "minutes.edit"]


async def test_the_minutes_being_written_and_the_attendance_record_reach_only_those_who_read_drafts(
    cast: Cast, clients: Any
) -> None:
    sid = (await public_session(cast))["id"]
    staff = await clients(token=cast.staff.token, session_id=sid)
    readers = {
        "staff": staff,
        "host": await clients(token=cast.member2.token, session_id=sid),
        "leader": await clients(token=cast.leader.token, session_id=sid),
    }
    others = {
        "proposer": await clients(token=cast.member.token, session_id=sid),
        "unit": await clients(token=cast.unit.token, session_id=sid),
        "guest": await admitted_guest(cast, clients, staff, sid),
    }
    await staff.command("session.start")
    for op in (
        {"op": "notes", "text": NOTES, "base_version": 0},
        {"op": "decision.add", "text": "简化审批流程"},
        {"op": "action.add", "text": "出台补贴细则", "owner_unit_id": cast.unit_ids["a"]},
    ):
        assert (await staff.command("minutes.edit", item_id=1, **op))["ok"]
    assert (await staff.command("chat.send", text="edits done"))["ok"]
    for who, client in {**readers, **others}.items():
        await client.wait_for(lambda c=client: "chat.send" in c.types())
        live = edits(client)
        assert len(live) == 3, who  # everyone keeps the seq, so nobody resyncs in a loop
        synced = [e for e in (await client.call("sync", {"since": 0}))["events"]]
        synced_edits = [e for e in synced if e["type"] == "minutes.edit"]
        state = (await client.call("sync", {"since": -1}))["snapshot"]["state"]
        if who in readers:
            assert live[0]["data"]["text"] == NOTES, who
            assert synced_edits[0]["data"]["text"] == NOTES, who
            assert state["minutes"]["1"]["notes"]["text"] == NOTES, who
            # The attendance record goes with the minutes: who came when, everyone's.
            assert {"p:" + str(cast.ids["member"]), "p:" + str(cast.ids["unit"])} <= set(
                state["attendance"]
            ), who
        else:
            assert all(e["data"] == {} for e in live + synced_edits), who
            assert state["minutes"] == {}, who
            assert "attendance" not in state, who
            assert "attendance" not in client.snapshots[-1]["state"], who
            assert set(state["presence"]) >= {"p:" + str(cast.ids["member"])}, who
            assert NOTES not in str(synced) and "补贴细则" not in str(state), who


async def test_a_hidden_messages_text_stays_only_with_the_hosts(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    await host.command("session.start")
    sent = await member.command("chat.send", text="不当言论")
    assert (await member.command("chat.send", text="正常发言"))["ok"]
    assert (await host.command("chat.hide", message_id=sent["seq"]))["ok"]
    late = await clients(token=cast.unit.token, session_id=sid)
    for viewer in (member, late):
        state = (await viewer.call("sync", {"since": -1}))["snapshot"]["state"]
        hidden, shown = state["chat"]
        assert hidden["hidden"] is True and hidden["text"] == ""
        assert shown["text"] == "正常发言"
        assert late.snapshots[0]["state"]["chat"][0]["text"] == ""
        events = (await viewer.call("sync", {"since": 0}))["events"]
        sends = [e for e in events if e["type"] == "chat.send"]
        assert [e["data"]["text"] for e in sends] == ["", "正常发言"]
    state = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert state["chat"][0]["text"] == "不当言论"
    events = (await host.call("sync", {"since": 0}))["events"]
    assert "不当言论" in [e["data"].get("text") for e in events]
