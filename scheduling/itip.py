"""iTIP (RFC 5546) messages with ``icalendar``: REQUEST, CANCEL, REPLY, COUNTER, feeds.

Each rule of ``shared/CALENDAR.md`` that a real client enforces is applied here, and tested:
stable UID, rising SEQUENCE, DTSTAMP in UTC, TZID times with a VTIMEZONE built near the event,
UNTIL in UTC, overrides with RECURRENCE-ID in the master's zone, EXDATE for cancelled
occurrences, attendees with CN/ROLE/PARTSTAT/RSVP, and no METHOD or attendees in feeds.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import icalendar

from scheduling.intervals import as_utc
from scheduling.problems import Problem
from scheduling.recurrence import Series, master_event

PRODID = "-//xieshang//xieshang 0.1//ZH"
PartStat = Literal["NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE"]
ANSWERS: frozenset[str] = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})


class ItipError(Problem):
    """An iTIP message we cannot accept; the message says why."""


@dataclass(frozen=True)
class Attendee:
    """A calendar user: ``email`` without ``mailto:``."""

    email: str
    name: str
    role: str = "REQ-PARTICIPANT"
    partstat: PartStat = "NEEDS-ACTION"
    rsvp: bool = True


@dataclass(frozen=True)
class Invite:
    """Everything an invitation carries about one session (or series)."""

    uid: str
    sequence: int
    summary: str
    series: Series
    organizer: Attendee
    attendees: tuple[Attendee, ...] = ()
    description: str = ""
    location: str | None = None
    url: str | None = None
    status: Literal["CONFIRMED", "TENTATIVE", "CANCELLED"] = "CONFIRMED"
    alarm_minutes: int | None = 30
    categories: tuple[str, ...] = ()
    extra_cancelled: tuple[dt.datetime, ...] = field(default=())


def _address(person: Attendee, *, organizer: bool = False) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = person.name
    if not organizer:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = person.role
        address.params["PARTSTAT"] = person.partstat
        if person.rsvp:
            address.params["RSVP"] = "TRUE"
    return address


def _calendar(method: str | None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    if method:
        calendar.add("METHOD", method)
    return calendar


@functools.lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """A VTIMEZONE for the years around an event (built once per zone and span: it is slow)."""
    zone = icalendar.Timezone.from_tzid(
        tzid, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year, 12, 31)
    )
    return bytes(zone.to_ical())


def _finish(calendar: icalendar.Calendar, series: Iterable[Series]) -> bytes:
    """Serialise with one VTIMEZONE per TZID, covering the year before to three years after."""
    starts = [s.start for s in series]
    if starts:
        first, last = min(starts).year - 1, max(starts).year + 3
        for tzid in sorted(calendar.get_used_tzids() - {"UTC"}):
            calendar.subcomponents.insert(
                0, icalendar.Timezone.from_ical(_vtimezone(tzid, first, last))
            )
    return bytes(calendar.to_ical())


def _common(event: icalendar.Event, invite: Invite, now: dt.datetime, people: bool) -> None:
    event.add("UID", invite.uid)
    event.add("SEQUENCE", invite.sequence)
    event.add("DTSTAMP", as_utc(now))
    event.add("SUMMARY", invite.summary)
    if invite.description:
        event.add("DESCRIPTION", invite.description)
    if invite.location:
        event.add("LOCATION", invite.location)
    if invite.url:
        event.add("URL", invite.url)
    if invite.categories:
        event.add("CATEGORIES", list(invite.categories))
    event.add("STATUS", invite.status)
    event.add("TRANSP", "OPAQUE")
    if people:
        event.add("ORGANIZER", _address(invite.organizer, organizer=True))
        for attendee in invite.attendees:
            event.add("ATTENDEE", _address(attendee))


def _alarm(minutes: int, summary: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", summary)
    alarm.add("TRIGGER", dt.timedelta(minutes=-minutes))
    return alarm


def events(invite: Invite, now: dt.datetime, *, people: bool = True) -> list[icalendar.Event]:
    """The master VEVENT and one override VEVENT per moved occurrence."""
    series, zone = invite.series, invite.series.zone
    master = master_event(series)
    _common(master, invite, now, people)
    exdates = sorted(series.exdates | set(invite.extra_cancelled))
    if exdates:
        master.add("EXDATE", [e.astimezone(zone) for e in exdates])
    found = [master]
    for original, moved in sorted(series.overrides.items()):
        override = icalendar.Event()
        override.add("RECURRENCE-ID", original.astimezone(zone))
        override.add("DTSTART", moved.start.astimezone(zone))
        override.add("DTEND", moved.end.astimezone(zone))
        _common(override, invite, now, people)
        found.append(override)
    if invite.alarm_minutes and invite.status != "CANCELLED":
        for event in found:
            event.add_component(_alarm(invite.alarm_minutes, invite.summary))
    return found


def request(invite: Invite, now: dt.datetime) -> bytes:
    """METHOD:REQUEST for the whole series (master plus every override)."""
    if invite.status == "CANCELLED":
        raise ItipError("a cancelled session is sent as CANCEL, never as a REQUEST")
    if not invite.attendees:
        raise ItipError("a REQUEST needs at least one attendee")
    calendar = _calendar("REQUEST")
    for event in events(invite, now):
        calendar.add_component(event)
    return _finish(calendar, [invite.series])


def cancel(invite: Invite, now: dt.datetime, occurrence: dt.datetime | None = None) -> bytes:
    """METHOD:CANCEL for the series, or for one occurrence (by its original start).

    The caller raises ``invite.sequence`` first: every CANCEL carries a higher SEQUENCE.
    """
    series, zone = invite.series, invite.series.zone
    calendar = _calendar("CANCEL")
    event = icalendar.Event()
    cancelled = Invite(**{**invite.__dict__, "status": "CANCELLED"})
    _common(event, cancelled, now, people=True)
    if occurrence is None:
        event.add("DTSTART", series.start.astimezone(zone))
        event.add("DTEND", series.end.astimezone(zone))
    else:
        original = as_utc(occurrence)
        event.add("RECURRENCE-ID", original.astimezone(zone))
        event.add("DTSTART", original.astimezone(zone))
        event.add("DTEND", (original + series.duration).astimezone(zone))
    calendar.add_component(event)
    return _finish(calendar, [series])


def feed(
    invites: Sequence[Invite], now: dt.datetime, *, name: str, refresh_minutes: int = 60
) -> bytes:
    """A subscription feed: no METHOD, no attendees; cancelled ones stay with STATUS:CANCELLED."""
    calendar = _calendar(None)
    calendar.add("X-WR-CALNAME", name)
    calendar.add("NAME", name)
    refresh = icalendar.vDuration(dt.timedelta(minutes=refresh_minutes))
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", refresh.to_ical().decode())
    for invite in invites:
        for event in events(invite, now, people=False):
            calendar.add_component(event)
    return _finish(calendar, [i.series for i in invites])


def decline_counter(
    invite: Invite, attendee: Attendee, now: dt.datetime, occurrence: dt.datetime | None = None
) -> bytes:
    """METHOD:DECLINECOUNTER: the organizer keeps the time the attendee countered."""
    calendar = _calendar("DECLINECOUNTER")
    event = icalendar.Event()
    event.add("UID", invite.uid)
    event.add("SEQUENCE", invite.sequence)
    event.add("DTSTAMP", as_utc(now))
    event.add("ORGANIZER", _address(invite.organizer, organizer=True))
    event.add("ATTENDEE", _address(attendee))
    if occurrence is not None:
        event.add("RECURRENCE-ID", as_utc(occurrence).astimezone(invite.series.zone))
    calendar.add_component(event)
    return _finish(calendar, [invite.series])
