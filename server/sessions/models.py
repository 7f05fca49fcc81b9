"""Tables of consultation sessions: the session, its proposals, participants and agenda."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, enum_column
from server.i18n import _


class Kind(StrEnum):
    """What sort of consultation a session is."""

    HANDLING = "handling"  # 办理协商
    QUARTERLY_TALK = "quarterly_talk"  # 季谈会
    LIVELIHOOD_HALL = "livelihood_hall"  # 民生议政厅
    MICRO = "micro"  # 微协商


class Mode(StrEnum):
    """Where participants are: 面对面 / 屏对屏 / 混合."""

    IN_PERSON = "in_person"
    REMOTE = "remote"
    HYBRID = "hybrid"


class Stage(StrEnum):
    """Consultation stage of a handling session: 办前 / 办中 / 办后."""

    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


class Visibility(StrEnum):
    """Public sessions can be seen and joined by guests."""

    PRIVATE = "private"
    PUBLIC = "public"


# Whether guests of a public session wait for a host (``host_admits``) or enter at once; whether
# the room is recorded (``ask``: the host is asked when the session starts). The kind's template
# gives the default (``server/sessions/templates.py``).
LobbyPolicy = Literal["none", "host_admits"]
RecordingPolicy = Literal["off", "ask", "on"]


class SessionStatus(StrEnum):
    """Where a session is in its life."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


# Each status in words, for messages (the web shows the same words).
STATUS_WORDS = {
    SessionStatus.SCHEDULED: _("scheduled"),
    SessionStatus.LIVE: _("live"),
    SessionStatus.ENDED: _("ended"),
    SessionStatus.CANCELLED: _("cancelled"),
}


class ParticipantRole(StrEnum):
    """The part a person plays in one session."""

    HOST = "host"
    PROPOSER = "proposer"
    UNIT = "unit"
    LEADER = "leader"
    MEMBER = "member"
    GUEST = "guest"


class Attendance(StrEnum):
    """How a participant attends."""

    IN_PERSON = "in_person"
    REMOTE = "remote"


class Rsvp(StrEnum):
    """A participant's answer to the invitation (iCalendar PARTSTAT)."""

    NEEDS_ACTION = "needs_action"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"


class Session(Base):
    """A consultation session (not a database session: that one is called ``db``)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "kind"), index=True)
    mode: Mapped[Mode] = mapped_column(enum_column(Mode, "mode"))
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), index=True)
    stage: Mapped[Stage | None] = mapped_column(enum_column(Stage, "stage"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "visibility"))
    lobby: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    recording: Mapped[str] = mapped_column(String(8), default="off", server_default="off")
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, "session_status"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Calendar identity: one UID per session (series), never regenerated; SEQUENCE only rises.
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Recurrence (quarterly talks): an RRULE that ends, extra dates, cancelled occurrences.
    rrule: Mapped[str | None] = mapped_column(String(500))
    # End of the last occurrence (ends_at for a single session): finds series in a window.
    until_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    rdates: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    series_parent_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    conflicts_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    conflicts_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OccurrenceOverride(Base):
    """One occurrence of a series moved to another time (RECURRENCE-ID = original start)."""

    __tablename__ = "occurrence_overrides"
    __table_args__ = (UniqueConstraint("session_id", "original_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    original_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OccurrenceRsvp(Base):
    """A participant's answer for one occurrence of a series (a REPLY with RECURRENCE-ID)."""

    __tablename__ = "occurrence_rsvps"
    __table_args__ = (UniqueConstraint("participant_id", "original_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    original_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    rsvp: Mapped[Rsvp] = mapped_column(enum_column(Rsvp, "rsvp"))
    sequence: Mapped[int] = mapped_column(Integer)
    stamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BusyBlock(Base):
    """Busy time a person uploaded from their own calendar."""

    __tablename__ = "busy_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CounterState(StrEnum):
    """Where an attendee's proposal of another time is."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


# Codes in words, for messages (the web shows the same words).
MODE_WORDS = {Mode.IN_PERSON: _("in person"), Mode.REMOTE: _("remote"), Mode.HYBRID: _("hybrid")}
PARTICIPANT_ROLE_WORDS = {
    ParticipantRole.HOST: _("host"),
    ParticipantRole.PROPOSER: _("proposer"),
    ParticipantRole.UNIT: _("undertaking unit"),
    ParticipantRole.LEADER: _("leader"),
    ParticipantRole.MEMBER: _("member"),
    ParticipantRole.GUEST: _("guest"),
}
COUNTER_STATE_WORDS = {
    CounterState.OPEN: _("open"),
    CounterState.ACCEPTED: _("accepted"),
    CounterState.DECLINED: _("declined"),
}


class CounterProposal(Base):
    """An attendee proposes another time (iTIP COUNTER, or from the web)."""

    __tablename__ = "counter_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    occurrence: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(String(1000))
    sequence: Mapped[int] = mapped_column(Integer)
    state: Mapped[CounterState] = mapped_column(enum_column(CounterState, "counter_state"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WorkdayCalendar(Base):
    """One year's working-day notice added by staff (days off and 调休 working days)."""

    __tablename__ = "workday_calendars"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    days_off: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    extra_workdays: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(300))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


session_proposals = Table(
    "session_proposals",
    Base.metadata,
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id"), primary_key=True, index=True),
)


class Participant(Base):
    """A person's place in a session."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole, "participant_role"))
    attendance: Mapped[Attendance] = mapped_column(enum_column(Attendance, "attendance"))
    rsvp: Mapped[Rsvp] = mapped_column(enum_column(Rsvp, "rsvp"))
    rsvp_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The SEQUENCE the answer referred to: an older REPLY never overwrites a newer one.
    rsvp_sequence: Mapped[int | None] = mapped_column(Integer)


class AgendaItem(Base):
    """One ordered item of a session's agenda."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    planned_minutes: Mapped[int | None] = mapped_column(Integer)
