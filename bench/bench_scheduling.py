"""Benchmark of the pure scheduling library on a year of synthetic sessions.

Run from the project root::

    .venv/bin/python bench/bench_scheduling.py           # table, then the numbers as JSON
    .venv/bin/python bench/bench_scheduling.py --json    # only the JSON line
    .venv/bin/python bench/bench_scheduling.py --smoke   # small sizes, the same checks

10,000 sessions in 2026 (Asia/Shanghai office hours, 1-3 h, 2-12 of 1,000 people, 30% in one
of 20 venues) are generated from a fixed seed, then each operation is timed with
``time.perf_counter`` over many runs; the table gives the median and p95 of one call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from scheduling.intervals import (
    Booking,
    BookingIndex,
    Clash,
    Interval,
    busy_times,
    find_clashes,
)
from scheduling.slots import DEFAULT_HOURS, SlotQuery, find_slots
from scheduling.workdays import WorkCalendar, shipped

TZ_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(TZ_NAME)
YEAR = 2026
SEED = 20260101

SESSIONS = 10_000
PEOPLE = 1_000
VENUES = 20
VENUE_SHARE = 0.3
DURATIONS = tuple(dt.timedelta(minutes=m) for m in (60, 90, 120, 150, 180))
STEP = dt.timedelta(minutes=30)

BUILD_RUNS = 15
CLASH_CANDIDATES = 1_000
CLASH_PEOPLE = 8
BUSY_RUNS = 100
BUSY_PEOPLE = 50
SLOT_RUNS_2W = 60
SLOT_RUNS_3M = 20
SLOT_REQUIRED = 8
SLOT_OPTIONAL = 4
SLOT_DURATION = dt.timedelta(hours=1)


def _smoke_sizes() -> None:
    """`--smoke`: a small year and a few runs; the index-against-scan checks still run."""
    global SESSIONS, PEOPLE, BUILD_RUNS, CLASH_CANDIDATES, BUSY_RUNS, SLOT_RUNS_2W, SLOT_RUNS_3M
    SESSIONS, PEOPLE = 1_000, 100
    BUILD_RUNS, CLASH_CANDIDATES, BUSY_RUNS, SLOT_RUNS_2W, SLOT_RUNS_3M = 2, 50, 5, 3, 2


# --- data -----------------------------------------------------------------------------------


def _random_interval(rng: random.Random, workdays: Sequence[dt.date]) -> Interval:
    """A 1-3 h stretch on a working day, inside the morning or afternoon office hours."""
    duration = rng.choice(DURATIONS)
    day = rng.choice(workdays)
    fitting = [
        (begin, end)
        for begin, end in DEFAULT_HOURS
        if dt.datetime.combine(day, begin) + duration <= dt.datetime.combine(day, end)
    ]
    begin, end = rng.choice(fitting)
    first = dt.datetime.combine(day, begin, ZONE)
    room = dt.datetime.combine(day, end, ZONE) - duration - first
    start = first + rng.randint(0, room // STEP) * STEP
    return Interval(start, start + duration)


def _random_booking(
    rng: random.Random, key: int, workdays: Sequence[dt.date], people: int
) -> Booking:
    venue = rng.randrange(VENUES) if rng.random() < VENUE_SHARE else None
    return Booking(
        key=key,
        interval=_random_interval(rng, workdays),
        people=frozenset(rng.sample(range(PEOPLE), people)),
        venue_id=venue,
        label=f"session {key}",
    )


def generate(rng: random.Random, workdays: Sequence[dt.date]) -> list[Booking]:
    return [_random_booking(rng, key, workdays, rng.randint(2, 12)) for key in range(SESSIONS)]


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), ZONE)


def _random_window(rng: random.Random, days: int) -> Interval:
    """``days`` days from a local midnight on a Monday in 2026 (the window fits in the year)."""
    mondays = [
        d
        for d in (dt.date(YEAR, 1, 1) + dt.timedelta(days=i) for i in range(366 - days))
        if d.weekday() == 0
    ]
    first = rng.choice(mondays)
    return Interval(_local_midnight(first), _local_midnight(first + dt.timedelta(days=days)))


# --- the naive alternative to the index -----------------------------------------------------


def naive_clashes(candidate: Booking, bookings: Sequence[Booking]) -> list[Clash]:
    """What find_clashes computes, by scanning every booking (no index)."""
    clashes: list[Clash] = []
    for other in bookings:
        if other.key == candidate.key or not other.interval.overlaps(candidate.interval):
            continue
        shared = candidate.people & other.people
        same_venue = candidate.venue_id is not None and candidate.venue_id == other.venue_id
        if not shared and not same_venue:
            continue
        overlap = candidate.interval.intersection(other.interval)
        clashes.extend(Clash(("person", p), other, overlap) for p in sorted(shared))
        if same_venue and candidate.venue_id is not None:
            clashes.append(Clash(("venue", candidate.venue_id), other, overlap))
    return clashes


def _busy_prefiltered(
    index: BookingIndex, people: Sequence[int], window: Interval
) -> dict[int, list[Interval]]:
    """busy_times over only the bookings the index finds in the window."""
    return busy_times(index.overlapping(window), people, window)


def _clash_set(clashes: Sequence[Clash]) -> set[tuple[tuple[str, int], object]]:
    return {(c.resource, c.booking.key) for c in clashes}


# --- timing ---------------------------------------------------------------------------------


@dataclass
class Result:
    key: str
    label: str
    runs: int
    median_us: float
    p95_us: float
    note: str = ""


def _p95(samples: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(key: str, label: str, calls: Sequence[Callable[[], object]], note: str = "") -> Result:
    """Time each call once (after one untimed warm-up call); microseconds per call."""
    calls[0]()
    gc.collect()
    samples = []
    for call in calls:
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1e6)
    return Result(key, label, len(samples), statistics.median(samples), _p95(samples), note)


def _fmt(us: float) -> str:
    if us < 1_000:
        return f"{us:,.1f} µs"
    return f"{us / 1_000:,.2f} ms"


# --- the benchmark --------------------------------------------------------------------------


def _slot_queries(
    rng: random.Random,
    bookings: Sequence[Booking],
    index: BookingIndex,
    calendar: WorkCalendar,
    days: int,
    runs: int,
) -> list[tuple[SlotQuery, dict[int, list[Interval]]]]:
    queries = []
    for _ in range(runs):
        window = _random_window(rng, days)
        group = rng.sample(range(PEOPLE), SLOT_REQUIRED + SLOT_OPTIONAL)
        query = SlotQuery(
            duration=SLOT_DURATION,
            window=window,
            timezone=TZ_NAME,
            required=frozenset(group[:SLOT_REQUIRED]),
            optional=frozenset(group[SLOT_REQUIRED:]),
            calendar=calendar,
            limit=10,
        )
        busy = busy_times(bookings, group, window)
        assert busy == _busy_prefiltered(index, group, window)
        queries.append((query, busy))
    return queries


def run(seed: int) -> tuple[list[Result], dict[str, object]]:
    rng = random.Random(seed)
    calendar = shipped([YEAR])
    workdays = calendar.workdays(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))

    began = time.perf_counter()
    bookings = generate(rng, workdays)
    generated_s = time.perf_counter() - began
    results: list[Result] = []

    # (a) build the index over all sessions
    results.append(
        timed(
            "a_index_build",
            "a  BookingIndex.of(10,000)",
            [partial(BookingIndex.of, bookings)] * BUILD_RUNS,
        )
    )
    index = BookingIndex.of(bookings)

    # (b) clashes of one new 8-person session, with the index and by a linear scan
    candidates = [
        _random_booking(rng, -1 - i, workdays, CLASH_PEOPLE) for i in range(CLASH_CANDIDATES)
    ]
    clash_counts = []
    for candidate in candidates:
        found = find_clashes(candidate, index)
        assert _clash_set(found) == _clash_set(naive_clashes(candidate, bookings))
        clash_counts.append(len(found))
    indexed = timed(
        "b_clashes_indexed",
        "b  find_clashes, indexed",
        [partial(find_clashes, c, index) for c in candidates],
        f"{statistics.mean(clash_counts):.2f} clashes/candidate",
    )
    naive = timed(
        "b_clashes_linear_scan",
        "b' clashes by linear scan",
        [partial(naive_clashes, c, bookings) for c in candidates],
    )
    naive.note = f"index {naive.median_us / indexed.median_us:,.0f}x faster (median)"
    results += [indexed, naive]

    # (b") the index looks back by the longest booking it holds: add one week-long booking
    week = Interval(_local_midnight(dt.date(YEAR, 3, 2)), _local_midnight(dt.date(YEAR, 3, 9)))
    with_week = BookingIndex.of([*bookings, Booking("plenary week", week, frozenset({0}))])
    long = timed(
        "b_clashes_with_week_booking",
        'b" find_clashes, +1 7-day booking',
        [partial(find_clashes, c, with_week) for c in candidates],
    )
    long.note = f"{long.median_us / indexed.median_us:.1f}x slower than b"
    results.append(long)

    # (c) free/busy of 50 people over 4 weeks, as documented (all bookings) and pre-filtered
    busy_cases = [
        (rng.sample(range(PEOPLE), BUSY_PEOPLE), _random_window(rng, 28)) for _ in range(BUSY_RUNS)
    ]
    results.append(
        timed(
            "c_busy_times",
            "c  busy_times, 50 people, 4 wk",
            [partial(busy_times, bookings, p, w) for p, w in busy_cases],
            "passing all 10,000 bookings",
        )
    )
    results.append(
        timed(
            "c_busy_times_prefiltered",
            "c' same, index.overlapping first",
            [partial(_busy_prefiltered, index, p, w) for p, w in busy_cases],
            "only the window's bookings",
        )
    )

    # (d, e) slot search for 8 required + 4 optional people, shipped 2026 calendar, limit 10
    slot_cases = (
        ("d_slots_2_weeks", "d  find_slots, 2 wk", 14, SLOT_RUNS_2W),
        ("e_slots_3_months", "e  find_slots, 3 mo", 91, SLOT_RUNS_3M),
    )
    for key, label, days, runs in slot_cases:
        cases = _slot_queries(rng, bookings, index, calendar, days, runs)
        slot_counts = [len(find_slots(q, b)) for q, b in cases]
        results.append(
            timed(
                key,
                label,
                [partial(find_slots, q, b) for q, b in cases],
                f"{min(slot_counts)}-{max(slot_counts)} slots returned",
            )
        )
    two_weeks, three_months = results[-2:]
    three_months.note += (
        f"; {three_months.median_us / two_weeks.median_us:.0f}x d for a {91 / 14:.1f}x window"
    )

    meta: dict[str, object] = {
        "seed": seed,
        "sessions": SESSIONS,
        "people": PEOPLE,
        "venues": VENUES,
        "workdays_2026": len(workdays),
        "generate_s": round(generated_s, 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    return results, meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, a few seconds: checks, no timings"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        _smoke_sizes()

    began = time.perf_counter()
    results, meta = run(args.seed)
    meta["total_s"] = round(time.perf_counter() - began, 2)

    if not args.json:
        width = max(len(r.label) for r in results)
        print(f"{'operation':<{width}}  {'runs':>5}  {'median':>10}  {'p95':>10}  note")
        for r in results:
            print(
                f"{r.label:<{width}}  {r.runs:>5}  {_fmt(r.median_us):>10}  {_fmt(r.p95_us):>10}"
                f"  {r.note}"
            )
        print(f"({meta['sessions']:,} sessions, seed {meta['seed']}, total {meta['total_s']} s)")
    report = {
        "meta": meta,
        "results": {
            r.key: {
                "label": r.label,
                "runs": r.runs,
                "median_us": round(r.median_us, 1),
                "p95_us": round(r.p95_us, 1),
                "note": r.note,
            }
            for r in results
        },
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
