"""办 — the itemised reply (清单式答复) over HTTP: the co-handling unit's opinion reaches the lead
unit, which answers each suggestion once with a class (A/B/C/D, B with its commitment and date)
and the reply letter; B items become follow-ups; statistics count the classes; bad input is
refused in the reader's language with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import ApiClient, Cast
from tests.server.proposals.test_attachments import pdf_of, upload
from tests.server.proposals.test_proposals_api import create

SUGGESTIONS = [
    "简化加装电梯审批流程",
    "提高财政补贴标准",
    "建立电梯维保基金",
    "推广装配式电梯",
]
LATER = (dt.date.today() + dt.timedelta(days=200)).isoformat()


def four_items() -> list[dict[str, Any]]:
    return [
        {"suggestion": 1, "class": "A", "text": "已出台联合审批办法"},
        {"suggestion": 2, "class": "B", "text": "修订补贴办法，提高至每户 5 万元", "due": LATER},
        {"suggestion": 3, "class": "C", "text": "受财力限制，暂缓设立"},
        {"suggestion": 4, "class": "D"},
    ]


async def step(who: ApiClient, pid: int, to: str) -> None:
    reply = await who.post(f"/api/proposals/{pid}/transitions", {"to": to})
    assert reply.status == 200, reply.text


async def handled(cast: Cast, number: str = "2026-0123", **extra: Any) -> int:
    """A proposal with the four suggestions, lead unit a, co-unit b, being handled by a."""
    body = {"suggestions": SUGGESTIONS, "co_unit_ids": [cast.unit_ids["b"]], **extra}
    pid = int((await create(cast, number, situation="老旧小区多为六层以下住宅。", **body))["id"])
    await step(cast.staff, pid, "filed")
    await step(cast.staff, pid, "assigned")
    await step(cast.unit, pid, "handling")
    return pid


@pytest.fixture
async def pid(cast: Cast) -> int:
    return await handled(cast)


async def test_the_proposal_keeps_its_situation_and_numbered_suggestions(
    cast: Cast, pid: int
) -> None:
    body = (await cast.member.get(f"/api/proposals/{pid}")).body
    assert body["situation"] == "老旧小区多为六层以下住宅。"
    assert body["suggestions"] == SUGGESTIONS
    changed = await cast.staff.patch(f"/api/proposals/{pid}", {"suggestions": SUGGESTIONS[:3]})
    assert changed.status == 200 and changed.body["suggestions"] == SUGGESTIONS[:3]
    assert (await cast.staff.patch(f"/api/proposals/{pid}", {"suggestions": None})).status == 400


async def test_the_co_unit_sends_its_opinion_and_the_lead_unit_reads_it(
    cast: Cast, pid: int
) -> None:
    sent = await cast.unit2.post(
        f"/api/proposals/{pid}/opinions", {"text": "建议与教育设施改造统筹推进。"}
    )
    assert sent.status == 201, sent.text
    assert sent.body["unit_id"] == cast.unit_ids["b"] and sent.body["unit_name"] == "市教育局"
    lead = (await cast.unit.get(f"/api/proposals/{pid}/handling")).body
    assert [o["text"] for o in lead["opinions"]] == ["建议与教育设施改造统筹推进。"]
    staff = (await cast.staff.get(f"/api/proposals/{pid}/dossier")).body
    assert len(staff["handling"]["opinions"]) == 1
    # Between the units: the proposer does not read them.
    assert (await cast.member.get(f"/api/proposals/{pid}/handling")).body["opinions"] == []
    # The lead unit is told (in its notices), the co-unit that sent it is not.
    told = (await cast.unit.get("/api/me/notifications")).body["items"]
    opinion = [n for n in told if n["kind"] == "opinion_received"]
    assert len(opinion) == 1 and "市教育局" in opinion[0]["title"], told
    assert opinion[0]["link"] == f"#/proposals/{pid}"
    sender = (await cast.unit2.get("/api/me/notifications")).body["items"]
    assert not [n for n in sender if n["kind"] == "opinion_received"]


async def test_only_a_co_unit_sends_an_opinion_and_only_before_the_reply(
    cast: Cast, pid: int
) -> None:
    body = {"text": "意见"}
    lead = await cast.unit.post(f"/api/proposals/{pid}/opinions", body)
    assert lead.status == 403 and "co-handling" in lead.body["detail"]
    zh = await cast.unit.post(
        f"/api/proposals/{pid}/opinions", body, headers={"Accept-Language": "zh-CN"}
    )
    assert zh.status == 403 and "协办单位" in zh.body["detail"]
    for who in (cast.member, cast.staff, cast.leader):
        assert (await who.post(f"/api/proposals/{pid}/opinions", body)).status == 403
    foreign = await upload(cast.unit, pid, pdf_of(500))
    bad_file = await cast.unit2.post(
        f"/api/proposals/{pid}/opinions",
        {"text": "意见", "attachment_ids": [foreign.body["id"] + 99]},
    )
    assert bad_file.status == 400 and bad_file.body["errors"][0]["field"] == "attachment_ids"
    assert (await cast.staff.get(f"/api/proposals/{pid}/handling")).body["opinions"] == []
    reply = await cast.unit.post(
        f"/api/proposals/{pid}/reply", {"text": "答复如下。", "items": four_items()}
    )
    assert reply.status == 201, reply.text
    late = await cast.unit2.post(f"/api/proposals/{pid}/opinions", body)
    assert late.status == 409


async def test_the_lead_unit_answers_each_suggestion_and_b_becomes_a_follow_up(
    cast: Cast, pid: int
) -> None:
    letter = await upload(cast.unit, pid, pdf_of(2000), name="关于第 0123 号提案的答复函.pdf")
    assert letter.status == 201, letter.text
    reply = await cast.unit.post(
        f"/api/proposals/{pid}/reply",
        {
            "text": "现将办理情况答复如下。",
            "items": four_items(),
            "attachment_ids": [letter.body["id"]],
        },
    )
    assert reply.status == 201, reply.text
    assert [(i["suggestion"], i["class"], i["due"]) for i in reply.body["items"]] == [
        (1, "A", None),
        (2, "B", LATER),
        (3, "C", None),
        (4, "D", None),
    ]
    assert reply.body["attachments"][0]["name"] == "关于第 0123 号提案的答复函.pdf"
    seen = (await cast.member.get(f"/api/proposals/{pid}/handling")).body["replies"][0]
    assert [i["class"] for i in seen["items"]] == ["A", "B", "C", "D"]
    assert (await cast.member.get(f"/api/proposals/{pid}")).body["status"] == "replied"

    follow = (await cast.unit.get(f"/api/follow-ups?proposal_id={pid}")).body["items"]
    assert [(f["text"], f["due"], f["owner_unit_id"], f["session_id"]) for f in follow] == [
        ("修订补贴办法，提高至每户 5 万元", LATER, cast.unit_ids["a"], None)
    ]
    assert (await cast.unit2.get("/api/follow-ups")).body["items"] == []
    assert [f["id"] for f in (await cast.member.get("/api/follow-ups")).body["items"]] == [
        follow[0]["id"]
    ]
    done = await cast.unit.patch(f"/api/follow-ups/{follow[0]['id']}", {"status": "done"})
    assert done.status == 200 and done.body["status"] == "done"
    dossier = await cast.staff.download(f"/api/proposals/{pid}/dossier.docx")
    assert dossier[0] == 200

    stats = (await cast.staff.get("/api/stats")).body["reply_classes"]
    assert stats == {"replies": 1, "items": 4, "A": 1, "B": 1, "C": 1, "D": 1}


def without(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [i for i in items if i["suggestion"] != n]


BAD_ITEMS: list[tuple[str, list[dict[str, Any]], str, str]] = [
    (
        "a suggestion that does not exist",
        [*four_items(), {"suggestion": 5, "class": "A"}],
        "items.4.suggestion",
        "no suggestion 5",
    ),
    (
        "the same suggestion twice",
        [*four_items(), {"suggestion": 1, "class": "D"}],
        "items.4.suggestion",
        "answered twice",
    ),
    (
        "class B without its date",
        [*without(four_items(), 2), {"suggestion": 2, "class": "B", "text": "研究"}],
        "items.3.due",
        "promised by",
    ),
    (
        "class B without its commitment",
        [*without(four_items(), 2), {"suggestion": 2, "class": "B", "due": LATER}],
        "items.3.text",
        "commitment",
    ),
    (
        "a date on a class other than B",
        [*without(four_items(), 1), {"suggestion": 1, "class": "A", "due": LATER}],
        "items.3.due",
        "only class B",
    ),
    (
        "a promise already past",
        [
            *without(four_items(), 2),
            {"suggestion": 2, "class": "B", "text": "研究", "due": "2020-01-01"},
        ],
        "items.3.due",
        "past",
    ),
    ("a suggestion left unanswered", without(four_items(), 3), "items", "not answered: [3]"),
    ("no items at all", [], "items", "not answered: [1, 2, 3, 4]"),
    (
        "a class that is not A to D",
        [*without(four_items(), 4), {"suggestion": 4, "class": "E"}],
        "items.3.class",
        "one of",
    ),
    (
        "suggestion zero",
        [*without(four_items(), 1), {"suggestion": 0, "class": "A"}],
        "items.3.suggestion",
        "at least 1",
    ),
]


@pytest.mark.parametrize(
    ("items", "field", "words"),
    [case[1:] for case in BAD_ITEMS],
    ids=[case[0] for case in BAD_ITEMS],
)
async def test_a_bad_itemised_reply_is_refused_and_nothing_is_written(
    cast: Cast, pid: int, items: list[dict[str, Any]], field: str, words: str
) -> None:
    reply = await cast.unit.post(f"/api/proposals/{pid}/reply", {"text": "答复", "items": items})
    assert reply.status == 400, reply.text
    assert reply.content_type == "application/problem+json"
    assert field in [e["field"] for e in reply.body["errors"]]
    assert words in reply.text
    assert (await cast.staff.get(f"/api/proposals/{pid}")).body["status"] == "handling"
    assert (await cast.staff.get(f"/api/proposals/{pid}/handling")).body["replies"] == []
    assert (await cast.staff.get("/api/follow-ups")).body["items"] == []


async def test_the_refusal_is_in_the_readers_language(cast: Cast, pid: int) -> None:
    items = [*four_items(), {"suggestion": 9, "class": "A"}]
    zh = await cast.unit.post(
        f"/api/proposals/{pid}/reply",
        {"text": "答复", "items": items},
        headers={"Accept-Language": "zh-CN"},
    )
    assert zh.status == 400 and "建议 9" in zh.body["errors"][0]["message"], zh.text
    no_date = [*without(four_items(), 2), {"suggestion": 2, "class": "B", "text": "研究"}]
    zh = await cast.unit.post(
        f"/api/proposals/{pid}/reply",
        {"text": "答复", "items": no_date},
        headers={"Accept-Language": "zh-CN"},
    )
    assert zh.status == 400 and "B 类" in zh.text, zh.text


async def test_a_proposal_without_suggestions_takes_a_reply_in_text(cast: Cast) -> None:
    pid = await handled(cast, suggestions=[])
    items = await cast.unit.post(
        f"/api/proposals/{pid}/reply",
        {"text": "答复", "items": [{"suggestion": 1, "class": "A"}]},
    )
    assert items.status == 400 and "lists no suggestions" in items.text
    plain = await cast.unit.post(f"/api/proposals/{pid}/reply", {"text": "已采纳。"})
    assert plain.status == 201 and plain.body["items"] == []
    assert (await cast.staff.get("/api/stats")).body["reply_classes"]["replies"] == 0


async def test_after_unsatisfied_the_second_reply_is_itemised_again_and_counts(
    cast: Cast, pid: int
) -> None:
    first = await cast.unit.post(
        f"/api/proposals/{pid}/reply", {"text": "第一轮答复", "items": four_items()}
    )
    assert first.status == 201, first.text
    unhappy = await cast.member.post(
        f"/api/proposals/{pid}/evaluation", {"verdict": "unsatisfied", "comment": "补贴偏低"}
    )
    assert unhappy.status == 201, unhappy.text
    second_items = [
        {"suggestion": n, "class": "A", "text": "已落实"} for n in range(1, len(SUGGESTIONS) + 1)
    ]
    second = await cast.unit.post(
        f"/api/proposals/{pid}/reply", {"text": "第二轮答复", "items": second_items}
    )
    assert second.status == 201 and second.body["round"] == 2, second.text
    replies = (await cast.member.get(f"/api/proposals/{pid}/handling")).body["replies"]
    assert [[i["class"] for i in r["items"]] for r in replies] == [
        ["A", "B", "C", "D"],
        ["A", "A", "A", "A"],
    ]
    # The latest reply counts; the first round's promise is still followed up.
    stats = (await cast.staff.get("/api/stats")).body["reply_classes"]
    assert stats == {"replies": 1, "items": 4, "A": 4, "B": 0, "C": 0, "D": 0}
    assert len((await cast.staff.get(f"/api/follow-ups?proposal_id={pid}")).body["items"]) == 1
