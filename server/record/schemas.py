"""Shapes of the record: a session's minutes (会议纪要), the content staff edit and what the API
returns, and the follow-ups (督办) of their action items."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from server.directory.schemas import Id
from server.i18n import _
from server.names import one_line
from server.record.models import (
    FollowUpStatus,
    MinutesStatus,
    SupervisionItemKind,
    SupervisionReportStatus,
)
from server.sessions.models import Attendance, Kind, Mode
from server.sessions.schemas import TimeZoneName
from server.shapes import Day, FieldProblem, Instant, OutShape, QueryShape, Shape

# Minutes carry what the session and its room had, older records included, and are read back
# through these shapes: they keep the limits but not the one-line rule of new names and titles.
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
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


class SpeakingTime(Shape):
    """One person's time with the floor (on an item, or in the whole session)."""

    who: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    name: Name
    seconds: Annotated[int, Field(ge=0, le=10**7)]


class Ballot(Shape):
    """Who voted what, in a named (open) ballot."""

    name: Name
    choices: Annotated[list[Annotated[int, Field(ge=0, le=19)]], Field(max_length=20)]


class MinutesItem(Shape):
    """One agenda item: its proposals, notes, decisions (议定事项), action items, speakers."""

    title: Title
    proposal_ids: Annotated[list[Id], Field(max_length=50)] = []
    notes: LongText = ""
    decisions: Annotated[list[Entry], Field(max_length=100)] = []
    actions: Annotated[list[ActionItem], Field(max_length=100)] = []
    speakers: Annotated[list[Name], Field(max_length=500)] = []
    speaking: Annotated[list[SpeakingTime], Field(max_length=5000)] = []


class PollResult(Shape):
    """A poll of the session and its result: 应到 (eligible) / 实到 (present) / 投票 (voted),
    whether the quorum (more than half of the eligible present) and the threshold were met;
    a named ballot lists who voted what, a secret one never does."""

    question: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    options: Annotated[list[Entry], Field(max_length=20)]
    results: list[int] | None = None
    threshold: Literal["none", "majority_of_votes", "majority_of_present", "two_thirds"] = "none"
    secret: bool = False
    eligible: Annotated[int, Field(ge=0)] | None = None
    present: Annotated[int, Field(ge=0)] | None = None
    voted: Annotated[int, Field(ge=0)] | None = None
    quorum_met: bool | None = None
    passed: bool | None = None
    ballots: Annotated[list[Ballot], Field(max_length=5000)] = []


class Question(Shape):
    """A question asked in the room."""

    name: Name
    text: Entry
    answered: bool = False


class Consent(Shape):
    """Someone's answer to the recording notice (录制知情确认) and when they gave it."""

    who: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    name: Name
    answer: Literal["accepted", "declined"]
    at: Instant


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
    speaking: Annotated[list[SpeakingTime], Field(max_length=5000)] = []
    polls: Annotated[list[PollResult], Field(max_length=100)] = []
    questions: Annotated[list[Question], Field(max_length=2000)] = []
    consent: Annotated[list[Consent], Field(max_length=5000)] = []


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


# ---------------------------------------------------------------- follow-ups


class FollowUpOut(OutShape):
    """An action item being followed up (督办): from a session's minutes, or (no session) a
    unit's class-B reply commitment."""

    id: int
    session_id: int | None  # None when it follows up a leader's instruction
    instruction_id: int | None = None  # the leader's instruction (批示) it follows up
    proposal_id: int | None
    owner_unit_id: int | None
    text: str
    due: dt.date | None
    status: FollowUpStatus
    overdue: bool
    note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    done_at: dt.datetime | None
    reminded_at: dt.datetime | None


class FollowUpQuery(QueryShape):
    """Filters: overdue (open and past due), status, unit, proposal."""

    overdue: bool | None = None
    status: FollowUpStatus | None = None
    unit_id: Id | None = None
    proposal_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0


class FollowUpList(OutShape):
    """A page of follow-ups, soonest due first."""

    items: list[FollowUpOut]
    total: int


class FollowUpPatch(Shape):
    """The owner unit (or staff) reports the item done, or staff cancel it."""

    status: FollowUpStatus
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


class RemindOut(OutShape):
    """How many reminder emails were queued."""

    reminded: int  # follow-ups and overdue replies reminded
    follow_up_ids: list[int]
    reply_overdue_ids: list[int] = []  # proposals whose overdue reply was reminded


# ---------------------------------------------------------------- instructions (批示)


class InstructionIn(Shape):
    """A leader's instruction on a proposal; with an owner unit (and a due day) it becomes a
    follow-up. Staff recording a leader's written instruction name the leader."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    owner_unit_id: Id | None = None
    due: Day | None = None
    leader_id: Id | None = None  # staff only: whose instruction it is

    @model_validator(mode="after")
    def _due_needs_an_owner(self) -> InstructionIn:
        if self.due is not None and self.owner_unit_id is None:
            raise FieldProblem("due", _("a due day needs an owner unit to meet it"))
        if not self.text.strip():
            raise FieldProblem("text", _("cannot be blank"))
        return self


class InstructionOut(OutShape):
    """A leader's instruction and the follow-up it became, if any."""

    id: int
    proposal_id: int
    leader_id: int
    leader: str
    recorded_by_id: int
    text: str
    owner_unit_id: int | None
    due: dt.date | None
    follow_up_id: int | None
    at: dt.datetime


class InstructionList(OutShape):
    """A proposal's instructions, oldest first."""

    items: list[InstructionOut]


# ---------------------------------------------------------------- supervision rounds (两轮督办)


class SupervisionRoundIn(Shape):
    """A supervision round to open now: its name (年中督办), year, and the days it runs (units
    report by ``ends_on``)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100), one_line]
    year: Annotated[int, Field(ge=2000, le=2100)]
    starts_on: Day
    ends_on: Day

    @model_validator(mode="after")
    def _in_order(self) -> SupervisionRoundIn:
        if self.ends_on < self.starts_on:
            raise FieldProblem("ends_on", _("is before starts_on"))
        return self


class SupervisionRoundPatch(Shape):
    """Close a round (no more reports) or open it again (staff)."""

    closed: bool


class SupervisionReportIn(Shape):
    """The owner unit's report on one item of a round."""

    status: SupervisionReportStatus
    text: Annotated[str, StringConstraints(min_length=1, max_length=5000)]


class SupervisionItemOut(OutShape):
    """One item of a round as it stood at the opening, and its report."""

    id: int
    round_id: int
    kind: SupervisionItemKind
    ref_id: int  # the follow-up's id, or the proposal's for an overdue reply
    proposal_id: int | None
    proposal: str | None  # number and title
    owner_unit_id: int | None
    owner_unit: str | None
    text: str
    due: dt.date | None
    report_status: SupervisionReportStatus | None
    report_text: str | None
    reported_by_id: int | None
    reported_at: dt.datetime | None


class SupervisionProgress(OutShape):
    """How far the round's reports are."""

    items: int
    reported: int
    done: int
    in_progress: int
    delayed: int


class SupervisionRoundOut(OutShape):
    """A round with its progress; ``items`` in its detail (a unit sees only its own)."""

    id: int
    name: str
    year: int
    starts_on: dt.date
    ends_on: dt.date
    closed: bool
    closed_at: dt.datetime | None
    created_at: dt.datetime
    progress: SupervisionProgress
    items: list[SupervisionItemOut] | None = None


class SupervisionRoundList(OutShape):
    """Rounds, newest first."""

    items: list[SupervisionRoundOut]


class SupervisionRoundQuery(QueryShape):
    """Rounds of one year, or all."""

    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
