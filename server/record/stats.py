"""Statistics for staff and leaders: sessions, proposals, compliance, satisfaction, follow-up."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from typing import Annotated

from pydantic import Field

from server.auth import Principal
from server.db import Database
from server.errors import Forbidden
from server.i18n import _
from server.proposals import service as proposals
from server.proposals.compliance import FACE_TO_FACE
from server.record import store
from server.record.followups import today
from server.sessions import service as sessions
from server.shapes import OutShape, QueryShape


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


class ReplyClassStats(OutShape):
    """The items of the latest reply to each proposal, by class (清单式答复)."""

    replies: int  # proposals whose latest reply is itemised
    items: int
    A: int  # 已解决或采纳
    B: int  # 正在解决或列入计划
    C: int  # 因条件限制暂缓
    D: int  # 留作参考


class StatsOut(OutShape):
    """The committee's numbers."""

    sessions_by_month: list[MonthCount]
    proposals_by_status: dict[str, int]
    compliance: ComplianceStats
    satisfaction: SatisfactionStats
    follow_ups: FollowUpStats
    reply_classes: ReplyClassStats


async def stats(
    database: Database,
    actor: Principal,
    query: StatsQuery,
    zone: str,
    during_modes: frozenset[str] = FACE_TO_FACE,
) -> StatsOut:
    """Counts and rates for staff and leaders (``during_modes``: the modes that count for the
    ``during`` stage)."""
    if not actor.reads_everything:
        raise Forbidden(_("Statistics are for staff and leaders."))
    tz = zoneinfo.ZoneInfo(zone)
    async with database.read() as db:
        held = await sessions.held_kinds(db)
        figures = await proposals.figures(
            db, proposals.CountedSessions(sessions.sessions_of_proposals, during_modes)
        )
        follow, _total = await store.search_follow_ups(db, {}, 1_000_000, 0)
    months: Counter[tuple[str, str]] = Counter()
    for kind, starts_at in held:
        local = starts_at.astimezone(tz)
        if query.year is None or local.year == query.year:
            months[(f"{local.year:04d}-{local.month:02d}", kind)] += 1
    if query.year is not None:
        figures = [p for p in figures if p["created_at"].astimezone(tz).year == query.year]
    judged = compliant = 0
    missing: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    itemised = 0
    for p in figures:
        classes.update(p["reply_classes"])
        itemised += bool(p["reply_classes"])
        result = p["compliance"]
        if result["required"]:
            judged += 1
            compliant += not result["missing"]
            missing.update(result["missing"])
        if p["verdict"] is not None:
            verdicts[p["verdict"]] += 1
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
        proposals_by_status=dict(sorted(Counter(p["status"].value for p in figures).items())),
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
        reply_classes=ReplyClassStats(
            replies=itemised,
            items=sum(classes.values()),
            A=classes["A"],
            B=classes["B"],
            C=classes["C"],
            D=classes["D"],
        ),
    )
