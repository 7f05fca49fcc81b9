"""What the schemathesis runs (tests/server/test_fuzz.py, `make fuzz`) found, pinned one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.app import openapi_document
from server.db import Database
from server.record import draft
from server.sessions import counters
from server.sessions import service as sessions_service
from server.sessions import store as sessions_store
from server.sessions.models import SessionStatus
from tests.conftest import Cast
from tests.server.sessions.test_invites_and_rsvp import counter_ics, post_ics
from tests.server.sessions.test_sessions_api import create as create_session
from tests.server.sessions.test_sessions_api import session_body


def _responses(method: str, path: str) -> dict[str, Any]:
    return openapi_document()["paths"][path][method]["responses"]  # type: ignore[no-any-return]


async def test_digits_only_times_are_refused_not_read_as_unix_times(cast: Cast) -> None:
    listed = await cast.staff.get("/api/sessions", params={"to": "0.5"})
    assert listed.status == 400, listed.text
    assert listed.body["errors"][0]["field"] == "to"
    created = await cast.staff.post(
        "/api/sessions", session_body(cast, starts_at="1764000000", ends_at="1764003600")
    )
    assert created.status == 400, created.text
    assert {e["field"] for e in created.body["errors"]} == {"starts_at", "ends_at"}


def test_a_wrong_password_and_rate_limits_are_documented() -> None:
    assert {"401", "429"} <= set(_responses("post", "/api/auth/login"))
    assert {"409", "429"} <= set(_responses("post", "/api/sessions/{session_id}/guest-join"))
    assert "429" in _responses("get", "/api/sessions")  # the per-address API limit
    assert "429" not in _responses("get", "/api/health")


def test_raw_bodies_document_their_400_and_413() -> None:
    assert {"400", "413"} <= set(_responses("post", "/api/itip"))
    assert "413" in _responses("post", "/api/proposals")


def test_raw_bodies_and_files_document_their_real_media_types() -> None:
    paths = openapi_document()["paths"]
    upload = paths["/api/proposals/{proposal_id}/attachments"]["post"]["requestBody"]["content"]
    assert "application/pdf" in upload
    assert "application/octet-stream" not in upload  # the server refuses untyped files
    download = paths["/api/attachments/{attachment_id}"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in download
    notice = paths["/api/workdays/{year}"]["put"]["requestBody"]["content"]
    assert set(notice) == {"application/json", "text/calendar"}
    assert notice["application/json"]["schema"] == {}  # a JSON object, not a JSON string


def test_writes_document_conflicts() -> None:
    assert "409" in _responses("put", "/api/sessions/{session_id}/minutes")


async def test_a_counter_proposal_longer_than_a_day_is_refused(cast: Cast) -> None:
    session = await create_session(cast)
    reply = await cast.member.post(
        f"/api/sessions/{session['id']}/counters",
        {"starts_at": "2026-12-02T09:00:00+08:00", "ends_at": "2026-12-03T15:00:00+08:00"},
    )
    assert reply.status == 400, reply.text
    assert reply.body["errors"][0]["field"] == "ends_at"


async def test_accepting_a_counter_that_breaks_the_rules_is_409_not_500(
    cast: Cast, database: Database
) -> None:
    session = await create_session(cast)
    start = dt.datetime(2026, 12, 2, 1, tzinfo=dt.UTC)
    async with database.transaction() as db:  # as an iTIP COUNTER stores it, unchecked
        row = await sessions_store.by_id(db, session["id"])
        assert row is not None
        counter = await counters.record(
            db, row, cast.ids["member"], start, start + dt.timedelta(hours=30), None, None, 0
        )
    reply = await cast.staff.post(f"/api/sessions/{session['id']}/counters/{counter.id}/accept", {})
    assert reply.status == 409, reply.text
    assert "24 hours" in reply.body["detail"]


async def test_times_outside_1970_to_2200_are_400_not_500(cast: Cast) -> None:
    session = await create_session(cast)
    for start, end in [
        ("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z"),
        ("0001-01-01T01:00:00Z", "0001-01-01T02:00:00Z"),
    ]:
        times = {"starts_at": start, "ends_at": end}
        created = await cast.staff.post("/api/sessions", session_body(cast, **times))
        assert created.status == 400, created.text
        assert "between the years 1970 and 2200" in created.body["detail"]
        moved = await cast.staff.post(f"/api/sessions/{session['id']}/reschedule", times)
        assert moved.status == 400, moved.text
        changed = await cast.staff.patch(f"/api/sessions/{session['id']}", times)
        assert changed.status == 400, changed.text


async def test_accepting_an_itip_counter_in_year_9999_is_409_not_500(cast: Cast) -> None:
    session = await create_session(cast)
    ics = counter_ics(session["uid"], "member@example.org", "99991231T220000Z", "99991231T230000Z")
    got = await post_ics(cast.member, "/api/itip", ics)
    assert got.status == 200, got.text
    url = f"/api/sessions/{session['id']}/counters/{got.body['counter_id']}/accept"
    accepted = await cast.staff.post(url, {})
    assert accepted.status == 409, accepted.text


async def test_digits_only_days_are_refused_not_read_as_unix_times(
    cast: Cast, database: Database
) -> None:
    session = await create_session(cast)
    async with database.transaction() as db:
        await sessions_service.set_room_status(db, session["id"], SessionStatus.ENDED)
        await draft.draft_minutes(db, session["id"], {}, dt.datetime.now(dt.UTC))
    url = f"/api/sessions/{session['id']}/minutes"
    minutes = (await cast.staff.get(url)).body
    action = {"text": "加装电梯", "owner_unit_id": cast.unit_ids["a"], "due": "1764028800"}
    content = {**minutes["content"], "items": [{"title": "协商交流", "actions": [action]}]}
    reply = await cast.staff.put(url, {"base_version": minutes["version"], "content": content})
    assert reply.status == 400, reply.text
    assert reply.body["errors"][0]["field"] == "content.items.0.actions.0.due"
