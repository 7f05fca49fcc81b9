"""Consent to recording (issue 19): in a session that is or may be recorded, everyone answers a
notice before their camera or microphone is sent. Answers are logged in the room, in the audit
log and in the minutes; the server refuses media from anyone who has not accepted; a recording
does not start while someone publishing has not accepted."""

from __future__ import annotations

from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from server.rooms.record import room_record
from server.rooms.reducer import RoomError
from tests.conftest import Cast
from tests.server.media.test_media import GREEN, Colour
from tests.server.rooms.test_reducer import GUEST, HOST, MEMBER, Room, live_room
from tests.server.sessions.test_sessions_api import create
from tests.server.test_audit import trail


def asking_room(recording: str) -> Room:
    room = Room()
    room.events.clear()
    room._append("room.open", {"session_id": 7, "title": "办理协商", "recording": recording}, None)
    for actor in (HOST, MEMBER):
        room.join(actor)
    room.do(HOST, "session.start")
    return room


# ---------------------------------------------------------------- the reducer


def test_an_ask_session_asks_and_records_each_answer_with_its_time() -> None:
    room = asking_room("ask")
    assert room.state["consent_asked"] is True
    room.tick(30)
    event = room.do(MEMBER, "recording.consent", answer="accepted")
    assert event["data"] == {"who": "p:3", "name": "张委员", "answer": "accepted"}
    assert room.state["consent"]["p:3"] == {
        "name": "张委员",
        "answer": "accepted",
        "at": event["at"],
    }
    seq = room.state["seq"]
    room.do(MEMBER, "recording.consent", answer="accepted")  # the same answer: nothing logged
    assert room.state["seq"] == seq
    with pytest.raises(RoomError) as bad:
        room.do(MEMBER, "recording.consent", answer="maybe")
    assert bad.value.code == "invalid"
    with pytest.raises(RoomError) as waiting:  # a guest still in the lobby answers nothing yet
        room.do(GUEST, "recording.consent", answer="declined")
    assert waiting.value.code == "in_lobby"
    room.do(MEMBER, "recording.consent", answer="declined")  # changing one's mind is logged
    record = room_record(room.state, None)
    assert [(c["name"], c["answer"]) for c in record["consent"]] == [("张委员", "declined")]


def test_a_session_that_is_not_recorded_asks_nothing_until_a_host_asks_or_records() -> None:
    room = asking_room("off")
    assert room.state["consent_asked"] is False
    with pytest.raises(RoomError) as member_asks:
        room.do(MEMBER, "recording.ask")
    assert member_asks.value.code == "forbidden"
    room.do(HOST, "recording.ask")
    assert room.state["consent_asked"] is True
    seq = room.state["seq"]
    room.do(HOST, "recording.ask")  # asked already
    assert room.state["seq"] == seq
    started = live_room()  # an older room log (no recording setting): starting asks from then on
    assert started.state["consent_asked"] is False
    started.do(HOST, "recording.start")
    assert started.state["consent_asked"] is True


def test_recording_does_not_start_while_someone_publishing_has_not_accepted() -> None:
    room = asking_room("off")
    room._append("feed.add", {"feed_id": "f1", "who": "p:3", "source": "camera"}, None)
    with pytest.raises(RoomError) as refused:
        room.do(HOST, "recording.start")
    assert refused.value.code == "consent_missing"
    assert "张委员" in refused.value.message
    assert refused.value.details["who"] == ["p:3"]
    room.do(MEMBER, "recording.consent", answer="accepted")
    room.do(HOST, "recording.start")
    assert room.state["recording"] is not None


# ---------------------------------------------------------------- over Socket.IO


async def publish(client: Any) -> dict[str, Any]:
    """An offer with a camera track, as a browser makes it: the ack (a feed, or a refusal)."""
    pc = RTCPeerConnection()
    pc.addTrack(Colour(GREEN))
    await pc.setLocalDescription(await pc.createOffer())
    ack = await client.call("rtc.publish", {"sdp": pc.localDescription.sdp, "source": "camera"})
    if ack.get("ok"):
        await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
    client.pcs = [*getattr(client, "pcs", []), pc]
    return ack  # type: ignore[no-any-return]


async def close_media(*clients: Any) -> None:
    for client in clients:
        for pc in getattr(client, "pcs", []):
            await pc.close()


async def test_media_is_refused_before_consent_and_answers_reach_the_audit_log_and_minutes(
    cast: Cast, clients: Any
) -> None:
    session = await create(cast)  # a handling session: its template says recording: ask
    assert session["recording"] == "ask"
    sid = session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    chinese = await clients(language="zh-CN", token=cast.unit.token, session_id=sid)
    assert (await host.command("session.start"))["ok"]
    refused = await publish(member)
    assert refused["ok"] is False and refused["error"]["code"] == "consent_needed"
    assert "acknowledge the notice" in refused["error"]["message"]
    refused = await publish(chinese)
    assert refused["error"]["code"] == "consent_needed"
    assert "确认" in refused["error"]["message"], refused
    assert (await member.command("recording.consent", answer="accepted"))["ok"]
    assert (await chinese.command("recording.consent", answer="declined"))["ok"]
    assert (await publish(member))["ok"]
    assert (await publish(chinese))["error"]["code"] == "consent_needed"  # declined: watches
    assert (await chinese.command("chat.send", text="补贴何时到位？", kind="question"))["ok"]
    assert (await host.command("recording.start"))["ok"]
    await host.wait_for(lambda: "recording.start" in host.types())
    assert (await host.command("session.end"))["ok"]
    await close_media(member, chinese)

    entries = await trail(cast, session_id=sid, action="room.recording.consent")
    answers = {e["detail"]["name"]: e["actor_id"] for e in entries}
    assert answers == {"张委员": cast.ids["member"], "住建局 赵处长": cast.ids["unit"]}
    minutes = (await cast.staff.get(f"/api/sessions/{sid}/minutes")).body["content"]
    consent = {c["name"]: c["answer"] for c in minutes["consent"]}
    assert consent == {"张委员": "accepted", "住建局 赵处长": "declined"}
    assert all(c["at"] for c in minutes["consent"])
    text = (await cast.staff.download(f"/api/sessions/{sid}/minutes.md"))[1].decode()
    assert "录制知情确认" in text and "张委员：已确认" in text and "住建局 赵处长：不同意" in text


async def test_a_host_starting_to_record_asks_first_and_unacknowledged_media_stops(
    cast: Cast, clients: Any
) -> None:
    session = await create(cast, recording="off")
    sid = session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    assert (await host.command("session.start"))["ok"]
    published = await publish(member)  # not recorded: nobody is asked
    assert published["ok"], published
    await host.wait_for(lambda: "feed.add" in host.types())
    refused = await host.command("recording.start")
    assert refused["error"]["code"] == "consent_missing"
    assert "张委员" in refused["error"]["message"]
    assert (await host.command("recording.ask"))["ok"]
    await host.wait_for(lambda: "feed.remove" in host.types(), 10)  # the member's media stopped
    assert (await publish(member))["error"]["code"] == "consent_needed"
    assert (await host.command("recording.start"))["ok"]
    assert (await member.command("recording.consent", answer="accepted"))["ok"]
    assert (await publish(member))["ok"]
    await close_media(member)
