"""Reading what others send us: attendees' REPLY and COUNTER, and busy time from ICS uploads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import islice
from typing import cast
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from scheduling.intervals import Interval, as_utc, merge
from scheduling.itip import ANSWERS, ItipError

MAX_BUSY_EVENTS = 5000
MAX_REPEATING = 200  # each repeating event is expanded from its first start: bound the work
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
        raise ItipError(f"this is not a readable iCalendar file ({exc})") from None
    if not isinstance(calendar, icalendar.Calendar):
        raise ItipError("this is not a VCALENDAR")
    return calendar


def _instant(value: object, zone: ZoneInfo, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return as_utc(value if value.tzinfo else value.replace(tzinfo=zone))
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), zone).astimezone(dt.UTC)
    raise ItipError(f"{what} is not a date or time")


def _email(address: object) -> str:
    text = str(address)
    if not text.lower().startswith("mailto:"):
        raise ItipError("the attendee is not a mailto: address")
    return text[7:].strip().lower()


def _single_event(data: bytes | str, method: str) -> icalendar.Event:
    calendar = _calendar(data)
    got = str(calendar.get("METHOD", "")).upper()
    if got != method:
        raise ItipError(f"expected METHOD:{method}, got {got or 'none'}")
    events = list(calendar.walk("VEVENT"))
    if len(events) != 1:
        raise ItipError(f"a {method} must carry exactly one VEVENT, this has {len(events)}")
    event = cast(icalendar.Event, events[0])
    attendees = event.get("ATTENDEE")
    if attendees is None or (isinstance(attendees, list) and len(attendees) != 1):
        raise ItipError(f"a {method} must name exactly one ATTENDEE: the one who answers")
    if "UID" not in event:
        raise ItipError(f"the {method} has no UID")
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
        raise ItipError(f"a property has a bad value ({exc})") from None
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
            f"PARTSTAT must be ACCEPTED, DECLINED or TENTATIVE, got {partstat or 'none'}"
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


def parse_busy(data: bytes | str, window: Interval, zone: ZoneInfo) -> list[Interval]:
    """Busy time in ``window`` from someone's calendar export (Outlook, Google, Apple…).

    Recurrences are expanded; TRANSPARENT and CANCELLED events are free; floating and all-day
    times are read in ``zone``; Google's X-WR-TIMEZONE is honoured.
    """
    try:
        calendar = x_wr_timezone.to_standard(_calendar(data))
    except ItipError:
        raise
    except Exception as exc:  # e.g. an X-WR-TIMEZONE that names no zone
        raise ItipError(f"the calendar's time zone cannot be used ({exc})") from None
    events = calendar.walk("VEVENT")
    repeating = [e for e in events if "RRULE" in e]
    if len(events) > MAX_BUSY_EVENTS or len(repeating) > MAX_REPEATING:
        raise ItipError(
            f"the file has {len(events)} events, {len(repeating)} repeating; the limits are "
            f"{MAX_BUSY_EVENTS} and {MAX_REPEATING}: export a shorter range"
        )
    for event in repeating:
        rule = event.get("RRULE")
        frequency = str((rule or {}).get("FREQ", [""])[0]).upper() if hasattr(rule, "get") else ""
        if frequency in ("SECONDLY", "MINUTELY", "HOURLY"):
            # Expanding these from an old start is unbounded work; people do not meet hourly.
            raise ItipError(f"an event repeats {frequency.lower()}; export the calendar without it")
    try:
        found = list(
            islice(
                recurring_ical_events.of(calendar).between(window.start, window.end),
                MAX_BUSY_EVENTS + 1,
            )
        )
    except Exception as exc:  # the library raises many kinds on malformed rules
        raise ItipError(f"the calendar's events cannot be expanded ({exc})") from None
    if len(found) > MAX_BUSY_EVENTS:
        raise ItipError(
            f"more than {MAX_BUSY_EVENTS} events in that window; upload a shorter range"
        )
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
