"""Scheduling sessions over HTTP: create, read by role, filter, change."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal


def session_body(cast: Cast, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "handling",
        "mode": "hybrid",
        "stage": "during",
        "title": "老旧小区加装电梯办理协商",
        "topic": "加装电梯审批与补贴",
        "starts_at": "2026-12-01T09:30:00+08:00",
        "ends_at": "2026-12-01T11:00:00+08:00",
        "timezone": "Asia/Shanghai",
        "venue_id": cast.venue_id,
        "visibility": "private",
        "participants": [
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer", "attendance": "remote"},
            {"person_id": cast.ids["unit"], "role": "unit"},
        ],
        "agenda": [
            {"title": "承办单位介绍进展", "presenter_id": cast.ids["unit"], "planned_minutes": 20},
            {"title": "协商交流", "planned_minutes": 40},
        ],
    }
    body.update(extra)
    return body


async def create(cast: Cast, **extra: Any) -> dict[str, Any]:
    """Schedule a session; double bookings are allowed here unless a test says otherwise."""
    extra.setdefault("allow_conflicts", True)
    reply = await cast.staff.post("/api/sessions", session_body(cast, **extra))
    assert reply.status == 201, reply.text
    return reply.body  # type: ignore[no-any-return]


async def test_staff_schedule_a_session_stored_in_utc_with_its_zone(cast: Cast) -> None:
    p = await create_proposal(cast)
    body = await create(
        cast,
        proposal_ids=[p["id"]],
        agenda=[{"title": "进展", "proposal_id": p["id"], "presenter_id": cast.ids["unit"]}],
    )
    assert body["starts_at"] == "2026-12-01T01:30:00Z"
    assert body["ends_at"] == "2026-12-01T03:00:00Z"
    assert body["timezone"] == "Asia/Shanghai"
    assert body["status"] == "scheduled"
    assert body["proposal_ids"] == [p["id"]]
    people = {x["person_id"]: x for x in body["participants"]}
    assert people[cast.ids["member"]]["attendance"] == "remote"
    assert people[cast.ids["unit"]]["attendance"] == "in_person"
    assert people[cast.ids["unit"]]["name"] == "住建局 赵处长"
    assert all(x["rsvp"] == "needs_action" for x in body["participants"])
    assert body["agenda"][0]["proposal_id"] == p["id"]
    again = await cast.staff.get(f"/api/sessions/{body['id']}")
    assert again.body == body


async def test_the_creator_becomes_host_when_none_is_named(cast: Cast) -> None:
    body = await create(
        cast, participants=[{"person_id": cast.ids["member"], "role": "proposer"}], agenda=[]
    )
    hosts = [p["person_id"] for p in body["participants"] if p["role"] == "host"]
    assert hosts == [cast.ids["staff"]]


async def test_default_time_zone_is_asia_shanghai(cast: Cast) -> None:
    body = session_body(cast)
    del body["timezone"]
    reply = await cast.staff.post("/api/sessions", body)
    assert reply.status == 201
    assert reply.body["timezone"] == "Asia/Shanghai"


async def test_members_see_their_sessions_and_public_ones_guests_only_public(cast: Cast) -> None:
    private = await create(cast)
    public = await create(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        participants=[{"person_id": cast.ids["staff"], "role": "host"}],
        agenda=[],
    )
    other = await create(
        cast, participants=[{"person_id": cast.ids["member2"], "role": "proposer"}], agenda=[]
    )

    async def ids(client: Any) -> set[int]:
        reply = await client.get("/api/sessions")
        assert reply.status == 200
        return {s["id"] for s in reply.body["items"]}

    assert await ids(cast.staff) == {private["id"], public["id"], other["id"]}
    assert await ids(cast.leader) == {private["id"], public["id"], other["id"]}
    assert await ids(cast.member) == {private["id"], public["id"]}
    assert await ids(cast.member2) == {public["id"], other["id"]}
    assert await ids(cast.guest) == {public["id"]}
    assert (await cast.guest.get(f"/api/sessions/{private['id']}")).status == 404
    assert (await cast.member.get(f"/api/sessions/{other['id']}")).status == 404


async def test_a_unit_sees_the_sessions_of_its_proposals(cast: Cast) -> None:
    theirs = await create_proposal(cast, "2026-0007", lead_unit_id=cast.unit_ids["b"])
    session = await create(
        cast,
        proposal_ids=[theirs["id"]],
        participants=[{"person_id": cast.ids["staff"], "role": "host"}],
        agenda=[],
    )
    assert (await cast.unit2.get(f"/api/sessions/{session['id']}")).status == 200
    assert (await cast.unit.get(f"/api/sessions/{session['id']}")).status == 404


async def test_list_filters_by_window_person_proposal_and_kind(cast: Cast) -> None:
    p = await create_proposal(cast)
    early = await create(cast, proposal_ids=[p["id"]])
    late = await create(
        cast,
        kind="micro",
        stage=None,
        starts_at="2026-12-20T14:00:00+08:00",
        ends_at="2026-12-20T15:00:00+08:00",
        participants=[{"person_id": cast.ids["member2"], "role": "proposer"}],
        agenda=[],
    )

    async def ids(**params: str) -> list[int]:
        reply = await cast.staff.get("/api/sessions", params=params)
        assert reply.status == 200, reply.text
        return [s["id"] for s in reply.body["items"]]

    assert await ids() == [early["id"], late["id"]]
    assert await ids(**{"from": "2026-12-10T00:00:00+08:00"}) == [late["id"]]
    assert await ids(to="2026-12-01T09:30:00+08:00") == []
    assert await ids(
        **{"from": "2026-12-01T10:59:00+08:00", "to": "2026-12-01T11:30:00+08:00"}
    ) == [early["id"]]
    assert await ids(person_id=str(cast.ids["member2"])) == [late["id"]]
    assert await ids(proposal_id=str(p["id"])) == [early["id"]]
    assert await ids(kind="micro") == [late["id"]]
    naive = await cast.staff.get("/api/sessions", params={"from": "2026-12-10T00:00:00"})
    assert naive.status == 400
    assert naive.body["errors"][0]["field"] == "from"


async def test_patch_keeps_rsvps_of_people_who_stay_and_a_new_time_asks_again(
    cast: Cast, database: Any
) -> None:
    from sqlalchemy import update

    from server.sessions.models import Participant

    body = await create(cast)
    async with database.transaction() as db:
        await db.execute(
            update(Participant)
            .where(Participant.person_id == cast.ids["member"])
            .values(rsvp="accepted")
        )
    url = f"/api/sessions/{body['id']}"
    participants = [
        {"person_id": cast.ids["staff"], "role": "host"},
        {"person_id": cast.ids["member"], "role": "proposer"},
        {"person_id": cast.ids["leader"], "role": "leader"},
    ]
    changed = await cast.staff.patch(url, {"participants": participants, "agenda": []})
    assert changed.status == 200, changed.text
    rsvps = {p["person_id"]: p["rsvp"] for p in changed.body["participants"]}
    assert rsvps == {
        cast.ids["staff"]: "needs_action",
        cast.ids["member"]: "accepted",
        cast.ids["leader"]: "needs_action",
    }
    assert changed.body["sequence"] == body["sequence"]
    moved = await cast.staff.patch(
        url, {"starts_at": "2026-12-02T14:00:00+08:00", "ends_at": "2026-12-02T15:30:00+08:00"}
    )
    assert moved.status == 200, moved.text
    assert moved.body["starts_at"] == "2026-12-02T06:00:00Z"
    assert moved.body["sequence"] == body["sequence"] + 1
    assert {p["rsvp"] for p in moved.body["participants"]} == {"needs_action"}
    assert moved.body["title"] == body["title"]
    assert moved.body["uid"] == body["uid"]


async def test_patch_is_checked_against_the_merged_session(cast: Cast) -> None:
    body = await create(cast)
    url = f"/api/sessions/{body['id']}"
    reply = await cast.staff.patch(url, {"ends_at": "2026-12-01T09:00:00+08:00"})
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "ends_at"
    remote = await cast.staff.patch(url, {"mode": "remote", "venue_id": None})
    assert remote.status == 200
    assert {p["attendance"] for p in remote.body["participants"]} == {"remote"}
    assert (await cast.staff.patch(url, {"mode": "in_person"})).status == 400
    assert (await cast.member.patch(url, {"title": "x"})).status == 403
    assert (await cast.staff.patch(url, {"status": "live"})).status == 400
    assert (await cast.staff.get(url)).body["mode"] == "remote"


async def test_participant_roles_must_fit_the_account(cast: Cast) -> None:
    reply = await cast.staff.post(
        "/api/sessions",
        session_body(
            cast,
            participants=[
                {"person_id": cast.ids["staff"], "role": "host"},
                {"person_id": cast.ids["member"], "role": "unit"},
                {"person_id": 4242, "role": "member"},
            ],
            agenda=[],
        ),
    )
    assert reply.status == 400
    assert {e["field"] for e in reply.body["errors"]} == {
        "participants.1.role",
        "participants.2.person_id",
    }


async def test_a_time_can_be_checked_for_conflicts_before_saving(cast: Cast) -> None:
    booked = await create(cast)
    check = {
        "starts_at": "2026-12-01T10:00:00+08:00",
        "ends_at": "2026-12-01T10:30:00+08:00",
        "person_ids": [cast.ids["member"], cast.ids["member2"]],
        "venue_id": cast.venue_id,
    }
    found = await cast.staff.post("/api/schedule/check", check)
    assert found.status == 200, found.text
    clashes = {(c["resource"], c["name"], c["session_id"]) for c in found.body["items"]}
    assert ("person", "张委员", booked["id"]) in clashes
    assert any(c[0] == "venue" for c in clashes)
    assert not any(c[1] == "陈委员" for c in clashes)
    editing = await cast.staff.post("/api/schedule/check", {**check, "session_id": booked["id"]})
    assert editing.body["items"] == []
    free = await cast.staff.post(
        "/api/schedule/check",
        {**check, "starts_at": "2026-12-01T14:00:00+08:00", "ends_at": "2026-12-01T15:00:00+08:00"},
    )
    assert free.body["items"] == []
    assert (await cast.member.post("/api/schedule/check", check)).status == 403
    backwards = await cast.staff.post(
        "/api/schedule/check", {**check, "ends_at": "2026-12-01T09:00:00+08:00"}
    )
    assert backwards.status == 400 and "ends_at" in backwards.text
    far = await cast.staff.post(
        "/api/schedule/check",
        {**check, "starts_at": "9999-12-31T10:00:00+00:00", "ends_at": "9999-12-31T11:00:00+00:00"},
    )
    assert far.status == 400 and "1970" in far.text
