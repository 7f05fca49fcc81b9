"""Per-unit statistics (承办单位办理情况): proposals as lead and co-handling unit, on-time replies
against ``reply_due``, satisfaction, open follow-ups, most proposals first, by year; .xlsx."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import update

from server.db import Database
from server.proposals.lifecycle import Status
from server.proposals.models import Proposal, ProposalTransition
from server.record.unit_stats import rows, tally
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create

DAY = dt.date(2026, 6, 1)


def _figure(lead: int, co: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "lead_unit_id": lead,
        "co_unit_ids": co,
        "status": Status.REPLIED,
        "reply_due": dt.date(2026, 5, 1),
        "replied_on": dt.date(2026, 4, 30),
        "verdict": None,
        **extra,
    }


def test_the_tally_counts_on_time_late_and_overdue_replies_and_open_follow_ups() -> None:
    figures = [
        _figure(1, [2], verdict="satisfied"),
        _figure(1, [], replied_on=dt.date(2026, 5, 2), verdict="unsatisfied"),
        _figure(1, [], status=Status.HANDLING, replied_on=None),  # overdue
        _figure(2, [], status=Status.HANDLING, replied_on=None, reply_due=DAY),  # due today
        _figure(2, [1], status=Status.FILED, reply_due=None, replied_on=None),
    ]
    follow_ups = [
        {"owner_unit_id": 2, "status": "open", "due": dt.date(2026, 5, 1)},
        {"owner_unit_id": 2, "status": "open", "due": None},
        {"owner_unit_id": 2, "status": "done", "due": None},
        {"owner_unit_id": 3, "status": "open", "due": DAY},
    ]
    table = rows(tally(figures, follow_ups, DAY), {1: "住建局", 2: "教育局", 3: "交通局"})
    assert [(r.name, r.lead, r.co, r.total) for r in table] == [
        ("住建局", 3, 1, 4),
        ("教育局", 2, 1, 3),
        ("交通局", 0, 0, 0),
    ]
    first, second, third = table
    assert (first.replied_on_time, first.replied_late, first.reply_overdue) == (1, 1, 1)
    assert first.on_time_rate == round(1 / 3, 4)
    assert (first.satisfied, first.unsatisfied, first.satisfaction_rate) == (1, 1, 0.5)
    assert first.classes == {"A": 0, "B": 0, "C": 0, "D": 0}
    assert second.replies_due == 0 and second.on_time_rate is None
    assert (second.open_follow_ups, second.overdue_follow_ups) == (2, 1)
    assert (third.open_follow_ups, third.overdue_follow_ups) == (1, 0)


async def _assign(cast: Cast, pid: int) -> None:
    for to in ("filed", "assigned"):
        reply = await cast.staff.post(f"/api/proposals/{pid}/transitions", {"to": to})
        assert reply.status == 200, reply.text


async def _reply(cast: Cast, who: Any, pid: int) -> None:
    assert (await who.post(f"/api/proposals/{pid}/transitions", {"to": "handling"})).status == 200
    reply = await who.post(f"/api/proposals/{pid}/reply", {"text": "已答复"})
    assert reply.status == 201, reply.text


async def test_units_with_most_proposals_first_with_on_time_replies_and_satisfaction(
    cast: Cast, database: Database
) -> None:
    a, b = cast.unit_ids["a"], cast.unit_ids["b"]
    on_time = await create(cast, "2026-0001", co_unit_ids=[b])
    overdue = await create(cast, "2026-0002")
    late = await create(cast, "2026-0003", lead_unit_id=b, co_unit_ids=[a])
    await create(cast, "2025-0001", lead_unit_id=b)
    for p in (on_time, overdue, late):
        await _assign(cast, p["id"])
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    async with database.transaction() as db:  # these two were assigned four months ago
        await db.execute(
            update(ProposalTransition)
            .where(ProposalTransition.proposal_id.in_([overdue["id"], late["id"]]))
            .values(at=long_ago)
        )
        # The due day is fixed at the assignment: three months from then.
        await db.execute(
            update(Proposal)
            .where(Proposal.id.in_([overdue["id"], late["id"]]))
            .values(reply_due=(long_ago + dt.timedelta(days=91)).date())
        )
    await _reply(cast, cast.unit, on_time["id"])
    await _reply(cast, cast.unit2, late["id"])
    verdict = {"verdict": "satisfied"}
    assert (
        await cast.member.post(f"/api/proposals/{on_time['id']}/evaluation", verdict)
    ).status == 201

    reply = await cast.staff.get("/api/stats/units?year=2026")
    assert reply.status == 200, reply.text
    assert reply.body["years"] == [2026, 2025]
    table = {r["name"]: r for r in reply.body["items"]}
    assert [r["name"] for r in reply.body["items"]] == ["市住房和城乡建设局", "市教育局"]
    first = table["市住房和城乡建设局"]
    assert (first["lead"], first["co"], first["total"]) == (2, 1, 3)
    assert (first["replied_on_time"], first["reply_overdue"], first["on_time_rate"]) == (1, 1, 0.5)
    assert (first["satisfied"], first["satisfaction_rate"]) == (1, 1.0)
    second = table["市教育局"]
    assert (second["lead"], second["co"], second["replied_late"], second["on_time_rate"]) == (
        1,
        1,
        1,
        0.0,
    )
    older = (await cast.leader.get("/api/stats/units?year=2025")).body["items"]
    assert [(r["name"], r["lead"], r["total"]) for r in older] == [("市教育局", 1, 1)]
    assert (await cast.unit.get("/api/stats/units")).status == 403
    assert (await cast.staff.get("/api/stats/units?year=1999")).status == 400

    status, body, headers = await cast.staff.download("/api/stats/units.xlsx?year=2026")
    assert status == 200 and "spreadsheetml" in headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None and sheet.title == "2026年"
    table_rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table_rows[0][:4] == ["承办单位", "主办件数", "协办件数", "合计"]
    assert table_rows[1][:4] == ["市住房和城乡建设局", 2, 1, 3]
    assert table_rows[1][8] == 0.5
    assert (await cast.unit.download("/api/stats/units.xlsx"))[0] == 403


async def test_the_lead_unit_counts_the_classes_of_its_latest_itemised_replies(cast: Cast) -> None:
    from tests.server.proposals.test_itemised_replies import four_items, handled

    first = await handled(cast, "2026-0301")
    replied = await cast.unit.post(
        f"/api/proposals/{first}/reply", {"text": "逐条答复如下。", "items": four_items()}
    )
    assert replied.status == 201, replied.text
    await handled(cast, "2026-0302")  # being handled: no reply yet, counts nothing

    table = {
        r["name"]: r for r in (await cast.staff.get("/api/stats/units?year=2026")).body["items"]
    }
    assert table["市住房和城乡建设局"]["classes"] == {"A": 1, "B": 1, "C": 1, "D": 1}
    assert table["市教育局"]["classes"] == {"A": 0, "B": 0, "C": 0, "D": 0}  # a co-unit only
