"""Invites that real clients accept: every rule of shared/CALENDAR.md, and three parsers agree."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduling.intervals import Interval
from scheduling.itip import Attendee, Invite, ItipError, cancel, decline_counter, feed, request
from scheduling.recurrence import (
    RecurrenceError,
    Series,
    cancel_occurrence,
    move_occurrence,
    occurrences,
    split,
)
from tests.interop.parsers import icaljs, icaljs_occurrences, vobject_occurrences

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
STAFF = Attendee("staff@xieshang.example", "王秘书")
PEOPLE = (
    Attendee("zhang@example.org", "张委员", "REQ-PARTICIPANT"),
    Attendee("li@example.org", "Li, Wei; 委员: 民盟", "OPT-PARTICIPANT"),
    Attendee("chair@example.org", "李主席", "CHAIR"),
)
LONG = (
    "议程：\n1. 承办单位介绍老旧小区加装电梯工作进展（屏幕共享）\n2. 提案人发表意见\n"
    + "协商交流，形成共识。" * 40
)


def quarterly(**changes: object) -> Series:
    base = Series(
        start=dt.datetime(2026, 1, 15, 14, 30, tzinfo=SH),
        end=dt.datetime(2026, 1, 15, 16, 30, tzinfo=SH),
        timezone="Asia/Shanghai",
        rrule="FREQ=MONTHLY;INTERVAL=3;COUNT=4",
    )
    return Series(**{**base.__dict__, **changes})


def invite(series: Series, **changes: object) -> Invite:
    base = Invite(
        uid="session-7@xieshang.example",
        sequence=0,
        summary="季谈会：城市更新中的民生问题",
        series=series,
        organizer=STAFF,
        attendees=PEOPLE,
        description=LONG,
        location="政协第一会议室",
        url="https://xieshang.example/rooms/7",
    )
    return Invite(**{**base.__dict__, **changes})


def lines(ics: bytes) -> list[bytes]:
    assert ics.endswith(b"\r\n")
    assert b"\n" not in ics.replace(b"\r\n", b"")
    return ics.split(b"\r\n")[:-1]


def unfolded(ics: bytes) -> list[str]:
    return ics.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def props(ics: bytes, name: str) -> list[str]:
    return [line for line in unfolded(ics) if re.match(rf"{name}[;:]", line)]


def moved_and_cancelled() -> Series:
    series = move_occurrence(
        quarterly(),
        dt.datetime(2026, 4, 15, 6, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 16, 9, 0, tzinfo=SH),
        dt.datetime(2026, 4, 16, 11, 0, tzinfo=SH),
    )
    return cancel_occurrence(series, dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC))


# ---- the file (RFC 5545)


def test_lines_are_crlf_folded_at_75_octets_never_inside_a_character() -> None:
    ics = request(invite(quarterly()), NOW)
    for line in lines(ics):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a split character would not decode
    assert props(ics, "VERSION") == ["VERSION:2.0"]
    assert props(ics, "PRODID")
    description = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["DESCRIPTION"]
    assert str(description) == LONG


def test_every_vevent_carries_the_uid_sequence_and_a_utc_dtstamp() -> None:
    ics = request(invite(moved_and_cancelled(), sequence=3), NOW)
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == 2  # master plus the moved occurrence
    for event in events:
        assert str(event["UID"]) == "session-7@xieshang.example"
        assert event["SEQUENCE"] == 3
    assert props(ics, "DTSTAMP") == ["DTSTAMP:20261125T080000Z"] * 2


def test_times_carry_a_tzid_with_a_vtimezone_built_near_the_event() -> None:
    ics = request(invite(quarterly()), NOW)
    assert [p for p in props(ics, "DTSTART") if "TZID" in p] == [
        "DTSTART;TZID=Asia/Shanghai:20260115T143000"
    ]
    assert props(ics, "TZID") == ["TZID:Asia/Shanghai"]
    tz_starts = [line for line in unfolded(ics) if line.startswith("DTSTART:")]
    assert tz_starts and all(not s.startswith("DTSTART:1970") for s in tz_starts)
    assert icaljs(ics)["floating"] == []


def test_rrule_until_is_written_in_utc() -> None:
    series = quarterly(rrule="FREQ=MONTHLY;INTERVAL=3;UNTIL=20261231")
    assert props(request(invite(series), NOW), "RRULE") == [
        "RRULE:FREQ=MONTHLY;UNTIL=20261231T235959Z;INTERVAL=3"
    ]
    head, _tail = split(quarterly(), dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC))
    assert "UNTIL=20260715T062959Z" in props(request(invite(head), NOW), "RRULE")[0]


def test_moved_occurrence_is_an_override_and_a_cancelled_one_an_exdate_in_the_master_zone() -> None:
    ics = request(invite(moved_and_cancelled()), NOW)
    assert props(ics, "RECURRENCE-ID") == ["RECURRENCE-ID;TZID=Asia/Shanghai:20260415T143000"]
    assert props(ics, "EXDATE") == ["EXDATE;TZID=Asia/Shanghai:20260715T143000"]


# ---- REQUEST


def test_attendees_have_cn_role_partstat_and_rsvp_and_the_organizer_is_mailto() -> None:
    ics = request(invite(quarterly()), NOW)
    attendees = props(ics, "ATTENDEE")[:3]
    assert attendees[0] == (
        "ATTENDEE;CN=张委员;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;"
        "ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:zhang@example.org"
    )
    assert attendees[1].startswith('ATTENDEE;CN="Li, Wei; 委员: 民盟";')
    assert "ROLE=CHAIR" in attendees[2]
    assert props(ics, "ORGANIZER")[0] == "ORGANIZER;CN=王秘书:mailto:staff@xieshang.example"
    assert set(props(ics, "STATUS")) == {"STATUS:CONFIRMED"}
    assert props(ics, "METHOD") == ["METHOD:REQUEST"]
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "政协第一会议室"
    assert str(event["URL"]) == "https://xieshang.example/rooms/7"
    assert event.walk("VALARM")[0]["TRIGGER"].dt == dt.timedelta(minutes=-30)


def test_a_cancelled_session_is_never_sent_as_a_request() -> None:
    with pytest.raises(ItipError, match="CANCEL"):
        request(invite(quarterly(), status="CANCELLED"), NOW)


# ---- CANCEL


def test_cancel_of_the_whole_series_has_no_recurrence_id_and_status_cancelled() -> None:
    ics = cancel(invite(quarterly(), sequence=4), NOW)
    assert props(ics, "METHOD") == ["METHOD:CANCEL"]
    assert props(ics, "STATUS") == ["STATUS:CANCELLED"]
    assert props(ics, "RECURRENCE-ID") == []
    assert props(ics, "SEQUENCE") == ["SEQUENCE:4"]
    assert len(props(ics, "ATTENDEE")) == 3
    assert props(ics, "ORGANIZER")


def test_cancel_of_one_occurrence_names_it_by_recurrence_id() -> None:
    ics = cancel(
        invite(quarterly(), sequence=5), NOW, dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC)
    )
    assert props(ics, "RECURRENCE-ID") == ["RECURRENCE-ID;TZID=Asia/Shanghai:20260715T143000"]
    assert props(ics, "UID") == ["UID:session-7@xieshang.example"]


# ---- three parsers agree


def _ours(series: Series, uid: str) -> set[tuple[str, str, str]]:
    z = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return {(uid, z(o.start), z(o.end)) for o in occurrences(series) if o.status != "cancelled"}


SERIES = {
    "single": Series(
        start=dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH),
        end=dt.datetime(2026, 12, 1, 11, tzinfo=SH),
        timezone="Asia/Shanghai",
    ),
    "quarterly": quarterly(),
    "moved and cancelled": moved_and_cancelled(),
    "across DST in New York": Series(
        start=dt.datetime(2026, 10, 20, 9, 0, tzinfo=NY),
        end=dt.datetime(2026, 10, 20, 10, 0, tzinfo=NY),
        timezone="America/New_York",
        rrule="FREQ=WEEKLY;COUNT=4",
    ),
    "with an rdate": quarterly(rdates=(dt.datetime(2026, 12, 30, 14, 30, tzinfo=SH),)),
}


@pytest.mark.parametrize("name", list(SERIES))
def test_icaljs_vobject_and_our_expansion_agree_on_every_occurrence(name: str) -> None:
    series = SERIES[name]
    ics = request(invite(series), NOW)
    ours = _ours(series, "session-7@xieshang.example")
    assert icaljs_occurrences(ics) == ours
    assert vobject_occurrences(ics) == ours


def test_new_york_series_keeps_local_time_across_the_dst_change() -> None:
    starts = [o.start for o in occurrences(SERIES["across DST in New York"])]
    assert [s.astimezone(NY).hour for s in starts] == [9, 9, 9, 9]
    assert [s.hour for s in starts] == [13, 13, 14, 14]  # UTC shifts when EDT ends on Nov 1


def test_a_feed_has_no_method_no_attendees_and_keeps_cancellations_visible() -> None:
    live = invite(moved_and_cancelled(), sequence=2)
    gone = invite(
        SERIES["single"], uid="session-8@xieshang.example", status="CANCELLED", sequence=1
    )
    ics = feed([live, gone], NOW, name="张委员的协商日程")
    assert props(ics, "METHOD") == []
    assert props(ics, "ATTENDEE") == [] and props(ics, "ORGANIZER") == []
    assert props(ics, "REFRESH-INTERVAL") == ["REFRESH-INTERVAL;VALUE=DURATION:PT1H"]
    assert props(ics, "X-PUBLISHED-TTL") == ["X-PUBLISHED-TTL:PT1H"]
    assert "STATUS:CANCELLED" in props(ics, "STATUS")
    shown = icaljs_occurrences(ics)
    assert all(uid != "session-8@xieshang.example" for uid, _s, _e in shown)
    assert (
        shown
        == vobject_occurrences(ics)
        == _ours(moved_and_cancelled(), "session-7@xieshang.example")
    )


def test_decline_counter_names_the_attendee_and_the_sequence() -> None:
    ics = decline_counter(invite(quarterly(), sequence=2), PEOPLE[0], NOW)
    assert props(ics, "METHOD") == ["METHOD:DECLINECOUNTER"]
    assert len(props(ics, "ATTENDEE")) == 1
    assert props(ics, "SEQUENCE") == ["SEQUENCE:2"]


# ---- recurrence rules


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=MONTHLY;INTERVAL=3", "never ends"),
        ("FREQ=DAILY;COUNT=100000", "limit"),
        ("FREQ=MINUTELY;UNTIL=20301231T000000Z", "more than"),
        ("INTERVAL=3;COUNT=4", "FREQ"),
        ("FREQ=SOMETIMES;COUNT=2", "not a recurrence rule"),
        # Rules whose periods can all be empty: dateutil would walk to 9999 on every listing.
        ("FREQ=DAILY;COUNT=2;BYMONTH=2;BYMONTHDAY=30", "9999"),
        ("FREQ=YEARLY;UNTIL=99991231T000000Z;BYMONTH=2;BYMONTHDAY=30;BYDAY=MO", "9999"),
        ("FREQ=WEEKLY;COUNT=3;BYMONTH=13", "BYMONTH=13"),
        ("FREQ=MONTHLY;COUNT=3;BYMONTHDAY=32", "BYMONTHDAY=32"),
        (
            "FREQ=DAILY;COUNT=3;BYHOUR="
            + ",".join(map(str, range(24)))
            + ";BYMINUTE=0,10,20,30,40,50",
            "a day",
        ),
    ],
)
def test_rules_that_do_not_end_sanely_are_refused(rule: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        occurrences(quarterly(rrule=rule))


def test_changing_this_and_following_splits_the_series() -> None:
    series = moved_and_cancelled()
    head, tail = split(series, dt.datetime(2026, 7, 15, 6, 30, tzinfo=dt.UTC))
    assert [o.status for o in occurrences(head)] == ["scheduled", "moved"]
    assert [(o.status, o.start.month) for o in occurrences(tail)] == [
        ("cancelled", 7),
        ("scheduled", 10),
    ]
    window = Interval(
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    )
    assert len(occurrences(series, window)) == 2
    with pytest.raises(RecurrenceError, match="not an occurrence"):
        move_occurrence(
            series, dt.datetime(2026, 2, 15, 6, 30, tzinfo=dt.UTC), NOW, NOW + dt.timedelta(hours=1)
        )
