"""The proposal registry over HTTP: register, read by role, change, move along the lifecycle."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast


def proposal(cast: Cast, number: str = "2026-0123", **extra: Any) -> dict[str, Any]:
    body = {
        "number": number,
        "title": "关于加快老旧小区加装电梯的建议",
        "summary": "简化审批",
        "category": "城乡建设",
        "proposer_ids": [cast.ids["member"]],
        "lead_unit_id": cast.unit_ids["a"],
    }
    body.update(extra)
    return body


async def create(cast: Cast, number: str = "2026-0123", **extra: Any) -> dict[str, Any]:
    reply = await cast.staff.post("/api/proposals", proposal(cast, number, **extra))
    assert reply.status == 201, reply.text
    return reply.body  # type: ignore[no-any-return]


async def test_staff_register_a_proposal_that_starts_submitted_with_history(cast: Cast) -> None:
    body = await create(cast, co_unit_ids=[cast.unit_ids["b"]], key=True)
    assert body["status"] == "submitted"
    assert body["key"] is True
    assert [p["id"] for p in body["proposers"]] == [cast.ids["member"]]
    assert body["co_unit_ids"] == [cast.unit_ids["b"]]
    assert [(h["from_status"], h["to_status"], h["by_id"]) for h in body["history"]] == [
        (None, "submitted", cast.ids["staff"])
    ]


async def test_a_group_can_propose_without_people(cast: Cast) -> None:
    body = await create(cast, proposer_ids=[], group_proposer="民盟市委会")
    assert body["group_proposer"] == "民盟市委会"
    reply = await cast.staff.post("/api/proposals", proposal(cast, "2026-0999", proposer_ids=[]))
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "proposer_ids"


async def test_each_role_sees_only_its_proposals(cast: Cast) -> None:
    mine = await create(cast, "2026-0001")
    co = await create(
        cast,
        "2026-0002",
        proposer_ids=[cast.ids["member2"]],
        lead_unit_id=cast.unit_ids["b"],
        co_unit_ids=[cast.unit_ids["a"]],
    )
    other = await create(
        cast, "2026-0003", proposer_ids=[cast.ids["member2"]], lead_unit_id=cast.unit_ids["b"]
    )

    async def numbers(client: Any) -> set[str]:
        reply = await client.get("/api/proposals")
        assert reply.status == 200
        return {p["number"] for p in reply.body["items"]}

    assert await numbers(cast.staff) == {"2026-0001", "2026-0002", "2026-0003"}
    assert await numbers(cast.leader) == {"2026-0001", "2026-0002", "2026-0003"}
    assert await numbers(cast.member) == {"2026-0001"}
    assert await numbers(cast.unit) == {"2026-0001", "2026-0002"}
    assert await numbers(cast.unit2) == {"2026-0002", "2026-0003"}
    assert (await cast.guest.get("/api/proposals")).status == 403
    assert (await cast.member.get(f"/api/proposals/{mine['id']}")).status == 200
    hidden = await cast.member.get(f"/api/proposals/{other['id']}")
    assert hidden.status == 404
    assert hidden.body["code"] == "not_found"
    assert (await cast.unit.get(f"/api/proposals/{co['id']}")).status == 200
    assert (await cast.unit.get(f"/api/proposals/{other['id']}")).status == 404


async def test_list_filters_by_status_unit_and_text(cast: Cast) -> None:
    first = await create(
        cast, "2026-0001", title="关于课后服务的建议", lead_unit_id=cast.unit_ids["b"]
    )
    await create(cast, "2026-0002", title="关于电梯的建议")
    await cast.staff.post(f"/api/proposals/{first['id']}/transitions", {"to": "filed"})
    by_status = await cast.staff.get("/api/proposals", params={"status": "filed"})
    assert [p["number"] for p in by_status.body["items"]] == ["2026-0001"]
    by_unit = await cast.staff.get("/api/proposals", params={"unit_id": str(cast.unit_ids["a"])})
    assert [p["number"] for p in by_unit.body["items"]] == ["2026-0002"]
    by_text = await cast.staff.get("/api/proposals", params={"q": "电梯"})
    assert [p["number"] for p in by_text.body["items"]] == ["2026-0002"]
    paged = await cast.staff.get("/api/proposals", params={"limit": "1", "offset": "1"})
    assert paged.body["total"] == 2
    assert [p["number"] for p in paged.body["items"]] == ["2026-0002"]


async def test_transitions_follow_the_lifecycle_and_keep_who_and_when(cast: Cast) -> None:
    p = await create(cast)
    url = f"/api/proposals/{p['id']}/transitions"
    for to in ("filed", "assigned"):
        assert (await cast.staff.post(url, {"to": to})).status == 200
    skipped = await cast.staff.post(url, {"to": "evaluated"})
    assert skipped.status == 409
    assert skipped.body["allowed"] == ["handling"]
    assert (await cast.unit2.post(url, {"to": "handling"})).status == 404  # not theirs to know of
    assert (await cast.member.post(url, {"to": "handling"})).status == 403
    started = await cast.unit.post(url, {"to": "handling", "note": "已召开专题会"})
    assert started.status == 200
    assert started.body["status"] == "handling"
    steps = [(h["to_status"], h["by_id"]) for h in started.body["history"]]
    assert steps == [
        ("submitted", cast.ids["staff"]),
        ("filed", cast.ids["staff"]),
        ("assigned", cast.ids["staff"]),
        ("handling", cast.ids["unit"]),
    ]
    assert started.body["history"][-1]["note"] == "已召开专题会"


async def test_rejecting_needs_a_reason_and_is_final(cast: Cast) -> None:
    p = await create(cast)
    url = f"/api/proposals/{p['id']}/transitions"
    assert (await cast.staff.post(url, {"to": "rejected"})).status == 400
    assert (await cast.staff.post(url, {"to": "rejected", "note": "不属于受理范围"})).status == 200
    again = await cast.staff.post(url, {"to": "filed"})
    assert again.status == 409
    assert "final" in again.body["detail"]


async def test_assigning_without_a_lead_unit_is_refused(cast: Cast) -> None:
    p = await create(cast, lead_unit_id=None)
    url = f"/api/proposals/{p['id']}/transitions"
    await cast.staff.post(url, {"to": "filed"})
    reply = await cast.staff.post(url, {"to": "assigned"})
    assert reply.status == 409
    assert "lead unit" in reply.body["detail"]


async def test_staff_patch_fields_and_status_is_refused(cast: Cast) -> None:
    p = await create(cast)
    url = f"/api/proposals/{p['id']}"
    changed = await cast.staff.patch(
        url, {"title": "新标题", "co_unit_ids": [cast.unit_ids["b"]], "category": None}
    )
    assert changed.status == 200
    assert changed.body["title"] == "新标题"
    assert changed.body["category"] is None
    assert changed.body["co_unit_ids"] == [cast.unit_ids["b"]]
    assert changed.body["number"] == p["number"]
    status = await cast.staff.patch(url, {"status": "closed"})
    assert status.status == 400
    assert "transitions" in status.body["detail"]
    clash = await cast.staff.patch(url, {"lead_unit_id": cast.unit_ids["b"]})
    assert clash.status == 400
    assert (await cast.member.patch(url, {"title": "x"})).status == 403
    assert (await cast.staff.get(url)).body["lead_unit_id"] == cast.unit_ids["a"]


async def test_bundles_join_similar_proposals_under_one_lead(cast: Cast) -> None:
    lead = await create(cast, "2026-0001")
    one = await create(cast, "2026-0002", bundle_lead_id=lead["id"])
    refreshed = await cast.staff.get(f"/api/proposals/{lead['id']}")
    assert refreshed.body["bundled_ids"] == [one["id"]]
    chain = await cast.staff.post(
        "/api/proposals", proposal(cast, "2026-0003", bundle_lead_id=one["id"])
    )
    assert chain.status == 400
    assert chain.body["errors"][0]["field"] == "bundle_lead_id"
    itself = await cast.staff.patch(f"/api/proposals/{lead['id']}", {"bundle_lead_id": lead["id"]})
    assert itself.status == 400
    leader_joins = await cast.staff.patch(
        f"/api/proposals/{lead['id']}", {"bundle_lead_id": (await create(cast, "2026-0004"))["id"]}
    )
    assert leader_joins.status == 400


async def test_references_must_exist_and_fit(cast: Cast) -> None:
    reply = await cast.staff.post(
        "/api/proposals",
        proposal(
            cast,
            proposer_ids=[cast.ids["member"], 9999, cast.ids["unit"]],
            lead_unit_id=777,
            co_unit_ids=[778],
        ),
    )
    assert reply.status == 400
    fields = {e["field"] for e in reply.body["errors"]}
    assert fields == {"proposer_ids.1", "proposer_ids.2", "lead_unit_id", "co_unit_ids.0"}
    assert (await cast.staff.get("/api/proposals")).body["total"] == 0


async def test_duplicate_number_is_a_conflict(cast: Cast) -> None:
    await create(cast)
    reply = await cast.staff.post("/api/proposals", proposal(cast))
    assert reply.status == 409
    assert "2026-0123" in reply.body["detail"]
