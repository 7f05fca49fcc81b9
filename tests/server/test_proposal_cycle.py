"""The whole proposal cycle 提立办督评 over HTTP, in one story, the way a city runs it.

A member drafts and submits with two co-signers (one declines); staff file it and assign two
units; the co-handling unit sends its opinion; the lead unit replies item by item (A, B, C, D)
with its letter; the proposer is told (in the app and by email, through a real SMTP server)
and evaluates; the B commitment is a follow-up; a leader issues an instruction; a supervision
round lists both follow-ups and the unit reports; a selection round ranks three proposals by
two reviewers' scores. Each part has its own detailed tests; this one checks that they connect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import Cast
from tests.server.notices import test_notification_delivery as delivery
from tests.server.notices.test_notifications import until
from tests.server.proposals.test_attachments import pdf_of, upload
from tests.server.proposals.test_drafts_and_filing import draft_body, open_window
from tests.server.proposals.test_itemised_replies import SUGGESTIONS, four_items
from tests.server.proposals.test_proposals_api import create
from tests.server.sessions.test_invites_and_rsvp import Inbox

# A real SMTP server (aiosmtpd) the server mails through, as the notification tests use it.
smtp_port, inbox, config = delivery.smtp_port, delivery.inbox, delivery.config


async def ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.text
    return reply.body


async def kinds(who: Any) -> list[str]:
    return [n["kind"] for n in (await ok(await who.get("/api/me/notifications")))["items"]]


async def test_one_proposal_goes_round_the_whole_cycle(cast: Cast, inbox: Inbox) -> None:
    a, b = cast.unit_ids["a"], cast.unit_ids["b"]
    # 提: the member drafts, invites two co-signers (one declines) and submits in the window.
    await open_window(cast)
    draft = await ok(
        await cast.member.post("/api/proposals", draft_body(cast, suggestions=SUGGESTIONS)), 201
    )
    url = f"/api/proposals/{draft['id']}"
    who = {"person_ids": [cast.ids["member2"], cast.ids["leader"]]}
    await ok(await cast.member.post(f"{url}/cosigners", who))
    assert "cosign_invitation" in await kinds(cast.member2)
    await ok(await cast.member2.post(f"{url}/cosign", {"answer": "accepted"}))
    await ok(await cast.leader.post(f"{url}/cosign", {"answer": "declined"}))
    sent = await ok(await cast.member.post(f"{url}/submit"))
    assert sent["status"] == "submitted"
    assert [c["person_id"] for c in sent["dropped_cosigners"]] == [cast.ids["leader"]]
    assert {p["id"] for p in sent["proposers"]} == {cast.ids["member"], cast.ids["member2"]}

    # 立: staff file it (it gets its number) and assign the lead and the co-handling unit.
    filed = await ok(await cast.staff.post(f"{url}/transitions", {"to": "filed"}))
    assert filed["number"] and "proposal_filed" in await kinds(cast.member)
    assigned = await ok(await cast.staff.post(f"{url}/transitions", {"to": "assigned"}))
    assert (assigned["lead_unit_id"], assigned["co_unit_ids"]) == (a, [b])
    assert assigned["reply_due"] is not None
    assert "assigned" in await kinds(cast.unit) and "assigned" in await kinds(cast.unit2)

    # 办: the co-unit's opinion reaches the lead unit, which replies item by item.
    await ok(await cast.unit2.post(f"{url}/opinions", {"text": "建议统筹教育设施改造。"}), 201)
    assert "opinion_received" in await kinds(cast.unit)
    await ok(await cast.unit.post(f"{url}/transitions", {"to": "handling"}))
    letter = await upload(cast.unit, draft["id"], pdf_of(4096))
    assert letter.status == 201, letter.text
    reply = await ok(
        await cast.unit.post(
            f"{url}/reply",
            {
                "text": "逐条答复如下。",
                "items": four_items(),
                "attachment_ids": [letter.body["id"]],
            },
        ),
        201,
    )
    assert [i["class"] for i in reply["items"]] == ["A", "B", "C", "D"]

    # The proposers are told, in the app and by email; the author evaluates.
    for proposer in (cast.member, cast.member2):
        assert {"reply_received", "evaluation_requested"} <= set(await kinds(proposer))

    told = f"您的提案{filed['number']} {filed['title']}已收到答复。"

    async def mailed() -> bool:
        return any(
            told in m.get_body().get_content()  # type: ignore[union-attr]
            for m in inbox.to("member2@example.org")
        )

    await until(mailed, 20)
    evaluated = await ok(await cast.member.post(f"{url}/evaluation", {"verdict": "satisfied"}), 201)
    assert evaluated["verdict"] == "satisfied"
    assert (await ok(await cast.staff.get(url)))["status"] == "evaluated"

    # 督: the B commitment is the lead unit's follow-up; a leader's instruction is another's.
    promised = [f for f in (await ok(await cast.unit.get("/api/follow-ups")))["items"]]
    assert [(f["proposal_id"], f["due"]) for f in promised] == [
        (draft["id"], four_items()[1]["due"])
    ]
    due = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    instruction = await ok(
        await cast.leader.post(
            f"{url}/instructions", {"text": "请市教育局跟进落实", "owner_unit_id": b, "due": due}
        ),
        201,
    )
    assert instruction["follow_up_id"] is not None
    assert "instruction_issued" in await kinds(cast.unit2)
    year = dt.date.today().year
    opened = await ok(
        await cast.staff.post(
            "/api/supervision-rounds",
            {
                "name": "年中督办",
                "year": year,
                "starts_on": dt.date.today().isoformat(),
                "ends_on": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            },
        ),
        201,
    )
    round_url = f"/api/supervision-rounds/{opened['id']}"
    listed = (await ok(await cast.staff.get(round_url)))["items"]
    assert sorted(i["owner_unit_id"] for i in listed if i["kind"] == "follow_up") == [a, b]
    mine = [i for i in (await ok(await cast.unit2.get(round_url)))["items"]]
    assert [i["owner_unit_id"] for i in mine] == [b]  # a unit sees its own items only
    await ok(
        await cast.unit2.post(
            f"{round_url}/items/{mine[0]['id']}/report",
            {"status": "in_progress", "text": "已制定改造计划"},
        )
    )
    assert (await ok(await cast.staff.get(round_url)))["progress"]["reported"] == 1

    # 评: a selection round ranks three proposals by two reviewers' scores.
    others = [await create(cast, f"{year}-09{n}1") for n in (1, 2)]
    candidates = [draft["id"], *(p["id"] for p in others)]
    selection = await ok(
        await cast.staff.post(
            "/api/selections",
            {
                "year": year,
                "criteria": [
                    {"name": "选题价值", "weight": 2, "max": 10},
                    {"name": "建议可行性", "weight": 1, "max": 10},
                ],
                "reviewer_ids": [cast.ids["member2"], cast.ids["leader"]],
                "proposal_ids": candidates,
            },
        ),
        201,
    )
    scores = {draft["id"]: [9, 8], others[0]["id"]: [6, 9], others[1]["id"]: [7, 4]}
    for reviewer in (cast.member2, cast.leader):
        for proposal_id, given in scores.items():
            await ok(
                await reviewer.post(
                    f"/api/selections/{selection['id']}/scores",
                    {"proposal_id": proposal_id, "scores": given},
                )
            )
    ranking = await ok(await cast.staff.get(f"/api/selections/{selection['id']}/ranking"))
    ranked = [(r["proposal_id"], r["rank"]) for r in ranking["rows"]]
    # Weighted out of 100: (2×9 + 8)/30 = 86.7, (2×6 + 9)/30 = 70, (2×7 + 4)/30 = 60.
    assert ranked == [(draft["id"], 1), (others[0]["id"], 2), (others[1]["id"], 3)]
    assert [round(r["score"], 1) for r in ranking["rows"]] == [86.7, 70.0, 60.0]
    assert all(r["scored_by"] == 2 and not r["tied"] for r in ranking["rows"])
