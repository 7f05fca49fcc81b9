"""Per-unit statistics (承办单位办理情况): for each undertaking unit, its proposals as lead and as
co-handling unit, how many replies came on time (by the first reply's day against ``reply_due``),
the proposers' satisfaction, the itemised replies by class (A–D), and its open follow-ups; the
units with most proposals (办理大户) first. Staff and leaders; one year (the proposal number's)
or all. The tally is pure (:func:`tally`); :func:`to_xlsx` writes the table as a workbook.

Reply classes: the items of each proposal's latest itemised reply (清单式答复), counted for its
lead unit by class A–D.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import Field

from server.auth import Principal
from server.db import Database
from server.directory import service as directory
from server.errors import Forbidden
from server.i18n import _
from server.proposals import service as proposals
from server.record import store
from server.record.followups import today
from server.shapes import OutShape, QueryShape

CLASSES = ("A", "B", "C", "D")
SATISFIED = frozenset({"satisfied", "basically_satisfied"})


class UnitStatsQuery(QueryShape):
    """One year (the proposal number's), or every year."""

    year: Annotated[int, Field(ge=2000, le=2100)] | None = None


class UnitStatsRow(OutShape):
    """One unit's figures."""

    unit_id: int
    name: str
    lead: int  # proposals it handles as lead unit (主办)
    co: int  # as co-handling unit (协办)
    total: int
    replies_due: int  # lead proposals replied, or awaiting a reply past its due day
    replied_on_time: int
    replied_late: int
    reply_overdue: int  # still awaiting a reply after the due day
    on_time_rate: float | None  # replied on time / replies due
    evaluated: int
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    satisfaction_rate: float | None  # (satisfied + basically satisfied) / evaluated
    classes: dict[str, int]  # the latest itemised replies' items by class A–D
    open_follow_ups: int
    overdue_follow_ups: int


class UnitStatsOut(OutShape):
    """Every unit with proposals or follow-ups in the year, most proposals first."""

    year: int | None
    years: list[int]  # the years that have proposals, newest first (for the year selector)
    items: list[UnitStatsRow]


@dataclass
class _Unit:
    lead: int = 0
    co: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    open_follow_ups: int = 0
    overdue_follow_ups: int = 0


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _reply(unit: _Unit, p: Mapping[str, Any], day: dt.date) -> None:
    due: dt.date | None = p["reply_due"]
    if due is None:
        return
    replied: dt.date | None = p["replied_on"]
    if replied is not None:
        if replied <= due:
            unit.on_time += 1
        else:
            unit.late += 1
    elif day > due and p["status"].value in ("assigned", "handling"):
        unit.overdue += 1


def tally(
    figures: Iterable[Mapping[str, Any]],
    follow_ups: Iterable[Mapping[str, Any]],
    day: dt.date,
) -> dict[int, _Unit]:
    """Per unit id: counts from the proposals' ``figures`` (``proposals.unit_figures``) and the
    follow-ups (``owner_unit_id``, ``status``, ``due``), judged on ``day``."""
    units: dict[int, _Unit] = {}
    for p in figures:
        if p["lead_unit_id"] is not None:
            lead = units.setdefault(p["lead_unit_id"], _Unit())
            lead.lead += 1
            _reply(lead, p, day)
            if p["verdict"] is not None:
                lead.verdicts[p["verdict"]] = lead.verdicts.get(p["verdict"], 0) + 1
            for item in p.get("items") or []:
                if item.get("class") in CLASSES:
                    lead.classes[item["class"]] += 1
        for co in p["co_unit_ids"]:
            units.setdefault(co, _Unit()).co += 1
    for f in follow_ups:
        if f["owner_unit_id"] is None or f["status"] != "open":
            continue
        unit = units.setdefault(f["owner_unit_id"], _Unit())
        unit.open_follow_ups += 1
        unit.overdue_follow_ups += f["due"] is not None and f["due"] < day
    return units


def rows(units: Mapping[int, _Unit], names: Mapping[int, str]) -> list[UnitStatsRow]:
    """The table, most proposals first (then most as lead, then by name)."""
    out = []
    for uid, u in units.items():
        due = u.on_time + u.late + u.overdue
        evaluated = sum(u.verdicts.values())
        good = sum(n for v, n in u.verdicts.items() if v in SATISFIED)
        out.append(
            UnitStatsRow(
                unit_id=uid,
                name=names.get(uid, str(uid)),
                lead=u.lead,
                co=u.co,
                total=u.lead + u.co,
                replies_due=due,
                replied_on_time=u.on_time,
                replied_late=u.late,
                reply_overdue=u.overdue,
                on_time_rate=_rate(u.on_time, due),
                evaluated=evaluated,
                satisfied=u.verdicts.get("satisfied", 0),
                basically_satisfied=u.verdicts.get("basically_satisfied", 0),
                unsatisfied=u.verdicts.get("unsatisfied", 0),
                satisfaction_rate=_rate(good, evaluated),
                classes=dict(u.classes),
                open_follow_ups=u.open_follow_ups,
                overdue_follow_ups=u.overdue_follow_ups,
            )
        )
    return sorted(out, key=lambda r: (-r.total, -r.lead, r.name, r.unit_id))


async def unit_stats(
    database: Database, actor: Principal, query: UnitStatsQuery, zone: str
) -> UnitStatsOut:
    """The per-unit table for staff and leaders."""
    if not actor.reads_everything:
        raise Forbidden(_("Statistics are for staff and leaders."))
    day = today(zone)

    def local(at: dt.datetime) -> bool:
        return at.astimezone(zoneinfo.ZoneInfo(zone)).year == query.year

    async with database.read() as db:
        everything = await proposals.unit_figures(db, actor, None)
        figures = [p for p in everything if query.year is None or p["year"] == query.year]
        in_year = {p["id"] for p in figures}
        follow, _total = await store.search_follow_ups(db, {"status": "open"}, 1_000_000, 0)
        follow_ups = [
            {"owner_unit_id": f.owner_unit_id, "status": f.status.value, "due": f.due}
            for f in follow
            if query.year is None
            or (f.proposal_id in in_year if f.proposal_id is not None else local(f.created_at))
        ]
        units = tally(figures, follow_ups, day)
        names = await directory.unit_names(db, sorted(units))
    return UnitStatsOut(
        year=query.year,
        years=sorted({p["year"] for p in everything}, reverse=True),
        items=rows(units, names),
    )


HEADINGS: Sequence[tuple[str, int]] = (
    ("承办单位", 28),
    ("主办件数", 10),
    ("协办件数", 10),
    ("合计", 8),
    ("应答复", 8),
    ("按时答复", 10),
    ("逾期答复", 10),
    ("逾期未答复", 10),
    ("按时答复率", 10),
    ("已评价", 8),
    ("满意", 8),
    ("基本满意", 10),
    ("不满意", 8),
    ("满意率", 8),
    ("A类 已解决或采纳", 12),
    ("B类 正在解决或列入计划", 12),
    ("C类 因条件限制暂缓", 12),
    ("D类 留作参考", 12),
    ("未办结督办事项", 12),
    ("逾期督办事项", 12),
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_xlsx(out: UnitStatsOut) -> bytes:
    """One sheet: a heading row, then one row per unit in the table's order; rates as %."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{out.year}年" if out.year else "全部年度"
    sheet.append([name for name, _w in HEADINGS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, (_n, width) in enumerate(HEADINGS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for r in out.items:
        name = "'" + r.name if r.name.startswith(FORMULA_START) else r.name
        sheet.append(
            [
                name,
                r.lead,
                r.co,
                r.total,
                r.replies_due,
                r.replied_on_time,
                r.replied_late,
                r.reply_overdue,
                r.on_time_rate,
                r.evaluated,
                r.satisfied,
                r.basically_satisfied,
                r.unsatisfied,
                r.satisfaction_rate,
                *[r.classes.get(c, 0) for c in CLASSES],
                r.open_follow_ups,
                r.overdue_follow_ups,
            ]
        )
    for column in ("I", "N"):
        for cell in sheet[column][1:]:
            cell.number_format = "0.0%"
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
