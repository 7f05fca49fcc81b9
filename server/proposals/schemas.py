"""Request and response shapes of the proposal API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from server.directory.schemas import Id, PersonBrief
from server.i18n import _
from server.names import one_line
from server.proposals.lifecycle import RejectReason, Status
from server.shapes import FieldProblem, OutShape, QueryShape, Shape, pattern

Number = Annotated[
    str,
    pattern(r"[0-9]{4}-[0-9]{4}", _("a proposal number like 2026-0123 (year, dash, four digits)")),
]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200), one_line]
Summary = Annotated[str, StringConstraints(max_length=20_000)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=50), one_line]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100), one_line]
Note = Annotated[str, StringConstraints(max_length=500)]
Situation = Annotated[str, StringConstraints(max_length=20_000)]
Suggestion = Annotated[str, StringConstraints(min_length=1, max_length=5_000)]
Suggestions = Annotated[list[Suggestion], Field(max_length=50)]


def _no_duplicates(values: list[int], field: str) -> None:
    if len(set(values)) != len(values):
        raise FieldProblem(field, _("lists the same id twice"))


class _ProposalFields(Shape):
    proposer_ids: Annotated[list[Id], Field(max_length=50)] = []
    co_unit_ids: Annotated[list[Id], Field(max_length=20)] = []
    lead_unit_id: Id | None = None

    @model_validator(mode="after")
    def _consistent_ids(self) -> Any:
        _no_duplicates(self.proposer_ids, "proposer_ids")
        _no_duplicates(self.co_unit_ids, "co_unit_ids")
        if self.lead_unit_id is not None and self.lead_unit_id in self.co_unit_ids:
            raise FieldProblem("co_unit_ids", _("the lead unit cannot also be a co-handling unit"))
        return self


class ProposalCreate(_ProposalFields):
    """A new proposal: registered by staff (submitted, with its number and proposers), or a
    member's draft (no number, proposer: the author)."""

    number: Number | None = None
    title: Title
    summary: Summary = ""
    situation: Situation = ""
    suggestions: Suggestions = []
    public: bool | None = None
    category: Category | None = None
    key: bool = False
    group_proposer: GroupName | None = None
    bundle_lead_id: Id | None = None
    supervisor_id: Id | None = None  # a leader supervising a key proposal (督办)
    leader_id: Id | None = None  # a leader leading a key proposal (领办)


class ProposalPatch(_ProposalFields):
    """Fields to change; absent fields stay, ``null`` clears an optional one."""

    title: Title | None = None
    summary: Summary | None = None
    situation: Situation | None = None
    suggestions: Suggestions | None = None
    public: bool | None = None
    category: Category | None = None
    key: bool | None = None
    group_proposer: GroupName | None = None
    proposer_ids: Annotated[list[Id], Field(max_length=50)] | None = None  # type: ignore[assignment]
    co_unit_ids: Annotated[list[Id], Field(max_length=20)] | None = None  # type: ignore[assignment]
    bundle_lead_id: Id | None = None
    supervisor_id: Id | None = None  # a leader supervising a key proposal (督办)
    # A leader leading a key proposal (领办): staff set anyone; a leader sets only this field,
    # to themself (take the lead) or null (give it up).
    leader_id: Id | None = None

    @model_validator(mode="before")
    @classmethod
    def _status_has_its_own_route(cls, data: Any) -> Any:
        if isinstance(data, dict) and "status" in data:
            raise FieldProblem(
                "status", _("cannot be patched; use POST /api/proposals/{id}/transitions")
            )
        return data

    @model_validator(mode="after")
    def _consistent_ids(self) -> Any:
        _no_duplicates(self.proposer_ids or [], "proposer_ids")
        _no_duplicates(self.co_unit_ids or [], "co_unit_ids")
        if self.lead_unit_id is not None and self.lead_unit_id in (self.co_unit_ids or []):
            raise FieldProblem("co_unit_ids", _("the lead unit cannot also be a co-handling unit"))
        for required in ("title", "key", "suggestions"):  # a null situation clears it
            if required in self.model_fields_set and getattr(self, required) is None:
                raise FieldProblem(required, _("cannot be null"))
        return self


class TransitionIn(Shape):
    """Move a proposal to its next status."""

    to: Status
    note: Note | None = None
    reason: RejectReason | None = None  # why not filed, with ``to: "rejected"``

    @model_validator(mode="after")
    def _reason_only_when_rejecting(self) -> TransitionIn:
        if self.reason is not None and self.to is not Status.REJECTED:
            raise FieldProblem("reason", _("is only given when rejecting"))
        return self


class TransitionOut(OutShape):
    """One recorded lifecycle step."""

    from_status: Status | None
    to_status: Status
    by_id: int
    by_name: str = ""  # who made the step, by name
    at: dt.datetime
    note: str | None
    reason: RejectReason | None = None
    reason_words: str | None = None  # the reason in the reader's language


class CosignerOut(OutShape):
    """A member invited to co-sign (联名), and the answer."""

    person_id: int
    name: str
    answer: Literal["invited", "accepted", "declined"]


class ComplianceOut(OutShape):
    """Held sessions per consultation stage and the required stages still missing."""

    before: int
    during: int
    after: int
    required: list[Literal["before", "during", "after"]]
    missing: list[Literal["before", "during", "after"]]


class ProposalOut(OutShape):
    """A proposal with its proposers, units, bundle and history."""

    id: int
    number: str | None  # None until filed (a member's draft or submission)
    title: str
    summary: str
    situation: str = ""
    suggestions: list[str] = []  # numbered from 1 in an itemised reply's items
    public: bool | None = None  # 是否同意公开
    author_id: int | None = None  # the member who drafted it online
    cosigners: list[CosignerOut] = []
    category: str | None
    key: bool
    group_proposer: str | None
    status: Status
    proposers: list[PersonBrief]
    lead_unit_id: int | None
    co_unit_ids: list[int]
    bundle_lead_id: int | None
    bundled_ids: list[int]
    round: int
    supervisor_id: int | None
    leader_id: int | None = None  # the leader leading it (领办)
    leader_name: str | None = None
    reply_due: dt.date | None  # set from the assignment by the reply term
    compliance: ComplianceOut
    evaluation: str | None  # the proposer's latest verdict on the handling, if any
    history: list[TransitionOut]
    # The next statuses the reader may move it to now (empty for those who may not).
    steps: list[Status] = []
    created_at: dt.datetime
    updated_at: dt.datetime


SortKey = Literal[
    "number",
    "-number",
    "title",
    "-title",
    "status",
    "-status",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
]


class ProposalQuery(QueryShape):
    """Filters for the proposal list: ``year`` is the number's year, ``overdue=true`` the
    proposals still awaiting a reply after it was due; ``sort`` by a field, ``-`` descending."""

    status: Status | None = None
    unit_id: Id | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    key: bool | None = None
    category: Category | None = None
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    compliance: Literal["missing", "ok"] | None = None
    overdue: bool | None = None
    reply_overdue: bool | None = None  # the same as ``overdue``
    sort: SortKey = "number"
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0


class ProposalList(OutShape):
    """A page of proposals by number."""

    items: list[ProposalOut]
    total: int
    limit: int
    offset: int
