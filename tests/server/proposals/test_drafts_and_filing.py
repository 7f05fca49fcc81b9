"""提 and 立 over HTTP: members draft, invite co-signers and submit within the year's window;
staff file, refuse with a reason, turn into an opinion or merge; assigning sets the reply's
due day, and overdue replies are listed and reminded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scheduling.workdays import shipped
from server.db import Database
from server.proposals.lifecycle import COMMITTEE_ZONE, ReplyTerm, reply_due_by
from tests.conftest import Cast


def today() -> dt.date:
    return dt.datetime.now(COMMITTEE_ZONE).date()


def draft_body(cast: Cast, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "关于完善社区养老服务的建议",
        "summary": "社区养老服务供给不足",
        "situation": "老年人口占比逐年上升，社区日间照料中心覆盖不足。",
        "suggestions": ["增加日间照料中心", "培养专业护理人员", "落实运营补贴"],
        "public": True,
        "category": "社会事业",
        "lead_unit_id": cast.unit_ids["a"],
        "co_unit_ids": [cast.unit_ids["b"]],
    }
    body.update(extra)
    return body


async def open_window(
    cast: Cast, opens: dt.date | None = None, closes: dt.date | None = None
) -> None:
    day = today()
    body = {
        "opens": (opens or day - dt.timedelta(days=1)).isoformat(),
        "closes": (closes or day + dt.timedelta(days=1)).isoformat(),
    }
    year = dt.date.fromisoformat(body["opens"]).year
    reply = await cast.staff.put(f"/api/submission-windows/{year}", body)
    assert reply.status == 200, reply.text


async def new_draft(cast: Cast, **extra: Any) -> dict[str, Any]:
    reply = await cast.member.post("/api/proposals", draft_body(cast, **extra))
    assert reply.status == 201, reply.text
    return reply.body  # type: ignore[no-any-return]


async def submitted(cast: Cast) -> dict[str, Any]:
    await open_window(cast)
    draft = await new_draft(cast)
    reply = await cast.member.post(f"/api/proposals/{draft['id']}/submit")
    assert reply.status == 200, reply.text
    return reply.body  # type: ignore[no-any-return]


async def test_a_member_drafts_with_suggestions_and_only_author_and_cosigners_see_it(
    cast: Cast,
) -> None:
    draft = await new_draft(cast)
    assert draft["status"] == "draft"
    assert draft["number"] is None
    assert draft["suggestions"] == ["增加日间照料中心", "培养专业护理人员", "落实运营补贴"]
    assert draft["situation"].startswith("老年人口")
    assert draft["public"] is True
    assert draft["author_id"] == cast.ids["member"]
    assert [p["id"] for p in draft["proposers"]] == [cast.ids["member"]]
    url = f"/api/proposals/{draft['id']}"
    for other in (cast.staff, cast.member2, cast.unit, cast.leader):
        assert (await other.get(url)).status == 404
    assert draft["id"] not in [
        p["id"] for p in (await cast.staff.get("/api/proposals")).body["items"]
    ]
    invited = await cast.member.post(f"{url}/cosigners", {"person_ids": [cast.ids["member2"]]})
    assert invited.status == 200, invited.text
    assert invited.body["cosigners"] == [
        {"person_id": cast.ids["member2"], "name": "陈委员", "answer": "invited"}
    ]
    assert (await cast.member2.get(url)).status == 200
    mine = await cast.member2.get("/api/proposals", params={"status": "draft"})
    assert [p["id"] for p in mine.body["items"]] == [draft["id"]]


async def test_the_author_edits_the_draft_and_others_may_not(cast: Cast) -> None:
    draft = await new_draft(cast)
    url = f"/api/proposals/{draft['id']}"
    changed = await cast.member.patch(
        url,
        {"suggestions": ["落实运营补贴", "增加日间照料中心"], "public": False, "situation": None},
    )
    assert changed.status == 200, changed.text
    assert changed.body["suggestions"] == ["落实运营补贴", "增加日间照料中心"]
    assert changed.body["public"] is False
    assert changed.body["situation"] == ""
    await cast.member.post(f"{url}/cosigners", {"person_ids": [cast.ids["member2"]]})
    refused = await cast.member2.patch(url, {"title": "改标题"})
    assert refused.status == 403
    assert (await cast.staff.patch(url, {"title": "改标题"})).status == 404
    staff_field = await cast.member.patch(url, {"key": True})
    assert staff_field.status == 400
    assert staff_field.body["errors"][0]["field"] == "key"
    too_many = await cast.member.patch(url, {"suggestions": ["x"] * 51})
    assert too_many.status == 400
    empty = await cast.member.patch(url, {"suggestions": [""]})
    assert empty.status == 400
    bad_unit = await cast.member.patch(url, {"lead_unit_id": 99999})
    assert bad_unit.status == 400
    assert (await cast.member.get(url)).body["suggestions"] == ["落实运营补贴", "增加日间照料中心"]


async def test_a_member_may_not_set_staff_fields_on_a_new_draft(cast: Cast) -> None:
    reply = await cast.member.post("/api/proposals", draft_body(cast, number="2026-0001"))
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "number"
    assert (await cast.unit.post("/api/proposals", draft_body(cast))).status == 403
    assert (await cast.member.get("/api/proposals", params={"status": "draft"})).body["total"] == 0


async def test_cosigners_answer_once_and_unconfirmed_ones_drop_at_submission(cast: Cast) -> None:
    await open_window(cast)
    draft = await new_draft(cast)
    url = f"/api/proposals/{draft['id']}"
    who = [cast.ids["member2"], cast.ids["leader"]]
    assert (await cast.member.post(f"{url}/cosigners", {"person_ids": who})).status == 200
    accepted = await cast.member2.post(f"{url}/cosign", {"answer": "accepted"})
    assert accepted.status == 200, accepted.text
    twice = await cast.member2.post(f"{url}/cosign", {"answer": "declined"})
    assert twice.status == 409
    assert "already answered" in twice.body["detail"]
    zh = await cast.member2.post(
        f"{url}/cosign", {"answer": "declined"}, headers={"Accept-Language": "zh-CN"}
    )
    assert zh.status == 409 and "已" in zh.body["detail"]
    assert (await cast.leader.post(f"{url}/cosign", {"answer": "declined"})).status == 200
    assert (await cast.member.post(f"{url}/cosign", {"answer": "accepted"})).status == 403
    assert (await cast.unit.post(f"{url}/cosign", {"answer": "accepted"})).status == 404
    assert (await cast.member2.post(f"{url}/cosign", {"answer": "maybe"})).status == 400
    out = await cast.member.post(f"{url}/submit")
    assert out.status == 200, out.text
    assert out.body["status"] == "submitted"
    assert [c["person_id"] for c in out.body["dropped_cosigners"]] == [cast.ids["leader"]]
    assert "李主席" in out.body["message"] and "had not accepted" in out.body["message"]
    assert [p["id"] for p in out.body["proposers"]] == [cast.ids["member"], cast.ids["member2"]]
    assert [c["answer"] for c in out.body["cosigners"]] == ["accepted"]
    assert (await cast.staff.get(url)).status == 200
    assert (await cast.member.patch(url, {"title": "晚了"})).status == 409
    assert (await cast.member.post(f"{url}/submit")).status == 409


async def test_only_the_author_invites_members_and_not_themselves(cast: Cast) -> None:
    draft = await new_draft(cast)
    url = f"/api/proposals/{draft['id']}/cosigners"
    bad = await cast.member.post(url, {"person_ids": [cast.ids["member"], cast.ids["unit"], 99999]})
    assert bad.status == 400
    assert [e["field"] for e in bad.body["errors"]] == [
        "person_ids.0",
        "person_ids.1",
        "person_ids.2",
    ]
    twice = await cast.member.post(url, {"person_ids": [cast.ids["member2"]] * 2})
    assert twice.status == 400
    await cast.member.post(url, {"person_ids": [cast.ids["member2"]]})
    assert (await cast.member2.post(url, {"person_ids": []})).status == 403


async def test_submitting_outside_the_window_is_refused_with_the_dates(cast: Cast) -> None:
    draft = await new_draft(cast)
    url = f"/api/proposals/{draft['id']}/submit"
    unset = await cast.member.post(url)
    assert unset.status == 409
    assert str(today().year) in unset.body["detail"]
    day = today()
    if day.day > 2:  # a window earlier this year that has closed
        opens, closes = day.replace(day=1), day.replace(day=2)
    else:  # one later this year
        opens, closes = day.replace(day=20), day.replace(day=25)
    await open_window(cast, opens, closes)
    late = await cast.member.post(url)
    assert late.status == 409
    assert opens.isoformat() in late.body["detail"] and closes.isoformat() in late.body["detail"]
    zh = await cast.member.post(url, headers={"Accept-Language": "zh-CN"})
    assert "受理" in zh.body["detail"] or "提交" in zh.body["detail"]
    assert closes.isoformat() in zh.body["detail"]
    assert (await cast.member.get(f"/api/proposals/{draft['id']}")).body["status"] == "draft"


async def test_a_draft_without_suggestions_cannot_be_submitted(cast: Cast) -> None:
    await open_window(cast)
    draft = await new_draft(cast, suggestions=[])
    reply = await cast.member.post(f"/api/proposals/{draft['id']}/submit")
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "suggestions"


async def test_windows_are_set_by_staff_and_checked(cast: Cast) -> None:
    year = today().year
    good = {"opens": f"{year}-01-10", "closes": f"{year}-01-20"}
    assert (await cast.member.put(f"/api/submission-windows/{year}", good)).status == 403
    backwards = {"opens": f"{year}-01-20", "closes": f"{year}-01-10"}
    assert (await cast.staff.put(f"/api/submission-windows/{year}", backwards)).status == 400
    other_year = {"opens": f"{year + 1}-01-10", "closes": f"{year + 1}-01-20"}
    assert (await cast.staff.put(f"/api/submission-windows/{year}", other_year)).status == 400
    assert (await cast.staff.put("/api/submission-windows/1900", good)).status == 404
    assert (await cast.staff.put(f"/api/submission-windows/{year}", good)).status == 200
    listed = await cast.member.get("/api/submission-windows")
    assert listed.status == 200
    assert listed.body["items"][0]["opens"] == f"{year}-01-10"


async def test_filing_assigns_the_next_number_and_the_proposer_sees_it(cast: Cast) -> None:
    first = await cast.staff.post(
        "/api/proposals",
        {
            "number": f"{today().year}-0007",
            "title": "已有提案",
            "proposer_ids": [cast.ids["member2"]],
        },
    )
    assert first.status == 201
    proposal = await submitted(cast)
    filed = await cast.staff.post(f"/api/proposals/{proposal['id']}/transitions", {"to": "filed"})
    assert filed.status == 200, filed.text
    assert filed.body["number"] == f"{today().year}-0008"
    seen = await cast.member.get(f"/api/proposals/{proposal['id']}")
    assert seen.body["status"] == "filed"


async def test_rejecting_needs_a_known_reason_and_the_proposer_sees_it(cast: Cast) -> None:
    proposal = await submitted(cast)
    url = f"/api/proposals/{proposal['id']}/transitions"
    unknown = await cast.staff.post(url, {"to": "rejected", "reason": "bored", "note": "x"})
    assert unknown.status == 400
    wrong = await cast.staff.post(url, {"to": "filed", "reason": "duplicate"})
    assert wrong.status == 400
    assert (await cast.staff.post(url, {"to": "rejected", "reason": "duplicate"})).status == 400
    done = await cast.staff.post(
        url, {"to": "rejected", "reason": "duplicate", "note": "与2026-0003重复"}
    )
    assert done.status == 200, done.text
    seen = await cast.member.get(
        f"/api/proposals/{proposal['id']}", headers={"Accept-Language": "zh-CN"}
    )
    last = seen.body["history"][-1]
    assert (last["to_status"], last["reason"], last["note"]) == (
        "rejected",
        "duplicate",
        "与2026-0003重复",
    )
    assert last["reason_words"] and last["reason_words"] != "duplicate"
    assert seen.body["number"] is None


async def test_converting_to_an_opinion_needs_a_note(cast: Cast) -> None:
    proposal = await submitted(cast)
    url = f"/api/proposals/{proposal['id']}/transitions"
    assert (await cast.staff.post(url, {"to": "converted"})).status == 400
    done = await cast.staff.post(url, {"to": "converted", "note": "转社情民意信息"})
    assert done.status == 200
    assert done.body["status"] == "converted" and done.body["steps"] == []
    assert (await cast.member.post(url, {"to": "filed"})).status in (403, 409)


async def test_merging_into_a_bundle_is_a_patch(cast: Cast) -> None:
    lead = await cast.staff.post(
        "/api/proposals",
        {
            "number": f"{today().year}-0001",
            "title": "牵头提案",
            "proposer_ids": [cast.ids["member2"]],
        },
    )
    proposal = await submitted(cast)
    merged = await cast.staff.patch(
        f"/api/proposals/{proposal['id']}", {"bundle_lead_id": lead.body["id"]}
    )
    assert merged.status == 200, merged.text
    assert (await cast.member.get(f"/api/proposals/{proposal['id']}")).body[
        "bundle_lead_id"
    ] == lead.body["id"]


async def test_the_author_attaches_files_to_the_draft_only(cast: Cast) -> None:
    draft = await new_draft(cast)
    url = f"/api/proposals/{draft['id']}/attachments?name=调研报告.txt"
    body = "调研报告".encode()
    headers = {"Content-Type": "text/plain"}
    ok = await cast.member.request("POST", url, data=body, headers=headers)
    assert ok.status == 201, ok.text
    await cast.member.post(
        f"/api/proposals/{draft['id']}/cosigners", {"person_ids": [cast.ids["member2"]]}
    )
    refused = await cast.member2.request("POST", url, data=body, headers=headers)
    assert refused.status == 403


async def assigned(cast: Cast) -> dict[str, Any]:
    proposal = await submitted(cast)
    url = f"/api/proposals/{proposal['id']}/transitions"
    assert (await cast.staff.post(url, {"to": "filed"})).status == 200
    reply = await cast.staff.post(url, {"to": "assigned"})
    assert reply.status == 200, reply.text
    return reply.body  # type: ignore[no-any-return]


async def test_assigning_sets_reply_due_three_months_by_default(cast: Cast) -> None:
    proposal = await assigned(cast)
    due = dt.date.fromisoformat(proposal["reply_due"])
    assert 89 <= (due - today()).days <= 92


def test_working_days_skip_weekends_and_holidays() -> None:
    calendar = shipped()
    # 2026-09-30 (Wed) + 3 working days: National Day holiday 10-01..10-07, 10-10 is a 调休
    # working Saturday in the 2026 notice, so the third working day falls after the holiday.
    due = reply_due_by(dt.date(2026, 9, 30), ReplyTerm(working_days=3), calendar)
    workdays = calendar.workdays(dt.date(2026, 10, 1), due)
    assert len(workdays) == 3 and calendar.is_workday(due)
    assert reply_due_by(dt.date(2026, 1, 31), ReplyTerm(days=10), calendar) == dt.date(2026, 2, 10)
    assert reply_due_by(dt.date(2026, 11, 30), ReplyTerm(), calendar) == dt.date(2027, 2, 28)


async def test_overdue_replies_are_listed_and_reminded_once_a_day(
    cast: Cast, database: Database
) -> None:
    proposal = await assigned(cast)
    from sqlalchemy import select, update

    from server.proposals.models import Proposal

    async with database.transaction() as db:
        await db.execute(
            update(Proposal)
            .where(Proposal.id == proposal["id"])
            .values(reply_due=today() - dt.timedelta(days=1))
        )
    listed = await cast.staff.get("/api/proposals", params={"reply_overdue": "true"})
    assert [p["id"] for p in listed.body["items"]] == [proposal["id"]]
    not_overdue = await cast.staff.get("/api/proposals", params={"reply_overdue": "false"})
    assert proposal["id"] not in [p["id"] for p in not_overdue.body["items"]]
    first = await cast.staff.post("/api/follow-ups/reminders")
    assert first.status == 200, first.text
    # The server's own reminder loop may have got there first (it runs whenever this process
    # (re)gains the job lock, which a loaded machine can delay): either way, once today.
    assert first.body["reply_overdue_ids"] in ([proposal["id"]], [])
    again = await cast.staff.post("/api/follow-ups/reminders")
    assert again.body["reply_overdue_ids"] == []
    from server.mail import OutboxMessage

    async with database.read() as db:
        mails = (
            await db.execute(
                select(OutboxMessage.recipient).where(OutboxMessage.subject.like("答复提醒%"))
            )
        ).scalars().all()  # fmt: skip
    assert mails == ["unit@example.org"]  # the lead unit's one person, reminded once
