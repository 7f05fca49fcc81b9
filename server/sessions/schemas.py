"""Request and response shapes of the session API, with the rules a session must keep."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from scheduling.recurrence import RecurrenceError, Series, occurrences
from server.directory.schemas import Id
from server.i18n import _, marked
from server.names import one_line
from server.sessions.models import (
    MODE_WORDS,
    Attendance,
    Kind,
    LobbyPolicy,
    Mode,
    ParticipantRole,
    RecordingPolicy,
    Rsvp,
    SessionStatus,
    Stage,
    Visibility,
)
from server.shapes import FieldProblem, Instant, OutShape, QueryShape, Shape, known_timezones

MAX_DURATION = dt.timedelta(hours=24)
Title = Annotated[str, StringConstraints(min_length=1, max_length=200), one_line]
Topic = Annotated[str, StringConstraints(max_length=2000)]


def check_timezone(name: str) -> str:
    """An IANA zone name, or a ValueError a person can act on."""
    if name not in known_timezones():
        raise ValueError(
            _("unknown time zone {name}; use an IANA name like Asia/Shanghai", name=repr(name))
        )
    return name


TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_timezone)
]


class ParticipantIn(Shape):
    """A person invited to a session, with their role and how they attend."""

    person_id: Id
    role: ParticipantRole
    attendance: Attendance | None = None


class AgendaItemIn(Shape):
    """One agenda item."""

    title: Title
    proposal_id: Id | None = None
    presenter_id: Id | None = None
    planned_minutes: Annotated[int, Field(ge=1, le=600)] | None = None


class RecurrenceIn(Shape):
    """A repeating session (quarterly talks): an RFC 5545 RRULE that ends, and extra dates."""

    rrule: Annotated[str, StringConstraints(min_length=1, max_length=500), one_line]
    rdates: Annotated[list[Instant], Field(max_length=50)] = []


class SessionSpec(Shape):
    """Everything that describes a session, checked as a whole."""

    kind: Kind
    mode: Mode
    title: Title
    topic: Topic | None = None
    starts_at: Instant
    ends_at: Instant
    timezone: TimeZoneName | None = None
    venue_id: Id | None = None
    proposal_ids: Annotated[list[Id], Field(max_length=50)] = []
    stage: Stage | None = None
    visibility: Visibility = Visibility.PRIVATE
    # None: the kind's template decides (GET /api/session-templates).
    lobby: LobbyPolicy | None = None
    recording: RecordingPolicy | None = None
    participants: Annotated[list[ParticipantIn], Field(max_length=500)] = []
    agenda: Annotated[list[AgendaItemIn], Field(max_length=100)] = []
    recurrence: RecurrenceIn | None = None

    @model_validator(mode="after")
    def _rules(self) -> SessionSpec:
        for rule in (_times, _venue, _stage, _participants, _agenda, _recurrence):
            rule(self)
        return self


def _times(spec: SessionSpec) -> None:
    if spec.ends_at <= spec.starts_at:
        raise FieldProblem("ends_at", _("must be after starts_at"))
    if spec.ends_at - spec.starts_at > MAX_DURATION:
        raise FieldProblem("ends_at", _("a session lasts at most 24 hours; split longer events"))


def _venue(spec: SessionSpec) -> None:
    if spec.mode is not Mode.REMOTE and spec.venue_id is None:
        raise FieldProblem(
            "venue_id",
            _(
                "required for a session held {mode} (only remote ones have none)",
                mode=MODE_WORDS[spec.mode],
            ),
        )


def _stage(spec: SessionSpec) -> None:
    if spec.kind is Kind.HANDLING and spec.stage is None:
        raise FieldProblem(
            "stage", _("before, during or after is required for a handling consultation")
        )
    if spec.kind is not Kind.HANDLING and spec.stage is not None:
        raise FieldProblem("stage", _("applies only to handling consultations; leave it out"))


def _participants(spec: SessionSpec) -> None:
    seen: set[int] = set()
    for i, p in enumerate(spec.participants):
        if p.person_id in seen:
            raise FieldProblem(
                f"participants.{i}.person_id",
                _("person {person_id} is listed twice", person_id=p.person_id),
            )
        seen.add(p.person_id)
        if spec.mode is Mode.REMOTE and p.attendance is Attendance.IN_PERSON:
            raise FieldProblem(
                f"participants.{i}.attendance", _("a remote session has no in-person attendance")
            )
        if spec.mode is Mode.IN_PERSON and p.attendance is Attendance.REMOTE:
            raise FieldProblem(
                f"participants.{i}.attendance", _("use mode hybrid to let someone attend remotely")
            )
    if len(set(spec.proposal_ids)) != len(spec.proposal_ids):
        raise FieldProblem("proposal_ids", _("lists the same proposal twice"))


def _agenda(spec: SessionSpec) -> None:
    people = {p.person_id for p in spec.participants}
    for i, item in enumerate(spec.agenda):
        if item.proposal_id is not None and item.proposal_id not in spec.proposal_ids:
            raise FieldProblem(
                f"agenda.{i}.proposal_id",
                _(
                    "proposal {proposal_id} is not in proposal_ids; link it first",
                    proposal_id=item.proposal_id,
                ),
            )
        if item.presenter_id is not None and item.presenter_id not in people:
            raise FieldProblem(
                f"agenda.{i}.presenter_id",
                _("person {presenter_id} is not a participant", presenter_id=item.presenter_id),
            )


def _recurrence(spec: SessionSpec) -> None:
    if spec.recurrence is None:
        return
    series = Series(
        start=spec.starts_at,
        end=spec.ends_at,
        timezone=spec.timezone or "UTC",
        rrule=spec.recurrence.rrule,
        rdates=tuple(spec.recurrence.rdates),
    )
    try:
        occurrences(series)
    except RecurrenceError as exc:
        raise FieldProblem("recurrence.rrule", marked(exc)) from None


class SessionCreate(SessionSpec):
    """A new session. Without a ``host`` participant, the creator becomes the host.

    Conflicts for any participant or the venue answer 409 unless ``allow_conflicts`` is true.
    """

    allow_conflicts: bool = False


class SessionPatch(Shape):
    """Fields to change; lists (participants, agenda, proposal_ids) are replaced whole."""

    kind: Kind | None = None
    mode: Mode | None = None
    title: Title | None = None
    topic: Topic | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    timezone: TimeZoneName | None = None
    venue_id: Id | None = None
    proposal_ids: Annotated[list[Id], Field(max_length=50)] | None = None
    stage: Stage | None = None
    visibility: Visibility | None = None
    lobby: LobbyPolicy | None = None
    recording: RecordingPolicy | None = None
    participants: Annotated[list[ParticipantIn], Field(max_length=500)] | None = None
    agenda: Annotated[list[AgendaItemIn], Field(max_length=100)] | None = None
    recurrence: RecurrenceIn | None = None
    allow_conflicts: bool = False

    @model_validator(mode="before")
    @classmethod
    def _status_has_its_own_routes(cls, data: Any) -> Any:
        if isinstance(data, dict) and "status" in data:
            raise FieldProblem(
                "status", _("cannot be patched; sessions start and end in their room")
            )
        return data

    @model_validator(mode="after")
    def _required_stay_set(self) -> SessionPatch:
        required = ("kind", "mode", "title", "starts_at", "ends_at", "timezone", "visibility")
        for name in (*required, "lobby", "recording"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise FieldProblem(name, _("cannot be null"))
        return self


class SessionQuery(QueryShape):
    """Filters for the session list; ``from``/``to`` select sessions overlapping that window."""

    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None
    person_id: Id | None = None
    proposal_id: Id | None = None
    kind: Kind | None = None
    status: SessionStatus | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0

    @model_validator(mode="after")
    def _window(self) -> SessionQuery:
        if self.from_ and self.to and self.to <= self.from_:
            raise FieldProblem("to", _("must be after from"))
        return self


class ParticipantOut(OutShape):
    """A participant with their name and answer."""

    person_id: int
    name: str
    role: ParticipantRole
    attendance: Attendance
    rsvp: Rsvp


class AgendaItemOut(OutShape):
    """One agenda item."""

    id: int
    position: int
    title: str
    proposal_id: int | None
    presenter_id: int | None
    planned_minutes: int | None


class RecurrenceOut(OutShape):
    """The session's recurrence rule and extra dates."""

    rrule: str
    rdates: list[dt.datetime]


class SessionOut(OutShape):
    """A session with its proposals, participants and agenda; times in UTC."""

    id: int
    uid: str
    sequence: int
    kind: Kind
    mode: Mode
    title: str
    topic: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    venue_id: int | None
    proposal_ids: list[int]
    stage: Stage | None
    visibility: Visibility
    lobby: LobbyPolicy
    recording: RecordingPolicy
    status: SessionStatus
    participants: list[ParticipantOut]
    agenda: list[AgendaItemOut]
    recurrence: RecurrenceOut | None
    series_parent_id: int | None
    cancel_reason: str | None
    created_by_id: int
    created_at: dt.datetime
    updated_at: dt.datetime


class HoursIn(Shape):
    """One stretch of working hours, in the session's time zone."""

    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _order(self) -> HoursIn:
        if self.end <= self.start:
            raise FieldProblem("end", _("must be after start"))
        return self


class ConflictCheck(Shape):
    """Would this time double-book these people or this venue? (Before saving a session.)"""

    starts_at: Instant
    ends_at: Instant
    timezone: TimeZoneName | None = None
    person_ids: Annotated[list[Id], Field(max_length=500)] = []
    venue_id: Id | None = None
    session_id: Id | None = None  # the session being edited: its own booking is no clash

    @model_validator(mode="after")
    def _order(self) -> ConflictCheck:
        for name in ("starts_at", "ends_at"):
            if not 1970 <= getattr(self, name).year <= 2200:
                raise FieldProblem(name, _("must be between the years 1970 and 2200"))
        if self.ends_at <= self.starts_at:
            raise FieldProblem("ends_at", _("must be after starts_at"))
        if self.ends_at - self.starts_at > MAX_DURATION:
            raise FieldProblem("ends_at", _("a session lasts at most 24 hours"))
        return self


class SlotRequest(Shape):
    """Find free slots for these people (and venue) in a window."""

    required_ids: Annotated[list[Id], Field(min_length=1, max_length=200)]
    optional_ids: Annotated[list[Id], Field(max_length=200)] = []
    venue_id: Id | None = None
    duration_minutes: Annotated[int, Field(ge=15, le=720)]
    window_start: Instant
    window_end: Instant
    timezone: TimeZoneName | None = None
    hours: Annotated[list[HoursIn], Field(max_length=4)] | None = None
    step_minutes: Annotated[int, Field(ge=5, le=240)] = 30
    limit: Annotated[int, Field(ge=1, le=100)] = 10

    @model_validator(mode="after")
    def _window(self) -> SlotRequest:
        if self.window_end <= self.window_start:
            raise FieldProblem("window_end", _("must be after window_start"))
        if self.window_end - self.window_start > dt.timedelta(days=120):
            raise FieldProblem("window_end", _("search at most 120 days at a time"))
        return self


class RescheduleIn(Shape):
    """Move a session, or one occurrence of a series (by its original start)."""

    starts_at: Instant
    ends_at: Instant
    occurrence: Instant | None = None
    following: bool = False  # move this occurrence and every later one (a new series)
    allow_conflicts: bool = False

    @model_validator(mode="after")
    def _order(self) -> RescheduleIn:
        _times(self)  # type: ignore[arg-type]
        if self.following and self.occurrence is None:
            raise FieldProblem("occurrence", _("required with following: true"))
        return self


class CancelIn(Shape):
    """Cancel a session, or one occurrence of a series."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    occurrence: Instant | None = None


class RsvpIn(Shape):
    """A participant's answer, for the series or one occurrence."""

    answer: Literal["accepted", "declined", "tentative"]
    occurrence: Instant | None = None


class OccurrenceOut(OutShape):
    """One occurrence: identified by its original start."""

    original_start: dt.datetime
    start: dt.datetime
    end: dt.datetime
    status: Literal["scheduled", "moved", "cancelled"]


class OccurrenceList(OutShape):
    """Every occurrence of a session, in order."""

    items: list[OccurrenceOut]


class SessionList(OutShape):
    """A page of sessions by start time."""

    items: list[SessionOut]
    total: int
    limit: int
    offset: int
