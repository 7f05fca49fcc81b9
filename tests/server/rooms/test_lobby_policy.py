"""The session's lobby setting and admitting everyone at once (issue 17's contracts).

``lobby`` and ``recording`` travel with a session on POST, PATCH and GET, defaulting to its
kind's template; with ``lobby: "none"`` a guest's connection joins the room at once, with
``host_admits`` it waits, and ``lobby.admit_all`` lets every waiting guest in with one event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from server.config import Config
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create

HALL = {"kind": "livelihood_hall", "stage": None, "visibility": "public", "agenda": []}
CROWD = 20  # a public hall's guests, joining from their phones at once


@pytest.fixture
def config(config: Config) -> Config:
    """Guest joins above the crowd (the limit per address is tested elsewhere)."""
    return dataclasses.replace(config, guest_joins_per_window=100)


async def test_lobby_and_recording_default_from_the_kind_and_can_be_set_and_patched(
    cast: Cast,
) -> None:
    templates = (await cast.staff.get("/api/session-templates")).body
    by_kind = {t["kind"]: t for t in templates["items"]}
    handling = await create(cast)
    assert (handling["lobby"], handling["recording"]) == ("none", by_kind["handling"]["recording"])
    hall = await create(cast, **HALL)
    assert (hall["lobby"], hall["recording"]) == ("host_admits", "on")
    chosen = await create(cast, **HALL, lobby="none", recording="off")
    assert (chosen["lobby"], chosen["recording"]) == ("none", "off")
    url = f"/api/sessions/{chosen['id']}"
    change = {"lobby": "host_admits", "recording": "ask", "allow_conflicts": True}
    patched = await cast.staff.patch(url, change)
    assert patched.status == 200, patched.text
    read = (await cast.staff.get(f"/api/sessions/{chosen['id']}")).body
    assert (read["lobby"], read["recording"]) == ("host_admits", "ask")
    # Another field's change keeps them; null and unknown values are refused by field.
    renamed = await cast.staff.patch(url, {"title": "改名", "allow_conflicts": True})
    assert renamed.status == 200
    assert (await cast.staff.get(f"/api/sessions/{chosen['id']}")).body["lobby"] == "host_admits"
    for bad in ({"lobby": None}, {"lobby": "open"}, {"recording": "maybe"}):
        refused = await cast.staff.patch(f"/api/sessions/{chosen['id']}", bad)
        assert refused.status == 400, bad
        assert refused.body["errors"][0]["field"] == next(iter(bad))
    assert (await cast.staff.post("/api/sessions", {**HALL, "lobby": "x"})).status == 400


async def guest(cast: Cast, clients: Callable[..., Any], session_id: int, name: str) -> Any:
    joined = await cast.anon.post(f"/api/sessions/{session_id}/guest-join", {"name": name})
    assert joined.status == 200, joined.text
    client = await clients(guest_token=joined.body["guest_token"], session_id=session_id)
    client.key = f"g:{joined.body['guest_id']}"
    return client


async def test_with_lobby_none_a_guest_joins_the_room_at_once(
    cast: Cast, clients: Callable[..., Any]
) -> None:
    hall = await create(cast, **HALL, lobby="none")
    host = await clients(token=cast.staff.token, session_id=hall["id"])
    visitor = await guest(cast, clients, hall["id"], "市民 王女士")
    await visitor.wait_for(lambda: visitor.snapshots)
    assert visitor.lobby == []  # never told to wait
    assert visitor.key in visitor.snapshots[0]["state"]["admitted"]
    await host.wait_for(
        lambda: (
            visitor.key in host.snapshots[0]["state"]["admitted"]
            or any(
                (e["type"] == "presence.join" and e["data"]["who"] == visitor.key)
                or (
                    e["type"] == "presence.batch"
                    and any(c["who"] == visitor.key for c in e["data"]["changes"])
                )
                for e in host.events
            )
        )
    )
    admit = next(e for e in host.events if e["type"] == "lobby.admit")
    assert admit["by"] == "system" and admit["data"]["who"] == visitor.key
    assert (await visitor.command("chat.send", text="我在会场里"))["ok"] is True


async def test_admit_all_lets_twenty_waiting_guests_in_with_one_event(
    cast: Cast, clients: Callable[..., Any]
) -> None:
    hall = await create(cast, **HALL)
    sid = hall["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    waiting = [await guest(cast, clients, sid, f"市民{i}") for i in range(CROWD)]
    for g in waiting:
        await g.wait_for(lambda g=g: g.lobby)
        assert g.snapshots == []
    await host.wait_for(lambda: host.types().count("lobby.enter") == CROWD)
    refused = await member.command("lobby.admit_all")
    assert refused["error"]["code"] == "forbidden"
    answer = await host.command("lobby.admit_all")
    assert answer["ok"] is True
    await host.wait_for(lambda: "lobby.admit_all" in host.types())
    events = [e for e in host.events if e["type"] == "lobby.admit_all"]
    assert len(events) == 1
    assert sorted(x["who"] for x in events[0]["data"]["guests"]) == sorted(g.key for g in waiting)
    assert {x["name"] for x in events[0]["data"]["guests"]} == {f"市民{i}" for i in range(CROWD)}
    for g in waiting:  # each guest hears it in the lobby and enters
        await g.wait_for(lambda g=g: "lobby.admit_all" in g.types())
        entered = await g.call("join")
        assert entered["ok"] is True, entered
        assert entered["snapshot"]["state"]["lobby"] == {}
    # Nobody waiting: in effect already, nothing logged.
    again = await host.command("lobby.admit_all")
    assert again == {"ok": True}


async def test_a_join_link_says_which_meeting_it_is_for_public_sessions_only(cast: Cast) -> None:
    hall = await create(cast, **HALL, title="民生议政厅：加装电梯", topic="补贴与审批")
    private = await create(cast)
    shown = await cast.anon.get(f"/api/sessions/{hall['id']}/public")
    assert shown.status == 200, shown.text
    assert shown.body["title"] == "民生议政厅：加装电梯"
    assert shown.body["topic"] == "补贴与审批"
    assert shown.body["venue"] == "政协第一会议室"
    assert shown.body["starts_at"] == hall["starts_at"]
    assert (shown.body["lobby"], shown.body["kind"]) == ("host_admits", "livelihood_hall")
    assert set(shown.body) == {
        *("session_id", "title", "kind", "topic", "starts_at", "ends_at", "timezone"),
        *("venue", "status", "lobby"),
    }  # nothing about who takes part
    assert (await cast.anon.get(f"/api/sessions/{private['id']}/public")).status == 404
    assert (await cast.anon.get("/api/sessions/999999/public")).status == 404
