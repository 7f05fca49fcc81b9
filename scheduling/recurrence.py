"""Recurring series (quarterly talks): RRULE/RDATE/EXDATE plus per-occurrence overrides.

Expansion is done by ``recurring-ical-events`` on the same iCalendar objects we send out, so
what we list is what calendar clients compute. Rules must end (COUNT or UNTIL) within
:data:`MAX_OCCURRENCES`, and be cheap to expand (:mod:`scheduling.expansion`: no rule that can
stay without occurrences for ever, like 30 February); every occurrence is known by its
original start in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import islice
from types import MappingProxyType
from typing import Literal, cast
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from scheduling.expansion import Limits, Rule, RuleError, TooComplex, refuse_over, walk_work
from scheduling.intervals import Interval, as_utc
from scheduling.problems import Problem, Words

MAX_OCCURRENCES = 200
# Every listing of a session expands its series on the event loop: keep that to milliseconds.
SERIES_LIMITS = Limits(per_period=100, work_per_rule=50_000)
Status = Literal["scheduled", "moved", "cancelled"]


class RecurrenceError(Problem):
    """A rule or occurrence change that cannot be applied; the message says why."""


@dataclass(frozen=True)
class Override:
    """One occurrence moved to another time."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Series:
    """A recurring session: first start/end in its zone, the rule, and the exceptions."""

    start: dt.datetime
    end: dt.datetime
    timezone: str
    rrule: str | None = None
    rdates: tuple[dt.datetime, ...] = ()
    exdates: frozenset[dt.datetime] = frozenset()
    overrides: Mapping[dt.datetime, Override] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: ``original_start`` identifies it (RECURRENCE-ID), start/end are current."""

    original_start: dt.datetime
    start: dt.datetime
    end: dt.datetime
    status: Status

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


def parse_rrule(value: str) -> icalendar.vRecur:
    """A recurrence rule that ends: FREQ required, COUNT or UNTIL required, UNTIL made UTC."""
    try:
        rule = icalendar.vRecur.from_ical(value.removeprefix("RRULE:"))
    except (ValueError, TypeError) as exc:
        raise RecurrenceError("not a recurrence rule: {exc}", exc=exc) from None
    if "FREQ" not in rule:
        raise RecurrenceError("the rule needs FREQ, e.g. FREQ=MONTHLY;INTERVAL=3;COUNT=4")
    if "COUNT" not in rule and "UNTIL" not in rule:
        raise RecurrenceError(
            "the rule never ends: add COUNT or UNTIL (at most {MAX_OCCURRENCES} occurrences)",
            MAX_OCCURRENCES=MAX_OCCURRENCES,
        )
    if "COUNT" in rule and int(rule["COUNT"][0]) > MAX_OCCURRENCES:
        raise RecurrenceError(
            "COUNT is above the limit of {MAX_OCCURRENCES} occurrences",
            MAX_OCCURRENCES=MAX_OCCURRENCES,
        )
    if "UNTIL" in rule:
        until = rule["UNTIL"][0]
        if not isinstance(until, dt.datetime):
            until = dt.datetime.combine(until, dt.time(23, 59, 59), dt.UTC)
        elif until.tzinfo is None:
            until = until.replace(tzinfo=dt.UTC)
        rule["UNTIL"] = [until.astimezone(dt.UTC)]
    return cast(icalendar.vRecur, rule)


def rrule_text(rule: icalendar.vRecur) -> str:
    """The RRULE value as text."""
    return cast(bytes, rule.to_ical()).decode()


def master_event(series: Series) -> icalendar.Event:
    """The series' master VEVENT (times in its zone, no exceptions applied)."""
    event = icalendar.Event()
    event.add("DTSTART", series.start.astimezone(series.zone))
    event.add("DTEND", series.end.astimezone(series.zone))
    if series.rrule:
        event.add("RRULE", parse_rrule(series.rrule))
    for rdate in series.rdates:
        event.add("RDATE", rdate.astimezone(series.zone))
    return event


def _check_cost(rule: icalendar.vRecur, start: dt.datetime, local_start: dt.datetime) -> None:
    """Refuse, from the rule's text, a series that is costly to list (every listing expands it)."""
    try:
        shape = Rule.parse(rule)
        until = rule["UNTIL"][0] if "UNTIL" in rule else None
        work = walk_work(shape, local_start.date(), as_utc(start), until, MAX_OCCURRENCES + 1)
        refuse_over(shape, local_start.date(), work, SERIES_LIMITS, Words("the series"))
    except (RuleError, TooComplex) as exc:
        raise RecurrenceError(exc.template, **exc.params) from None


def _check_size(series: Series) -> None:
    """Refuse huge series before expanding them (the full expansion is eager, hence slow)."""
    if not series.rrule:
        return
    local_start = series.start.astimezone(series.zone)
    parsed = parse_rrule(series.rrule)
    _check_cost(parsed, series.start, local_start)
    rule = rrulestr(rrule_text(parsed), dtstart=local_start)
    if len(list(islice(iter(rule), MAX_OCCURRENCES + 1))) + len(series.rdates) > MAX_OCCURRENCES:
        raise RecurrenceError(
            "the series has more than {MAX_OCCURRENCES} occurrences; shorten it",
            MAX_OCCURRENCES=MAX_OCCURRENCES,
        )


def _original_starts(series: Series) -> list[dt.datetime]:
    if not series.rrule and not series.rdates:
        return [as_utc(series.start)]  # most sessions happen once: no expansion needed
    _check_size(series)
    calendar = icalendar.Calendar()
    event = master_event(series)
    event.add("UID", "expansion")
    calendar.add_component(event)
    found = [
        as_utc(e.decoded("DTSTART"))
        for e in islice(recurring_ical_events.of(calendar).all(), MAX_OCCURRENCES + 1)
    ]
    if len(found) > MAX_OCCURRENCES:
        raise RecurrenceError(
            "the series has more than {MAX_OCCURRENCES} occurrences; shorten it",
            MAX_OCCURRENCES=MAX_OCCURRENCES,
        )
    return sorted(set(found))


def occurrences(series: Series, window: Interval | None = None) -> list[Occurrence]:
    """Every occurrence (optionally only those touching ``window``), with its status."""
    result = []
    for original in _original_starts(series):
        if original in series.exdates:
            occ = Occurrence(original, original, original + series.duration, "cancelled")
        elif original in series.overrides:
            moved = series.overrides[original]
            occ = Occurrence(original, as_utc(moved.start), as_utc(moved.end), "moved")
        else:
            occ = Occurrence(original, original, original + series.duration, "scheduled")
        planned = Interval(original, original + series.duration)
        if window is None or occ.interval.overlaps(window) or planned.overlaps(window):
            result.append(occ)
    return result


def _require(series: Series, original: dt.datetime) -> dt.datetime:
    original = as_utc(original)
    if original not in _original_starts(series):
        raise RecurrenceError(
            "{original} is not an occurrence of this series", original=original.isoformat()
        )
    return original


def move_occurrence(
    series: Series, original: dt.datetime, start: dt.datetime, end: dt.datetime
) -> Series:
    """The series with one occurrence moved (an override with RECURRENCE-ID = ``original``)."""
    original = _require(series, original)
    if original in series.exdates:
        raise RecurrenceError("that occurrence is cancelled; it cannot be moved")
    Interval(start, end)  # validates the new times
    overrides = dict(series.overrides)
    overrides[original] = Override(as_utc(start), as_utc(end))
    return replace(series, overrides=MappingProxyType(overrides))


def cancel_occurrence(series: Series, original: dt.datetime) -> Series:
    """The series with one occurrence cancelled (an EXDATE)."""
    original = _require(series, original)
    overrides = {k: v for k, v in series.overrides.items() if k != original}
    return replace(
        series, exdates=series.exdates | {original}, overrides=MappingProxyType(overrides)
    )


def split(series: Series, original: dt.datetime) -> tuple[Series, Series]:
    """Cut the series before ``original``: (the past part, this and following occurrences).

    The caller changes the second part as it likes and gives it its own UID.
    """
    original = _require(series, original)
    starts = _original_starts(series)
    if original == starts[0]:
        raise RecurrenceError("that is the first occurrence: change the whole series instead")
    rule = parse_rrule(series.rrule) if series.rrule else None
    head_rule = tail_rule = None
    if rule is not None:
        head, tail = icalendar.vRecur(rule), icalendar.vRecur(rule)
        head.pop("COUNT", None)
        head["UNTIL"] = [original - dt.timedelta(seconds=1)]
        if "COUNT" in rule:
            tail["COUNT"] = [sum(1 for s in starts if s >= original and s not in series.rdates)]
        head_rule, tail_rule = rrule_text(head), rrule_text(tail)

    def part(keep: bool, start: dt.datetime, rule: str | None) -> Series:
        def side(moment: dt.datetime) -> bool:
            return (moment < original) == keep

        return replace(
            series,
            start=start,
            end=start + series.duration,
            rrule=rule,
            rdates=tuple(r for r in series.rdates if side(as_utc(r))),
            exdates=frozenset(e for e in series.exdates if side(e)),
            overrides=MappingProxyType({k: v for k, v in series.overrides.items() if side(k)}),
        )

    head_series = part(True, series.start, head_rule)
    tail_series = part(False, original.astimezone(series.zone), tail_rule)
    return head_series, tail_series
