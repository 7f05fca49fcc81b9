"""Busy time from an uploaded calendar: costly files are refused, the rest read as before."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import x_wr_timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.expansion import TooComplex
from scheduling.ical_parse import MAX_DATES_PER_EVENT, parse_busy
from scheduling.intervals import Interval, as_utc, merge
from scheduling.itip import ItipError
from tests.scheduling.test_messages import vcal

SH = ZoneInfo("Asia/Shanghai")
YEAR = Interval(dt.datetime(2026, 1, 1, tzinfo=SH), dt.datetime(2027, 1, 1, tzinfo=SH))
WEEK = Interval(dt.datetime(2026, 11, 30, tzinfo=SH), dt.datetime(2026, 12, 7, tzinfo=SH))
HOURS = ",".join(str(h) for h in range(24))
MINUTES = ",".join(str(m) for m in range(60))


def repeating(rule: str, start: str = "20200101T000000Z", uid: str = "r1", extra: str = "") -> str:
    end = start[:9] + "0030" + start[13:]
    return f"UID:{uid}\nSUMMARY:周例会\nDTSTART:{start}\nDTEND:{end}\nRRULE:{rule}{extra}"


def reason(text: str, window: Interval = WEEK) -> str:
    try:
        parse_busy(text, window, SH)
    except (ItipError, TooComplex) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "read"


@pytest.mark.parametrize(
    ("events", "expected", "window"),
    [
        # The outside probe, and its variants.
        ([repeating(f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE={MINUTES}")], "times a day", YEAR),
        (
            [repeating(f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE=0,15,30,45", "19900101T000000Z")],
            "steps",
            WEEK,
        ),
        (
            [repeating(f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE=0,20,40", "20260101T000000Z")],
            "occurrences in the window",
            YEAR,
        ),
        (
            [
                repeating(f"FREQ=DAILY;BYHOUR={HOURS}", "19900101T000000Z", uid=f"u{i}")
                for i in range(5)
            ],
            "together its repeating events",
            WEEK,
        ),
        ([repeating("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "20260101T000000Z")], "year 9999", YEAR),
        ([repeating("FREQ=HOURLY")], "repeats hourly", YEAR),
        ([repeating("FREQ=MONTHLY;BYMONTHDAY=40")], "BYMONTHDAY=40", YEAR),
        ([repeating("FREQ=WEEKLY;X-SKIP=FORWARD")], "X-SKIP", YEAR),
        ([repeating("FREQ=WEEKLY", extra="\nRRULE:FREQ=DAILY" * 3)], "4 RRULEs", YEAR),
        (["UID:nostart\nRRULE:FREQ=WEEKLY"], "no readable DTSTART", YEAR),
        ([repeating("FREQ=WEEKLY;COUNT=x")], "unreadable RRULE", YEAR),
        ([repeating("FREQ=WEEKLY", extra="\nEXDATE:garbage")], "unreadable EXDATE", YEAR),
        (["UID:r1\nDTSTART:20260301T000000Z\nDTEND:garbage"], "DTEND", YEAR),
        (
            [
                repeating(
                    "FREQ=DAILY",
                    extra="\nEXDATE:"
                    + ",".join(
                        f"{day:%Y%m%d}T000000Z"
                        for day in itertools.islice(
                            (dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(2000)),
                            MAX_DATES_PER_EVENT + 1,
                        )
                    ),
                )
            ],
            "RDATE/EXDATE",
            YEAR,
        ),
    ],
)
def test_a_costly_or_unusable_calendar_is_refused_naming_the_event_and_why(
    events: list[str], expected: str, window: Interval
) -> None:
    found = reason(vcal(None, *events), window)
    assert expected in found, found
    if "DTSTART:" in events[0] and "together" not in expected:
        assert "r1" in found  # the UID a person can look for


def test_the_probe_is_refused_as_too_complex_not_as_unreadable() -> None:
    probe = vcal(
        None,
        *(
            repeating(f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE={MINUTES}", uid=f"probe-{i}")
            for i in range(10)
        ),
    )
    with pytest.raises(TooComplex, match="probe-0"):
        parse_busy(probe, WEEK, SH)


def test_expansion_stops_when_the_caller_runs_out_of_time() -> None:
    weekly = vcal(None, *(repeating("FREQ=WEEKLY", uid=f"w{i}") for i in range(3)))
    checks = itertools.count()
    assert parse_busy(weekly, YEAR, SH)  # in time, it reads
    with pytest.raises(TooComplex, match="takes longer than allowed"):
        parse_busy(weekly, YEAR, SH, out_of_time=lambda: next(checks) >= 5)


# ---- legitimate calendars read exactly as the plain library query reads them


def library_busy(text: str, window: Interval, zone: ZoneInfo) -> list[Interval]:
    """What the upload read before the bounds: the library's own query, unbounded."""
    calendar = x_wr_timezone.to_standard(icalendar.Calendar.from_ical(text))
    busy = []
    for event in recurring_ical_events.of(calendar).between(window.start, window.end):
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue

        def instant(name: str, event: icalendar.Event = event) -> dt.datetime:
            value = event.decoded(name)
            if not isinstance(value, dt.datetime):
                return dt.datetime.combine(value, dt.time(0), zone).astimezone(dt.UTC)
            return as_utc(value if value.tzinfo else value.replace(tzinfo=zone))

        start = instant("DTSTART")
        end = instant("DTEND") if "DTEND" in event else start
        if end > start and (part := Interval(start, end).intersection(window)):
            busy.append(part)
    return merge(busy)


RULES = (
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
    "FREQ=DAILY",
    "FREQ=DAILY;COUNT=30",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY",
    "FREQ=WEEKLY;UNTIL=20260630T000000Z",
)


@st.composite
def events(draw: st.DrawFn, uid: str) -> str:
    """A VEVENT as calendar programs export it: maybe repeating, with EXDATEs and a moved one."""
    start = draw(st.datetimes(dt.datetime(2019, 1, 1), dt.datetime(2026, 12, 31)))
    start = start.replace(minute=draw(st.sampled_from((0, 30))), second=0, microsecond=0)
    minutes = draw(st.sampled_from((30, 60, 90, 180)))
    form = draw(st.sampled_from(("TZID=Asia/Shanghai", "UTC", "floating", "all-day")))

    def stamp(moment: dt.datetime) -> str:
        if form == "all-day":
            return f";VALUE=DATE:{moment:%Y%m%d}"
        suffix = "Z" if form == "UTC" else ""
        prefix = ";TZID=Asia/Shanghai" if form.startswith("TZID") else ""
        return f"{prefix}:{moment:%Y%m%dT%H%M%S}{suffix}"

    length = dt.timedelta(days=1) if form == "all-day" else dt.timedelta(minutes=minutes)
    lines = [f"UID:{uid}", f"DTSTART{stamp(start)}", f"DTEND{stamp(start + length)}"]
    if draw(st.integers(0, 5)) == 0:
        lines.append(draw(st.sampled_from(("TRANSP:TRANSPARENT", "STATUS:CANCELLED"))))
    if draw(st.booleans()):
        rule = draw(st.sampled_from(RULES))
        lines.append(f"RRULE:{rule}")
        if rule == "FREQ=WEEKLY" and draw(st.booleans()):
            lines.append(f"EXDATE{stamp(start + dt.timedelta(weeks=draw(st.integers(1, 60))))}")
        if rule == "FREQ=WEEKLY" and draw(st.booleans()):
            moved = start + dt.timedelta(weeks=draw(st.integers(1, 60)))
            override = [
                f"UID:{uid}",
                f"RECURRENCE-ID{stamp(moved)}",
                f"DTSTART{stamp(moved + dt.timedelta(hours=2))}",
                f"DTEND{stamp(moved + dt.timedelta(hours=2) + length)}",
            ]
            return "\n".join(lines) + "\nEND:VEVENT\nBEGIN:VEVENT\n" + "\n".join(override)
    return "\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.integers(0, 10**6), min_size=1, max_size=6, unique=True).flatmap(
        lambda uids: st.tuples(*(events(f"e{u}@example.org") for u in uids))
    ),
    window=st.sampled_from((YEAR, WEEK)),
)
def test_legitimate_calendars_read_exactly_as_the_unbounded_library_reads_them(
    texts: tuple[str, ...], window: Interval
) -> None:
    text = vcal(None, *texts)
    assert parse_busy(text, window, SH) == library_busy(text, window, SH)


NUMBERS = st.integers(-400, 400).map(str)
DAYS = st.tuples(st.sampled_from(("", "1", "-1", "5", "+2", "60")), st.sampled_from(("MO", "SU")))
PART_VALUE = {
    "INTERVAL": NUMBERS,
    "COUNT": NUMBERS,
    "UNTIL": st.sampled_from(("20261231T000000Z", "20261231", "19991231T000000Z", "x")),
    "WKST": st.sampled_from(("MO", "SU", "XX")),
    "BYDAY": st.lists(DAYS.map("".join), min_size=1, max_size=3).map(",".join),
    **{
        name: st.lists(NUMBERS, min_size=1, max_size=3).map(",".join)
        for name in ("BYMONTHDAY", "BYMONTH", "BYYEARDAY", "BYWEEKNO", "BYHOUR", "BYMINUTE")
    },
    "BYSETPOS": NUMBERS,
    "X-NAME": st.just("1"),
}
rule_texts = st.tuples(
    st.sampled_from(("DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "NEVER")),
    st.lists(st.sampled_from(sorted(PART_VALUE)), max_size=4, unique=True).flatmap(
        lambda names: st.tuples(*(PART_VALUE[n].map(lambda v, n=n: f"{n}={v}") for n in names))
    ),
).map(lambda freq_parts: ";".join((f"FREQ={freq_parts[0]}", *freq_parts[1])))


@settings(max_examples=300, deadline=None)
@given(rule=rule_texts, start=st.sampled_from(("20261201T090000Z", "19700101T000000Z", "20261201")))
def test_any_rule_text_is_read_or_refused_with_a_reason_never_a_crash(
    rule: str, start: str
) -> None:
    stamp = f";VALUE=DATE:{start}" if len(start) == 8 else f":{start}"
    event = f"UID:fuzz\nDTSTART{stamp}\nRRULE:{rule}"
    try:
        parse_busy(vcal(None, event), WEEK, SH)
    except (ItipError, TooComplex) as exc:
        assert str(exc)
