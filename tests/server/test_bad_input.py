"""Bad input: each gets a clear 4xx problem, and the database is exactly as before."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from server.db import Database
from server.models_registry import metadata
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.proposals.test_proposals_api import proposal
from tests.server.sessions.test_sessions_api import create as create_session
from tests.server.sessions.test_sessions_api import session_body


async def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (tokens aside: signing in is not the change under test)."""
    rows = {}
    async with database.read() as db:
        for table in metadata.sorted_tables:
            if table.name == "tokens":
                continue
            # The outbox worker updates delivery states by itself; which messages exist counts.
            columns = (
                [table.c.id, table.c.recipient, table.c.method]
                if table.name == "outbox"
                else [table]
            )
            result = await db.execute(select(*columns).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(r) for r in result]
    return rows


def _session(cast: Cast, **extra: Any) -> dict[str, Any]:
    return session_body(cast, **extra)


CASES: list[tuple[str, str, str, Any, int, str | None]] = [
    # (name, method, path, body or builder, status, field)
    ("unknown field", "POST", "/api/sessions", lambda c: _session(c, colour="red"), 400, "colour"),
    ("wrong type", "POST", "/api/sessions", lambda c: _session(c, venue_id="1"), 400, "venue_id"),
    (
        "bool for int",
        "POST",
        "/api/sessions",
        lambda c: _session(c, venue_id=True),
        400,
        "venue_id",
    ),
    (
        "over-long title",
        "POST",
        "/api/sessions",
        lambda c: _session(c, title="长" * 201),
        400,
        "title",
    ),
    (
        "naive time",
        "POST",
        "/api/sessions",
        lambda c: _session(c, starts_at="2026-12-01T09:30:00"),
        400,
        "starts_at",
    ),
    (
        "unix time",
        "POST",
        "/api/sessions",
        lambda c: _session(c, starts_at=1764552600),
        400,
        "starts_at",
    ),
    (
        "not a time",
        "POST",
        "/api/sessions",
        lambda c: _session(c, starts_at="tomorrow"),
        400,
        "starts_at",
    ),
    (
        "end before start",
        "POST",
        "/api/sessions",
        lambda c: _session(c, ends_at="2026-12-01T08:00:00+08:00"),
        400,
        "ends_at",
    ),
    (
        "too long",
        "POST",
        "/api/sessions",
        lambda c: _session(c, ends_at="2026-12-03T08:00:00+08:00"),
        400,
        "ends_at",
    ),
    (
        "unknown zone",
        "POST",
        "/api/sessions",
        lambda c: _session(c, timezone="Mars/Olympus"),
        400,
        "timezone",
    ),
    (
        "path-like zone",
        "POST",
        "/api/sessions",
        lambda c: _session(c, timezone="../../etc/passwd"),
        400,
        "timezone",
    ),
    (
        "unknown venue",
        "POST",
        "/api/sessions",
        lambda c: _session(c, venue_id=404),
        400,
        "venue_id",
    ),
    (
        "no venue in person",
        "POST",
        "/api/sessions",
        lambda c: _session(c, venue_id=None),
        400,
        "venue_id",
    ),
    (
        "unknown proposal",
        "POST",
        "/api/sessions",
        lambda c: _session(c, proposal_ids=[31337]),
        400,
        "proposal_ids.0",
    ),
    (
        "stage on a talk",
        "POST",
        "/api/sessions",
        lambda c: _session(c, kind="quarterly_talk"),
        400,
        "stage",
    ),
    (
        "handling needs stage",
        "POST",
        "/api/sessions",
        lambda c: _session(c, stage=None),
        400,
        "stage",
    ),
    ("unknown kind", "POST", "/api/sessions", lambda c: _session(c, kind="party"), 400, "kind"),
    (
        "duplicate participant",
        "POST",
        "/api/sessions",
        lambda c: _session(
            c,
            participants=[
                {"person_id": c.ids["member"], "role": "proposer"},
                {"person_id": c.ids["member"], "role": "member"},
            ],
            agenda=[],
        ),
        400,
        "participants.1.person_id",
    ),
    (
        "presenter not present",
        "POST",
        "/api/sessions",
        lambda c: _session(c, agenda=[{"title": "x", "presenter_id": c.ids["member2"]}]),
        400,
        "agenda.0.presenter_id",
    ),
    (
        "agenda proposal unlinked",
        "POST",
        "/api/sessions",
        lambda c: _session(c, agenda=[{"title": "x", "proposal_id": 1}]),
        400,
        "agenda.0.proposal_id",
    ),
    (
        "too many minutes",
        "POST",
        "/api/sessions",
        lambda c: _session(c, agenda=[{"title": "x", "planned_minutes": 10_000}]),
        400,
        "agenda.0.planned_minutes",
    ),
    ("body is a list", "POST", "/api/sessions", lambda c: [1, 2], 400, "(body)"),
    ("bad number", "POST", "/api/proposals", lambda c: proposal(c, number="123"), 400, "number"),
    (
        "huge summary",
        "POST",
        "/api/proposals",
        lambda c: proposal(c, summary="字" * 20_001),
        400,
        "summary",
    ),
    (
        "negative id",
        "POST",
        "/api/proposals",
        lambda c: proposal(c, lead_unit_id=-1),
        400,
        "lead_unit_id",
    ),
    (
        "giant id",
        "POST",
        "/api/proposals",
        lambda c: proposal(c, lead_unit_id=2**70),
        400,
        "lead_unit_id",
    ),
    ("unknown status", "POST", "/api/proposals/1/transitions", lambda c: {"to": "done"}, 400, "to"),
    (
        "forbidden transition",
        "POST",
        "/api/proposals/1/transitions",
        lambda c: {"to": "closed"},
        409,
        None,
    ),
    ("unknown proposal id", "GET", "/api/proposals/999", None, 404, None),
    ("non-numeric id", "GET", "/api/sessions/abc", None, 404, None),
    ("zero id", "PATCH", "/api/sessions/0", lambda c: {"title": "x"}, 404, None),
    ("patch unknown session", "PATCH", "/api/sessions/77", lambda c: {"title": "x"}, 404, None),
    ("patch null title", "PATCH", "/api/sessions/1", lambda c: {"title": None}, 400, "title"),
    (
        "patch bad zone",
        "PATCH",
        "/api/sessions/1",
        lambda c: {"timezone": "Asia/Nowhere"},
        400,
        "timezone",
    ),
    (
        "patch end before start",
        "PATCH",
        "/api/sessions/1",
        lambda c: {"ends_at": "2026-11-01T00:00:00Z"},
        400,
        "ends_at",
    ),
    ("bad query", "GET", "/api/sessions?limit=100000", None, 400, "limit"),
    ("unknown query", "GET", "/api/proposals?colour=red", None, 400, "colour"),
    (
        "bad username",
        "POST",
        "/api/people",
        lambda c: {"username": "A B", "name": "x", "role": "member"},
        400,
        "username",
    ),
    (
        "short password",
        "POST",
        "/api/people",
        lambda c: {"username": "abc", "name": "x", "role": "member", "password": "short"},
        400,
        "password",
    ),
    (
        "bad email",
        "POST",
        "/api/people",
        lambda c: {"username": "abc", "name": "x", "role": "member", "email": "not-an-email"},
        400,
        "email",
    ),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "build", "status", "field"), CASES, ids=[c[0] for c in CASES]
)
async def test_bad_input_is_refused_and_changes_nothing(
    cast: Cast,
    database: Database,
    name: str,
    method: str,
    path: str,
    build: Any,
    status: int,
    field: str | None,
) -> None:
    await create_proposal(cast, "2026-0001")
    await create_session(cast)
    before = await snapshot(database)
    body = build(cast) if build else None
    reply = (
        await cast.staff.request(method, path, json=body)
        if body is not None
        else await cast.staff.request(method, path)
    )
    assert reply.status == status, reply.text
    assert reply.content_type == "application/problem+json"
    assert reply.body["status"] == status
    assert reply.body["detail"]
    if field is not None:
        assert field in [e["field"] for e in reply.body["errors"]], reply.body
    assert await snapshot(database) == before


RAW_CASES = [
    ("malformed json", b'{"kind": "handling",', "application/json", 400, "(body)"),
    ("empty body", b"", "application/json", 400, "(body)"),
    ("not json", b"kind=handling", "application/x-www-form-urlencoded", 400, "(body)"),
    ("bad utf-8", b'{"title": "\xff\xfe"}', "application/json", 400, None),
]


@pytest.mark.parametrize(
    ("name", "raw", "ctype", "status", "field"), RAW_CASES, ids=[c[0] for c in RAW_CASES]
)
async def test_unparseable_bodies_are_refused(
    cast: Cast,
    database: Database,
    name: str,
    raw: bytes,
    ctype: str,
    status: int,
    field: str | None,
) -> None:
    before = await snapshot(database)
    reply = await cast.staff.request(
        "POST", "/api/proposals", data=raw, headers={"Content-Type": ctype}
    )
    assert reply.status == status, reply.text
    assert reply.content_type == "application/problem+json"
    if field:
        assert reply.body["errors"][0]["field"] == field
    assert await snapshot(database) == before


async def test_a_body_over_the_size_limit_is_413(cast: Cast, database: Database) -> None:
    before = await snapshot(database)
    huge = io.BytesIO(json.dumps(proposal(cast, summary="x" * (2 * 2**20))).encode())
    reply = await cast.staff.request(
        "POST", "/api/proposals", data=huge, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 413
    assert reply.content_type == "application/problem+json"
    assert await snapshot(database) == before


async def test_failed_write_in_the_middle_leaves_nothing_half_done(
    cast: Cast, database: Database
) -> None:
    """A session whose second participant is bad must not leave the first one behind."""
    before = await snapshot(database)
    reply = await cast.staff.post(
        "/api/sessions",
        _session(
            cast,
            participants=[
                {"person_id": cast.ids["staff"], "role": "host"},
                {"person_id": 999, "role": "member"},
            ],
            agenda=[],
        ),
    )
    assert reply.status == 400
    assert await snapshot(database) == before
