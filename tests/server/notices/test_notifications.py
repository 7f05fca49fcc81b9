"""Notifications (issue 18, "everyone is told"): stored with the change that causes them, read
and marked by their own person only, titled in the reader's language, pushed live after the
commit, mailed through the outbox unless the person turned that kind's email off."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from server.config import Config
from server.db import Database, utcnow
from server.mail import OutboxMessage
from server.notices.kinds import Kind
from server.notices.models import Notice
from server.notices.service import notify
from server.proposals.models import ProposalTransition
from server.record.reminders import remind_evaluations, remind_overdue
from tests.conftest import ApiClient, Cast
from tests.server.proposals.test_proposals_api import create
from tests.server.sessions.test_sessions_api import session_body
from tests.server.test_jobs import seed_overdue

URL = "/api/me/notifications"


async def until(check: Callable[[], Awaitable[Any]], seconds: float = 10) -> Any:
    """Poll ``check`` until it returns something truthy (the mailer and the push run after the
    request's commit, in the background)."""
    for _ in range(int(seconds * 20)):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


async def step(who: ApiClient, pid: int, to: str, note: str | None = None) -> None:
    body: dict[str, Any] = {"to": to} | ({"note": note} if note else {})
    reply = await who.post(f"/api/proposals/{pid}/transitions", body)
    assert reply.status == 200, reply.text


async def inbox_of(who: ApiClient, query: str = "", **kw: Any) -> dict[str, Any]:
    reply = await who.get(URL + query, **kw)
    assert reply.status == 200, reply.text
    return reply.body  # type: ignore[no-any-return]


async def test_the_proposer_is_told_of_filing_in_their_language_and_nobody_else_sees_it(
    cast: Cast,
) -> None:
    proposal = await create(cast, "2026-0201", proposer_ids=[cast.ids["member"]])
    await step(cast.staff, proposal["id"], "filed")
    mine = await inbox_of(cast.member)
    assert mine["unread"] == 1
    [item] = mine["items"]
    assert set(item) == {"id", "kind", "at", "read", "title", "link"}
    assert item["kind"] == "proposal_filed" and item["read"] is False
    assert item["title"] == "Your proposal 2026-0201 关于加快老旧小区加装电梯的建议 was filed."
    assert item["link"] == f"#/proposals/{proposal['id']}"
    zh = await inbox_of(cast.member, headers={"Accept-Language": "zh-CN"})
    assert zh["items"][0]["title"] == "您的提案2026-0201 关于加快老旧小区加装电梯的建议已立案。"
    for other in (cast.member2, cast.staff, cast.unit):
        assert await inbox_of(other) == {"items": [], "unread": 0, "next_before": None}


async def test_rejection_assignment_reply_and_progress_reach_whom_they_concern(cast: Cast) -> None:
    refused = await create(cast, "2026-0202")
    await step(cast.staff, refused["id"], "rejected", "不属于提案受理范围")
    assert (await inbox_of(cast.member))["items"][0]["title"].endswith(
        "was not filed: 不属于提案受理范围"
    )
    pid = (await create(cast, "2026-0203", co_unit_ids=[cast.unit_ids["b"]]))["id"]
    for to in ("filed", "assigned"):
        await step(cast.staff, pid, to)
    for unit in (cast.unit, cast.unit2):  # the lead and the co-handling unit's people
        assert [i["kind"] for i in (await inbox_of(unit))["items"]] == ["assigned"]
    await step(cast.unit, pid, "handling")
    report = {"milestone": "摸排", "percent": 30}
    assert (await cast.unit.post(f"/api/proposals/{pid}/progress", report)).status == 201
    reply = await cast.unit.post(f"/api/proposals/{pid}/reply", {"text": "已答复"})
    assert reply.status == 201, reply.text
    items = (await inbox_of(cast.member))["items"]
    assert [i["kind"] for i in items] == [
        "evaluation_requested",
        "reply_received",
        "progress_reported",
        "proposal_filed",
        "proposal_rejected",
    ]
    assert items[2]["title"].startswith("市住房和城乡建设局 reported progress")
    assert (await inbox_of(cast.member2))["unread"] == 0


async def test_marking_read_touches_only_ones_own_notices(cast: Cast) -> None:
    for number in ("2026-0211", "2026-0212", "2026-0213"):
        await step(cast.staff, (await create(cast, number))["id"], "filed")
    items = (await inbox_of(cast.member))["items"]
    ids = [i["id"] for i in items]
    # Another person's ids, and ids of nothing, change nothing.
    other = await cast.member2.post(URL + "/read", {"ids": [*ids, 999999]})
    assert other.status == 200 and other.body == {"unread": 0}
    assert (await inbox_of(cast.member))["unread"] == 3
    marked = await cast.member.post(URL + "/read", {"ids": [ids[0]]})
    assert marked.status == 200 and marked.body == {"unread": 2}
    unread = await inbox_of(cast.member, "?unread=true")
    assert [i["id"] for i in unread["items"]] == ids[1:]
    page = await inbox_of(cast.member, "?limit=2")
    assert [i["id"] for i in page["items"]] == ids[:2] and page["next_before"] == ids[1]
    rest = await inbox_of(cast.member, f"?limit=2&before={page['next_before']}")
    assert [i["id"] for i in rest["items"]] == ids[2:]
    everything = await cast.member.post(URL + "/read", {"all": True})
    assert everything.body == {"unread": 0}
    assert all(i["read"] for i in (await inbox_of(cast.member))["items"])


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", URL + "/read", {}, "ids"),
        ("post", URL + "/read", {"ids": ["1"]}, "ids.0"),
        ("post", URL + "/read", {"ids": [0]}, "ids.0"),
        ("post", URL + "/read", {"ids": [1], "extra": 1}, "extra"),
        ("post", URL + "/read", {"ids": list(range(1, 502))}, "ids"),
        ("get", URL + "?limit=0", None, "limit"),
        ("get", URL + "?before=x", None, "before"),
        ("get", URL + "?unread=maybe", None, "unread"),
        ("patch", "/api/me/notification-settings", {"items": []}, "items"),
        (
            "patch",
            "/api/me/notification-settings",
            {"items": [{"kind": "x", "email": False}]},
            "items.0.kind",
        ),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    cast: Cast, method: str, path: str, body: Any, field: str
) -> None:
    call = getattr(cast.member, method)
    reply = await (call(path) if body is None else call(path, body))
    assert reply.status in (400, 422), reply.text
    assert reply.body["errors"][0]["field"] == field, reply.body


async def test_signed_out_people_have_no_notifications(cast: Cast) -> None:
    assert (await cast.anon.get(URL)).status == 401
    assert (await cast.anon.post(URL + "/read", {"all": True})).status == 401


async def test_a_change_that_is_rolled_back_tells_nobody(cast: Cast, database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as db:
            await notify(
                db, person_ids=[cast.ids["member"]], kind=Kind.ASSIGNED, link="#/", now=utcnow()
            )
            raise RuntimeError("the change fails after telling")
    async with database.read() as db:
        assert await db.scalar(select(func.count()).select_from(Notice)) == 0
    assert (await inbox_of(cast.member))["unread"] == 0


async def test_email_preferences_list_every_kind_and_turn_one_off(cast: Cast) -> None:
    url = "/api/me/notification-settings"
    shown = (await cast.member.get(url)).body
    assert shown["address"] == "member@example.org"
    assert {i["kind"] for i in shown["items"]} == {k.value for k in Kind}
    fixed = [i for i in shown["items"] if not i["switchable"]]
    assert [i["kind"] for i in fixed] == ["invitation_changed"]
    off = await cast.member.patch(url, {"items": [{"kind": "proposal_filed", "email": False}]})
    assert off.status == 200
    by_kind = {i["kind"]: i["email"] for i in off.body["items"]}
    assert by_kind["proposal_filed"] is False and by_kind["assigned"] is True
    assert {i["kind"]: i["email"] for i in (await cast.member2.get(url)).body["items"]}[
        "proposal_filed"
    ] is True
    refused = await cast.member.patch(
        url, {"items": [{"kind": "invitation_changed", "email": False}]}
    )
    assert refused.status == 400 and "calendar" in refused.text
    zh = await cast.member.get(url, headers={"Accept-Language": "zh-CN"})
    assert {i["kind"]: i["name"] for i in zh.body["items"]}["proposal_filed"] == "提案立案"


async def test_session_invitations_tell_the_participants(cast: Cast) -> None:
    created = await cast.staff.post("/api/sessions", session_body(cast))
    assert created.status == 201, created.text
    for who in (cast.member, cast.unit):
        [item] = (await inbox_of(who))["items"]
        assert item["kind"] == "invitation_changed"
        assert item["link"] == f"#/sessions/{created.body['id']}"
    assert (await inbox_of(cast.member2))["items"] == []


async def test_an_overdue_follow_up_tells_its_unit_and_honours_the_email_opt_out(
    cast: Cast, database: Database, config: Config
) -> None:
    created = await cast.staff.post("/api/sessions", session_body(cast))
    await seed_overdue(database, created.body["id"], cast.unit_ids["a"], 1, "逾期")
    off = {"items": [{"kind": "follow_up_overdue", "email": False}]}
    assert (await cast.unit.patch("/api/me/notification-settings", off)).status == 200
    result = await remind_overdue(database, None, zone=config.timezone, sender=config.mail_from)
    assert result.reminded == 1
    [item] = [i for i in (await inbox_of(cast.unit))["items"] if i["kind"] == "follow_up_overdue"]
    assert item["title"] == "An action item is overdue (due 2025-01-15): 事项 逾期-0"
    async with database.read() as db:  # opted out: no reminder mail for them
        reminders = await db.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.subject.startswith("督办提醒"))
        )
    assert reminders == 0


async def test_a_reply_left_unevaluated_reminds_its_proposers_once_a_round(
    cast: Cast, database: Database
) -> None:
    both = [cast.ids["member"], cast.ids["member2"]]
    pid = (await create(cast, "2026-0251", proposer_ids=both))["id"]
    fresh = (await create(cast, "2026-0252"))["id"]
    for proposal in (pid, fresh):
        for to in ("filed", "assigned"):
            await step(cast.staff, proposal, to)
        await step(cast.unit, proposal, "handling")
        assert (
            await cast.unit.post(f"/api/proposals/{proposal}/reply", {"text": "答复"})
        ).status == 201
    assert await remind_evaluations(database) == 0  # just replied: nobody is reminded yet
    async with database.transaction() as db:  # the first reply came three weeks ago
        await db.execute(
            update(ProposalTransition)
            .where(ProposalTransition.proposal_id == pid)
            .values(at=utcnow() - dt.timedelta(days=21))
        )
    assert await remind_evaluations(database) == 2
    assert await remind_evaluations(database) == 0  # once per proposal and round
    for who in (cast.member, cast.member2):
        reminders = [
            i for i in (await inbox_of(who))["items"] if i["kind"] == "evaluation_reminder"
        ]
        assert [i["link"] for i in reminders] == [f"#/proposals/{pid}"]
    # Evaluated: nothing is awaited any more.
    verdict = {"verdict": "satisfied"}
    assert (await cast.member.post(f"/api/proposals/{pid}/evaluation", verdict)).status == 201
    async with database.transaction() as db:
        await db.execute(
            update(Notice).where(Notice.kind == Kind.EVALUATION_REMINDER).values(key=None)
        )
    assert await remind_evaluations(database) == 0
