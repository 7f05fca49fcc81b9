"""The audit log: who did what, when, from where, to which object; append-only; staff read it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from server.db import Database
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session


async def trail(cast: Cast, **query: Any) -> list[dict[str, Any]]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    reply = await cast.staff.get(f"/api/audit?{params}")
    assert reply.status == 200, reply.text
    return reply.body["items"]  # type: ignore[no-any-return]


async def test_proposal_steps_are_recorded_with_actor_address_and_object(cast: Cast) -> None:
    proposal = await create_proposal(cast)
    pid = proposal["id"]
    moved = await cast.staff.post(f"/api/proposals/{pid}/transitions", {"to": "filed"})
    assert moved.status == 200, moved.text
    entries = await trail(cast, proposal_id=pid)
    assert [e["action"] for e in entries] == ["proposal.transition", "proposal.create"]
    step = entries[0]
    assert step["actor_id"] == cast.ids["staff"]
    assert step["actor"] == "王秘书 (staff)"
    assert step["address"] == "127.0.0.1"
    assert (step["object_type"], step["object_id"]) == ("proposal", pid)
    assert step["detail"] == {"from": "submitted", "to": "filed"}
    # A refused step leaves no trace: the entry is written in the step's own transaction.
    bad = await cast.staff.post(f"/api/proposals/{pid}/transitions", {"to": "closed"})
    assert bad.status == 409
    assert len(await trail(cast, proposal_id=pid)) == 2


async def test_session_changes_rsvps_and_exports_are_recorded(cast: Cast) -> None:
    session = await create_session(cast)
    sid = session["id"]
    moved = await cast.staff.post(
        f"/api/sessions/{sid}/reschedule",
        {
            "starts_at": "2026-12-02T09:30:00+08:00",
            "ends_at": "2026-12-02T11:00:00+08:00",
            "allow_conflicts": True,
        },
    )
    assert moved.status == 200, moved.text
    rsvp_reply = await cast.member.post(f"/api/sessions/{sid}/rsvp", {"answer": "accepted"})
    assert rsvp_reply.status == 200, rsvp_reply.text
    cancelled = await cast.staff.post(f"/api/sessions/{sid}/cancel", {"reason": "场地调整"})
    assert cancelled.status == 200, cancelled.text
    entries = await trail(cast, session_id=sid)
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["session.create", "session.reschedule", "session.rsvp", "session.cancel"]
    rsvp = next(e for e in entries if e["action"] == "session.rsvp")
    assert rsvp["actor_id"] == cast.ids["member"] and rsvp["detail"]["answer"] == "accepted"
    assert entries[0]["detail"]["reason"] == "场地调整"


async def test_the_family_filter_paging_and_who_may_read(cast: Cast) -> None:
    for n in range(3):
        await create_proposal(cast, f"2026-010{n}")
    everything = await trail(cast, action="proposal.")
    assert len(everything) == 3
    first = await trail(cast, action="proposal.", limit=2)
    page = (await cast.staff.get("/api/audit?action=proposal.&limit=2")).body
    assert page["next_before_id"] == first[-1]["id"]
    rest = await trail(cast, action="proposal.", before_id=page["next_before_id"])
    assert [e["id"] for e in first + rest] == [e["id"] for e in everything]
    for who in (cast.leader, cast.member, cast.unit, cast.guest):
        assert (await who.get("/api/audit")).status == 403
    assert (await cast.anon.get("/api/audit")).status == 401
    assert (await cast.staff.get("/api/audit?limit=0")).status == 400
    assert (await cast.staff.get("/api/audit?password=x")).status == 400


async def test_the_log_refuses_update_and_delete_in_the_database(
    cast: Cast, database: Database
) -> None:
    await create_proposal(cast)
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            async with database.transaction() as db:
                await db.execute(text(statement))
    entries = await trail(cast)
    assert entries and all(e["actor"] != "someone else" for e in entries)


async def test_a_forwarded_address_counts_only_from_a_trusted_proxy(cast: Cast) -> None:
    headers = {"X-Forwarded-For": "203.0.113.9"}
    proposal = await create_proposal(cast)
    await cast.staff.post(
        f"/api/proposals/{proposal['id']}/transitions", {"to": "filed"}, headers=headers
    )
    step = (await trail(cast, action="proposal.transition"))[0]
    assert step["address"] == "127.0.0.1"  # a client cannot choose its own address


async def test_the_dossier_carries_the_trail_for_staff_and_leaders_only(cast: Cast) -> None:
    proposal = await create_proposal(cast)
    pid = proposal["id"]
    await cast.staff.post(f"/api/proposals/{pid}/transitions", {"to": "filed"})
    staff_view = (await cast.staff.get(f"/api/proposals/{pid}/dossier")).body
    assert [e["action"] for e in staff_view["audit"]] == ["proposal.create", "proposal.transition"]
    assert (await cast.leader.get(f"/api/proposals/{pid}/dossier")).body["audit"] is not None
    member_view = await cast.member.get(f"/api/proposals/{pid}/dossier")
    assert member_view.status == 200 and member_view.body["audit"] is None
    status, body, _ = await cast.staff.download(f"/api/proposals/{pid}/dossier.docx")
    assert status == 200 and body[:2] == b"PK"
    exported = await trail(cast, action="proposal.dossier_export")
    assert exported[0]["proposal_id"] == pid and exported[0]["actor_id"] == cast.ids["staff"]
