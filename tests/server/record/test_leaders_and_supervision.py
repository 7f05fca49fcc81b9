"""督: a leader leads a key proposal (领办) and writes instructions (批示) that become follow-ups;
supervision rounds (两轮督办) list every open follow-up and overdue reply at their opening, units
report per item, and the round's report exports to .docx."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from docx import Document
from sqlalchemy import func, select, update

from server.db import Database
from server.proposals.models import Proposal, ProposalTransition
from server.record.models import FollowUp, Instruction, SupervisionItem, SupervisionRound
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal


async def assigned(cast: Cast, number: str, **extra: Any) -> dict[str, Any]:
    p = await create_proposal(cast, number, **extra)
    for to in ("filed", "assigned"):
        reply = await cast.staff.post(f"/api/proposals/{p['id']}/transitions", {"to": to})
        assert reply.status == 200, reply.text
    return reply.body  # type: ignore[no-any-return]


async def count(database: Database, *models: Any) -> list[int]:
    async with database.read() as db:
        return [
            (await db.execute(select(func.count()).select_from(m))).scalar_one() for m in models
        ]


# ---------------------------------------------------------------- 领办


async def test_a_leader_takes_and_gives_up_the_lead_of_a_key_proposal(cast: Cast) -> None:
    key = await create_proposal(cast, "2026-0001", key=True)
    plain = await create_proposal(cast, "2026-0002")
    url = f"/api/proposals/{key['id']}"
    taken = await cast.leader.patch(url, {"leader_id": cast.ids["leader"]})
    assert taken.status == 200, taken.text
    assert taken.body["leader_id"] == cast.ids["leader"]
    assert (await cast.member.get(url)).body["leader_id"] == cast.ids["leader"]
    # A leader changes nothing else, and leads only themself.
    assert (await cast.leader.patch(url, {"title": "改"})).status == 403
    assert (await cast.leader.patch(url, {"leader_id": cast.ids["member"]})).status == 403
    assert (await cast.member.patch(url, {"leader_id": cast.ids["member"]})).status == 403
    not_key = await cast.leader.patch(
        f"/api/proposals/{plain['id']}", {"leader_id": cast.ids["leader"]}
    )
    assert not_key.status == 400
    assert not_key.body["errors"][0]["field"] == "leader_id"
    # Staff assign leaders only; giving up the lead clears it.
    wrong = await cast.staff.patch(url, {"leader_id": cast.ids["member"]})
    assert wrong.status == 400 and "not a leader" in wrong.text
    given_up = await cast.leader.patch(url, {"leader_id": None})
    assert given_up.status == 200 and given_up.body["leader_id"] is None
    assert (await cast.leader.patch(url, {"leader_id": None})).status == 403
    staff_set = await cast.staff.patch(url, {"leader_id": cast.ids["leader"]})
    assert staff_set.status == 200 and staff_set.body["leader_id"] == cast.ids["leader"]


# ---------------------------------------------------------------- 批示


async def test_an_instruction_with_an_owner_unit_becomes_that_units_follow_up(
    cast: Cast,
) -> None:
    p = await assigned(cast, "2026-0010", key=True)
    due = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    body = {"text": "请市教育局牵头研究落实", "owner_unit_id": cast.unit_ids["b"], "due": due}
    made = await cast.leader.post(f"/api/proposals/{p['id']}/instructions", body)
    assert made.status == 201, made.text
    assert made.body["leader"] == "李主席" and made.body["follow_up_id"] is not None
    mine = await cast.unit2.get("/api/follow-ups")
    assert [
        (f["text"], f["instruction_id"], f["due"], f["session_id"]) for f in mine.body["items"]
    ] == [("请市教育局牵头研究落实", made.body["id"], due, None)]
    # The owner unit is told; the lead unit, not named, is not.
    told = (await cast.unit2.get("/api/me/notifications")).body["items"]
    assert [n["link"] for n in told if n["kind"] == "instruction_issued"] == [
        f"#/proposals/{p['id']}"
    ]
    lead = (await cast.unit.get("/api/me/notifications")).body["items"]
    assert not [n for n in lead if n["kind"] == "instruction_issued"]
    # Without an owner unit it is recorded, and nothing is followed up.
    bare = await cast.leader.post(f"/api/proposals/{p['id']}/instructions", {"text": "阅。"})
    assert bare.status == 201 and bare.body["follow_up_id"] is None
    dossier = (await cast.member.get(f"/api/proposals/{p['id']}/dossier")).body
    assert [i["text"] for i in dossier["instructions"]] == ["请市教育局牵头研究落实", "阅。"]
    kinds = [e["kind"] for e in dossier["timeline"]]
    assert kinds.count("instruction") == 2 and kinds.count("follow_up") == 1
    listed = await cast.unit.get(f"/api/proposals/{p['id']}/instructions")
    assert len(listed.body["items"]) == 2
    status, data, _ = await cast.staff.download(f"/api/proposals/{p['id']}/dossier.docx")
    assert status == 200
    text = "\n".join(x.text for x in Document(io.BytesIO(data)).paragraphs)
    assert "领导批示" in text and "李主席：请市教育局牵头研究落实" in text
    # The owner unit reports it done like any follow-up.
    done = await cast.unit2.patch(
        f"/api/follow-ups/{made.body['follow_up_id']}", {"status": "done", "note": "已落实"}
    )
    assert done.status == 200 and done.body["status"] == "done"


async def test_staff_record_an_instruction_only_for_a_named_leader(cast: Cast) -> None:
    p = await assigned(cast, "2026-0011")
    url = f"/api/proposals/{p['id']}/instructions"
    unnamed = await cast.staff.post(url, {"text": "请抓紧"})
    assert unnamed.status == 400 and unnamed.body["errors"][0]["field"] == "leader_id"
    member = await cast.staff.post(url, {"text": "请抓紧", "leader_id": cast.ids["member"]})
    assert member.status == 400 and "not a leader" in member.text
    made = await cast.staff.post(url, {"text": "请抓紧", "leader_id": cast.ids["leader"]})
    assert made.status == 201
    assert (made.body["leader_id"], made.body["recorded_by_id"]) == (
        cast.ids["leader"],
        cast.ids["staff"],
    )
    # A leader writes only their own; units and members write none.
    other = await cast.leader.post(url, {"text": "阅", "leader_id": cast.ids["staff"]})
    assert other.status == 403
    assert (await cast.unit.post(url, {"text": "阅"})).status == 403
    assert (await cast.member.post(url, {"text": "阅"})).status == 403
    assert (await cast.member2.post(url, {"text": "阅"})).status == 404


async def test_bad_instructions_are_refused_in_the_readers_language_and_write_nothing(
    cast: Cast, database: Database
) -> None:
    p = await assigned(cast, "2026-0012")
    url = f"/api/proposals/{p['id']}/instructions"
    before = await count(database, Instruction, FollowUp)
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    unit = cast.unit_ids["a"]
    for body, field in [
        ({"text": "   "}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": "阅", "due": "2027-01-01"}, "due"),
        ({"text": "阅", "owner_unit_id": 2_147_483_000}, "owner_unit_id"),
        ({"text": "阅", "owner_unit_id": unit, "due": yesterday}, "due"),
        ({"text": "阅", "owner_unit_id": unit, "due": "2027-02-30"}, "due"),
    ]:
        reply = await cast.leader.post(url, body)
        assert reply.status == 400, (body, reply.text)
        assert reply.body["errors"][0]["field"] == field, (body, reply.body)
    zh = await cast.leader.post(
        url, {"text": "阅", "due": "2027-01-01"}, headers={"Accept-Language": "zh-CN"}
    )
    assert zh.status == 400 and "责任单位" in zh.body["errors"][0]["message"]
    assert await count(database, Instruction, FollowUp) == before


# ---------------------------------------------------------------- 两轮督办


async def _overdue(database: Database, proposal_id: int) -> None:
    """The proposal was assigned four months ago: its reply is overdue."""
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    async with database.transaction() as db:
        await db.execute(
            update(ProposalTransition)
            .where(ProposalTransition.proposal_id == proposal_id)
            .values(at=long_ago)
        )
        # The due day is fixed at the assignment: three months from then.
        await db.execute(
            update(Proposal)
            .where(Proposal.id == proposal_id)
            .values(reply_due=(long_ago + dt.timedelta(days=91)).date())
        )


ROUND = {"name": "年中督办", "year": 2026, "starts_on": "2026-06-15", "ends_on": "2026-07-15"}


async def test_a_round_lists_open_follow_ups_and_overdue_replies_and_units_report(
    cast: Cast, database: Database
) -> None:
    late = await assigned(cast, "2026-0020")  # unit a, reply overdue
    await assigned(cast, "2026-0021")  # unit a, reply not yet due
    await _overdue(database, late["id"])
    key = await assigned(cast, "2026-0022", key=True)
    url = f"/api/proposals/{key['id']}/instructions"
    open_one = await cast.leader.post(
        url, {"text": "请教育局落实", "owner_unit_id": cast.unit_ids["b"]}
    )
    closed = await cast.leader.post(
        url, {"text": "请住建局落实", "owner_unit_id": cast.unit_ids["a"]}
    )
    await cast.unit.patch(f"/api/follow-ups/{closed.body['follow_up_id']}", {"status": "done"})

    made = await cast.staff.post("/api/supervision-rounds", ROUND)
    assert made.status == 201, made.text
    rid = made.body["id"]
    items = made.body["items"]
    assert [(i["kind"], i["ref_id"], i["owner_unit"]) for i in items] == [
        ("reply", late["id"], "市住房和城乡建设局"),
        ("follow_up", open_one.body["follow_up_id"], "市教育局"),
    ]
    due = (await cast.staff.get(f"/api/proposals/{late['id']}")).body["reply_due"]
    assert items[0]["text"].startswith("2026-0020") and items[0]["due"] == due
    assert made.body["progress"] == {
        "items": 2,
        "reported": 0,
        "done": 0,
        "in_progress": 0,
        "delayed": 0,
    }
    # Each unit sees only its own items, and reports on them.
    seen = await cast.unit2.get(f"/api/supervision-rounds/{rid}")
    assert [i["kind"] for i in seen.body["items"]] == ["follow_up"]
    item = seen.body["items"][0]
    report_url = f"/api/supervision-rounds/{rid}/items/{item['id']}/report"
    assert (await cast.unit.post(report_url, {"status": "done", "text": "x"})).status == 404
    sent = await cast.unit2.post(report_url, {"status": "in_progress", "text": "已制定方案"})
    assert sent.status == 200, sent.text
    again = await cast.unit2.post(report_url, {"status": "done", "text": "已完成建设\n已验收"})
    assert again.body["report_status"] == "done"
    listed = await cast.unit2.get("/api/supervision-rounds")
    assert listed.body["items"][0]["progress"]["done"] == 1
    assert listed.body["items"][0]["progress"]["items"] == 1
    staff_view = await cast.staff.get(f"/api/supervision-rounds/{rid}")
    assert (
        staff_view.body["progress"]["reported"] == 1 and staff_view.body["progress"]["items"] == 2
    )
    # The report opens as a Word document with every item and its report.
    status, data, headers = await cast.leader.download(f"/api/supervision-rounds/{rid}/report.docx")
    assert status == 200 and "supervision" in headers["Content-Disposition"]
    text = "\n".join(x.text for x in Document(io.BytesIO(data)).paragraphs)
    assert "2026年年中督办情况报告" in text
    assert "请教育局落实" in text and "办理情况：已落实" in text and "已验收" in text
    assert "2026-0020" in text and "办理情况：未报告" in text
    # Closed: no more reports; members see no rounds; units get no report.
    assert (
        await cast.staff.patch(f"/api/supervision-rounds/{rid}", {"closed": True})
    ).status == 200
    late_report = await cast.unit2.post(report_url, {"status": "done", "text": "补报"})
    assert late_report.status == 409
    assert (await cast.member.get("/api/supervision-rounds")).status == 403
    assert (await cast.unit.get(f"/api/supervision-rounds/{rid}/report.docx")).status == 403
    assert (await cast.unit.post("/api/supervision-rounds", ROUND)).status == 403


async def test_bad_round_input_is_refused_and_writes_nothing(
    cast: Cast, database: Database
) -> None:
    await assigned(cast, "2026-0030")
    before = await count(database, SupervisionRound, SupervisionItem)
    for body in [
        {**ROUND, "ends_on": "2026-06-01"},
        {**ROUND, "name": ""},
        {**ROUND, "name": "年中\n督办"},
        {**ROUND, "year": 1999},
        {k: v for k, v in ROUND.items() if k != "starts_on"},
    ]:
        reply = await cast.staff.post("/api/supervision-rounds", body)
        assert reply.status == 400, (body, reply.text)
    assert await count(database, SupervisionRound, SupervisionItem) == before
    made = await cast.staff.post("/api/supervision-rounds", ROUND)
    rid = made.body["id"]
    url = f"/api/supervision-rounds/{rid}/items/2147483000/report"
    assert (await cast.staff.post(url, {"status": "done", "text": "x"})).status == 404
    assert (await cast.staff.get("/api/supervision-rounds/2147483000")).status == 404
    bad = await cast.staff.post(url, {"status": "finished", "text": "x"})
    assert bad.status == 400 and bad.body["errors"][0]["field"] == "status"
