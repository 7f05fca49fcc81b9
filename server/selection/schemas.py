"""Request and response shapes of the selection rounds (优秀提案评选)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from server.directory.schemas import Id
from server.i18n import _
from server.names import one_line
from server.selection.models import SelectionStatus
from server.shapes import FieldProblem, OutShape, QueryShape, Shape

Year = Annotated[int, Field(ge=2000, le=2100)]
MAX_CRITERIA = 20
MAX_REVIEWERS = 50
MAX_CANDIDATES = 500


def _no_duplicates(values: list[Any], field: str) -> None:
    if len(set(values)) != len(values):
        raise FieldProblem(field, _("lists the same entry twice"))


class CriterionIn(Shape):
    """One criterion: its name, weight and highest score (scores run from 0 to ``max``)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=50), one_line]
    weight: Annotated[int, Field(ge=1, le=100)]
    max: Annotated[int, Field(ge=1, le=1000)]


class SelectionCreate(Shape):
    """A new round for a year: criteria, reviewers and candidate proposals."""

    year: Year
    title: Annotated[str, StringConstraints(min_length=1, max_length=200), one_line] | None = None
    criteria: Annotated[list[CriterionIn], Field(min_length=1, max_length=MAX_CRITERIA)]
    reviewer_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_REVIEWERS)]
    proposal_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_CANDIDATES)]

    @model_validator(mode="after")
    def _distinct(self) -> SelectionCreate:
        _no_duplicates([c.name for c in self.criteria], "criteria")
        _no_duplicates(self.reviewer_ids, "reviewer_ids")
        _no_duplicates(self.proposal_ids, "proposal_ids")
        return self


class ScoresIn(Shape):
    """A reviewer's scores of one candidate, one per criterion in the round's order."""

    proposal_id: Id
    scores: Annotated[
        list[Annotated[int, Field(ge=0, le=1000)]], Field(min_length=1, max_length=MAX_CRITERIA)
    ]


class PublishIn(Shape):
    """The chosen proposals, from the round's candidates."""

    proposal_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_CANDIDATES)]

    @model_validator(mode="after")
    def _distinct(self) -> PublishIn:
        _no_duplicates(self.proposal_ids, "proposal_ids")
        return self


class SelectionQuery(QueryShape):
    """Rounds of one year, or all."""

    year: Year | None = None


class CriterionOut(OutShape):
    name: str
    weight: int
    max: int


class ReviewerOut(OutShape):
    """A reviewer and how many candidates they have scored."""

    id: int
    name: str
    scored: int


class CandidateOut(OutShape):
    """A candidate proposal as reviewers see it, with the reader's own scores if any."""

    proposal_id: int
    number: str
    title: str
    summary: str
    category: str | None
    chosen: bool
    my_scores: list[int] | None = None


class SelectionOut(OutShape):
    """A round: criteria, reviewers with their progress, candidates."""

    id: int
    year: int
    title: str
    status: SelectionStatus
    criteria: list[CriterionOut]
    reviewers: list[ReviewerOut]
    candidates: list[CandidateOut]
    is_reviewer: bool  # the reader is assigned to score it
    created_at: dt.datetime
    published_at: dt.datetime | None


class SelectionBrief(OutShape):
    """A round in a list."""

    id: int
    year: int
    title: str
    status: SelectionStatus
    candidates: int
    reviewers: int
    is_reviewer: bool
    my_scored: int  # candidates the reader has scored (reviewers)
    created_at: dt.datetime
    published_at: dt.datetime | None


class SelectionList(OutShape):
    items: list[SelectionBrief]


class ScoreOut(OutShape):
    """A reviewer's stored scores of one candidate and their weighted score."""

    selection_id: int
    proposal_id: int
    reviewer_id: int
    scores: list[int]
    weighted: float
    at: dt.datetime


class RankingRow(OutShape):
    """One candidate's place; ``rank`` is shared by ties and null until someone scored it."""

    rank: int | None
    tied: bool
    proposal_id: int
    number: str
    title: str
    score: float | None  # 0–100, the mean weighted score of those who scored it
    criteria: list[float | None]  # the mean score per criterion
    scored_by: int
    not_scored_by: list[str]  # reviewers who have not scored it yet
    chosen: bool


class RankingOut(OutShape):
    """The round's ranking, highest first."""

    selection_id: int
    year: int
    title: str
    status: SelectionStatus
    criteria: list[CriterionOut]
    reviewers: list[ReviewerOut]
    rows: list[RankingRow]
