"""Which session modes count for the ``during`` stage (办中面商) is a setting,
``XIESHANG_DURING_MODES``: by default in person or hybrid; some cities also count
screen-to-screen (屏对屏, mode ``remote``) micro-consultations."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from server.app import create_app
from server.config import Config, ConfigError
from server.db import Database
from server.proposals.compliance import compliance
from server.proposals.lifecycle import Status
from server.sessions.models import Session, SessionStatus
from tests.conftest import ApiClient, Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session

REMOTE_DURING = [
    {"stage": "before", "mode": "remote", "status": "ended"},
    {"stage": "during", "mode": "remote", "status": "ended"},
]


def test_by_default_only_face_to_face_sessions_count_for_during() -> None:
    assert compliance(Status.REPLIED, REMOTE_DURING)["missing"] == ["during"]
    counted = compliance(Status.REPLIED, REMOTE_DURING, {"in_person", "hybrid", "remote"})
    assert counted["missing"] == [] and counted["during"] == 1


def test_the_setting_reads_modes_and_the_screen_alias() -> None:
    assert Config.from_env({}).during_modes == ("in_person", "hybrid")
    env = {"XIESHANG_DURING_MODES": "hybrid, screen,in_person"}
    assert Config.from_env(env).during_modes == ("in_person", "remote", "hybrid")
    for bad in ("video", ",", "in_person,phone"):
        with pytest.raises(ConfigError, match="XIESHANG_DURING_MODES"):
            Config.from_env({"XIESHANG_DURING_MODES": bad})


async def _missing(client: ApiClient, pid: int) -> list[str]:
    reply = await client.get(f"/api/proposals/{pid}")
    assert reply.status == 200, reply.text
    return reply.body["compliance"]["missing"]  # type: ignore[no-any-return]


async def test_a_held_screen_to_screen_during_session_counts_only_when_set(
    cast: Cast, config: Config, database: Database
) -> None:
    pid = (await create_proposal(cast, "2026-0001"))["id"]
    for to in ("filed", "assigned"):
        assert (
            await cast.staff.post(f"/api/proposals/{pid}/transitions", {"to": to})
        ).status == 200
    assert (
        await cast.unit.post(f"/api/proposals/{pid}/transitions", {"to": "handling"})
    ).status == 200
    assert (await cast.unit.post(f"/api/proposals/{pid}/reply", {"text": "已答复"})).status == 201
    ids = []
    for stage in ("before", "during"):
        s = await create_session(
            cast, stage=stage, mode="remote", venue_id=None, proposal_ids=[pid]
        )
        ids.append(s["id"])
    async with database.transaction() as db:  # both were held
        await db.execute(
            update(Session).where(Session.id.in_(ids)).values(status=SessionStatus.ENDED)
        )
    assert await _missing(cast.staff, pid) == ["during"]
    stats = (await cast.staff.get("/api/stats")).body["compliance"]
    assert stats["missing"] == {"during": 1}

    counting = TestServer(
        create_app(config.with_changes(during_modes=("in_person", "remote", "hybrid"))),
        host="127.0.0.1",
    )
    await counting.start_server()
    try:
        async with ClientSession() as http:
            staff = ApiClient(http, str(counting.make_url("")).rstrip("/"), cast.staff.token)
            assert await _missing(staff, pid) == []
            listed = (await staff.get("/api/proposals?compliance=missing")).body["items"]
            assert listed == []
            stats = (await staff.get("/api/stats")).body["compliance"]
            assert stats["missing"] == {} and stats["compliant"] == 1
            dossier = (await staff.get(f"/api/proposals/{pid}/dossier")).body
            assert dossier["proposal"]["compliance"]["during"] == 1
    finally:
        await counting.close()
