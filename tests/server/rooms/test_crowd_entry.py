"""A crowd entering a room at once: whom each login token signs in, and whether that person may
enter, are read for everyone who asks together in one query (``server.read_batch``), against
the database as it is now (nothing is remembered between queries)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer

from server.app import SIGNED_IN
from server.auth import token_digest
from server.realtime import SIO
from server.rooms.events import NAMESPACE
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create


def entries_of(server: TestServer) -> Any:
    return server.app[SIO].namespace_handlers[NAMESPACE].entries


async def test_tokens_asked_together_are_read_in_one_query_and_a_sign_out_counts_at_once(
    cast: Cast, server: TestServer
) -> None:
    signed_in = server.app[SIGNED_IN]
    people = [cast.staff, cast.member, cast.unit, cast.leader]
    tokens = [p.token or "" for p in people] * 3 + ["not-a-token"]
    before = signed_in.queries
    found = await asyncio.gather(*(signed_in.get(token_digest(t)) for t in tokens))
    assert signed_in.queries - before == 1
    names = ["王秘书", "张委员", "住建局 赵处长", "李主席"]
    assert [p.name if p else None for p in found] == [*names * 3, None]
    assert found[2] is not None and found[2].unit_id == cast.unit_ids["a"]

    out = await cast.member.post("/api/auth/logout")
    assert out.status == 204
    assert await signed_in.get(token_digest(cast.member.token or "")) is None
    assert (await signed_in.get(token_digest(cast.staff.token or ""))) is not None


async def test_entry_checks_asked_together_are_read_in_one_query(
    cast: Cast, server: TestServer, room_session: dict[str, Any]
) -> None:
    entries, sid = entries_of(server), room_session["id"]
    asked = [
        (sid, cast.ids["staff"]),
        (sid, cast.ids["member"]),
        (sid, cast.ids["unit"]),
        (sid, cast.ids["member2"]),  # not on the list
        (sid + 1000, cast.ids["member"]),  # no such session
    ]
    before = entries.queries
    found = await asyncio.gather(*(entries.get(key) for key in asked))
    assert entries.queries - before == 1
    assert [f and f["role"] for f in found] == ["host", "proposer", "unit", None, None]
    assert found[3] == {**found[0], "role": None}
    assert found[0]["status"] == "scheduled" and found[0]["visibility"] == "private"


async def test_a_crowd_connecting_at_once_enters_with_its_own_roles_and_outsiders_do_not(
    cast: Cast, server: TestServer, clients: Callable[..., Any], room_session: dict[str, Any]
) -> None:
    sid, signed_in, entries = room_session["id"], server.app[SIGNED_IN], entries_of(server)
    roles = {"staff": "host", "member": "proposer", "unit": "unit"}
    before = signed_in.queries, entries.queries
    crowd = await asyncio.gather(
        *(clients(token=getattr(cast, n).token, session_id=sid) for n in list(roles) * 5),
        *(_refused(server, cast.member2.token, sid) for _ in range(3)),
        *(_refused(server, "forged-token-0123456789", sid) for _ in range(2)),
    )
    members, outsiders = crowd[:15], crowd[15:]
    for client in members:
        await client.wait_for(lambda client=client: client.snapshots, seconds=15)
    newest = max(members, key=lambda c: c.snapshots[0]["seq"]).snapshots[0]["state"]["presence"]
    assert {k: p["role"] for k, p in newest.items()} == {
        f"p:{cast.ids[n]}": role for n, role in roles.items()
    }
    assert outsiders[:3] == ["You are not a participant of this session."] * 3
    assert all("token" in reason for reason in outsiders[3:]), outsiders
    # Twenty connections asked; how many queries that took depends on how their arrivals
    # spread (a few in the runs here), never more than one per connection that asked.
    assert signed_in.queries - before[0] <= len(crowd)
    assert entries.queries - before[1] <= len(members) + 3


async def _refused(server: TestServer, token: str | None, sid: int) -> str:
    """The reason a connection with ``token`` is refused (it must be)."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    client.on("connect_error", reasons.append, namespace=NAMESPACE)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            str(server.make_url("")),
            auth={"token": token, "session_id": sid},
            headers={"Accept-Language": "en"},
            namespaces=[NAMESPACE],
            transports=["websocket"],
            wait_timeout=15,
        )
    return str(reasons[0]["message"])


async def test_guest_passes_asked_together_are_read_in_one_query(
    cast: Cast, server: TestServer
) -> None:
    hall = await create(cast, kind="livelihood_hall", stage=None, visibility="public", agenda=[])
    names, passes = ("市民甲", "市民乙", "市民丙"), []
    for name in names:
        made = await cast.anon.post(f"/api/sessions/{hall['id']}/guest-join", {"name": name})
        assert made.status == 200, made.text
        passes.append(made.body)
    guests = server.app[SIO].namespace_handlers[NAMESPACE].guests
    digests = [token_digest(p["guest_token"]) for p in passes] + [token_digest("forged")]
    before = guests.queries
    found = await asyncio.gather(*(guests.get(d) for d in digests))
    assert guests.queries - before == 1
    assert [(g.id, g.session_id, g.name) if g else None for g in found] == [
        *((p["guest_id"], hall["id"], n) for p, n in zip(passes, names, strict=True)),
        None,
    ]
    entries = entries_of(server)
    hall_entry, person_entry = await asyncio.gather(
        entries.get((hall["id"], None)), entries.get((hall["id"], cast.ids["staff"]))
    )
    assert hall_entry is not None and hall_entry["visibility"] == "public"
    assert hall_entry["role"] is None and person_entry is not None
    assert person_entry["role"] == "host"
