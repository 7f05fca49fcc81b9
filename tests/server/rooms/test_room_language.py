"""Room refusals (command acks and refused connections) in the language asked for at connect:
zh-CN by default, English on request (``Accept-Language`` of the Socket.IO handshake)."""

from __future__ import annotations

from typing import Any

import pytest
import socketio

from tests.conftest import Cast


async def test_a_room_refusal_ack_is_in_the_language_asked_for_at_connect(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    default = await clients(language=None, token=cast.member.token, session_id=sid)
    english = await clients(language="en", token=cast.member.token, session_id=sid)
    assert (await host.command("session.start"))["ok"] is True
    refused = await default.command("agenda.next")
    assert refused == {
        "ok": False,
        "error": {"code": "forbidden", "message": "只有主持人和工作人员可以推进议程。"},
    }
    refused = await english.command("agenda.next")
    assert refused["error"]["message"] == "Only hosts and staff drive the agenda."


async def test_a_refused_connection_says_why_in_the_language_asked_for(
    room_session: dict[str, Any], server: Any
) -> None:
    auth = {"token": "forged-token-0123456789", "session_id": room_session["id"]}
    for language, expected in (("zh-CN", "登录凭证无效"), ("en", "Your login token is invalid")):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[Any] = []
        client.on("connect_error", reasons.append, namespace="/room")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                str(server.make_url("")),
                auth=auth,
                headers={"Accept-Language": language},
                namespaces=["/room"],
                transports=["websocket"],
                wait_timeout=5,
            )
        assert reasons and expected in reasons[0]["message"], reasons


async def test_the_pages_language_in_the_query_comes_before_the_browsers_header(
    room_session: dict[str, Any], server: Any
) -> None:
    """web/js/room-client.js sends the page's language as ?lang=; a browser's own
    Accept-Language may say otherwise."""
    auth = {"token": "forged-token-0123456789", "session_id": room_session["id"]}
    for query, header, expected in (
        ("?lang=en", "zh-CN", "Your login token is invalid"),
        ("?lang=zh-CN", "en", "登录凭证无效"),
    ):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[Any] = []
        client.on("connect_error", reasons.append, namespace="/room")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                str(server.make_url("")) + query,
                auth=auth,
                headers={"Accept-Language": header},
                namespaces=["/room"],
                transports=["websocket"],
                wait_timeout=5,
            )
        assert reasons and expected in reasons[0]["message"], reasons


async def test_without_a_language_asked_for_the_room_answers_in_the_persons_chosen_one(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: Any
) -> None:
    """A client that names no language (no ?lang=, no Accept-Language) gets the language the
    person chose (PATCH /api/me): refusal acks and refused connections alike."""
    sid = room_session["id"]
    for client in (cast.member, cast.member2):
        assert (await client.patch("/api/me", {"language": "en"})).status == 200
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(language=None, token=cast.member.token, session_id=sid)
    assert (await host.command("session.start"))["ok"] is True
    refused = await member.command("agenda.next")
    assert refused["error"]["message"] == "Only hosts and staff drive the agenda."
    asked = await clients(language="zh-CN", token=cast.member.token, session_id=sid)
    assert (await asked.command("agenda.next"))["error"]["message"] == (
        "只有主持人和工作人员可以推进议程。"
    )  # what the client asks for comes first
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    client.on("connect_error", reasons.append, namespace="/room")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            str(server.make_url("")),
            auth={"token": cast.member2.token, "session_id": sid},  # not a participant
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=5,
        )
    assert reasons and reasons[0]["message"] == "You are not a participant of this session."
