"""Intervals, conflicts and free/busy: half-open, UTC, buffers."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.intervals import (
    Booking,
    BookingIndex,
    Interval,
    busy_times,
    find_clashes,
    merge,
    subtract,
)

SH = ZoneInfo("Asia/Shanghai")
BASE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def iv(a: float, b: float) -> Interval:
    """Hours after BASE."""
    return Interval(BASE + dt.timedelta(hours=a), BASE + dt.timedelta(hours=b))


def test_intervals_are_stored_in_utc_and_refuse_naive_or_empty_times() -> None:
    local = Interval(
        dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH), dt.datetime(2026, 12, 1, 11, tzinfo=SH)
    )
    assert local.start == dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="naive"):
        Interval(dt.datetime(2026, 12, 1, 9), dt.datetime(2026, 12, 1, 10, tzinfo=SH))
    with pytest.raises(ValueError, match="before"):
        iv(2, 2)


@pytest.mark.parametrize(
    ("a", "b", "buffer", "expected"),
    [
        ((0, 1), (1, 2), 0, False),  # touching is not overlapping: [start, end)
        ((0, 1), (0.5, 2), 0, True),
        ((0, 3), (1, 2), 0, True),  # containment
        ((0, 1), (1.25, 2), 0.5, True),  # closer than the buffer
        ((0, 1), (1.5, 2), 0.5, False),  # exactly the buffer apart is fine
    ],
)
def test_overlap_is_half_open_with_an_optional_buffer(
    a: tuple[float, float], b: tuple[float, float], buffer: float, expected: bool
) -> None:
    gap = dt.timedelta(hours=buffer)
    assert iv(*a).overlaps(iv(*b), gap) is expected
    assert iv(*b).overlaps(iv(*a), gap) is expected


def test_clashes_name_the_person_or_venue_and_the_other_booking() -> None:
    existing = BookingIndex.of(
        [
            Booking(1, iv(0, 2), frozenset({10, 11}), venue_id=5, label="季谈会"),
            Booking(2, iv(3, 4), frozenset({12}), venue_id=5),
            Booking(3, iv(0, 1), frozenset({10})),
        ]
    )
    candidate = Booking(9, iv(1, 3), frozenset({10, 12}), venue_id=5)
    clashes = find_clashes(candidate, existing)
    assert {(c.resource, c.booking.key) for c in clashes} == {
        (("person", 10), 1),
        (("venue", 5), 1),
    }
    assert clashes[0].overlap == iv(1, 2)
    with_buffer = find_clashes(candidate, existing, dt.timedelta(minutes=30))
    assert {(c.resource, c.booking.key) for c in with_buffer} >= {
        (("person", 12), 2),
        (("venue", 5), 2),
    }
    itself = find_clashes(Booking(1, iv(0, 2), frozenset({10}), 5), existing)
    assert {c.booking.key for c in itself} == {3}  # a booking never clashes with itself


def test_free_busy_merges_each_persons_time_within_the_window() -> None:
    bookings = [
        Booking(1, iv(0, 2), frozenset({1, 2})),
        Booking(2, iv(1, 3), frozenset({1})),
        Booking(3, iv(10, 11), frozenset({1})),
    ]
    busy = busy_times(bookings, [1, 2, 3], iv(1, 5))
    assert busy == {1: [iv(1, 3)], 2: [iv(1, 2)], 3: []}


times = st.integers(min_value=0, max_value=200).map(lambda m: BASE + dt.timedelta(minutes=15 * m))
intervals = st.tuples(times, st.integers(min_value=1, max_value=20)).map(
    lambda t: Interval(t[0], t[0] + dt.timedelta(minutes=15 * t[1]))
)


@given(st.lists(intervals, max_size=30))
def test_merge_is_sorted_disjoint_and_covers_the_same_time(blocks: list[Interval]) -> None:
    merged = merge(blocks)
    assert all(a.end < b.start for a, b in itertools.pairwise(merged))
    probe = [BASE + dt.timedelta(minutes=15 * i + 7) for i in range(230)]
    for moment in probe:
        inside = any(b.start <= moment < b.end for b in blocks)
        assert inside == any(b.start <= moment < b.end for b in merged)


@given(st.lists(intervals, max_size=30), intervals)
def test_free_time_never_meets_busy_time_and_fills_the_rest(
    busy: list[Interval], window: Interval
) -> None:
    free = subtract(window, busy)
    assert all(not f.overlaps(b) for f in free for b in busy)
    covered = sum((f.duration for f in free), dt.timedelta()) + sum(
        (p.duration for b in merge(busy) if (p := b.intersection(window))), dt.timedelta()
    )
    assert covered == window.duration


@given(
    st.lists(st.tuples(intervals, st.frozensets(st.integers(1, 5), max_size=3)), max_size=40),
    intervals,
    st.frozensets(st.integers(1, 5), min_size=1, max_size=3),
)
def test_the_index_finds_exactly_the_clashes_a_full_scan_finds(
    rows: list[tuple[Interval, frozenset[int]]], when: Interval, people: frozenset[int]
) -> None:
    bookings = [Booking(i, interval, who) for i, (interval, who) in enumerate(rows)]
    candidate = Booking("new", when, people)
    fast = {(c.resource, c.booking.key) for c in find_clashes(candidate, BookingIndex.of(bookings))}
    slow = {
        (("person", p), b.key)
        for b in bookings
        if b.interval.overlaps(when)
        for p in people & b.people
    }
    assert fast == slow
