"""Double bookings are refused with the list of conflicts; slots and busy uploads."""

from __future__ import annotations

import io
from typing import Any

from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create, session_body


async def test_a_double_booking_is_409_naming_who_which_session_and_when(cast: Cast) -> None:
    first = await create(cast, allow_conflicts=False)
    overlap = session_body(
        cast,
        starts_at="2026-12-01T10:30:00+08:00",
        ends_at="2026-12-01T12:00:00+08:00",
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer"},
        ],
        agenda=[],
    )
    reply = await cast.staff.post("/api/sessions", overlap)
    assert reply.status == 409
    found = {(c["resource"], c["resource_id"]) for c in reply.body["conflicts"]}
    assert found == {
        ("person", cast.ids["staff"]),
        ("person", cast.ids["member"]),
        ("venue", cast.venue_id),
    }
    clash = next(c for c in reply.body["conflicts"] if c["resource_id"] == cast.ids["member"])
    assert clash["name"] == "张委员"
    assert clash["session_id"] == first["id"]
    assert clash["session_title"] == first["title"]
    assert (clash["starts_at"], clash["ends_at"]) == (first["starts_at"], first["ends_at"])
    assert "allow_conflicts" in reply.body["detail"]
    assert (await cast.staff.get("/api/sessions")).body["total"] == 1


async def test_back_to_back_is_fine_and_allow_conflicts_keeps_a_clash_on_record(cast: Cast) -> None:
    await create(cast, allow_conflicts=False)
    after = await cast.staff.post(
        "/api/sessions",
        session_body(
            cast, starts_at="2026-12-01T11:00:00+08:00", ends_at="2026-12-01T12:00:00+08:00"
        ),
    )
    assert after.status == 201  # [start, end): touching is not overlapping
    kept = await create(
        cast,
        allow_conflicts=True,
        starts_at="2026-12-01T10:00:00+08:00",
        ends_at="2026-12-01T10:45:00+08:00",
        venue_id=None,
        mode="remote",
        participants=[{"person_id": cast.ids["member"], "role": "proposer"}],
        agenda=[],
    )
    conflicts = await cast.staff.get(f"/api/sessions/{kept['id']}/conflicts")
    assert conflicts.status == 200
    assert {c["resource_id"] for c in conflicts.body["items"]} == {
        cast.ids["member"],
        cast.ids["staff"],
    }
    assert (await cast.member.get(f"/api/sessions/{kept['id']}/conflicts")).status == 403


async def test_moving_into_someone_elses_session_is_refused_too(cast: Cast) -> None:
    first = await create(cast, allow_conflicts=False)
    second = await create(
        cast,
        allow_conflicts=False,
        starts_at="2026-12-01T14:00:00+08:00",
        ends_at="2026-12-01T15:00:00+08:00",
    )
    moved = await cast.staff.post(
        f"/api/sessions/{second['id']}/reschedule",
        {"starts_at": "2026-12-01T10:00:00+08:00", "ends_at": "2026-12-01T11:00:00+08:00"},
    )
    assert moved.status == 409
    assert moved.body["conflicts"][0]["session_id"] == first["id"]
    patched = await cast.staff.patch(
        f"/api/sessions/{second['id']}",
        {"starts_at": "2026-12-01T10:00:00+08:00", "ends_at": "2026-12-01T11:00:00+08:00"},
    )
    assert patched.status == 409
    unchanged = await cast.staff.get(f"/api/sessions/{second['id']}")
    assert unchanged.body["starts_at"] == second["starts_at"]
    assert unchanged.body["sequence"] == second["sequence"]


ICS_BUSY = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outlook//EN\r\n"
    "BEGIN:VEVENT\r\nUID:x1\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=China Standard Time:20261203T090000\r\n"
    "DTEND;TZID=China Standard Time:20261203T110000\r\n"
    "SUMMARY:私人安排\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
WEEK = {"from": "2026-11-30T00:00:00+08:00", "to": "2026-12-07T00:00:00+08:00"}


async def upload(
    client: Any, person_id: int, text: str | bytes, ctype: str = "text/calendar"
) -> Any:
    data = io.BytesIO(text.encode() if isinstance(text, str) else text)
    return await client.post(
        f"/api/people/{person_id}/busy", params=WEEK, data=data, headers={"Content-Type": ctype}
    )


async def test_uploaded_busy_time_counts_as_a_conflict(cast: Cast) -> None:
    reply = await upload(cast.member, cast.ids["member"], ICS_BUSY)
    assert reply.status == 200, reply.text
    assert reply.body["blocks"] == 1
    clash = await cast.staff.post(
        "/api/sessions",
        session_body(
            cast, starts_at="2026-12-03T10:00:00+08:00", ends_at="2026-12-03T11:30:00+08:00"
        ),
    )
    assert clash.status == 409
    assert clash.body["conflicts"][0]["session_id"] is None
    again = await upload(
        cast.member, cast.ids["member"], ICS_BUSY.replace("20261203T", "20261204T")
    )
    assert again.status == 200  # a new upload replaces the old one in that window
    assert (
        await cast.staff.post(
            "/api/sessions",
            session_body(
                cast, starts_at="2026-12-03T10:00:00+08:00", ends_at="2026-12-03T11:30:00+08:00"
            ),
        )
    ).status == 201


async def test_busy_uploads_refuse_garbage_strangers_and_wrong_types(cast: Cast) -> None:
    bad = await upload(cast.member, cast.ids["member"], "BEGIN:VCALENDAR\r\nnonsense")
    assert bad.status == 400
    assert bad.content_type == "application/problem+json"
    assert (await upload(cast.member, cast.ids["member2"], ICS_BUSY)).status == 403
    assert (
        await upload(cast.member, cast.ids["member"], ICS_BUSY, "application/json")
    ).status == 400
    assert (await upload(cast.member, cast.ids["member"], b"x" * (3 * 2**20))).status == 413
    assert (await upload(cast.staff, cast.ids["member2"], ICS_BUSY)).status == 200


async def test_find_slots_skips_busy_people_lunch_and_holidays(cast: Cast) -> None:
    await create(
        cast,
        allow_conflicts=False,
        starts_at="2026-09-30T09:00:00+08:00",
        ends_at="2026-09-30T11:00:00+08:00",
    )
    reply = await cast.staff.post(
        "/api/schedule/find-slots",
        {
            "required_ids": [cast.ids["member"], cast.ids["unit"]],
            "optional_ids": [cast.ids["leader"]],
            "venue_id": cast.venue_id,
            "duration_minutes": 60,
            "window_start": "2026-09-30T00:00:00+08:00",
            "window_end": "2026-10-09T00:00:00+08:00",
            "limit": 50,
        },
    )
    assert reply.status == 200, reply.text
    starts = [s["starts_at"] for s in reply.body["items"]]
    assert starts[0] == "2026-09-30T03:00:00Z"  # 11:00 in Shanghai, right after the session
    assert not any(
        s.startswith("2026-10-0") and s[8:10] in {"01", "02", "05", "06", "07"} for s in starts
    )
    assert "2026-09-30T04:00:00Z" not in starts  # 12:00 is lunch
    assert (
        await cast.member.post(
            "/api/schedule/find-slots",
            {
                "required_ids": [1],
                "duration_minutes": 60,
                "window_start": "2026-09-30T00:00:00+08:00",
                "window_end": "2026-10-01T00:00:00+08:00",
            },
        )
    ).status == 403


async def test_templates_cover_every_kind(cast: Cast) -> None:
    reply = await cast.member.get("/api/session-templates")
    kinds = {t["kind"]: t for t in reply.body["items"]}
    assert set(kinds) == {"handling", "quarterly_talk", "livelihood_hall", "micro"}
    assert kinds["livelihood_hall"]["visibility"] == "public"
    assert kinds["livelihood_hall"]["lobby"] == "host_admits"
    assert kinds["quarterly_talk"]["rrule"].startswith("FREQ=MONTHLY;INTERVAL=3")


NOTICE_2027 = {
    "format": "xieshang-workdays/1",
    "year": 2027,
    "days_off": [{"date": "2027-01-01", "name": "元旦"}, {"date": "2027-01-04", "name": "元旦"}],
    "extra_workdays": [{"date": "2027-01-09", "name": "调休上班"}],
}


async def test_staff_add_next_years_notice_and_the_slot_finder_uses_it(cast: Cast) -> None:
    shipped = await cast.member.get("/api/workdays/2026")
    assert shipped.status == 200
    assert "2026-10-01" in [d["date"] for d in shipped.body["days_off"]]
    assert shipped.body["source"] == "shipped with xieshang"
    assert (await cast.member.request("PUT", "/api/workdays/2027", json=NOTICE_2027)).status == 403
    added = await cast.staff.request("PUT", "/api/workdays/2027", json=NOTICE_2027)
    assert added.status == 200, added.text
    assert [d["date"] for d in added.body["extra_workdays"]] == ["2027-01-09"]
    reply = await cast.staff.post(
        "/api/schedule/find-slots",
        {
            "required_ids": [cast.ids["member"]],
            "duration_minutes": 60,
            "limit": 100,
            "window_start": "2027-01-01T00:00:00+08:00",
            "window_end": "2027-01-11T00:00:00+08:00",
        },
    )
    days = {s["starts_at"][:10] for s in reply.body["items"]}
    assert "2027-01-04" not in days  # a Monday off
    assert "2027-01-09" in days  # a Saturday made a working day
    assert "2027-01-05" in days


async def test_only_staff_get_their_notice_file_read(cast: Cast) -> None:
    # The file was parsed (on the event loop) before anyone asked who sent it.
    garbage = {"data": b"BEGIN:VCALENDAR\r\nx", "headers": {"Content-Type": "text/calendar"}}
    assert (await cast.guest.request("PUT", "/api/workdays/2027", **garbage)).status == 403
    assert (await cast.member.request("PUT", "/api/workdays/2027", **garbage)).status == 403
    assert (await cast.staff.request("PUT", "/api/workdays/2027", **garbage)).status == 400


async def test_a_notice_for_the_wrong_year_or_garbage_is_refused(cast: Cast) -> None:
    wrong = await cast.staff.request("PUT", "/api/workdays/2028", json=NOTICE_2027)
    assert wrong.status == 400
    garbage = await cast.staff.request(
        "PUT",
        "/api/workdays/2027",
        data=b"BEGIN:VCALENDAR\r\nx",
        headers={"Content-Type": "text/calendar"},
    )
    assert garbage.status == 400
    assert (await cast.staff.get("/api/workdays/1999")).status == 404
    assert (await cast.staff.get("/api/workdays/2027")).body["source"] == "none: weekends only"
