"""Supervision rounds (两轮督办): staff open a round (e.g. 年中督办, 年底督办) and it lists, as
they stood at its opening, every open follow-up and every reply that was overdue; the owner unit
of each item reports where it stands (已落实 / 正在落实 / 未能按期落实, with text) until staff
close the round; staff and leaders follow the progress and export the round's report (.docx).

The list is a snapshot: a follow-up done or a reply sent after the opening stays in the round
(its report says so), and items that appear later wait for the next round.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role, require_staff
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Conflict, Forbidden, NotFound
from server.i18n import _
from server.proposals import service as proposals
from server.record import store
from server.record.exports import lines_to_docx
from server.record.models import (
    SupervisionItem,
    SupervisionItemKind,
    SupervisionReportStatus,
    SupervisionRound,
)
from server.record.schemas import (
    SupervisionItemOut,
    SupervisionProgress,
    SupervisionReportIn,
    SupervisionRoundIn,
    SupervisionRoundList,
    SupervisionRoundOut,
    SupervisionRoundPatch,
    SupervisionRoundQuery,
)

MAX_ITEMS = 10_000  # open follow-ups taken into one round
MAX_ROUNDS = 200  # rounds listed at once (two a year)


def _unit_scope(actor: Principal) -> int | None:
    """Whose items the actor sees: None for all (staff, leaders), else the unit's own."""
    if actor.reads_everything:
        return None
    if actor.role is Role.UNIT and actor.unit_id is not None:
        return actor.unit_id
    raise Forbidden(_("Supervision rounds are for staff, leaders and units."))


def _progress(items: Sequence[SupervisionItem]) -> SupervisionProgress:
    def count(status: SupervisionReportStatus) -> int:
        return sum(1 for i in items if i.report_status is status)

    return SupervisionProgress(
        items=len(items),
        reported=sum(1 for i in items if i.report_status is not None),
        done=count(SupervisionReportStatus.DONE),
        in_progress=count(SupervisionReportStatus.IN_PROGRESS),
        delayed=count(SupervisionReportStatus.DELAYED),
    )


async def _item_outs(
    db: AsyncSession, items: Sequence[SupervisionItem]
) -> list[SupervisionItemOut]:
    titles = await proposals.titles(db, sorted({i.proposal_id for i in items if i.proposal_id}))
    units = await directory.unit_names(
        db, sorted({i.owner_unit_id for i in items if i.owner_unit_id})
    )
    return [
        SupervisionItemOut(
            id=i.id,
            round_id=i.round_id,
            kind=i.kind,
            ref_id=i.ref_id,
            proposal_id=i.proposal_id,
            proposal=titles.get(i.proposal_id) if i.proposal_id else None,
            owner_unit_id=i.owner_unit_id,
            owner_unit=units.get(i.owner_unit_id) if i.owner_unit_id else None,
            text=i.text,
            due=i.due,
            report_status=i.report_status,
            report_text=i.report_text,
            reported_by_id=i.reported_by_id,
            reported_at=i.reported_at,
        )
        for i in items
    ]


def _round_out(
    row: SupervisionRound, items: Sequence[SupervisionItem], listed: list[SupervisionItemOut] | None
) -> SupervisionRoundOut:
    return SupervisionRoundOut(
        id=row.id,
        name=row.name,
        year=row.year,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        closed=row.closed_at is not None,
        closed_at=row.closed_at,
        created_at=row.created_at,
        progress=_progress(items),
        items=listed,
    )


async def _snapshot(db: AsyncSession, round_id: int) -> None:
    """The round's items: every open follow-up and every overdue reply, now."""
    items = [
        SupervisionItem(
            round_id=round_id,
            kind=SupervisionItemKind.FOLLOW_UP,
            ref_id=f.id,
            proposal_id=f.proposal_id,
            owner_unit_id=f.owner_unit_id,
            text=f.text,
            due=f.due,
        )
        for f in await store.open_follow_ups(db, MAX_ITEMS)
    ]
    items += [
        SupervisionItem(
            round_id=round_id,
            kind=SupervisionItemKind.REPLY,
            ref_id=p.id,
            proposal_id=p.id,
            owner_unit_id=p.lead_unit_id,
            text=f"{p.number} {p.title}",
            due=p.reply_due,
        )
        for p in await proposals.overdue_replies(db)
    ]
    for item in items:
        await store.add(db, item)


async def create_round(
    database: Database, actor: Principal, body: SupervisionRoundIn
) -> SupervisionRoundOut:
    """Open a round (staff): it lists every open follow-up and overdue reply as of now."""
    require_staff(actor)
    async with database.transaction() as db:
        row = SupervisionRound(
            name=body.name,
            year=body.year,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            created_by_id=actor.id,
            created_at=utcnow(),
        )
        await store.add(db, row)
        await _snapshot(db, row.id)
        items = (await store.round_items(db, [row.id]))[row.id]  # in the order shown
        await audit.record(
            db,
            "supervision.create",
            actor=actor,
            object_type="supervision_round",
            object_id=row.id,
            items=len(items),
        )
        return _round_out(row, items, await _item_outs(db, items))


async def list_rounds(
    database: Database, actor: Principal, query: SupervisionRoundQuery
) -> SupervisionRoundList:
    """Rounds, newest first, with their progress (a unit's: of its own items)."""
    unit = _unit_scope(actor)
    async with database.read() as db:
        rows = await store.rounds(db, query.year, MAX_ROUNDS)
        items = await store.round_items(db, [r.id for r in rows], unit)
        return SupervisionRoundList(items=[_round_out(r, items[r.id], None) for r in rows])


async def _round(db: AsyncSession, round_id: int, *, lock: bool = False) -> SupervisionRound:
    row = await store.round_by_id(db, round_id, lock=lock)
    if row is None:
        raise NotFound(_("There is no supervision round {round_id}.", round_id=round_id))
    return row


async def get_round(database: Database, actor: Principal, round_id: int) -> SupervisionRoundOut:
    """A round with its items (a unit sees only its own)."""
    unit = _unit_scope(actor)
    async with database.read() as db:
        row = await _round(db, round_id)
        items = (await store.round_items(db, [round_id], unit))[round_id]
        return _round_out(row, items, await _item_outs(db, items))


async def update_round(
    database: Database, actor: Principal, round_id: int, body: SupervisionRoundPatch
) -> SupervisionRoundOut:
    """Close a round to reports, or open it again (staff)."""
    require_staff(actor)
    async with database.transaction() as db:
        row = await _round(db, round_id, lock=True)
        row.closed_at = (row.closed_at or utcnow()) if body.closed else None
        await audit.record(
            db,
            "supervision.close" if body.closed else "supervision.reopen",
            actor=actor,
            object_type="supervision_round",
            object_id=round_id,
        )
        items = (await store.round_items(db, [round_id]))[round_id]
        return _round_out(row, items, await _item_outs(db, items))


async def report(
    database: Database, actor: Principal, round_id: int, item_id: int, body: SupervisionReportIn
) -> SupervisionItemOut:
    """The owner unit reports on an item of an open round (staff may on its behalf); a later
    report replaces the earlier one while the round is open."""
    async with database.transaction() as db:
        row = await _round(db, round_id)
        item = await store.item_by_id(db, item_id)
        mine = actor.role is Role.UNIT and item is not None and item.owner_unit_id == actor.unit_id
        if item is None or item.round_id != round_id or not (actor.reads_everything or mine):
            raise NotFound(
                _(
                    "Supervision round {round_id} has no item {item_id} of yours.",
                    round_id=round_id,
                    item_id=item_id,
                )
            )
        if not (actor.is_staff or mine):
            raise Forbidden(_("Only the item's owner unit (or staff) reports on it."))
        if row.closed_at is not None:
            raise Conflict(
                _("The round “{name}” is closed; it takes no more reports.", name=row.name)
            )
        item.report_status, item.report_text = body.status, body.text
        item.reported_by_id, item.reported_at = actor.id, utcnow()
        await audit.record(
            db,
            "supervision.report",
            actor=actor,
            object_type="supervision_round",
            object_id=round_id,
            item_id=item_id,
            status=body.status.value,
        )
        return (await _item_outs(db, [item]))[0]


REPORT_ZH = {"done": "已落实", "in_progress": "正在落实", "delayed": "未能按期落实"}


async def export_round(
    database: Database, actor: Principal, round_id: int, zone: str
) -> tuple[str, bytes]:
    """The round's report as a Word document (staff and leaders), and its file name."""
    if not actor.reads_everything:
        raise Forbidden(_("The round's report is for staff and leaders."))
    found = await get_round(database, actor, round_id)
    await audit.record_now(
        database,
        "supervision.export",
        actor=actor,
        object_type="supervision_round",
        object_id=round_id,
    )
    return f"{found.year}年{found.name}报告.docx", to_docx(found, zone)


def to_docx(r: SupervisionRoundOut, zone: str) -> bytes:
    """A round's report: what it reviewed, each unit's reports, what is still unreported."""
    tz = zoneinfo.ZoneInfo(zone)
    g = r.progress
    lines: list[tuple[str, str]] = [("title", f"{r.year}年{r.name}情况报告")]
    lines.append(("field", f"督办时间：{r.starts_on.isoformat()} 至 {r.ends_on.isoformat()}"))
    lines.append(
        (
            "field",
            f"督办事项：共 {g.items} 项，已报告 {g.reported} 项（已落实 {g.done} 项，"
            f"正在落实 {g.in_progress} 项，未能按期落实 {g.delayed} 项），"
            f"未报告 {g.items - g.reported} 项",
        )
    )
    items = r.items or []
    for kind, heading in (("reply", "逾期未答复的提案"), ("follow_up", "未完成的督办事项")):
        listed = [i for i in items if i.kind.value == kind]
        lines.append(("heading", f"{heading}（{len(listed)} 项）"))
        for n, i in enumerate(listed, start=1):
            due = f"，时限 {i.due.isoformat()}" if i.due else ""
            about = f"（提案 {i.proposal}）" if i.proposal and kind == "follow_up" else ""
            lines.append(("sub", f"{n}. {i.text}{about}"))
            lines.append(("item", f"责任单位：{i.owner_unit or '未指定'}{due}"))
            if i.report_status is None:
                lines.append(("item", "办理情况：未报告"))
                continue
            when = i.reported_at.astimezone(tz).strftime("%Y-%m-%d") if i.reported_at else ""
            lines.append(("item", f"办理情况：{REPORT_ZH[i.report_status.value]}（{when} 报告）"))
            lines += [("para", x) for x in (i.report_text or "").splitlines() if x.strip()]
    made = utcnow().astimezone(tz).strftime("%Y-%m-%d %H:%M")
    lines.append(("footer", f"导出时间：{made}"))
    return lines_to_docx(f"{r.year}年{r.name}", lines)
