"""优秀提案评选 through the HTTP API: staff open a round, two reviewers score three proposals,
the ranking shows ties and who has not scored, staff publish, the scores freeze; the exports
open in openpyxl and python-docx; bad scores and strangers are refused with nothing written."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

from docx import Document
from openpyxl import load_workbook

from server.selection.ranking import Criterion, rank, sheet_score
from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create

CRITERIA = [
    {"name": "选题价值", "weight": 3, "max": 10},
    {"name": "建议可行性", "weight": 2, "max": 20},
]


def test_a_sheet_scores_each_criterion_against_its_maximum_by_weight() -> None:
    criteria = [Criterion("a", 3, 10), Criterion("b", 2, 20)]
    assert sheet_score(criteria, [10, 20]) == 100
    assert sheet_score(criteria, [5, 0]) == 30  # 100 × (3 × 0.5) / 5
    assert sheet_score(criteria, [0, 10]) == 20


def test_equal_scores_share_a_rank_and_the_next_rank_skips() -> None:
    criteria = [Criterion("a", 1, 10)]
    ranked = rank(criteria, [1, 2, 3, 4], {1: {9: [6]}, 2: {9: [8]}, 3: {9: [8]}})
    assert [(r.proposal_id, r.rank, r.tied) for r in ranked] == [
        (2, 1, True),
        (3, 1, True),
        (1, 3, False),
        (4, None, False),  # nobody scored it yet
    ]
    assert ranked[0].score == Fraction(80)


async def _round(cast: Cast) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    proposals = [await create(cast, f"2026-000{i}", title=f"建议{i}") for i in (1, 2, 3)]
    reply = await cast.staff.post(
        "/api/selections",
        {
            "year": 2026,
            "criteria": CRITERIA,
            "reviewer_ids": [cast.ids["member"], cast.ids["member2"]],
            "proposal_ids": [p["id"] for p in proposals],
        },
    )
    assert reply.status == 201, reply.text
    return reply.body, proposals


async def test_two_reviewers_rank_three_proposals_ties_shown_then_published(cast: Cast) -> None:
    rnd, (p1, p2, p3) = await _round(cast)
    assert rnd["status"] == "open" and rnd["title"] == "2026年度优秀提案评选"
    url = f"/api/selections/{rnd['id']}"
    sheets = {
        "member": {p1["id"]: [10, 20], p2["id"]: [5, 10], p3["id"]: [8, 12]},
        "member2": {p1["id"]: [6, 10], p2["id"]: [9, 18]},
    }
    for who, scores in sheets.items():
        for pid, values in scores.items():
            reply = await getattr(cast, who).post(
                f"{url}/scores", {"proposal_id": pid, "scores": values}
            )
            assert reply.status == 200, reply.text
    # member2 revises: p2 now equals p1's mean exactly
    # p1: (100 + 56) / 2 = 78; p2: (50 + 90)/2 = 70 → revise p2 to [10, 16] = 92 → (50+92)/2 = 71
    reply = await cast.member2.post(f"{url}/scores", {"proposal_id": p2["id"], "scores": [10, 20]})
    assert reply.status == 200 and reply.body["weighted"] == 100.0
    # p3: member only: 100 × (3×0.8 + 2×0.6)/5 = 72; p2: (50 + 100)/2 = 75; p1: 78
    ranking = (await cast.staff.get(f"{url}/ranking")).body
    assert [(r["number"], r["rank"], r["score"]) for r in ranking["rows"]] == [
        ("2026-0001", 1, 78.0),
        ("2026-0002", 2, 75.0),
        ("2026-0003", 3, 72.0),
    ]
    assert ranking["rows"][2]["not_scored_by"] == ["陈委员"]
    assert ranking["rows"][0]["criteria"] == [8.0, 15.0]
    # a tie: member2 scores p3 so that its mean equals p2's 75 → sheet of 78
    reply = await cast.member2.post(f"{url}/scores", {"proposal_id": p3["id"], "scores": [9, 12]})
    assert reply.body["weighted"] == 78.0
    rows = (await cast.staff.get(f"{url}/ranking")).body["rows"]
    assert [(r["number"], r["rank"], r["tied"]) for r in rows] == [
        ("2026-0001", 1, False),
        ("2026-0002", 2, True),
        ("2026-0003", 2, True),
    ]
    # reviewers see their own scores, not the ranking, until published
    mine = (await cast.member.get(url)).body
    assert mine["is_reviewer"] and mine["candidates"][0]["my_scores"] == [10, 20]
    assert (await cast.member.get(f"{url}/ranking")).status == 403
    assert (await cast.leader.get(f"{url}/ranking")).status == 200
    published = await cast.staff.post(f"{url}/publish", {"proposal_ids": [p1["id"], p2["id"]]})
    assert published.status == 200, published.text
    assert [r["chosen"] for r in published.body["rows"]] == [True, True, False]
    frozen = await cast.member.post(f"{url}/scores", {"proposal_id": p1["id"], "scores": [0, 0]})
    assert frozen.status == 409
    assert (await cast.staff.post(f"{url}/publish", {"proposal_ids": [p1["id"]]})).status == 409
    after = (await cast.member.get(f"{url}/ranking")).body
    assert after["rows"][0]["score"] == 78.0  # the refused score changed nothing
    listed = (await cast.member.get("/api/selections")).body["items"]
    assert [(s["id"], s["status"], s["my_scored"]) for s in listed] == [(rnd["id"], "published", 3)]


async def test_the_exports_open_as_a_workbook_and_a_word_document(cast: Cast) -> None:
    rnd, (p1, p2, _p3) = await _round(cast)
    url = f"/api/selections/{rnd['id']}"
    await cast.member.post(f"{url}/scores", {"proposal_id": p1["id"], "scores": [10, 20]})
    await cast.member.post(f"{url}/scores", {"proposal_id": p2["id"], "scores": [5, 10]})
    await cast.staff.post(f"{url}/publish", {"proposal_ids": [p1["id"]]})
    status, body, headers = await cast.staff.download(f"{url}/ranking.xlsx")
    assert status == 200 and "spreadsheetml" in headers["Content-Type"]
    book = load_workbook(io.BytesIO(body))
    ranking = [list(r) for r in book["排名"].iter_rows(values_only=True)]
    assert ranking[0][:4] == ["名次", "案号", "标题", "加权得分"]
    assert ranking[1][:4] == ["1", "2026-0001", "建议1", 100]
    assert ranking[1][-1] == "是"
    assert ranking[3][0] == "未评分"
    detail = [list(r) for r in book["评分明细"].iter_rows(values_only=True)]
    assert detail[1] == ["张委员", "2026-0001", "建议1", 10, 20, 100]
    status, body, headers = await cast.staff.download(f"{url}/ranking.docx")
    assert status == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(body)).paragraphs)
    assert "2026年度优秀提案评选" in text
    assert "入选名单" in text and "1. 2026-0001 建议1" in text
    assert "未评分：张委员、陈委员" in text  # the third proposal
    assert (await cast.member2.download(f"{url}/ranking.docx"))[0] == 200  # published
    assert (await cast.unit.download(f"{url}/ranking.xlsx"))[0] == 200


async def test_bad_scores_and_strangers_are_refused_and_nothing_is_written(cast: Cast) -> None:
    rnd, (p1, _p2, _p3) = await _round(cast)
    url = f"/api/selections/{rnd['id']}/scores"
    too_high = await cast.member.post(url, {"proposal_id": p1["id"], "scores": [11, 20]})
    assert too_high.status == 400
    assert too_high.body["errors"][0]["field"] == "scores.0"
    assert "0 to 10" in too_high.body["detail"]
    zh = await cast.member.post(
        url, {"proposal_id": p1["id"], "scores": [11, 20]}, headers={"Accept-Language": "zh-CN"}
    )
    assert "选题价值的评分范围是 0 到 10" in zh.body["detail"]
    wrong_count = await cast.member.post(url, {"proposal_id": p1["id"], "scores": [5]})
    assert wrong_count.status == 400 and "2, not 1" in wrong_count.body["detail"]
    negative = await cast.member.post(url, {"proposal_id": p1["id"], "scores": [-1, 0]})
    assert negative.status == 400
    outsider = await create(cast, "2026-0099")
    other = await cast.member.post(url, {"proposal_id": outsider["id"], "scores": [1, 1]})
    assert other.status == 400 and other.body["errors"][0]["field"] == "proposal_id"
    assert (await cast.unit.post(url, {"proposal_id": p1["id"], "scores": [1, 1]})).status == 404
    assert (await cast.staff.post(url, {"proposal_id": p1["id"], "scores": [1, 1]})).status == 403
    ranking = (await cast.staff.get(f"/api/selections/{rnd['id']}/ranking")).body
    assert all(r["scored_by"] == 0 and r["rank"] is None for r in ranking["rows"])


async def test_opening_a_round_checks_every_reference(cast: Cast) -> None:
    p = await create(cast, "2026-0001")
    body = {
        "year": 2026,
        "criteria": CRITERIA,
        "reviewer_ids": [cast.ids["member"]],
        "proposal_ids": [p["id"]],
    }
    assert (await cast.member.post("/api/selections", body)).status == 403
    bad = await cast.staff.post(
        "/api/selections",
        {**body, "reviewer_ids": [cast.ids["unit"], 999_999], "proposal_ids": [p["id"], 888_888]},
    )
    assert bad.status == 400
    assert [e["field"] for e in bad.body["errors"]] == [
        "reviewer_ids.0",
        "reviewer_ids.1",
        "proposal_ids.1",
    ]
    twice = await cast.staff.post(
        "/api/selections", {**body, "criteria": [CRITERIA[0], CRITERIA[0]]}
    )
    assert twice.status == 400
    zero = await cast.staff.post(
        "/api/selections", {**body, "criteria": [{"name": "x", "weight": 0, "max": 10}]}
    )
    assert zero.status == 400
    assert (await cast.staff.get("/api/selections")).body["items"] == []
    wrong = await cast.staff.post("/api/selections/1/publish", {"proposal_ids": [p["id"]]})
    assert wrong.status == 404
