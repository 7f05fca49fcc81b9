"""Between stored sessions and the pure ``scheduling`` library: series, bookings, invites."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from types import MappingProxyType
from urllib.parse import urlsplit

from scheduling.intervals import Booking, Interval
from scheduling.itip import Attendee, Invite
from scheduling.recurrence import Override, Series, occurrences
from server.sessions.models import OccurrenceOverride, ParticipantRole, Rsvp, Session, SessionStatus

ROLES = {
    ParticipantRole.HOST: "CHAIR",
    ParticipantRole.GUEST: "OPT-PARTICIPANT",
}
PARTSTAT = {
    Rsvp.NEEDS_ACTION: "NEEDS-ACTION",
    Rsvp.ACCEPTED: "ACCEPTED",
    Rsvp.DECLINED: "DECLINED",
    Rsvp.TENTATIVE: "TENTATIVE",
}
KIND_NAMES = {
    "handling": "办理协商",
    "quarterly_talk": "季谈会",
    "livelihood_hall": "民生议政厅",
    "micro": "微协商",
}


def new_uid(public_url: str) -> str:
    """A globally unique, never-reused iCalendar UID."""
    return f"{uuid.uuid4()}@{urlsplit(public_url).hostname or 'xieshang'}"


def parse_instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def series_of(session: Session, overrides: Sequence[OccurrenceOverride] = ()) -> Series:
    """The session as a (possibly one-occurrence) series."""
    return Series(
        start=session.starts_at,
        end=session.ends_at,
        timezone=session.timezone,
        rrule=session.rrule,
        rdates=tuple(parse_instant(r) for r in session.rdates or []),
        exdates=frozenset(parse_instant(e) for e in session.exdates or []),
        overrides=MappingProxyType(
            {o.original_start: Override(o.starts_at, o.ends_at) for o in overrides}
        ),
    )


def last_end(series: Series) -> dt.datetime:
    """The end of the series' last occurrence (cancelled ones included)."""
    return max(o.end for o in occurrences(series))


def bookings_of(
    session: Session, series: Series, people: frozenset[int], window: Interval | None = None
) -> list[Booking]:
    """One booking per live occurrence (cancelled sessions and occurrences book nothing)."""
    if session.status is SessionStatus.CANCELLED:
        return []
    return [
        Booking(
            key=(session.id, occ.original_start),
            interval=occ.interval,
            people=people,
            venue_id=session.venue_id,
            label=session.title,
        )
        for occ in occurrences(series, window)
        if occ.status != "cancelled"
    ]


def attendee(name: str, email: str, role: ParticipantRole, rsvp: Rsvp) -> Attendee:
    """A participant as an iCalendar ATTENDEE."""
    return Attendee(
        email=email,
        name=name,
        role=ROLES.get(role, "REQ-PARTICIPANT"),
        partstat=PARTSTAT[rsvp],  # type: ignore[arg-type]
        rsvp=True,
    )


def description(session: Session, agenda: Sequence[str], join_url: str) -> str:
    """The invitation text: kind, topic, agenda and how to join."""
    lines = [f"【{KIND_NAMES.get(session.kind.value, session.kind.value)}】{session.title}"]
    if session.topic:
        lines.append(f"议题：{session.topic}")
    if agenda:
        lines.append("议程：")
        lines.extend(f"{i}. {title}" for i, title in enumerate(agenda, 1))
    lines.append(f"参会链接：{join_url}")
    return "\n".join(lines)


def invite_of(
    session: Session,
    series: Series,
    *,
    organizer: Attendee,
    attendees: Sequence[Attendee],
    location: str | None,
    agenda: Sequence[str],
    join_url: str,
) -> Invite:
    """The iTIP view of a session."""
    status = "CANCELLED" if session.status is SessionStatus.CANCELLED else "CONFIRMED"
    return Invite(
        uid=session.uid,
        sequence=session.sequence,
        summary=session.title,
        series=series,
        organizer=organizer,
        attendees=tuple(attendees),
        description=description(session, agenda, join_url),
        location=location or ("线上（屏对屏）" if session.mode.value == "remote" else None),
        url=join_url,
        status=status,  # type: ignore[arg-type]
        categories=(KIND_NAMES.get(session.kind.value, session.kind.value),),
    )
