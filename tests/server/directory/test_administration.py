"""Administration by staff: change accounts (role, unit, contact, deactivate, new password),
units' contact people, venues; and the working-day calendar upload in the audit log."""

from __future__ import annotations

from tests.conftest import PASSWORD, Cast

NEW_PASSWORD = "a brand new passphrase 7"


async def test_staff_change_a_persons_name_contact_role_and_unit(cast: Cast) -> None:
    url = f"/api/people/{cast.ids['member2']}"
    reply = await cast.staff.patch(
        url,
        {
            "name": "陈主任",
            "email": None,
            "phone": "+86 139 0000 1111",
            "role": "unit",
            "unit_id": cast.unit_ids["b"],
        },
    )
    assert reply.status == 200, reply.text
    assert (reply.body["name"], reply.body["email"], reply.body["phone"]) == (
        "陈主任",
        None,
        "+86 139 0000 1111",
    )
    assert (reply.body["role"], reply.body["unit_id"]) == ("unit", cast.unit_ids["b"])
    unitless = await cast.staff.patch(url, {"unit_id": None})
    assert unitless.status == 400 and unitless.body["errors"][0]["field"] == "unit_id"
    assert (await cast.staff.patch(url, {"name": None})).status == 400
    assert (await cast.staff.patch("/api/people/99999", {"name": "x"})).status == 404
    assert (await cast.member.patch(url, {"name": "me"})).status == 403
    audit = (
        await cast.staff.get(f"/api/audit?object_type=person&object_id={cast.ids['member2']}")
    ).body
    assert audit["items"][0]["action"] == "person.update"
    assert audit["items"][0]["detail"]["fields"] == ["email", "name", "phone", "role", "unit_id"]


async def test_a_deactivated_person_cannot_sign_in_and_their_token_stops_working(
    cast: Cast,
) -> None:
    assert (await cast.member2.get("/api/me")).status == 200
    reply = await cast.staff.patch(f"/api/people/{cast.ids['member2']}", {"active": False})
    assert reply.status == 200 and reply.body["active"] is False
    assert (await cast.member2.get("/api/me")).status == 401
    login = await cast.anon.post("/api/auth/login", {"username": "member2", "password": PASSWORD})
    assert login.status == 403
    back = await cast.staff.patch(f"/api/people/{cast.ids['member2']}", {"active": True})
    assert back.body["active"] is True
    login = await cast.anon.post("/api/auth/login", {"username": "member2", "password": PASSWORD})
    assert login.status == 200


async def test_a_new_password_replaces_the_old_one_and_signs_out_everywhere(cast: Cast) -> None:
    url = f"/api/people/{cast.ids['member2']}"
    weak = await cast.staff.patch(url, {"password": "member2member2"})
    assert weak.status == 400 and weak.body["errors"][0]["field"] == "password"
    reply = await cast.staff.patch(url, {"password": NEW_PASSWORD})
    assert reply.status == 200 and "password" not in reply.text
    assert (await cast.member2.get("/api/me")).status == 401
    old = await cast.anon.post("/api/auth/login", {"username": "member2", "password": PASSWORD})
    assert old.status == 401
    new = await cast.anon.post("/api/auth/login", {"username": "member2", "password": NEW_PASSWORD})
    assert new.status == 200
    entry = (await cast.staff.get("/api/audit?action=person.update")).body["items"][0]
    assert entry["detail"]["fields"] == ["password"] and NEW_PASSWORD not in str(entry)


async def test_staff_cannot_lock_themselves_out(cast: Cast) -> None:
    url = f"/api/people/{cast.ids['staff']}"
    assert (await cast.staff.patch(url, {"active": False})).status == 409
    assert (await cast.staff.patch(url, {"role": "member"})).status == 409
    assert (await cast.staff.patch(url, {"role": "staff", "name": "王处长"})).status == 200


async def test_units_get_renamed_and_new_contacts_and_both_are_audited(cast: Cast) -> None:
    made = await cast.staff.post("/api/units", {"name": "市民政局", "contact_ids": []})
    assert made.status == 201
    url = f"/api/units/{made.body['id']}"
    reply = await cast.staff.patch(
        url, {"name": "市民政局（新）", "contact_ids": [cast.ids["unit"]]}
    )
    assert reply.status == 200, reply.text
    assert reply.body["name"] == "市民政局（新）"
    assert [c["id"] for c in reply.body["contacts"]] == [cast.ids["unit"]]
    assert (await cast.staff.patch(url, {"name": "市教育局"})).status == 409
    assert (await cast.staff.patch(url, {"contact_ids": [99999]})).status == 400
    assert (await cast.unit.patch(url, {"name": "x"})).status == 403
    assert (await cast.staff.patch("/api/units/99999", {"name": "x"})).status == 404
    actions = [
        e["action"]
        for e in (
            await cast.staff.get(f"/api/audit?object_type=unit&object_id={made.body['id']}")
        ).body["items"]
    ]
    assert actions == ["unit.update", "unit.create"]


async def test_venues_change_capacity_and_address(cast: Cast) -> None:
    url = f"/api/venues/{cast.venue_id}"
    reply = await cast.staff.patch(url, {"capacity": 120, "address": "人民路 1 号"})
    assert reply.status == 200, reply.text
    assert (reply.body["capacity"], reply.body["address"]) == (120, "人民路 1 号")
    cleared = await cast.staff.patch(url, {"capacity": None})
    assert cleared.body["capacity"] is None and cleared.body["address"] == "人民路 1 号"
    assert (await cast.staff.patch(url, {"capacity": 0})).status == 400
    assert (await cast.member.patch(url, {"capacity": 2})).status == 403
    made = await cast.staff.post("/api/venues", {"name": "二号会议室"})
    assert (await cast.staff.patch(url, {"name": "二号会议室"})).status == 409
    entry = (await cast.staff.get(f"/api/audit?object_type=venue&object_id={made.body['id']}")).body
    assert entry["items"][0]["action"] == "venue.create"


async def test_a_workday_calendar_upload_is_in_the_audit_log(cast: Cast) -> None:
    notice = {
        "format": "xieshang-workdays/1",
        "days_off": [{"date": "2027-01-01", "name": "元旦"}],
        "extra_workdays": [],
    }
    reply = await cast.staff.put("/api/workdays/2027", notice)
    assert reply.status == 200, reply.text
    entry = (await cast.staff.get("/api/audit?action=workdays.upload")).body["items"][0]
    assert (entry["object_type"], entry["object_id"]) == ("workdays", 2027)
    assert entry["detail"]["days_off"] == 1 and entry["actor_id"] == cast.ids["staff"]
