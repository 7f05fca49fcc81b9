"""Shapes of a proposal's handling: attachments, the unit's reply, progress reports,
evaluations and follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from server.api import OutShape, QueryShape, Shape
from server.directory.schemas import Id
from server.proposals.models import EvaluationKind, FollowUpStatus

HANDLING_VERDICTS = ("satisfied", "basically_satisfied", "unsatisfied")  # 满意/基本满意/不满意
QUALITY_VERDICTS = ("high", "medium", "low")  # 提案质量 高/中/低
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Comment = Annotated[str, StringConstraints(max_length=2000)]


class AttachmentOut(OutShape):
    """A stored file (download it from ``GET /api/attachments/{id}``)."""

    id: int
    proposal_id: int
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by_id: int
    created_at: dt.datetime


class AttachmentQuery(QueryShape):
    """The file's name, as people should see it."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ReplyIn(Shape):
    """The unit's formal reply: text, and files uploaded to the proposal beforehand."""

    text: Text
    attachment_ids: Annotated[list[Id], Field(max_length=20)] = []


class ReplyOut(OutShape):
    """A reply of one handling round."""

    id: int
    proposal_id: int
    round: int
    unit_id: int | None
    text: str
    attachments: list[AttachmentOut]
    by_id: int
    at: dt.datetime


class ProgressIn(Shape):
    """A progress report: where handling stands."""

    milestone: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    percent: Annotated[int, Field(ge=0, le=100)]
    text: Annotated[str, StringConstraints(max_length=5000)] = ""


class ProgressOut(OutShape):
    """A progress report."""

    id: int
    proposal_id: int
    unit_id: int | None
    milestone: str
    percent: int
    text: str
    by_id: int
    at: dt.datetime


class EvaluationIn(Shape):
    """The proposer's verdict on the handling."""

    verdict: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    comment: Comment = ""


class QualityIn(Shape):
    """The unit's rating of the proposal's quality."""

    verdict: Literal["high", "medium", "low"]
    comment: Comment = ""


class EvaluationOut(OutShape):
    """One evaluation of one round."""

    id: int
    proposal_id: int
    round: int
    kind: EvaluationKind
    verdict: str
    comment: str
    by_id: int
    at: dt.datetime


class HandlingOut(OutShape):
    """Everything handed in on a proposal: replies, progress, evaluations, files."""

    proposal_id: int
    round: int
    replies: list[ReplyOut]
    progress: list[ProgressOut]
    evaluations: list[EvaluationOut]
    attachments: list[AttachmentOut]


class FollowUpOut(OutShape):
    """An action item being followed up (督办)."""

    id: int
    session_id: int
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

    reminded: int
    follow_up_ids: list[int]
