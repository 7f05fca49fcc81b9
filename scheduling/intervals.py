"""Instants, intervals and conflicts: half-open ``[start, end)`` in UTC, buffers applied here.

Everything is pure: callers pass the bookings in and get conflicts or busy time back.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

UTC = dt.UTC
ZERO = dt.timedelta(0)


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC; naive ones are a programming error."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: every instant needs a time zone")
    return value.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open stretch of time ``[start, end)`` in UTC."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start))
        object.__setattr__(self, "end", as_utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"interval ends ({self.end}) before it starts ({self.start})")

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval, buffer: dt.timedelta = ZERO) -> bool:
        """True when the two share time, or come closer than ``buffer``."""
        return self.start < other.end + buffer and other.start < self.end + buffer

    def intersection(self, other: Interval) -> Interval | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None

    def widened(self, buffer: dt.timedelta) -> Interval:
        return Interval(self.start - buffer, self.end + buffer)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def subtract(window: Interval, busy: Iterable[Interval]) -> list[Interval]:
    """The parts of ``window`` not covered by ``busy``."""
    free: list[Interval] = []
    cursor = window.start
    for block in merge(busy):
        if block.end <= cursor or block.start >= window.end:
            continue
        if block.start > cursor:
            free.append(Interval(cursor, block.start))
        cursor = max(cursor, block.end)
        if cursor >= window.end:
            break
    if cursor < window.end:
        free.append(Interval(cursor, window.end))
    return free


@dataclass(frozen=True)
class Booking:
    """Something that occupies people and perhaps a venue: a session or one of its occurrences."""

    key: Hashable
    interval: Interval
    people: frozenset[int] = frozenset()
    venue_id: int | None = None
    label: str = ""


@dataclass(frozen=True)
class Clash:
    """One conflict: ``resource`` is ("person", id) or ("venue", id), busy with ``booking``."""

    resource: tuple[str, int]
    booking: Booking
    overlap: Interval | None


@dataclass
class BookingIndex:
    """Bookings sorted by start, for fast overlap queries among many."""

    bookings: list[Booking] = field(default_factory=list)
    _starts: list[dt.datetime] = field(default_factory=list, repr=False)
    _longest: dt.timedelta = ZERO

    @classmethod
    def of(cls, bookings: Iterable[Booking]) -> BookingIndex:
        ordered = sorted(bookings, key=lambda b: b.interval.start)
        longest = max((b.interval.duration for b in ordered), default=ZERO)
        return cls(ordered, [b.interval.start for b in ordered], longest)

    def overlapping(self, interval: Interval, buffer: dt.timedelta = ZERO) -> list[Booking]:
        """Bookings that overlap ``interval`` or come within ``buffer`` of it."""
        low = bisect.bisect_left(self._starts, interval.start - buffer - self._longest)
        high = bisect.bisect_left(self._starts, interval.end + buffer)
        return [b for b in self.bookings[low:high] if b.interval.overlaps(interval, buffer)]


def find_clashes(
    candidate: Booking, existing: BookingIndex, buffer: dt.timedelta = ZERO
) -> list[Clash]:
    """Every person and venue of ``candidate`` already booked at that time (itself excluded)."""
    clashes: list[Clash] = []
    for other in existing.overlapping(candidate.interval, buffer):
        if other.key == candidate.key:
            continue
        overlap = candidate.interval.intersection(other.interval)
        for person in sorted(candidate.people & other.people):
            clashes.append(Clash(("person", person), other, overlap))
        if candidate.venue_id is not None and candidate.venue_id == other.venue_id:
            clashes.append(Clash(("venue", candidate.venue_id), other, overlap))
    return clashes


def busy_times(
    bookings: Iterable[Booking], people: Iterable[int], window: Interval
) -> dict[int, list[Interval]]:
    """Merged busy time of each person within ``window`` (free/busy)."""
    wanted = set(people)
    busy: dict[int, list[Interval]] = {p: [] for p in wanted}
    for booking in bookings:
        part = booking.interval.intersection(window)
        if part is None:
            continue
        for person in booking.people & wanted:
            busy[person].append(part)
    return {p: merge(blocks) for p, blocks in busy.items()}


def busy_of(
    busy: Mapping[int, Sequence[Interval]], people: Iterable[int], buffer: dt.timedelta = ZERO
) -> list[Interval]:
    """The union of several people's busy time, each block widened by ``buffer``."""
    return merge(block.widened(buffer) for p in people for block in busy.get(p, ()))
