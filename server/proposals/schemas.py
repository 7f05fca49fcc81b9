"""Request and response shapes of the proposal API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from server.api import FieldProblem, OutShape, QueryShape, Shape, pattern
from server.directory.schemas import Id, PersonBrief
from server.proposals.lifecycle import Status

Number = Annotated[
    str, pattern(r"[0-9]{4}-[0-9]{4}", "a proposal number like 2026-0123 (year, dash, four digits)")
]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Summary = Annotated[str, StringConstraints(max_length=20_000)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=50)]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(max_length=500)]


def _no_duplicates(values: list[int], field: str) -> None:
    if len(set(values)) != len(values):
        raise FieldProblem(field, "lists the same id twice")


class _ProposalFields(Shape):
    proposer_ids: Annotated[list[Id], Field(max_length=50)] = []
    co_unit_ids: Annotated[list[Id], Field(max_length=20)] = []
    lead_unit_id: Id | None = None

    @model_validator(mode="after")
    def _consistent_ids(self) -> Any:
        _no_duplicates(self.proposer_ids, "proposer_ids")
        _no_duplicates(self.co_unit_ids, "co_unit_ids")
        if self.lead_unit_id is not None and self.lead_unit_id in self.co_unit_ids:
            raise FieldProblem("co_unit_ids", "the lead unit cannot also be a co-handling unit")
        return self


class ProposalCreate(_ProposalFields):
    """A new proposal as registered by staff."""

    number: Number
    title: Title
    summary: Summary = ""
    category: Category | None = None
    key: bool = False
    group_proposer: GroupName | None = None
    bundle_lead_id: Id | None = None

    @model_validator(mode="after")
    def _has_a_proposer(self) -> ProposalCreate:
        if not self.proposer_ids and not self.group_proposer:
            raise FieldProblem("proposer_ids", "a proposal needs proposer_ids or a group_proposer")
        return self


class ProposalPatch(_ProposalFields):
    """Fields to change; absent fields stay, ``null`` clears an optional one."""

    title: Title | None = None
    summary: Summary | None = None
    category: Category | None = None
    key: bool | None = None
    group_proposer: GroupName | None = None
    proposer_ids: Annotated[list[Id], Field(max_length=50)] | None = None  # type: ignore[assignment]
    co_unit_ids: Annotated[list[Id], Field(max_length=20)] | None = None  # type: ignore[assignment]
    bundle_lead_id: Id | None = None
    supervisor_id: Id | None = None  # a leader supervising a key proposal (督办)

    @model_validator(mode="before")
    @classmethod
    def _status_has_its_own_route(cls, data: Any) -> Any:
        if isinstance(data, dict) and "status" in data:
            raise FieldProblem(
                "status", "cannot be patched; use POST /api/proposals/{id}/transitions"
            )
        return data

    @model_validator(mode="after")
    def _consistent_ids(self) -> Any:
        _no_duplicates(self.proposer_ids or [], "proposer_ids")
        _no_duplicates(self.co_unit_ids or [], "co_unit_ids")
        if self.lead_unit_id is not None and self.lead_unit_id in (self.co_unit_ids or []):
            raise FieldProblem("co_unit_ids", "the lead unit cannot also be a co-handling unit")
        for required in ("title", "key"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise FieldProblem(required, "cannot be null")
        return self


class TransitionIn(Shape):
    """Move a proposal to its next status."""

    to: Status
    note: Note | None = None


class TransitionOut(OutShape):
    """One recorded lifecycle step."""

    from_status: Status | None
    to_status: Status
    by_id: int
    at: dt.datetime
    note: str | None


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
    number: str
    title: str
    summary: str
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
    compliance: ComplianceOut
    evaluation: str | None  # the proposer's latest verdict on the handling, if any
    history: list[TransitionOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class ProposalQuery(QueryShape):
    """Filters for the proposal list."""

    status: Status | None = None
    unit_id: Id | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    key: bool | None = None
    compliance: Literal["missing", "ok"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0


class ProposalList(OutShape):
    """A page of proposals by number."""

    items: list[ProposalOut]
    total: int
    limit: int
    offset: int
