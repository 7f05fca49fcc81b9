"""The cost of expanding a rule, judged from its text: checked against what dateutil yields."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import icalendar
import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.expansion import (
    QUIET_DAY_AND_WEEKDAY,
    QUIET_FIFTH_WEEKDAY,
    QUIET_LEAP_DAY,
    Limits,
    Rule,
    RuleError,
    TooComplex,
    estimate,
    refuse_over,
    walk_work,
)

UTC = dt.UTC
WINDOW = (dt.datetime(2026, 11, 30, tzinfo=UTC), dt.datetime(2026, 12, 7, tzinfo=UTC))
LIMITS = Limits()
HOURS = ",".join(str(h) for h in range(24))
MINUTES = ",".join(str(m) for m in range(60))
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def rule(text: str) -> Rule:
    """The rule as icalendar reads it (a few malformed ones icalendar itself refuses)."""
    try:
        parts = icalendar.vRecur.from_ical(text)
    except ValueError:
        parts = {k: v.split(",") for k, v in (p.split("=", 1) for p in text.split(";"))}
    return Rule.parse(parts)


def lattice_index(freq: str, start: dt.datetime, when: dt.datetime, interval: int) -> int:
    """Which of the rule's periods (every INTERVAL-th, counted from DTSTART's) ``when`` is in."""
    if freq == "YEARLY":
        periods = when.year - start.year
    elif freq == "MONTHLY":
        periods = (when.year - start.year) * 12 + when.month - start.month
    elif freq == "WEEKLY":
        monday = when.date() - dt.timedelta(days=when.weekday())
        periods = (monday - (start.date() - dt.timedelta(days=start.weekday()))).days // 7
    else:
        periods = (when.date() - start.date()).days
    assert periods % interval == 0
    return periods // interval


def verdict(text: str, start: dt.datetime) -> str:
    """What the busy-upload check says about one rule: ok, or the reason it is refused."""
    parsed = rule(text)
    cost = estimate(parsed, start.date(), start, None, WINDOW)
    try:
        refuse_over(parsed, start.date(), cost.work, LIMITS, "the event")
    except TooComplex as exc:
        return "quiet" if "9999" in str(exc) else "period" if "times a" in str(exc) else "walk"
    return "ok"


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        # What calendar programs write, with starts long before the window.
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR", dt.datetime(2015, 3, 2, 9, tzinfo=UTC), "ok"),
        ("FREQ=DAILY", dt.datetime(1970, 1, 1, 8, tzinfo=UTC), "ok"),
        ("FREQ=DAILY;INTERVAL=2", dt.datetime(2010, 1, 1, 8, tzinfo=UTC), "ok"),
        ("FREQ=YEARLY", dt.datetime(1900, 5, 4, tzinfo=UTC), "ok"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", dt.datetime(1960, 2, 29, tzinfo=UTC), "ok"),
        ("FREQ=MONTHLY;BYMONTHDAY=31", dt.datetime(2020, 1, 31, 9, tzinfo=UTC), "ok"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", dt.datetime(2020, 1, 31, 9, tzinfo=UTC), "ok"),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2", dt.datetime(2020, 1, 14, 9, tzinfo=UTC), "ok"),
        ("FREQ=MONTHLY;BYDAY=-1FR", dt.datetime(2020, 1, 31, 9, tzinfo=UTC), "ok"),
        ("FREQ=MONTHLY;INTERVAL=3;BYDAY=2TH", dt.datetime(2018, 1, 11, 9, tzinfo=UTC), "ok"),
        ("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", dt.datetime(2000, 10, 29, tzinfo=UTC), "ok"),
        ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", dt.datetime(2012, 1, 2, 9, tzinfo=UTC), "ok"),
        # The outside probe: every minute of the day, from six years back.
        (f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE={MINUTES}", dt.datetime(2020, 1, 1), "period"),
        (f"FREQ=DAILY;BYHOUR={HOURS};BYMINUTE=0,10,20,30,40,50", dt.datetime(1990, 1, 1), "walk"),
        (f"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR={HOURS}", dt.datetime(1950, 1, 2), "walk"),
        # Rules whose periods can all be empty: dateutil walks on to the year 9999.
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", dt.datetime(2026, 1, 1), "quiet"),
        ("FREQ=WEEKLY;BYDAY=MO;BYMONTH=6,7,8", dt.datetime(2026, 6, 1), "quiet"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", dt.datetime(2026, 11, 30), "quiet"),  # Mondays only
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", dt.datetime(2026, 1, 5), "quiet"),
        ("FREQ=DAILY;BYDAY=MO,TU;BYSETPOS=2", dt.datetime(2026, 1, 5), "quiet"),  # one a day
        ("FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2", dt.datetime(2026, 1, 30), "quiet"),
        # … unless walking there is cheap: every 12 months, from February, on the 31st.
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", dt.datetime(2026, 2, 1), "ok"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", dt.datetime(2026, 11, 30), "ok"),  # Mondays: fine
    ],
)
def test_a_rule_is_judged_by_its_text_before_any_expansion(
    text: str, start: dt.datetime, expected: str
) -> None:
    assert verdict(text, start.replace(tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FREQ=SOMETIMES", "FREQ must be"),
        ("BYDAY=MO", "FREQ must be"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;INTERVAL=x", "whole number"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH=13"),
        ("FREQ=DAILY;BYHOUR=24", "BYHOUR=24"),
        ("FREQ=YEARLY;BYYEARDAY=-367", "BYYEARDAY=-367"),
        ("FREQ=MONTHLY;BYDAY=XX", "not a weekday"),
        ("FREQ=MONTHLY;BYDAY=60MO", "ordinal"),
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER"),
    ],
)
def test_a_malformed_rule_is_refused_with_the_part_that_is_wrong(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        rule(text)


def test_the_walk_grows_with_the_distance_from_dtstart_and_stops_at_count() -> None:
    daily = rule("FREQ=DAILY")
    near = estimate(daily, dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, tzinfo=UTC), None, WINDOW)
    far = estimate(daily, dt.date(2006, 11, 1), dt.datetime(2006, 11, 1, tzinfo=UTC), None, WINDOW)
    assert far.work > 100 * near.work  # 20 years against 36 days
    counted = rule("FREQ=DAILY;COUNT=10")
    early = dt.datetime(2006, 11, 1, tzinfo=UTC)
    assert estimate(counted, early.date(), early, None, WINDOW).work < near.work
    until = dt.datetime(2006, 12, 1, tzinfo=UTC)
    ended = estimate(daily, early.date(), early, until, WINDOW)
    assert ended.work < near.work
    assert ended.occurrences == 0


def test_a_rule_that_can_stay_quiet_for_ever_is_charged_the_walk_to_9999() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    quiet = rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")
    assert quiet.quiet(start.date()) is None
    assert walk_work(quiet, start.date(), start, None, 201) > 7900 * quiet.work_per_period()
    sane = rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28")
    assert walk_work(sane, start.date(), start, None, 201) < 300 * sane.work_per_period()


# ---- the longest quiet runs, measured with dateutil over a whole 400-year Gregorian cycle


def longest_quiet(text: str, start: dt.datetime, years: int = 400) -> int:
    """The most periods of the rule in a row without an occurrence, from ``start`` on."""
    parsed = rule(text)
    end = start.replace(year=start.year + years)
    found = rrulestr(text, dtstart=start, cache=False).between(start, end, inc=True)
    indexes = [lattice_index(parsed.freq, start, when, parsed.interval) for when in found]
    return max((b - a - 1 for a, b in itertools.pairwise(indexes)), default=years)


FIFTH = [f"FREQ=MONTHLY;BYDAY={n}{d}" for n in (5, -5) for d in WEEKDAY_CODES]
DAY_AND_WEEKDAY = [
    f"FREQ=MONTHLY;BYMONTHDAY={v};BYDAY={d}" for v in (1, 13, 28, -1, -28) for d in WEEKDAY_CODES
]
LATE_DAYS = [
    f"FREQ=MONTHLY;INTERVAL={n};BYMONTHDAY={v}" for n in (1, 2, 3, 5) for v in (29, 31, -30)
]
EVERY_N_DAYS = [f"FREQ=DAILY;INTERVAL={n};BYDAY=SA" for n in (1, 2, 3, 6, 8)]


@pytest.mark.parametrize(
    ("texts", "start", "longest"),
    [
        (FIFTH, dt.datetime(2001, 1, 1), QUIET_FIFTH_WEEKDAY),
        (DAY_AND_WEEKDAY, dt.datetime(2001, 1, 1), QUIET_DAY_AND_WEEKDAY),
        (["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"], dt.datetime(1896, 2, 29), QUIET_LEAP_DAY),
        (LATE_DAYS, dt.datetime(2001, 1, 1), None),
        (EVERY_N_DAYS, dt.datetime(2001, 1, 1), None),
    ],
)
def test_the_quiet_runs_the_check_assumes_are_the_longest_dateutil_produces(
    texts: list[str], start: dt.datetime, longest: int | None
) -> None:
    measured = {
        text: longest_quiet(text, start, 400 if "MONTHLY" in text else 40) for text in texts
    }
    for text, quiet in measured.items():
        assumed = rule(text).quiet(start.date())
        assert assumed is not None and quiet <= assumed, (text, quiet, assumed)
    if longest is not None:  # the constant is the measurement, not a guess
        assert max(measured.values()) == longest


# ---- the estimates against dateutil: a generated rule never does more than estimated

PERIOD_OF = {"YEARLY": "year", "MONTHLY": "month", "WEEKLY": "week", "DAILY": "day"}
SPAN = {
    "YEARLY": dt.timedelta(days=366 * 60),
    "MONTHLY": dt.timedelta(days=366 * 30),
    "WEEKLY": dt.timedelta(days=366 * 6),
    "DAILY": dt.timedelta(days=366 * 2),
}


@st.composite
def rules(draw: st.DrawFn) -> str:
    """RRULE texts of the shapes calendars write, and some odd ones."""
    freq = draw(st.sampled_from(("YEARLY", "MONTHLY", "WEEKLY", "DAILY")))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.sampled_from((1, 1, 2, 3, 7, 12)))}"]

    def sometimes(one_in: int) -> bool:
        return draw(st.integers(1, one_in)) == 1

    if sometimes(4):
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=2))
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    if sometimes(3):
        days = draw(st.lists(st.sampled_from((1, 13, 28, 29, 30, 31, -1, -29, -31)), max_size=2))
        if days:
            parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
    if sometimes(2):
        nth = st.sampled_from(("", "", "1", "2", "-1", "4", "5", "-5"))
        entries = draw(st.lists(st.tuples(nth, st.sampled_from(WEEKDAY_CODES)), max_size=3))
        if entries:
            parts.append("BYDAY=" + ",".join(n + d for n, d in entries))
    if sometimes(8):
        parts.append(f"BYWEEKNO={draw(st.sampled_from((1, 2, 20, 51, 52, 53, -1)))}")
    if sometimes(8):
        parts.append(f"BYYEARDAY={draw(st.sampled_from((1, 100, 365, 366, -1)))}")
    if sometimes(3):
        hours = sorted(draw(st.sets(st.integers(0, 23), min_size=1, max_size=3)))
        parts.append("BYHOUR=" + ",".join(map(str, hours)))
    if sometimes(5):
        parts.append(f"BYSETPOS={draw(st.sampled_from((1, 2, -1, 5, 9)))}")
    return ";".join(parts)


starts = st.datetimes(dt.datetime(1995, 1, 1), dt.datetime(2030, 12, 31)).map(
    lambda d: d.replace(minute=0, second=0, microsecond=0)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rules(), start=starts)
def test_no_rule_stays_quiet_longer_or_yields_more_per_period_than_estimated(
    text: str, start: dt.datetime
) -> None:
    parsed = rule(text)
    quiet = parsed.quiet(start.date())
    if quiet is None:
        return  # charged the walk to 9999 instead: nothing to compare
    end = start + SPAN[parsed.freq]
    found = rrulestr(text, dtstart=start).between(start, end, inc=True)
    indexes = [lattice_index(parsed.freq, start, when, parsed.interval) for when in found]
    last = lattice_index(parsed.freq, start, end, 1) // parsed.interval
    edges = [-1, *indexes, last]  # DTSTART's own period may be cut short: one more allowed
    gaps = [b - a - 1 for a, b in itertools.pairwise(edges)]
    assert max(gaps[1:-1], default=0) <= quiet, (text, start, gaps)
    assert gaps[0] <= quiet + 1 and gaps[-1] <= quiet + 1, (text, start, gaps)
    per_period = max(Counter(indexes).values(), default=0)
    assert per_period <= parsed.occurrences_per_period(), (text, per_period)


@settings(max_examples=200, deadline=None)
@given(text=rules(), start=starts, days=st.integers(1, 400), offset=st.integers(-800, 800))
def test_the_occurrences_in_a_window_never_exceed_the_estimate(
    text: str, start: dt.datetime, days: int, offset: int
) -> None:
    parsed = rule(text)
    if parsed.quiet(start.date()) is None:
        return  # dateutil may walk to 9999 here, and the check charges that walk
    window_start = start + dt.timedelta(days=offset)
    window = (window_start, window_start + dt.timedelta(days=days))
    aware = start.replace(tzinfo=UTC)
    cost = estimate(
        parsed,
        start.date(),
        aware,
        None,
        (window[0].replace(tzinfo=UTC), window[1].replace(tzinfo=UTC)),
    )
    found = rrulestr(text, dtstart=start).between(window[0], window[1], inc=True)
    assert len(found) <= cost.occurrences, (text, start, window)
