"""Units, people and venues: who may create and list them, and what is refused."""

from __future__ import annotations

import pytest

from tests.conftest import Cast


async def test_staff_create_a_unit_with_contacts_and_everyone_but_guests_list_it(
    cast: Cast,
) -> None:
    reply = await cast.staff.post(
        "/api/units", {"name": "市卫生健康委员会", "contact_ids": [cast.ids["unit"]]}
    )
    assert reply.status == 201
    assert [c["id"] for c in reply.body["contacts"]] == [cast.ids["unit"]]
    for client in (cast.member, cast.unit, cast.leader):
        listed = await client.get("/api/units")
        assert listed.status == 200
        assert "市卫生健康委员会" in [u["name"] for u in listed.body["items"]]
    assert (await cast.guest.get("/api/units")).status == 403


async def test_only_staff_create_units_people_and_venues(cast: Cast) -> None:
    for client in (cast.member, cast.unit, cast.leader, cast.guest):
        assert (await client.post("/api/units", {"name": "X 局"})).status == 403
        assert (await client.post("/api/venues", {"name": "X 厅"})).status == 403
        person = {"username": "newbie", "name": "新人", "role": "member"}
        assert (await client.post("/api/people", person)).status == 403


async def test_duplicate_names_and_usernames_are_conflicts(cast: Cast) -> None:
    unit = await cast.staff.post("/api/units", {"name": "市住房和城乡建设局"})
    assert unit.status == 409
    person = await cast.staff.post(
        "/api/people", {"username": "member", "name": "又一个", "role": "member"}
    )
    assert person.status == 409
    assert "taken" in person.body["detail"]
    venue = await cast.staff.post("/api/venues", {"name": "政协第一会议室"})
    assert venue.status == 409


async def test_staff_create_a_person_who_can_then_sign_in(cast: Cast) -> None:
    body = {
        "username": "wang.wu",
        "name": "王五",
        "role": "unit",
        "unit_id": cast.unit_ids["b"],
        "email": "wangwu@example.org",
        "phone": "+86 138 0000 0000",
        "password": "s3cret-pass",
    }
    created = await cast.staff.post("/api/people", body)
    assert created.status == 201
    assert created.body["unit_id"] == cast.unit_ids["b"]
    login = await cast.anon.post(
        "/api/auth/login", {"username": "wang.wu", "password": "s3cret-pass"}
    )
    assert login.status == 200


@pytest.mark.parametrize(
    ("password", "why"),
    [("password1", "most common"), ("woaini1314", "most common"), ("Wang.Wu-2026", "username")],
)
async def test_a_guessable_password_is_refused_with_the_reason(
    cast: Cast, password: str, why: str
) -> None:
    body = {"username": "wang.wu", "name": "王五", "role": "member", "password": password}
    refused = await cast.staff.post("/api/people", body)
    assert refused.status == 400
    assert [e["field"] for e in refused.body["errors"]] == ["password"]
    assert why in refused.body["errors"][0]["message"]
    people = (await cast.staff.get("/api/people")).body["items"]
    assert "wang.wu" not in {p["username"] for p in people}


async def test_a_unit_account_needs_an_existing_unit(cast: Cast) -> None:
    missing = await cast.staff.post(
        "/api/people", {"username": "u1x", "name": "无单位", "role": "unit"}
    )
    assert missing.status == 400
    assert missing.body["errors"][0]["field"] == "unit_id"
    unknown = await cast.staff.post(
        "/api/people", {"username": "u2x", "name": "错单位", "role": "unit", "unit_id": 999}
    )
    assert unknown.status == 400
    assert unknown.body["errors"][0]["field"] == "unit_id"
    people = await cast.staff.get("/api/people", params={"q": "单位"})
    assert people.body["items"] == []


async def test_people_list_is_for_staff_and_filters(cast: Cast) -> None:
    assert (await cast.member.get("/api/people")).status == 403
    units = await cast.staff.get("/api/people", params={"role": "unit"})
    assert {p["username"] for p in units.body["items"]} == {"unit", "unit2"}
    by_unit = await cast.staff.get("/api/people", params={"unit_id": str(cast.unit_ids["a"])})
    assert [p["username"] for p in by_unit.body["items"]] == ["unit"]
    wildcard = await cast.staff.get("/api/people", params={"q": "%"})
    assert wildcard.body["items"] == []
    bad = await cast.staff.get("/api/people", params={"role": "king"})
    assert bad.status == 400
    assert bad.body["errors"][0]["field"] == "role"


async def test_venues_are_listed_for_signed_in_people(cast: Cast) -> None:
    created = await cast.staff.post(
        "/api/venues", {"name": "民生议政厅", "address": "市民中心", "capacity": 120}
    )
    assert created.status == 201
    listed = await cast.guest.get("/api/venues")
    assert {v["name"] for v in listed.body["items"]} == {"民生议政厅", "政协第一会议室"}
    bad = await cast.staff.post("/api/venues", {"name": "小厅", "capacity": 0})
    assert bad.status == 400
    assert bad.body["errors"][0]["field"] == "capacity"
