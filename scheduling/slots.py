"""The slot finder: free times for a group, within working hours on working days, ranked."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from scheduling.intervals import ZERO, Interval, busy_of, merge, subtract
from scheduling.workdays import WorkCalendar

# Government office hours with the long midday break.
DEFAULT_HOURS = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(14, 0), dt.time(17, 30)))


@dataclass(frozen=True)
class SlotQuery:
    """What to look for: ``required`` people must be free, ``optional`` ones improve the rank."""

    duration: dt.timedelta
    window: Interval
    timezone: str
    required: frozenset[int] = frozenset()
    optional: frozenset[int] = frozenset()
    venue_busy: tuple[Interval, ...] = ()
    hours: tuple[tuple[dt.time, dt.time], ...] = DEFAULT_HOURS
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    step: dt.timedelta = dt.timedelta(minutes=30)
    buffer: dt.timedelta = dt.timedelta(0)
    limit: int = 10


@dataclass(frozen=True)
class Slot:
    """A free time; ``missing`` lists optional people who are busy then."""

    interval: Interval
    missing: frozenset[int]
    score: float


def _periods(query: SlotQuery) -> list[Interval]:
    """Working periods in the window, as UTC intervals."""
    zone = ZoneInfo(query.timezone)
    first = query.window.start.astimezone(zone).date()
    last = query.window.end.astimezone(zone).date()
    periods = []
    for day in query.calendar.workdays(first, last):
        for begin, end in query.hours:
            period = Interval(
                dt.datetime.combine(day, begin, zone), dt.datetime.combine(day, end, zone)
            ).intersection(query.window)
            if period is not None:
                periods.append(period)
    return periods


def _aligned(moment: dt.datetime, step: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    """The first local step boundary (e.g. :00 or :30) at or after ``moment``."""
    local = moment.astimezone(zone)
    midnight = dt.datetime.combine(local.date(), dt.time(0), zone)
    steps = -(-(local - midnight) // step)
    return (midnight + steps * step).astimezone(dt.UTC)


def _candidates(free: Sequence[Interval], query: SlotQuery, zone: ZoneInfo) -> list[Interval]:
    found = []
    for block in free:
        start = _aligned(block.start, query.step, zone)
        while start + query.duration <= block.end:
            found.append(Interval(start, start + query.duration))
            start += query.step
    return found


class _Sorted:
    """Merged intervals with their starts, for overlap counts by bisection."""

    def __init__(self, blocks: Sequence[Interval]) -> None:
        self.blocks = merge(blocks)
        self.starts = [b.start for b in self.blocks]

    def near(self, slot: Interval, margin: dt.timedelta) -> list[Interval]:
        """Blocks that overlap ``slot`` or come within ``margin`` of it (merged: disjoint)."""
        high = bisect.bisect_left(self.starts, slot.end + margin)
        low = high
        while low > 0 and self.blocks[low - 1].end + margin > slot.start:
            low -= 1
        return self.blocks[low:high]


SQUEEZE = dt.timedelta(minutes=15)


def _score(slot: Interval, missing: int, hard: _Sorted, query: SlotQuery) -> float:
    """Lower is better: days from the window start, absent optional people, tight squeezes."""
    days = (slot.start - query.window.start) / dt.timedelta(days=1)
    tight = len(hard.near(slot, SQUEEZE))
    return days + 2.0 * missing + 0.1 * tight


def find_slots(query: SlotQuery, busy: Mapping[int, Sequence[Interval]]) -> list[Slot]:
    """Ranked free slots where every required person and the venue are free."""
    if query.duration <= dt.timedelta(0) or query.step <= dt.timedelta(0):
        raise ValueError("duration and step must be positive")
    zone = ZoneInfo(query.timezone)
    hard = _Sorted(
        [
            *busy_of(busy, query.required, query.buffer),
            *(b.widened(query.buffer) for b in query.venue_busy),
        ]
    )
    optional = {p: _Sorted(busy.get(p, ())) for p in query.optional}
    slots = []
    for period in _periods(query):
        for candidate in _candidates(subtract(period, hard.near(period, ZERO)), query, zone):
            missing = frozenset(
                p for p, blocks in optional.items() if blocks.near(candidate, query.buffer)
            )
            slots.append(Slot(candidate, missing, _score(candidate, len(missing), hard, query)))
    slots.sort(key=lambda s: (s.score, s.interval.start))
    return slots[: query.limit]
