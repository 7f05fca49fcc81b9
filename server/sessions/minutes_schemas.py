"""Shapes of a session's minutes (会议纪要): the content staff edit, and what the API returns."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from server.api import Day, Instant, OutShape, QueryShape, Shape
from server.directory.schemas import Id
from server.sessions.models import Attendance, Kind, MinutesStatus, Mode
from server.sessions.schemas import TimeZoneName, Title

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Entry = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]


class Attendee(Shape):
    """Someone on the attendance list, with how and when they were there."""

    name: Name
    role: Annotated[str, StringConstraints(max_length=20)] | None = None
    unit: Annotated[str, StringConstraints(max_length=100)] | None = None
    attendance: Attendance | None = None
    since: Instant | None = None
    until: Instant | None = None


class ActionItem(Shape):
    """An action item (落实事项): what, which unit owns it, by when, for which proposal."""

    text: Entry
    # The room's id for the item: its follow-up stays the same item through corrections.
    ref: Annotated[str, StringConstraints(max_length=32)] | None = None
    owner_unit_id: Id | None = None
    owner_unit: Annotated[str, StringConstraints(max_length=100)] | None = None
    due: Day | None = None
    proposal_id: Id | None = None


class MinutesItem(Shape):
    """One agenda item: its proposals, notes, decisions (议定事项), action items, speakers."""

    title: Title
    proposal_ids: Annotated[list[Id], Field(max_length=50)] = []
    notes: LongText = ""
    decisions: Annotated[list[Entry], Field(max_length=100)] = []
    actions: Annotated[list[ActionItem], Field(max_length=100)] = []
    speakers: Annotated[list[Name], Field(max_length=500)] = []


class PollResult(Shape):
    """A quick poll of the session and its result."""

    question: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    options: Annotated[list[Entry], Field(max_length=20)]
    results: list[int] | None = None


class Question(Shape):
    """A question asked in the room."""

    name: Name
    text: Entry
    answered: bool = False


class MinutesContent(Shape):
    """The minutes: 时间, 地点, 主持人, 出席, 列席, 缺席, then the items."""

    title: Title
    kind: Kind
    mode: Mode
    starts_at: Instant
    ends_at: Instant
    timezone: TimeZoneName
    place: Annotated[str, StringConstraints(max_length=300)] | None = None
    hosts: Annotated[list[Name], Field(max_length=50)] = []
    present: Annotated[list[Attendee], Field(max_length=5000)] = []
    attending: Annotated[list[Attendee], Field(max_length=5000)] = []
    absent: Annotated[list[Attendee], Field(max_length=5000)] = []
    guests: Annotated[list[Attendee], Field(max_length=5000)] = []
    summary: LongText = ""
    items: Annotated[list[MinutesItem], Field(max_length=100)] = []
    polls: Annotated[list[PollResult], Field(max_length=100)] = []
    questions: Annotated[list[Question], Field(max_length=2000)] = []


class MinutesEdit(Shape):
    """New content for draft minutes, based on the version you loaded."""

    base_version: Id
    content: MinutesContent
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class MinutesCorrection(Shape):
    """A correction of approved minutes: a new version that needs approval again."""

    base_version: Id
    content: MinutesContent
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class MinutesTransition(Shape):
    """Send draft minutes for review, back to draft, or approve them."""

    to: MinutesStatus
    base_version: Id
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class MinutesQuery(QueryShape):
    """Which version: by default the newest one you may read."""

    version: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


class MinutesOut(OutShape):
    """One version of a session's minutes."""

    session_id: int
    version: int
    status: MinutesStatus
    content: MinutesContent
    note: str | None
    author_id: int | None
    author: str | None
    created_at: dt.datetime
    approved_version: int | None  # the newest approved version, if any
    latest_version: int
    hash: str  # this version's link in the chain (exports print its start)


class MinutesVersionOut(OutShape):
    """A version in the chain (its content: ``GET …/minutes?version=N``)."""

    version: int
    status: MinutesStatus
    note: str | None
    author_id: int | None
    author: str | None
    created_at: dt.datetime
    prev_hash: str
    hash: str


class MinutesVersionList(OutShape):
    """Every version, oldest first."""

    items: list[MinutesVersionOut]


class ChainProblem(OutShape):
    """Where the chain breaks."""

    version: int
    problem: Literal["content_changed", "link_broken", "number_gap"]


class MinutesVerifyOut(OutShape):
    """Whether every stored version is as it was written."""

    ok: bool
    versions: int
    problems: list[ChainProblem]
