"""Shapes of a proposal's handling: attachments, the unit's reply, progress reports,
and evaluations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from server.directory.schemas import Id
from server.i18n import _
from server.names import one_line
from server.proposals import files
from server.proposals.models import EvaluationKind, ReplyClass
from server.shapes import Day, FieldProblem, OutShape, QueryShape, Shape

HANDLING_VERDICTS = ("satisfied", "basically_satisfied", "unsatisfied")  # 满意/基本满意/不满意
QUALITY_VERDICTS = ("high", "medium", "low")  # 提案质量 高/中/低
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Comment = Annotated[str, StringConstraints(max_length=2000)]


class FileTypeOut(OutShape):
    """A kind of file a proposal takes: its media type and the extensions that fit it."""

    media_type: str
    words: str
    extensions: list[str]


class AttachmentRulesOut(OutShape):
    """What a proposal's file may be, to tell people before they upload one."""

    max_bytes: int
    max_name_bytes: int
    types: list[FileTypeOut]


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


def _file_name(name: str) -> str:
    reason = files.name_problem(name)
    if reason is not None:
        raise ValueError(reason)
    return name


class AttachmentQuery(QueryShape):
    """The file's name, as people should see it."""

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=200), AfterValidator(_file_name)
    ]


ReplyClassName = Literal["A", "B", "C", "D"]
MAX_SUGGESTIONS = 50  # suggestions of one proposal, so items of one reply


class ReplyItemIn(Shape):
    """The answer to one suggestion: its 1-based number, the class, what is done or promised,
    and for class B the date it is promised by."""

    suggestion: Annotated[int, Field(ge=1, le=MAX_SUGGESTIONS)]
    reply_class: ReplyClassName = Field(alias="class")
    text: Annotated[str, StringConstraints(max_length=5000)] = ""
    due: Day | None = None

    @model_validator(mode="after")
    def _b_has_its_commitment(self) -> ReplyItemIn:
        if self.reply_class == "B":
            if not self.text:
                raise FieldProblem("text", _("class B needs the commitment: what will be done"))
            if self.due is None:
                raise FieldProblem("due", _("class B needs the date it is promised by"))
        elif self.due is not None:
            raise FieldProblem("due", _("only class B items take a due date"))
        return self


class ReplyIn(Shape):
    """The unit's formal reply: text, one item per suggestion of the proposal (when it lists
    suggestions), and files uploaded to the proposal beforehand (the reply letter)."""

    text: Text
    items: Annotated[list[ReplyItemIn], Field(max_length=MAX_SUGGESTIONS)] = []
    attachment_ids: Annotated[list[Id], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _each_suggestion_once(self) -> ReplyIn:
        seen: set[int] = set()
        for i, item in enumerate(self.items):
            if item.suggestion in seen:
                raise FieldProblem(
                    f"items.{i}.suggestion",
                    _("suggestion {n} is answered twice", n=item.suggestion),
                )
            seen.add(item.suggestion)
        return self


class ReplyItemOut(OutShape):
    """One suggestion's answer in a reply."""

    # Read from the row's ``reply_class``, written as ``class`` (a Python keyword).
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, serialize_by_alias=True)

    suggestion: int
    reply_class: ReplyClass = Field(alias="class")
    text: str
    due: dt.date | None


class ReplyOut(OutShape):
    """A reply of one handling round, with its items by suggestion."""

    id: int
    proposal_id: int
    round: int
    unit_id: int | None
    text: str
    items: list[ReplyItemOut] = []
    attachments: list[AttachmentOut]
    by_id: int
    at: dt.datetime


class OpinionIn(Shape):
    """A co-handling unit's opinion for the lead unit, with files uploaded beforehand."""

    text: Text
    attachment_ids: Annotated[list[Id], Field(max_length=20)] = []


class OpinionOut(OutShape):
    """A co-handling unit's opinion."""

    id: int
    proposal_id: int
    round: int
    unit_id: int
    unit_name: str = ""
    text: str
    attachments: list[AttachmentOut]
    by_id: int
    at: dt.datetime


@dataclass(frozen=True)
class Commitment:
    """A class-B item of a reply: what the unit promised, by when."""

    suggestion: int
    text: str
    due: dt.date


@dataclass(frozen=True)
class ReplyGiven:
    """A unit's reply was stored: what hooks of the floors above (follow-ups, notifications)
    are told, inside the reply's transaction."""

    proposal_id: int
    number: str
    title: str
    round: int
    reply_id: int
    lead_unit_id: int | None
    by_id: int
    at: dt.datetime
    commitments: tuple[Commitment, ...]


class OnReply(Protocol):
    """A hook run in the reply's transaction; what it raises undoes the reply."""

    async def __call__(self, db: AsyncSession, event: ReplyGiven) -> None: ...


class ProgressIn(Shape):
    """A progress report: where handling stands."""

    milestone: Annotated[str, StringConstraints(min_length=1, max_length=200), one_line]
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


class CriterionScore(Shape):
    """A score for one of the staff's criteria (from 0 to the criterion's ``max``)."""

    criterion_id: Id
    score: Annotated[int, Field(ge=0, le=1000)]


# Optional: without scores an evaluation is its verdict alone, as before criteria existed; with
# them, every criterion of the kind is scored once (the pages always ask for them).
Scores = Annotated[list[CriterionScore], Field(max_length=50)] | None


class EvaluationIn(Shape):
    """The proposer's (or, when staff allow it, a co-signer's) verdict on the handling, with
    scores against the staff's criteria when they have defined some."""

    verdict: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    comment: Comment = ""
    scores: Scores = None


class QualityIn(Shape):
    """The unit's rating of the proposal's quality, with scores against the criteria."""

    verdict: Literal["high", "medium", "low"]
    comment: Comment = ""
    scores: Scores = None


class ScoreOut(OutShape):
    """A criterion's score, with the criterion as it was when scored."""

    criterion_id: int
    name: str
    weight: int
    max: int
    score: int


class EvaluationOut(OutShape):
    """One evaluation of one round; ``score`` is the weighted total out of 100."""

    id: int
    proposal_id: int
    round: int
    kind: EvaluationKind
    verdict: str
    comment: str
    scores: list[ScoreOut] | None = None
    score: float | None = None
    as_cosigner: bool = False
    by_id: int
    at: dt.datetime


CriterionName = Annotated[str, StringConstraints(min_length=1, max_length=100), one_line]


class CriterionIn(Shape):
    """A criterion of the checklist: its name, weight and highest score."""

    name: CriterionName
    weight: Annotated[int, Field(ge=1, le=100)]
    max: Annotated[int, Field(ge=1, le=100)]


Checklist = Annotated[list[CriterionIn], Field(max_length=20)]


class EvaluationSettingsIn(Shape):
    """The whole evaluation setup, replaced at once: the criteria of the proposer's evaluation
    of the handling, those of the unit's rating of the proposal, and whether co-signers
    evaluate too."""

    handling: Checklist = []
    quality: Checklist = []
    cosigners_evaluate: bool = False

    @model_validator(mode="after")
    def _names_differ(self) -> EvaluationSettingsIn:
        for kind in ("handling", "quality"):
            names = [c.name for c in getattr(self, kind)]
            for i, name in enumerate(names):
                if name in names[:i]:
                    raise FieldProblem(f"{kind}.{i}.name", _("names the same criterion twice"))
        return self


class CriterionOut(OutShape):
    """A criterion to score (``criterion_id`` in a score is its ``id``)."""

    id: int
    name: str
    weight: int
    max: int


class EvaluationSettingsOut(OutShape):
    """The evaluation setup: criteria by kind, and whether co-signers evaluate."""

    handling: list[CriterionOut]
    quality: list[CriterionOut]
    cosigners_evaluate: bool
    updated_at: dt.datetime | None


class HandlingOut(OutShape):
    """Everything handed in on a proposal: replies, progress, evaluations, files."""

    proposal_id: int
    round: int
    replies: list[ReplyOut]
    # Co-handling units' opinions: for staff, leaders and the proposal's units only.
    opinions: list[OpinionOut] = []
    progress: list[ProgressOut]
    evaluations: list[EvaluationOut]
    attachments: list[AttachmentOut]
