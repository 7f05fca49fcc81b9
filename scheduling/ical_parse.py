"""Reading what others send us: attendees' REPLY and COUNTER, and busy time from ICS uploads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from scheduling.expansion import (
    SUB_DAILY,
    Estimate,
    Limits,
    Rule,
    RuleError,
    TooComplex,
    estimate,
    refuse_over,
)
from scheduling.intervals import Interval, as_utc, merge
from scheduling.itip import ANSWERS, ItipError
from scheduling.problems import Words

MAX_BUSY_EVENTS = 5000  # events in a file, and occurrences in the window
MAX_REPEATING = 200  # each repeating event is expanded from its first start: bound the work
MAX_RULES_PER_EVENT = 3  # RFC 5545 says one; a few are tolerated
MAX_DATES_PER_EVENT = 1000  # RDATE and EXDATE values of one event
MAX_DATES = 10_000  # … and of the whole file
BUSY_LIMITS = Limits()  # what expanding an upload's rules may cost (see scheduling.expansion)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Reply:
    """An attendee's answer (RFC 5546 §3.2.3)."""

    uid: str
    email: str
    partstat: str
    sequence: int
    dtstamp: dt.datetime
    recurrence_id: dt.datetime | None
    comment: str | None


@dataclass(frozen=True)
class Counter:
    """An attendee's proposal of another time (RFC 5546 §3.2.7)."""

    uid: str
    email: str
    sequence: int
    dtstamp: dt.datetime
    start: dt.datetime
    end: dt.datetime
    recurrence_id: dt.datetime | None
    comment: str | None


def _calendar(data: bytes | str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ItipError("this is not a readable iCalendar file ({exc})", exc=exc) from None
    if not isinstance(calendar, icalendar.Calendar):
        raise ItipError("this is not a VCALENDAR")
    return calendar


def _instant(value: object, zone: ZoneInfo, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return as_utc(value if value.tzinfo else value.replace(tzinfo=zone))
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), zone).astimezone(dt.UTC)
    raise ItipError("{what} is not a date or time", what=what)


def _email(address: object) -> str:
    text = str(address)
    if not text.lower().startswith("mailto:"):
        raise ItipError("the attendee is not a mailto: address")
    return text[7:].strip().lower()


def _single_event(data: bytes | str, method: str) -> icalendar.Event:
    calendar = _calendar(data)
    got = str(calendar.get("METHOD", "")).upper()
    if got != method:
        raise ItipError("expected METHOD:{method}, got {got}", method=method, got=got or "none")
    events = list(calendar.walk("VEVENT"))
    if len(events) != 1:
        raise ItipError(
            "a {method} must carry exactly one VEVENT, this has {n_events}",
            method=method,
            n_events=len(events),
        )
    event = cast(icalendar.Event, events[0])
    attendees = event.get("ATTENDEE")
    if attendees is None or (isinstance(attendees, list) and len(attendees) != 1):
        raise ItipError(
            "a {method} must name exactly one ATTENDEE: the one who answers", method=method
        )
    if "UID" not in event:
        raise ItipError("the {method} has no UID", method=method)
    return event


def _basics(
    event: icalendar.Event, zone: ZoneInfo
) -> tuple[str, str, int, dt.datetime, dt.datetime | None]:
    attendee = event.get("ATTENDEE")
    try:
        sequence = int(event.get("SEQUENCE", 0))
        stamp = _instant(event.decoded("DTSTAMP"), zone, "DTSTAMP") if "DTSTAMP" in event else None
        recurrence = (
            _instant(event.decoded("RECURRENCE-ID"), zone, "RECURRENCE-ID")
            if "RECURRENCE-ID" in event
            else None
        )
    except (ValueError, TypeError) as exc:
        raise ItipError("a property has a bad value ({exc})", exc=exc) from None
    if stamp is None:
        raise ItipError("the message has no DTSTAMP")
    return str(event["UID"]), _email(attendee), sequence, stamp, recurrence


def parse_reply(data: bytes | str, zone: ZoneInfo = UTC_ZONE) -> Reply:
    """An attendee's REPLY: who, which answer, for which UID/SEQUENCE/occurrence."""
    event = _single_event(data, "REPLY")
    uid, email, sequence, stamp, recurrence = _basics(event, zone)
    partstat = str(event["ATTENDEE"].params.get("PARTSTAT", "")).upper()
    if partstat not in ANSWERS:
        raise ItipError(
            "PARTSTAT must be ACCEPTED, DECLINED or TENTATIVE, got {partstat}",
            partstat=partstat or "none",
        )
    comment = str(event["COMMENT"]) if "COMMENT" in event else None
    return Reply(uid, email, partstat, sequence, stamp, recurrence, comment)


def parse_counter(data: bytes | str, zone: ZoneInfo = UTC_ZONE) -> Counter:
    """An attendee's COUNTER proposing a new start and end."""
    event = _single_event(data, "COUNTER")
    uid, email, sequence, stamp, recurrence = _basics(event, zone)
    if "DTSTART" not in event or "DTEND" not in event:
        raise ItipError("a COUNTER must propose DTSTART and DTEND")
    start = _instant(event.decoded("DTSTART"), zone, "DTSTART")
    end = _instant(event.decoded("DTEND"), zone, "DTEND")
    if end <= start:
        raise ItipError("the proposed end is not after the proposed start")
    comment = str(event["COMMENT"]) if "COMMENT" in event else None
    return Counter(uid, email, sequence, stamp, start, end, recurrence, comment)


def parse_busy(
    data: bytes | str,
    window: Interval,
    zone: ZoneInfo,
    out_of_time: Callable[[], bool] = lambda: False,
) -> list[Interval]:
    """Busy time in ``window`` from someone's calendar export (Outlook, Google, Apple…).

    Recurrences are expanded; TRANSPARENT and CANCELLED events are free; floating and all-day
    times are read in ``zone``; Google's X-WR-TIMEZONE is honoured. What the expansion would
    cost is judged first (:mod:`scheduling.expansion`), and the expansion stops with
    :class:`TooComplex` once ``out_of_time()`` says so (the caller keeps the clock).

    Raises:
        ItipError: the file cannot be read or used (it says why).
        TooComplex: the file is readable but would cost too much to expand.
    """
    calendar = _standard(data)
    events = cast(list[icalendar.Event], calendar.walk("VEVENT"))
    _check_sizes(events)
    _check_expansion(events, window, zone)
    return _busy(_expand(calendar, window, out_of_time), window, zone)


def _standard(data: bytes | str) -> icalendar.Calendar:
    try:
        return cast(icalendar.Calendar, x_wr_timezone.to_standard(_calendar(data)))
    except ItipError:
        raise
    except Exception as exc:  # e.g. an X-WR-TIMEZONE that names no zone
        raise ItipError("the calendar's time zone cannot be used ({exc})", exc=exc) from None


def _values(event: icalendar.Event, name: str, kind: type) -> list[Any]:
    """Every value of a property that may repeat, or ItipError if one cannot be read."""
    found = event.get(name)
    values = [] if found is None else found if isinstance(found, list) else [found]
    if not all(isinstance(v, kind) for v in values):
        raise ItipError("{event} has an unreadable {name}", event=_label(event), name=name)
    return values


def _rules(event: icalendar.Event) -> list[icalendar.vRecur]:
    return _values(event, "RRULE", icalendar.vRecur)


def _dates(event: icalendar.Event) -> int:
    """How many RDATE and EXDATE values the event has."""
    names = ("RDATE", "EXDATE")
    return sum(len(v.dts) for name in names for v in _values(event, name, icalendar.vDDDLists))


def _check_sizes(events: list[icalendar.Event]) -> None:
    repeating = [e for e in events if "RRULE" in e]
    if len(events) > MAX_BUSY_EVENTS or len(repeating) > MAX_REPEATING:
        raise ItipError(
            "the file has {n_events} events, {n_repeating} repeating; the limits are "
            "{MAX_BUSY_EVENTS} and {MAX_REPEATING}: export a shorter range",
            n_events=len(events),
            n_repeating=len(repeating),
            MAX_BUSY_EVENTS=MAX_BUSY_EVENTS,
            MAX_REPEATING=MAX_REPEATING,
        )
    dates = 0
    for event in events:
        count = _dates(event)
        if count > MAX_DATES_PER_EVENT:
            raise ItipError(
                "{event} lists {count} RDATE/EXDATE dates; at most {MAX_DATES_PER_EVENT} per event",
                event=_label(event),
                count=count,
                MAX_DATES_PER_EVENT=MAX_DATES_PER_EVENT,
            )
        dates += count
        _check_times(event)
        _check_rules(event)
    if dates > MAX_DATES:
        raise ItipError(
            "the file lists {dates} RDATE/EXDATE dates; at most {MAX_DATES}",
            dates=dates,
            MAX_DATES=MAX_DATES,
        )


def _check_times(event: icalendar.Event) -> None:
    kinds = {
        "DTSTART": dt.date,
        "DTEND": dt.date,
        "DURATION": dt.timedelta,
        "RECURRENCE-ID": dt.date,
    }
    for name, kind in kinds.items():
        try:
            value = event.decoded(name) if name in event else None
        except ValueError:  # icalendar's broken properties are ValueErrors too
            value = ""
        if value is not None and not isinstance(value, kind):
            raise ItipError(
                "{event} has an unreadable {name}: {value!s:.40}",
                event=_label(event),
                name=name,
                value=event.get(name),
            )


def _check_rules(event: icalendar.Event) -> None:
    rules = _rules(event)
    if len(rules) > MAX_RULES_PER_EVENT:
        raise ItipError(
            "{event} has {n_rules} RRULEs; at most {MAX_RULES_PER_EVENT}",
            event=_label(event),
            n_rules=len(rules),
            MAX_RULES_PER_EVENT=MAX_RULES_PER_EVENT,
        )
    for rule in rules:
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency in SUB_DAILY:
            # Expanding these from an old start is unbounded work; people do not meet hourly.
            raise ItipError(
                "{event} repeats {part}; export the calendar without it",
                event=_label(event),
                part=frequency.lower(),
            )


def _label(event: icalendar.Event) -> Words:
    """The event as a person recognises it: its title and UID."""
    summary = " ".join(str(event.get("SUMMARY", "")).split())[:60]
    uid = " ".join(str(event.get("UID", "")).split())[:120] or "none"
    if summary:
        return Words("event “{summary}” (UID {uid})", summary=summary, uid=uid)
    return Words("the event with UID {uid}", uid=uid)


def _duration(event: icalendar.Event, start: object, zone: ZoneInfo) -> dt.timedelta:
    try:
        if "DTEND" in event:
            end = _instant(event.decoded("DTEND"), zone, "DTEND")
            return max(end - _instant(start, zone, "DTSTART"), dt.timedelta(0))
        duration = event.decoded("DURATION") if "DURATION" in event else dt.timedelta(0)
    except (ValueError, TypeError, KeyError) as exc:
        raise ItipError(
            "{event} has an unreadable end ({exc})", event=_label(event), exc=exc
        ) from None
    return max(duration, dt.timedelta(0)) if isinstance(duration, dt.timedelta) else dt.timedelta(0)


def _check_expansion(events: list[icalendar.Event], window: Interval, zone: ZoneInfo) -> None:
    """Refuse, before expanding anything, rules whose expansion would cost too much."""
    work, occurrences = 0.0, 0
    for event in events:
        if "RRULE" not in event:
            continue
        cost = _event_cost(event, window, zone)
        work, occurrences = work + cost.work, occurrences + cost.occurrences
    if work > BUSY_LIMITS.work:
        raise TooComplex(
            "together its repeating events would take about {work:,.0f} steps to expand (at most "
            "{BUSY_LIMITS_work:,.0f}); remove some, or give them later starts",
            work=work,
            BUSY_LIMITS_work=BUSY_LIMITS.work,
        )
    if occurrences > BUSY_LIMITS.occurrences:
        raise TooComplex(
            "its events could have about {occurrences:,} occurrences in the window (at most "
            "{BUSY_LIMITS_occurrences:,}); upload a shorter window",
            occurrences=occurrences,
            BUSY_LIMITS_occurrences=BUSY_LIMITS.occurrences,
        )


def _event_cost(event: icalendar.Event, window: Interval, zone: ZoneInfo) -> Estimate:
    what = _label(event)
    try:
        value = event.decoded("DTSTART")
    except (KeyError, ValueError, TypeError):
        raise ItipError("{what} repeats but has no readable DTSTART", what=what) from None
    start = _instant(value, zone, "DTSTART")
    first = value.date() if isinstance(value, dt.datetime) else cast(dt.date, value)
    span = (window.start - _duration(event, value, zone), window.end)
    work, occurrences = 0.0, _dates(event)
    for text in _rules(event):
        try:
            rule = Rule.parse(text)
            until = _instant(text["UNTIL"][0], zone, "UNTIL") if text.get("UNTIL") else None
        except (RuleError, ItipError) as exc:
            raise ItipError(
                "{what} has a rule that cannot be used: {exc}", what=what, exc=exc
            ) from None
        cost = estimate(rule, first, start, until, span)
        refuse_over(rule, first, cost.work, BUSY_LIMITS, what)
        work, occurrences = work + cost.work, occurrences + cost.occurrences
    if occurrences > BUSY_LIMITS.per_event:
        raise TooComplex(
            "{what} could have about {occurrences:,} occurrences in the window (at most "
            "{BUSY_LIMITS_per_event:,}); upload a shorter window or remove it",
            what=what,
            occurrences=occurrences,
            BUSY_LIMITS_per_event=BUSY_LIMITS.per_event,
        )
    return Estimate(work, occurrences)


def _expand(
    calendar: icalendar.Calendar, window: Interval, out_of_time: Callable[[], bool]
) -> list[icalendar.Event]:
    """Every occurrence in the window, one series at a time, watching the clock."""
    try:
        query = recurring_ical_events.of(calendar)
    except Exception as exc:  # the library raises many kinds on malformed rules
        raise ItipError("the calendar's events cannot be expanded ({exc})", exc=exc) from None
    found: list[icalendar.Event] = []
    for series in query.series:
        for occurrence in _between(series, window):
            if out_of_time():
                raise TooComplex(
                    "expanding its repeating events takes longer than allowed; upload a "
                    "shorter window, or remove events that repeat many times a day"
                )
            found.append(occurrence.as_component(False))
            if len(found) > MAX_BUSY_EVENTS:
                raise ItipError(
                    "more than {MAX_BUSY_EVENTS} events in that window; upload a shorter range",
                    MAX_BUSY_EVENTS=MAX_BUSY_EVENTS,
                )
        if out_of_time():
            raise TooComplex("expanding its repeating events takes longer than allowed")
    return found


def _between(series: Any, window: Interval) -> Iterator[Any]:
    """One series' occurrences overlapping the window (the library's own errors become ours)."""
    try:
        yield from series.between(window.start, window.end)
    except Exception as exc:  # the library raises many kinds on malformed rules
        uid = " ".join(str(series.uid).split())[:120]
        raise ItipError(
            "the event with UID {uid} cannot be expanded ({exc})", uid=uid, exc=exc
        ) from None


def _busy(found: list[icalendar.Event], window: Interval, zone: ZoneInfo) -> list[Interval]:
    busy = []
    for event in found:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = _instant(event.decoded("DTSTART"), zone, "DTSTART")
        end = _instant(event.decoded("DTEND"), zone, "DTEND") if "DTEND" in event else start
        if end > start and (part := Interval(start, end).intersection(window)):
            busy.append(part)
    return merge(busy)
