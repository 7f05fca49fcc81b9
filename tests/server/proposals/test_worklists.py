"""The lists staff work from: filters by category, year and reply overdue; sorting; paging; the
filtered list as an .xlsx workbook; a key proposal registered with its supervising leader."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from server.db import Database
from server.proposals.lifecycle import Status, reply_due, reply_overdue
from server.proposals.models import Proposal, ProposalTransition
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create


@pytest.mark.parametrize(
    ("assigned", "due"),
    [
        (dt.date(2026, 3, 10), dt.date(2026, 6, 10)),
        (dt.date(2026, 11, 30), dt.date(2027, 2, 28)),
        (dt.date(2027, 11, 30), dt.date(2028, 2, 29)),
        (dt.date(2026, 5, 31), dt.date(2026, 8, 31)),
    ],
)
def test_a_reply_is_due_three_months_after_the_assignment(assigned: dt.date, due: dt.date) -> None:
    assert reply_due(assigned) == due


def test_only_a_reply_still_awaited_can_be_overdue() -> None:
    due, late = dt.date(2026, 6, 10), dt.date(2026, 6, 11)
    assert reply_overdue(Status.HANDLING, due, late)
    assert not reply_overdue(Status.HANDLING, due, due)
    assert not reply_overdue(Status.REPLIED, due, late)
    assert not reply_overdue(Status.FILED, None, late)


async def assign(cast: Cast, proposal: dict[str, Any]) -> dict[str, Any]:
    url = f"/api/proposals/{proposal['id']}/transitions"
    for step in ("filed", "assigned"):
        reply = await cast.staff.post(url, {"to": step})
        assert reply.status == 200, reply.text
    return reply.body  # type: ignore[no-any-return]


async def numbers(cast: Cast, query: str) -> list[str]:
    reply = await cast.staff.get(f"/api/proposals?{query}")
    assert reply.status == 200, reply.text
    return [p["number"] for p in reply.body["items"]]


async def test_filters_by_category_year_and_overdue_reply(cast: Cast, database: Database) -> None:
    late = await create(cast, "2026-0001", category="教育")
    await create(cast, "2026-0002", category="城乡建设")
    await create(cast, "2025-0003", category="教育")
    fresh = await assign(cast, await create(cast, "2026-0004"))
    late = await assign(cast, late)
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert fresh["reply_due"] == reply_due(today).isoformat()
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    async with database.transaction() as db:  # the assignment was four months ago
        await db.execute(
            update(ProposalTransition)
            .where(ProposalTransition.proposal_id == late["id"])
            .values(at=long_ago)
        )
        await db.execute(  # its due day was set then, from the assignment
            update(Proposal)
            .where(Proposal.id == late["id"])
            .values(reply_due=reply_due(long_ago.date()))
        )
    assert await numbers(cast, "category=教育") == ["2025-0003", "2026-0001"]
    assert await numbers(cast, "year=2026") == ["2026-0001", "2026-0002", "2026-0004"]
    assert await numbers(cast, "overdue=true") == ["2026-0001"]
    assert await numbers(cast, "overdue=false&year=2026") == ["2026-0002", "2026-0004"]
    shown = (await cast.staff.get(f"/api/proposals/{late['id']}")).body
    assert dt.date.fromisoformat(shown["reply_due"]) < today
    assert (await cast.staff.get("/api/proposals?year=1999")).status == 400


async def test_sorted_either_way_and_paged(cast: Cast) -> None:
    for number, title in [("2026-0001", "乙"), ("2026-0002", "甲"), ("2026-0003", "丙")]:
        await create(cast, number, title=title)
    assert await numbers(cast, "sort=-number") == ["2026-0003", "2026-0002", "2026-0001"]
    assert await numbers(cast, "sort=-number&limit=2&offset=2") == ["2026-0001"]
    page = (await cast.staff.get("/api/proposals?sort=-number&limit=2")).body
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert (await cast.staff.get("/api/proposals?sort=secret")).status == 400


async def test_the_filtered_list_exports_as_xlsx_with_every_page(cast: Cast) -> None:
    await create(cast, "2026-0001", category="教育", title="=HYPERLINK(1)")
    await create(cast, "2026-0002", category="城乡建设")
    await create(cast, "2026-0003", category="教育", key=True, co_unit_ids=[cast.unit_ids["b"]])
    status, body, headers = await cast.staff.download(
        "/api/proposals.xlsx?category=教育&sort=-number&limit=1"
    )
    assert status == 200
    assert headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:3] == ("编号", "标题", "提案人")
    assert [r[0] for r in rows[1:]] == ["2026-0003", "2026-0001"]  # both pages, in order
    assert rows[1][4] == "是" and rows[1][5] == "已提交"
    assert rows[1][6] == "市住房和城乡建设局" and rows[1][7] == "市教育局"
    assert rows[2][1] == "'=HYPERLINK(1)"  # text from the registry never becomes a formula
    assert rows[2][2] == "张委员"
    audit = (await cast.staff.get("/api/audit?action=proposal.export")).body["items"]
    assert audit[0]["detail"]["rows"] == 2


async def test_units_export_only_their_proposals_and_guests_none(cast: Cast) -> None:
    await create(cast, "2026-0001")
    await create(cast, "2026-0002", lead_unit_id=cast.unit_ids["b"])
    status, body, _ = await cast.unit2.download("/api/proposals.xlsx")
    assert status == 200
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert [r[0] for r in rows[1:]] == ["2026-0002"]
    assert (await cast.guest.download("/api/proposals.xlsx"))[0] == 403


async def test_a_key_proposal_is_registered_with_its_supervising_leader(cast: Cast) -> None:
    body = await create(cast, key=True, supervisor_id=cast.ids["leader"])
    assert body["supervisor_id"] == cast.ids["leader"]
    reply = await cast.staff.post(
        "/api/proposals",
        {
            "number": "2026-0009",
            "title": "t",
            "proposer_ids": [cast.ids["member"]],
            "supervisor_id": cast.ids["leader"],
        },
    )
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "supervisor_id"


async def test_each_reader_is_offered_only_the_steps_they_may_take_and_sees_who_took_them(
    cast: Cast,
) -> None:
    p = await create(cast)
    assert p["steps"] == ["filed", "rejected", "converted"]
    assert (await cast.unit.get(f"/api/proposals/{p['id']}")).body["steps"] == []
    p = await assign(cast, p)
    assert p["steps"] == ["handling"]
    assert (await cast.unit.get(f"/api/proposals/{p['id']}")).body["steps"] == ["handling"]
    assert (await cast.member.get(f"/api/proposals/{p['id']}")).body["steps"] == []
    assert [h["by_name"] for h in p["history"]] == ["王秘书"] * 3
