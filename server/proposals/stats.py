"""Statistics for staff and leaders: sessions, proposals, compliance, satisfaction, follow-up."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from typing import Annotated

from pydantic import Field

from server.api import OutShape, QueryShape
from server.auth import Principal
from server.db import Database
from server.errors import Forbidden
from server.proposals import store
from server.proposals.compliance import compliance
from server.proposals.followups import today


class StatsQuery(QueryShape):
    """One year (in the committee's time zone), or everything."""

    year: Annotated[int, Field(ge=2000, le=2100)] | None = None


class MonthCount(OutShape):
    month: str  # YYYY-MM
    kind: str
    count: int


class ComplianceStats(OutShape):
    judged: int  # proposals for which some stage is required by now
    compliant: int
    rate: float | None
    missing: dict[str, int]  # by stage


class SatisfactionStats(OutShape):
    evaluated: int  # proposals with a handling evaluation (the latest counts)
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    rate: float | None  # (satisfied + basically satisfied) / evaluated


class FollowUpStats(OutShape):
    open: int
    done: int
    cancelled: int
    overdue: int


class StatsOut(OutShape):
    """The committee's numbers."""

    sessions_by_month: list[MonthCount]
    proposals_by_status: dict[str, int]
    compliance: ComplianceStats
    satisfaction: SatisfactionStats
    follow_ups: FollowUpStats


async def stats(database: Database, actor: Principal, query: StatsQuery, zone: str) -> StatsOut:
    """Counts and rates for staff and leaders."""
    if not actor.reads_everything:
        raise Forbidden("Statistics are for staff and leaders.")
    tz = zoneinfo.ZoneInfo(zone)
    async with database.read() as db:
        held = await store.session_months(db)
        proposals = await store.all_proposals(db)
        sessions = await store.sessions_of(db, proposals)
        evaluations = await store.evaluations_of(db, [p.id for p in proposals])
        follow, _ = await store.search_follow_ups(db, {}, 1_000_000, 0)
    months: Counter[tuple[str, str]] = Counter()
    for kind, starts_at in held:
        local = starts_at.astimezone(tz)
        if query.year is None or local.year == query.year:
            months[(f"{local.year:04d}-{local.month:02d}", kind)] += 1
    if query.year is not None:
        proposals = [p for p in proposals if p.created_at.astimezone(tz).year == query.year]
    judged = compliant = 0
    missing: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for p in proposals:
        result = compliance(p.status, sessions[p.id])
        if result["required"]:
            judged += 1
            compliant += not result["missing"]
            missing.update(result["missing"])
        handled = [e for e in evaluations[p.id] if e.kind.value == "handling"]
        if handled:
            verdicts[handled[-1].verdict] += 1
    evaluated = sum(verdicts.values())
    day = today(zone)
    states = Counter(f.status.value for f in follow)
    overdue = sum(
        1 for f in follow if f.status.value == "open" and f.due is not None and f.due < day
    )
    return StatsOut(
        sessions_by_month=[
            MonthCount(month=m, kind=k, count=n) for (m, k), n in sorted(months.items())
        ],
        proposals_by_status=dict(sorted(Counter(p.status.value for p in proposals).items())),
        compliance=ComplianceStats(
            judged=judged,
            compliant=compliant,
            rate=round(compliant / judged, 4) if judged else None,
            missing=dict(sorted(missing.items())),
        ),
        satisfaction=SatisfactionStats(
            evaluated=evaluated,
            satisfied=verdicts["satisfied"],
            basically_satisfied=verdicts["basically_satisfied"],
            unsatisfied=verdicts["unsatisfied"],
            rate=round((verdicts["satisfied"] + verdicts["basically_satisfied"]) / evaluated, 4)
            if evaluated
            else None,
        ),
        follow_ups=FollowUpStats(
            open=states["open"], done=states["done"], cancelled=states["cancelled"], overdue=overdue
        ),
    )
