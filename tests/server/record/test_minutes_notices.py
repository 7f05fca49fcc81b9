"""Approving a session's minutes tells its participants (issue 18, "everyone is told")."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.server.record.test_record_lifecycle import approve, hold
from tests.server.sessions.test_sessions_api import create as create_session


async def test_approved_minutes_tell_every_participant_and_only_them(
    cast: Cast, clients: Any
) -> None:
    session = await create_session(
        cast,
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer"},
            {"person_id": cast.ids["unit"], "role": "unit"},
        ],
    )
    await hold(cast, clients, session["id"])
    await approve(cast, session["id"])
    for who in (cast.member, cast.unit, cast.staff):
        items = (await who.get("/api/me/notifications")).body["items"]
        approved = [i for i in items if i["kind"] == "minutes_approved"]
        assert [i["link"] for i in approved] == [f"#/minutes/{session['id']}"]
        assert approved[0]["title"].startswith("The minutes of the session ")
    others = (await cast.member2.get("/api/me/notifications")).body["items"]
    assert others == []
