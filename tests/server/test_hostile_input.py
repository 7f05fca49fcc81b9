"""Requests that once crashed or leaked (found in review): each now gets a clean answer."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer
from openapi_spec_validator import validate

from server.app import openapi_document
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.proposals.test_proposals_api import proposal as proposal_body
from tests.server.sessions.test_sessions_api import create as create_session
from tests.server.sessions.test_sessions_api import session_body


def test_the_openapi_document_is_valid_openapi() -> None:
    validate(openapi_document())


@pytest.mark.parametrize("raw", ["%C2%B2", "1" * 5000, "%D9%A1", "3000000000", "01", "-1", "1.0"])
async def test_odd_path_ids_are_404_not_500(cast: Cast, raw: str) -> None:
    await create_session(cast)
    reply = await cast.staff.get(f"/api/sessions/{raw}")
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"


async def test_ids_beyond_32_bits_are_refused_before_the_database(cast: Cast) -> None:
    assert (await cast.staff.get("/api/proposals", params={"unit_id": "3000000000"})).status == 400
    reply = await cast.staff.post("/api/sessions", session_body(cast, venue_id=3_000_000_000))
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "venue_id"


async def test_times_that_overflow_in_utc_are_400(cast: Cast) -> None:
    far = await cast.staff.get("/api/sessions", params={"from": "9999-12-31T23:00:00-05:00"})
    assert far.status == 400
    early = await cast.staff.post(
        "/api/sessions",
        session_body(
            cast, starts_at="0001-01-01T00:00:00+08:00", ends_at="0001-01-01T01:00:00+08:00"
        ),
    )
    assert early.status == 400


async def test_nul_characters_are_refused_everywhere(cast: Cast) -> None:
    unit = await cast.staff.post("/api/units", {"name": "x\u0000"})
    assert unit.status == 400
    assert unit.body["errors"][0]["field"] == "name"
    assert (await cast.staff.get("/api/proposals", params={"q": "\u0000"})).status == 400
    assert (
        await cast.anon.post("/api/auth/login", {"username": "a\u0000", "password": "x"})
    ).status == 400
    nested = await cast.staff.post(
        "/api/sessions", session_body(cast, agenda=[{"title": "a\u0000b"}])
    )
    assert nested.status == 400
    assert nested.body["errors"][0]["field"] == "agenda.0.title"


@pytest.mark.parametrize("zone", ["Asia", "America", "Etc", "", "Asia/Shanghai "])
async def test_zone_folders_and_junk_are_not_time_zones(cast: Cast, zone: str) -> None:
    reply = await cast.staff.post("/api/sessions", session_body(cast, timezone=zone))
    if zone.strip() == "Asia/Shanghai":
        assert reply.status == 201  # surrounding spaces are trimmed
    else:
        assert reply.status == 400
        assert reply.body["errors"][0]["field"] == "timezone"


async def test_a_token_header_that_is_not_text_is_a_stale_token(
    server: TestServer, cast: Cast
) -> None:
    async def raw_get(path: str) -> bytes:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
            + b"Authorization: Bearer \xff\xfe\xfd-not-a-token\r\n\r\n"
        )
        await writer.drain()
        data = await reader.read()
        writer.close()
        return data

    assert (await raw_get("/api/me")).startswith(b"HTTP/1.1 401")
    assert (await raw_get("/api/health")).startswith(b"HTTP/1.1 200")


async def test_concurrent_duplicate_creates_give_one_201_and_409s(cast: Cast) -> None:
    replies = await asyncio.gather(
        *(cast.staff.post("/api/units", {"name": "同名单位"}) for _ in range(8))
    )
    statuses = sorted(r.status for r in replies)
    assert statuses == [201] + [409] * 7
    assert all(r.content_type == "application/problem+json" for r in replies if r.status == 409)


async def test_concurrent_transitions_apply_exactly_one(cast: Cast) -> None:
    p = await create_proposal(cast)
    url = f"/api/proposals/{p['id']}/transitions"
    await cast.staff.post(url, {"to": "filed"})
    bodies = [
        {"to": "assigned"},
        {"to": "rejected", "note": "重复"},
        {"to": "assigned"},
        {"to": "rejected", "note": "x"},
    ]
    replies = await asyncio.gather(*(cast.staff.post(url, b) for b in bodies))
    assert sorted(r.status for r in replies) == [200, 409, 409, 409]
    history = (await cast.staff.get(f"/api/proposals/{p['id']}")).body["history"]
    assert [h["to_status"] for h in history][:2] == ["submitted", "filed"]
    assert len(history) == 3


async def test_guests_see_public_sessions_only_and_cannot_join_private_ones(cast: Cast) -> None:
    refused = await cast.staff.post(
        "/api/sessions",
        session_body(
            cast,
            participants=[
                {"person_id": cast.ids["staff"], "role": "host"},
                {"person_id": cast.ids["guest"], "role": "guest"},
            ],
            agenda=[],
        ),
    )
    assert refused.status == 400
    assert refused.body["errors"][0]["field"] == "participants.1.person_id"
    public = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["guest"], "role": "guest"},
        ],
        agenda=[],
    )
    hidden = await cast.staff.patch(f"/api/sessions/{public['id']}", {"visibility": "private"})
    assert hidden.status == 400
    assert (await cast.guest.get(f"/api/sessions/{public['id']}")).status == 200


async def test_a_patch_cannot_leave_a_proposal_without_proposers(cast: Cast) -> None:
    p = await create_proposal(cast)
    reply = await cast.staff.patch(f"/api/proposals/{p['id']}", {"proposer_ids": []})
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "proposer_ids"
    grouped = await cast.staff.patch(
        f"/api/proposals/{p['id']}", {"proposer_ids": [], "group_proposer": "九三学社"}
    )
    assert grouped.status == 200


@pytest.mark.parametrize("name", ["王\u202e秘书", "\u2067主持人\u2069", "\u202a市教育局"])
async def test_names_with_text_direction_controls_are_refused(cast: Cast, name: str) -> None:
    person = await cast.staff.post(
        "/api/people", {"username": "spoof1", "name": name, "role": "member"}
    )
    unit = await cast.staff.post("/api/units", {"name": name})
    for reply in (person, unit):
        assert reply.status == 400
        assert reply.body["errors"][0]["field"] == "name"
        assert "text-direction" in reply.body["errors"][0]["message"]
    arabic = await cast.staff.post("/api/units", {"name": "市民族宗教事务局 مەدەنىيەت"})
    assert arabic.status == 201  # right-to-left scripts themselves are fine


@pytest.mark.parametrize(
    "bad", ["王秘书\r\nBcc: all@example.org", "第一行\n第二行", "行\u2028分隔", "王\u202e秘书"]
)
async def test_line_breaks_and_direction_controls_in_names_and_titles_are_refused_by_field(
    cast: Cast, bad: str
) -> None:
    session = await create_session(cast)
    public = await create_session(cast, kind="livelihood_hall", stage=None, visibility="public")
    proposal = await create_proposal(cast)
    attempts = [
        ("post", "/api/people", {"username": "newbie1", "name": bad, "role": "member"}, "name"),
        ("post", "/api/units", {"name": bad}, "name"),
        ("post", "/api/venues", {"name": bad}, "name"),
        ("post", "/api/venues", {"name": "第二会议室", "address": bad}, "address"),
        ("post", "/api/sessions", session_body(cast, title=bad), "title"),
        ("post", "/api/sessions", session_body(cast, agenda=[{"title": bad}]), "agenda.0.title"),
        ("patch", f"/api/sessions/{session['id']}", {"title": bad}, "title"),
        ("post", "/api/proposals", proposal_body(cast, "2026-0999", title=bad), "title"),
        ("patch", f"/api/proposals/{proposal['id']}", {"title": bad}, "title"),
        ("patch", f"/api/proposals/{proposal['id']}", {"group_proposer": bad}, "group_proposer"),
        ("post", f"/api/sessions/{public['id']}/guest-join", {"name": bad}, "name"),
    ]
    for method, path, body, field in attempts:
        reply = await getattr(cast.staff, method)(path, body)
        assert reply.status == 400, (path, field, reply.text)
        assert [e["field"] for e in reply.body["errors"]] == [field], (path, reply.body)
        assert "control character" in reply.body["errors"][0]["message"]


async def test_summaries_and_notes_keep_their_line_breaks(cast: Cast) -> None:
    summary = "一、现状\n二、建议\r\n三、措施"
    created = await create_proposal(cast, summary=summary)
    assert created["summary"] == summary
    cancelled = await cast.staff.post(
        f"/api/sessions/{(await create_session(cast))['id']}/cancel",
        {"reason": "场地冲突\n改期另行通知"},
    )
    assert cancelled.status == 200, cancelled.text
