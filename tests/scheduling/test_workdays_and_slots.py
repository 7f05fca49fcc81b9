"""Working days (with 调休) and the slot finder."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.intervals import Interval
from scheduling.slots import SlotQuery, find_slots
from scheduling.workdays import CalendarDataError, WorkCalendar, from_ics, from_json, shipped

SH = ZoneInfo("Asia/Shanghai")


def local(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SH)


def test_the_shipped_2026_calendar_follows_the_state_council_notice() -> None:
    cal = shipped([2026])
    assert not cal.is_workday(dt.date(2026, 10, 1))  # 国庆节, a Thursday
    assert not cal.is_workday(dt.date(2026, 2, 16))  # 春节, a Monday
    assert cal.is_workday(dt.date(2026, 10, 10))  # Saturday made a working day
    assert cal.is_workday(dt.date(2026, 2, 14))
    assert not cal.is_workday(dt.date(2026, 11, 28))  # ordinary Saturday
    assert cal.is_workday(dt.date(2026, 11, 25))
    assert cal.names[dt.date(2026, 10, 1)] == "国庆节"
    notice = Path(__file__).resolve().parents[3] / "shared" / "data" / "cn-workdays-2026.json"
    if notice.exists():  # beside the checkout in the team's workspace: what ships must match it
        shared = json.loads(notice.read_text(encoding="utf-8"))
        assert {d for h in shared["holidays"] for d in h["days_off"]} == {
            d.isoformat() for d in cal.days_off
        }
        assert set(shared["extra_workdays"]) == {d.isoformat() for d in cal.extra_workdays}


def test_next_years_notice_can_come_as_ics() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:元旦\r\n"
        "DTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270104\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:元旦调休上班\r\n"
        "DTSTART;VALUE=DATE:20270109\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:c\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:meeting\r\n"
        "DTSTART:20270105T010000Z\r\nDTEND:20270105T020000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    cal = shipped([2026]).merged(from_ics(ics))
    assert [cal.is_workday(dt.date(2027, 1, d)) for d in (1, 2, 3, 4, 5)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert cal.is_workday(dt.date(2027, 1, 9))  # a Saturday
    assert not cal.is_workday(dt.date(2026, 10, 2))  # 2026 still known


def ics_days(*spans: tuple[str, str]) -> str:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:d{i}\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:假日\r\n"
        f"DTSTART;VALUE=DATE:{start}\r\nDTEND;VALUE=DATE:{end}\r\nEND:VEVENT\r\n"
        for i, (start, end) in enumerate(spans)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # One event from year 1 to 9999 was unrolled day by day: 3.6 million dates, seconds.
        (ics_days(("00010101", "99991231")), "lasts 3652058 days"),
        (ics_days(*[("20270101", "20271231")] * 3), "more than"),
    ],
)
def test_an_ics_notice_with_absurdly_long_days_off_is_refused_before_unrolling(
    text: str, message: str
) -> None:
    with pytest.raises(CalendarDataError, match=message):
        from_ics(text)


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[]",
        '{"format": "other"}',
        '{"format": "xieshang-workdays/1", "days_off": ["2026-13-01"]}',
        '{"format": "xieshang-workdays/1", "days_off": ["2026-10-10"], '
        '"extra_workdays": ["2026-10-10"]}',
    ],
)
def test_broken_calendar_files_say_what_is_wrong(text: str) -> None:
    with pytest.raises(CalendarDataError):
        from_json(text)


def test_slots_respect_working_hours_lunch_holidays_and_busy_people() -> None:
    window = Interval(local("2026-09-30", "00:00"), local("2026-10-12", "00:00"))
    busy = {1: [Interval(local("2026-09-30", "09:00"), local("2026-09-30", "11:00"))]}
    query = SlotQuery(
        duration=dt.timedelta(hours=1),
        window=window,
        timezone="Asia/Shanghai",
        required=frozenset({1, 2}),
        calendar=shipped([2026]),
        limit=200,
    )
    slots = find_slots(query, busy)
    starts = [s.interval.start.astimezone(SH) for s in slots]
    assert starts[0] == local("2026-09-30", "11:00") or starts[0] == local("2026-09-30", "14:00")
    assert local("2026-09-30", "09:00") not in starts and local("2026-09-30", "10:30") not in starts
    assert all(s.date() not in {dt.date(2026, 10, d) for d in range(1, 8)} for s in starts)  # 国庆
    assert any(s.date() == dt.date(2026, 10, 10) for s in starts)  # 调休 Saturday
    assert not any(s.date() == dt.date(2026, 10, 11) for s in starts)  # Sunday
    for s in starts:
        end = (s + dt.timedelta(hours=1)).time()
        assert (dt.time(9) <= s.time() and end <= dt.time(12)) or (
            dt.time(14) <= s.time() and end <= dt.time(17, 30)
        )


def test_optional_people_rank_slots_but_do_not_exclude_them() -> None:
    window = Interval(local("2026-12-01", "09:00"), local("2026-12-01", "12:00"))
    busy = {3: [Interval(local("2026-12-01", "09:00"), local("2026-12-01", "10:00"))]}
    query = SlotQuery(
        duration=dt.timedelta(hours=1),
        window=window,
        timezone="Asia/Shanghai",
        required=frozenset({1}),
        optional=frozenset({3}),
    )
    slots = find_slots(query, busy)
    assert slots[0].missing == frozenset()
    assert slots[0].interval.start == local("2026-12-01", "10:00")
    assert any(s.missing == {3} for s in slots)


def test_venue_busy_time_and_buffers_are_honoured() -> None:
    window = Interval(local("2026-12-01", "09:00"), local("2026-12-01", "12:00"))
    venue = (Interval(local("2026-12-01", "09:00"), local("2026-12-01", "10:00")),)
    query = SlotQuery(
        duration=dt.timedelta(hours=1),
        window=window,
        timezone="Asia/Shanghai",
        venue_busy=venue,
        buffer=dt.timedelta(minutes=15),
        step=dt.timedelta(minutes=15),
    )
    starts = {s.interval.start for s in find_slots(query, {})}
    assert local("2026-12-01", "10:00") not in starts
    assert local("2026-12-01", "10:15") in starts


def test_a_new_york_window_on_a_dst_day_uses_local_hours() -> None:
    window = Interval(
        dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    )
    query = SlotQuery(
        duration=dt.timedelta(hours=1),
        window=window,
        timezone="America/New_York",
        hours=((dt.time(9), dt.time(10)),),
        calendar=WorkCalendar(),
    )
    slots = find_slots(query, {})
    assert [s.interval.start for s in slots] == [
        dt.datetime(2026, 11, 2, 14, tzinfo=dt.UTC)
    ]  # 09:00 EST


busy_block = st.tuples(st.integers(0, 14 * 48), st.integers(1, 12)).map(
    lambda t: Interval(
        local("2026-11-30", "00:00") + dt.timedelta(minutes=30 * t[0]),
        local("2026-11-30", "00:00") + dt.timedelta(minutes=30 * (t[0] + t[1])),
    )
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(1, 4), st.lists(busy_block, max_size=12), max_size=4),
    st.integers(1, 8),
    st.integers(0, 4),
)
def test_every_slot_found_is_free_in_hours_and_sorted_by_rank(
    busy: dict[int, list[Interval]], half_hours: int, buffer_quarters: int
) -> None:
    window = Interval(local("2026-11-30", "00:00"), local("2026-12-14", "00:00"))
    buffer = dt.timedelta(minutes=15 * buffer_quarters)
    query = SlotQuery(
        duration=dt.timedelta(minutes=30 * half_hours),
        window=window,
        timezone="Asia/Shanghai",
        required=frozenset({1, 2}),
        optional=frozenset({3, 4}),
        buffer=buffer,
        calendar=shipped([2026]),
        limit=500,
    )
    slots = find_slots(query, busy)
    for slot in slots:
        start, end = slot.interval.start.astimezone(SH), slot.interval.end.astimezone(SH)
        assert any(
            a <= start.time() and end.time() <= b and start.date() == end.date()
            for a, b in query.hours
        )
        assert query.calendar.is_workday(start.date())
        for person in (1, 2):
            assert not any(b.overlaps(slot.interval, buffer) for b in busy.get(person, []))
        assert slot.missing == {
            p for p in (3, 4) if any(b.overlaps(slot.interval, buffer) for b in busy.get(p, []))
        }
    assert [s.score for s in slots] == sorted(s.score for s in slots)
