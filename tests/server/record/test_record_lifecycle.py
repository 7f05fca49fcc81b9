"""A proposal's whole life with real rooms: consultation before, during (hybrid, the unit
presenting its progress, two scribes) and after handling; the reply; an unsatisfied evaluation
and a second round; follow-up of action items; compliance; the dossier; statistics."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.etree import ElementTree

from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = ElementTree.fromstring(z.read("word/document.xml"))
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    return "\n".join("".join(t.text or "" for t in p.iter(f"{ns}t")) for p in root.iter(f"{ns}p"))


async def step(cast: Cast, who: Any, pid: int, to: str) -> None:
    reply = await who.post(f"/api/proposals/{pid}/transitions", {"to": to})
    assert reply.status == 200, reply.text


async def hold(cast: Cast, clients: Any, sid: int, during: Any = None) -> None:
    """Run a session's room from start to end (``during`` acts in between)."""
    host = await clients(token=cast.staff.token, session_id=sid)
    assert (await host.command("session.start"))["ok"]
    if during is not None:
        await during(host)
    assert (await host.command("session.end"))["ok"]
    await host.close()


async def approve(cast: Cast, sid: int) -> dict[str, Any]:
    url = f"/api/sessions/{sid}/minutes"
    version = (await cast.staff.get(url)).body["version"]
    review = await cast.staff.post(
        f"{url}/transitions", {"to": "in_review", "base_version": version}
    )
    assert review.status == 200, review.text
    done = await cast.staff.post(
        f"{url}/transitions", {"to": "approved", "base_version": version + 1}
    )
    assert done.status == 200, done.text
    return done.body  # type: ignore[no-any-return]


async def missing(cast: Cast, pid: int) -> list[str] | None:
    listed = (await cast.staff.get("/api/proposals?compliance=missing")).body["items"]
    found = [p for p in listed if p["id"] == pid]
    return found[0]["compliance"]["missing"] if found else None


async def test_a_proposal_from_assignment_to_evaluation_through_its_sessions(
    cast: Cast, clients: Any
) -> None:
    lead = await create_proposal(cast, "2026-0101")
    similar = await create_proposal(cast, "2026-0102", bundle_lead_id=lead["id"])
    pid = lead["id"]
    for to in ("filed", "assigned"):
        await step(cast, cast.staff, pid, to)
    await step(cast, cast.unit, pid, "handling")
    assert await missing(cast, pid) == ["before"]

    # 办前: a remote talk held for the bundled proposal counts for the lead as well.
    before = await create_session(
        cast, stage="before", mode="remote", venue_id=None, proposal_ids=[similar["id"]]
    )
    await hold(cast, clients, before["id"])
    assert await missing(cast, pid) is None

    # 办中: hybrid, the unit shows its progress live, two scribes write the minutes.
    report = await cast.unit.post(
        f"/api/proposals/{pid}/progress",
        {"milestone": "完成试点小区摸排", "percent": 40, "text": "已摸排 32 个小区"},
    )
    assert report.status == 201, report.text
    assert (
        await cast.member.post(f"/api/proposals/{pid}/progress", {"milestone": "x", "percent": 1})
    ).status == 403
    during = await create_session(
        cast,
        stage="during",
        proposal_ids=[pid],
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["leader"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer"},
            {"person_id": cast.ids["unit"], "role": "unit"},
        ],
        agenda=[{"title": "办理进展", "proposal_id": pid, "presenter_id": cast.ids["unit"]}],
    )

    async def consult(host: Any) -> None:
        scribe = await clients(token=cast.leader.token, session_id=during["id"])
        unit = await clients(token=cast.unit.token, session_id=during["id"])
        member = await clients(token=cast.member.token, session_id=during["id"])
        shown = await unit.command("progress.show", proposal_id=pid, report_id=report.body["id"])
        assert shown["ok"], shown
        event = await member.wait_for(
            lambda: next((e for e in member.events if e["type"] == "progress.show"), None)
        )
        assert event["data"]["report"]["milestone"] == "完成试点小区摸排"
        assert event["data"]["report"]["percent"] == 40
        forged = await member.command("progress.show", proposal_id=pid, report_id=report.body["id"])
        assert forged["error"]["code"] == "forbidden"
        first = await host.command(
            "minutes.edit",
            item_id=1,
            op="notes",
            text="住建局汇报：已摸排32个小区。",
            base_version=0,
        )
        assert first["ok"], first
        clash = await scribe.command(
            "minutes.edit", item_id=1, op="notes", text="李主席的版本", base_version=0
        )
        assert clash["ok"] is False  # the second scribe must merge, nothing is overwritten
        merged = await scribe.command(
            "minutes.edit",
            item_id=1,
            op="notes",
            text="住建局汇报：已摸排32个小区。委员建议扩大补贴范围。",
            base_version=1,
        )
        assert merged["ok"], merged
        await scribe.command("minutes.edit", item_id=1, op="decision.add", text="扩大补贴范围")
        action = await host.command(
            "minutes.edit",
            item_id=1,
            op="action.add",
            text="制定扩大补贴范围的方案\n（第一期）",  # a line break must not break the email
            owner_unit_id=cast.unit_ids["a"],
            due="2026-01-15",  # already past: the follow-up is overdue at once
        )
        assert action["ok"], action
        for client in (scribe, unit, member):
            await client.close()

    await hold(cast, clients, during["id"], consult)
    minutes = await approve(cast, during["id"])
    assert minutes["content"]["items"][0]["decisions"] == ["扩大补贴范围"]
    assert "委员建议扩大补贴范围" in minutes["content"]["items"][0]["notes"]

    # 督办: the approved action item is followed up, overdue, and its unit is reminded.
    overdue = (await cast.staff.get("/api/follow-ups?overdue=true")).body["items"]
    assert [(f["text"], f["proposal_id"], f["overdue"]) for f in overdue] == [
        ("制定扩大补贴范围的方案\n（第一期）", pid, True)
    ]
    follow_id = overdue[0]["id"]
    assert (await cast.unit2.get("/api/follow-ups?overdue=true")).body["items"] == []
    assert [f["id"] for f in (await cast.unit.get("/api/follow-ups")).body["items"]] == [follow_id]
    assert [f["id"] for f in (await cast.member.get("/api/follow-ups")).body["items"]] == [
        follow_id
    ]
    # A leader supervises the (key) proposal and is copied on reminders.
    url = f"/api/proposals/{pid}"
    not_key = await cast.staff.patch(url, {"supervisor_id": cast.ids["leader"]})
    assert not_key.status == 400 and "key proposals" in not_key.text
    not_leader = await cast.staff.patch(url, {"key": True, "supervisor_id": cast.ids["member"]})
    assert not_leader.status == 400 and "not a leader" in not_leader.text
    named = await cast.staff.patch(url, {"key": True, "supervisor_id": cast.ids["leader"]})
    assert named.status == 200 and named.body["supervisor_id"] == cast.ids["leader"]
    assert (await cast.unit.post("/api/follow-ups/reminders")).status == 403
    sent = await cast.staff.post("/api/follow-ups/reminders")
    assert sent.body == {"reminded": 1, "follow_up_ids": [follow_id], "reply_overdue_ids": []}
    again = await cast.staff.post("/api/follow-ups/reminders")
    assert again.body["reminded"] == 0  # once a day per item
    mails = (await cast.staff.get(f"/api/sessions/{during['id']}/deliveries")).body["items"]
    notices = [m for m in mails if m["method"] == "NOTICE"]
    assert sorted(m["recipient"] for m in notices) == ["leader@example.org", "unit@example.org"]

    # The reply, with a file uploaded first.
    upload = await cast.unit.request(
        "POST",
        f"/api/proposals/{pid}/attachments?name=答复函.txt",
        data="关于加装电梯的答复函".encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert upload.status == 201, upload.text
    assert (
        await cast.unit.request(
            "POST",
            f"/api/proposals/{pid}/attachments?name=x.exe",
            data=b"MZ",
            headers={"Content-Type": "application/x-msdownload"},
        )
    ).status == 400
    file_id = upload.body["id"]
    status, data, _ = await cast.member.download(f"/api/attachments/{file_id}")
    assert status == 200 and data.decode() == "关于加装电梯的答复函"
    assert (await cast.unit2.download(f"/api/attachments/{file_id}"))[0] == 404
    body = {"text": "已制定补贴方案，扩大至全市。", "attachment_ids": [file_id]}
    assert (await cast.member.post(f"/api/proposals/{pid}/reply", body)).status == 403
    replied = await cast.unit.post(f"/api/proposals/{pid}/reply", body)
    assert replied.status == 201, replied.text
    assert replied.body["round"] == 1 and replied.body["attachments"][0]["name"] == "答复函.txt"
    assert (await cast.unit.post(f"/api/proposals/{pid}/reply", body)).status == 409
    assert await missing(cast, pid) is None  # before and during were both held

    # An unsatisfied proposer sends it back for a second round.
    verdict = {"verdict": "unsatisfied", "comment": "补贴标准仍偏低"}
    assert (await cast.unit.post(f"/api/proposals/{pid}/evaluation", verdict)).status == 403
    assert (await cast.member2.post(f"/api/proposals/{pid}/evaluation", verdict)).status == 404
    bad = await cast.member.post(f"/api/proposals/{pid}/evaluation", {"verdict": "meh"})
    assert bad.status == 400 and "verdict" in bad.text
    second = await cast.member.post(f"/api/proposals/{pid}/evaluation", verdict)
    assert second.status == 201, second.text
    proposal = (await cast.staff.get(f"/api/proposals/{pid}")).body
    assert (proposal["status"], proposal["round"]) == ("handling", 2)
    assert proposal["history"][-1]["note"] == "unsatisfied: handling round 2"
    again_reply = await cast.unit.post(
        f"/api/proposals/{pid}/reply", {"text": "补贴标准提高至每户 5 万元。"}
    )
    assert again_reply.status == 201 and again_reply.body["round"] == 2
    quality = {"verdict": "high", "comment": "调研扎实"}
    assert (await cast.member.post(f"/api/proposals/{pid}/quality-rating", quality)).status == 403
    assert (await cast.unit.post(f"/api/proposals/{pid}/quality-rating", quality)).status == 201
    assert (await cast.unit.post(f"/api/proposals/{pid}/quality-rating", quality)).status == 409

    # 办后: feedback after handling, then a satisfied verdict.
    after = await create_session(
        cast, stage="after", mode="remote", venue_id=None, proposal_ids=[pid]
    )
    await hold(cast, clients, after["id"])
    pleased = await cast.member.post(
        f"/api/proposals/{pid}/evaluation", {"verdict": "satisfied", "comment": "满意"}
    )
    assert pleased.status == 201, pleased.text
    proposal = (await cast.staff.get(f"/api/proposals/{pid}")).body
    assert proposal["status"] == "evaluated"
    assert proposal["compliance"] == {
        "before": 1,
        "during": 1,
        "after": 1,
        "required": ["before", "during", "after"],
        "missing": [],
    }
    ok = (await cast.staff.get("/api/proposals?compliance=ok")).body["items"]
    assert pid in [p["id"] for p in ok]

    done = await cast.unit.patch(
        f"/api/follow-ups/{follow_id}", {"status": "done", "note": "方案已印发"}
    )
    assert done.status == 200 and done.body["status"] == "done" and not done.body["overdue"]
    assert (
        await cast.unit.patch(f"/api/follow-ups/{follow_id}", {"status": "cancelled"})
    ).status == 403
    assert (await cast.staff.get("/api/follow-ups?overdue=true")).body["items"] == []

    # The dossier holds all of it, for the lead and for the bundled proposal alike.
    dossier = (await cast.member.get(f"/api/proposals/{pid}/dossier")).body
    assert [m["number"] for m in dossier["bundle"]] == ["2026-0101", "2026-0102"]
    assert [s["stage"] for s in dossier["sessions"]] == ["before", "during", "after"]
    assert dossier["sessions"][0]["via_proposal_id"] == similar["id"]
    excerpt = dossier["sessions"][1]["minutes"]
    assert excerpt["items"][0]["decisions"] == ["扩大补贴范围"]
    assert dossier["sessions"][0]["minutes"] is None  # its minutes were never approved
    assert [r["round"] for r in dossier["handling"]["replies"]] == [1, 2]
    assert [(e["kind"], e["verdict"]) for e in dossier["handling"]["evaluations"]] == [
        ("handling", "unsatisfied"),
        ("quality", "high"),
        ("handling", "satisfied"),
    ]
    assert [f["status"] for f in dossier["follow_ups"]] == ["done"]
    times = [t["at"] for t in dossier["timeline"]]
    assert times == sorted(times)
    kinds = {t["kind"] for t in dossier["timeline"]}
    assert kinds >= {"transition", "session", "minutes", "reply", "progress", "evaluation"}
    steps = [t["ref"] for t in dossier["timeline"] if t["kind"] == "transition"]
    assert steps == list(range(len(dossier["proposal"]["history"])))  # each step by its place
    bundled = (await cast.staff.get(f"/api/proposals/{similar['id']}/dossier")).body
    assert [s["id"] for s in bundled["sessions"]] == [s["id"] for s in dossier["sessions"]]
    assert (await cast.member2.get(f"/api/proposals/{pid}/dossier")).status == 404
    status, data, headers = await cast.staff.download(f"/api/proposals/{pid}/dossier.docx")
    assert status == 200 and "dossier" in headers["Content-Disposition"]
    text = docx_text(data)
    assert "提案办理档案：2026-0101" in text and "扩大补贴范围" in text
    assert "提案人评价办理：不满意" in text and "提案人评价办理：满意" in text

    stats = await cast.staff.get("/api/stats")
    assert stats.status == 200, stats.text
    s = stats.body
    assert s["satisfaction"]["evaluated"] == 1 and s["satisfaction"]["rate"] == 1.0
    assert s["proposals_by_status"]["evaluated"] == 1
    assert s["follow_ups"] == {"open": 0, "done": 1, "cancelled": 0, "overdue": 0}
    assert s["compliance"]["compliant"] >= 1
    assert sum(m["count"] for m in s["sessions_by_month"]) == 3
    assert (await cast.member.get("/api/stats")).status == 403

    # A session of the bundle that the proposer is not in stays out of their dossier.
    private = await create_session(
        cast,
        stage="during",
        proposal_ids=[similar["id"]],
        participants=[{"person_id": cast.ids["staff"], "role": "host"}],
        agenda=[],
    )
    theirs = (await cast.member.get(f"/api/proposals/{pid}/dossier")).body
    assert private["id"] not in [s["id"] for s in theirs["sessions"]]
    staffs = (await cast.staff.get(f"/api/proposals/{pid}/dossier")).body
    assert private["id"] in [s["id"] for s in staffs["sessions"]]
    assert (await cast.leader.get("/api/stats?year=2026")).status == 200
