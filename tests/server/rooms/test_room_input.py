"""What a room accepts from a client: ids in range, storable text, bounded objects, idempotent
lobby entry; over real Socket.IO clients (and a raw websocket for what no client library sends)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import socketio
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create

LONE_SURROGATE = "\ud83d"  # half of 😀: cannot be encoded as UTF-8


async def refused(server: TestServer, auth: dict[str, Any]) -> str:
    """The reason a connection to ``/room`` with ``auth`` is refused."""
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
    assert reasons, auth
    return str(reasons[0]["message"])


async def test_a_session_id_out_of_range_or_unstorable_credentials_are_refused_at_connect(
    cast: Cast, room_session: dict[str, Any], server: TestServer, clients: Any
) -> None:
    assert room_session["id"] == 1  # so that True would pass for it as 1
    for session_id in (True, 2**31, 2**70, 0, -1):
        reason = await refused(server, {"token": cast.member.token, "session_id": session_id})
        assert "session_id" in reason, session_id
    for auth in (
        {"token": LONE_SURROGATE, "session_id": 1},
        {"guest_token": "x\x00" * 10, "session_id": 1},
        {"device_token": LONE_SURROGATE * 20, "session_id": 1},
    ):
        assert "auth." in await refused(server, auth), auth
    # The one real id still connects, and its events reach the room.
    host = await clients(token=cast.staff.token, session_id=1)
    member = await clients(token=cast.member.token, session_id=1)
    await host.command("session.start")
    await member.wait_for(lambda: "session.start" in member.types())


async def test_sync_refuses_a_since_that_is_no_seq_and_still_gives_a_snapshot_for_minus_one(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    host = await clients(token=cast.staff.token, session_id=room_session["id"])
    await host.wait_for(lambda: host.snapshots)
    for since in (2**70, 2**31, True, -2, -(2**70), 1.5, "3"):
        reply = await host.call("sync", {"since": since})
        assert reply["ok"] is False, since
        assert reply["error"]["code"] == "invalid", since
    assert (await host.call("sync", {"since": 2**31 - 1}))["events"] == []
    assert "snapshot" in await host.call("sync", {"since": -1})
    assert "snapshot" in await host.call("sync", {})


async def test_text_that_cannot_be_stored_is_refused_in_every_command(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    await host.command("session.start")
    attempts = [
        (member, "chat.send", {"text": f"你好{LONE_SURROGATE}"}),
        (member, "chat.send", {"text": "a\x00b"}),
        (host, "poll.open", {"question": "同意吗", "options": ["同意", LONE_SURROGATE]}),
        (host, "agenda.add", {"title": f"新议题{LONE_SURROGATE}"}),
        (host, "presence.checkin", {"who": f"p:{cast.ids['member']}", "name": LONE_SURROGATE}),
        (host, "minutes.edit", {"item_id": 1, "op": "notes", "text": "\udc00", "base_version": 0}),
        (host, "hand.raise", {LONE_SURROGATE: 1}),
    ]
    for client, kind, data in attempts:
        reply = await client.command(kind, **data)
        assert reply["ok"] is False, (kind, data)
        assert reply["error"]["code"] == "invalid", (kind, reply)
    state = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert state["chat"] == [] and state["polls"] == {} and state["minutes"] == {}
    assert f"p:{cast.ids['member']}" not in state["attendance"] or not state["attendance"][
        f"p:{cast.ids['member']}"
    ].get("checked_in")
    assert (await member.command("chat.send", text="表情 😀 没问题"))["ok"] is True


async def test_data_that_is_not_an_object_is_refused(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    host = await clients(token=cast.staff.token, session_id=room_session["id"])
    await host.command("session.start")
    for data in ("x", [], 5, None):
        reply = await host.call("command", {"type": "hand.raise", "data": data})
        assert reply["ok"] is False and reply["error"]["code"] == "invalid", data
    assert (await host.call("command", {"type": "hand.raise"}))["ok"] is True  # no data: {}


async def raw_call(server: TestServer, auth: dict[str, Any], body: str) -> Any:
    """Send one ``/room`` event as raw Socket.IO text and return its ack (None if none came)."""
    url = str(server.make_url("/socket.io/?EIO=4&transport=websocket"))
    english = {"Accept-Language": "en"}  # the acks' words are checked in English
    async with ClientSession() as http, http.ws_connect(url, headers=english) as ws:
        assert (await ws.receive_str()).startswith("0")  # engine.io open
        await ws.send_str("40/room," + json.dumps(auth))
        while not (await ws.receive_str()).startswith("40/room,"):
            pass
        await ws.send_str("42/room,7" + body)
        try:
            async with asyncio.timeout(5):
                while True:
                    frame = await ws.receive_str()
                    if frame.startswith("43/room,7"):
                        return json.loads(frame.removeprefix("43/room,7"))[0]
        except TimeoutError:
            return None


@pytest.mark.parametrize("depth", [40, 1000, 30_000])
async def test_a_deeply_nested_command_gets_a_clear_error_ack(
    cast: Cast, room_session: dict[str, Any], server: TestServer, depth: int
) -> None:
    auth = {"token": cast.staff.token, "session_id": room_session["id"]}
    nested = "[" * depth + "]" * depth
    ack = await raw_call(
        server, auth, f'["command",{{"type":"chat.send","data":{{"x":{nested}}}}}]'
    )
    assert ack is not None, "no ack"
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert "nest" in ack["error"]["message"]


async def test_a_command_with_too_many_values_is_refused(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    host = await clients(token=cast.staff.token, session_id=room_session["id"])
    reply = await host.command("chat.send", text="hi", extra=list(range(10_000)))
    assert reply["ok"] is False and reply["error"]["code"] == "invalid"


async def test_a_guest_entering_the_lobby_again_changes_nothing(cast: Cast, clients: Any) -> None:
    public = await create(
        cast, kind="livelihood_hall", stage=None, visibility="public", agenda=[{"title": "议题"}]
    )
    sid = public["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    joined = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": "市民 刘先生"})
    guest = await clients(guest_token=joined.body["guest_token"], session_id=sid)
    await guest.wait_for(lambda: guest.lobby)
    await host.wait_for(lambda: "lobby.enter" in host.types())
    before = (await host.call("sync", {"since": -1}))["snapshot"]["seq"]
    for _ in range(3):
        assert (await guest.command("lobby.enter"))["ok"] is True
    after = (await host.call("sync", {"since": -1}))["snapshot"]
    assert after["seq"] == before
    assert list(after["state"]["lobby"]) == [f"g:{joined.body['guest_id']}"]
    assert host.types().count("lobby.enter") == 1


async def test_a_removed_participant_cannot_check_in_by_the_halls_qr_code(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = f"p:{cast.ids['member']}"
    assert (await host.command("participant.remove", who=member))["ok"] is True
    link = await cast.staff.get(f"/api/sessions/{sid}/checkin-link")
    done = await cast.member.post(f"/api/sessions/{sid}/checkin", {"token": link.body["token"]})
    assert done.status == 403, done.text
    assert "removed" in done.body["detail"]
    state = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert not state["attendance"].get(member, {}).get("checked_in")
