"""Importing proposals from another proposal system's workbook (``xlsx_import`` reads it).

A dry run checks every row against the registry and answers a preview: each row's values and
its problems in the reader's language (unknown unit or person, a number already taken or
repeated in the file, a bad date, a missing title). The real run checks again and adds the
good rows, all in one transaction (a failure adds none); the rows with problems are left out
and listed. Imported proposals start as ``submitted`` like registered ones, with the history
note 导入, on their 提交日期 (noon in the committee's zone) when the file gives one.

Proposers are matched by name to members and leaders. A 提案人 cell that is one name nobody
has is read as a group proposer (党派、界别 file group proposals), which the preview shows;
with several names each must be a person.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, Role, require_staff
from server.db import Database, utcnow
from server.directory import store as directory_store
from server.errors import Invalid, field_error
from server.i18n import Msg, _, translate
from server.proposals import store
from server.proposals.lifecycle import COMMITTEE_ZONE, Status
from server.proposals.models import Proposal, ProposalTransition
from server.proposals.xlsx_import import COLUMNS, Sheet, SheetError, SheetRow, read_sheet
from server.shapes import OutShape, QueryShape

PROPOSER_ROLES = (Role.MEMBER, Role.LEADER)
MAX_IMPORT_BYTES = 5 * 2**20  # an .xlsx of 2,000 proposals is well under 1 MiB
NOON = dt.time(12)


class ImportQuery(QueryShape):
    """``dry_run=true`` (the default) previews; ``false`` imports the good rows."""

    dry_run: bool = True


class ImportProblem(OutShape):
    """What is wrong with one cell of a row."""

    field: str  # number, title, proposers, group_proposer, category, lead_unit, co_units, ...
    column: str  # the column's heading
    message: str


class ImportRow(OutShape):
    """One row as it would be imported, with its problems (none: it is imported)."""

    row: int  # the row's number in the sheet
    number: str
    title: str
    proposers: list[str]
    group_proposer: str | None
    category: str | None
    lead_unit: str | None
    co_units: list[str]
    submitted_on: dt.date | None
    key: bool
    errors: list[ImportProblem]
    proposal_id: int | None = None  # once imported


class ImportOut(OutShape):
    """The preview (dry run) or the result of an import."""

    dry_run: bool
    total: int
    good: int
    bad: int
    imported: int
    columns: dict[str, str]  # field -> the heading as written in the file
    ignored_columns: list[str]
    rows: list[ImportRow]


class _Resolved:
    """A row's references found in the registry."""

    def __init__(self) -> None:
        self.proposer_ids: list[int] = []
        self.group: str | None = None
        self.lead_unit_id: int | None = None
        self.co_unit_ids: list[int] = []


async def _lookups(
    db: AsyncSession, rows: list[SheetRow]
) -> tuple[dict[str, list[int]], dict[str, int], set[str]]:
    names = sorted({n for r in rows for n in r.proposers})
    people = await directory_store.people_by_names(db, names)
    members = {n: [p.id for p in found if p.role in PROPOSER_ROLES] for n, found in people.items()}
    unit_names = sorted({u for r in rows for u in [r.lead_unit, *r.co_units] if u})
    units = {n: u.id for n, u in (await directory_store.units_by_names(db, unit_names)).items()}
    taken = {r.number for r in rows if r.number and await store.by_number(db, r.number)}
    return members, units, taken


def _proposers(row: SheetRow, members: dict[str, list[int]], found: _Resolved) -> None:
    found.group = row.group_proposer
    if len(row.proposers) == 1 and not members.get(row.proposers[0]) and not found.group:
        found.group = row.proposers[0]  # one name nobody has: a group (党派、界别)
        return
    for name in row.proposers:
        ids = members.get(name) or []
        if len(ids) == 1:
            found.proposer_ids.append(ids[0])
        elif ids:
            row.problem(
                "proposers",
                _("{name} names more than one member; give them distinct names first", name=name),
            )
        else:
            row.problem("proposers", _("there is no member named {name}", name=name))
    if not row.proposers and not found.group:
        row.problem("proposers", _("the proposer is missing"))


def _units(row: SheetRow, units: dict[str, int], found: _Resolved) -> None:
    for name in [row.lead_unit, *row.co_units]:
        if name and name not in units:
            row.problem(
                "lead_unit" if name == row.lead_unit else "co_units",
                _("there is no unit named {name}", name=name),
            )
    found.lead_unit_id = units.get(row.lead_unit or "")
    found.co_unit_ids = sorted({units[n] for n in row.co_units if n in units})
    if found.lead_unit_id is not None and found.lead_unit_id in found.co_unit_ids:
        row.problem("co_units", _("the lead unit cannot also be a co-handling unit"))


async def _check(db: AsyncSession, rows: list[SheetRow]) -> dict[int, _Resolved]:
    """Each row's references resolved; problems added to the rows."""
    members, units, taken = await _lookups(db, rows)
    repeated = Counter(r.number for r in rows if r.number)
    resolved: dict[int, _Resolved] = {}
    for row in rows:
        if row.number in taken:
            row.problem("number", _("proposal number {number} is taken", number=row.number))
        elif repeated[row.number] > 1:
            row.problem(
                "number", _("proposal number {number} appears twice in the file", number=row.number)
            )
        found = _Resolved()
        _proposers(row, members, found)
        _units(row, units, found)
        resolved[row.row] = found
    return resolved


def _created_at(row: SheetRow, now: dt.datetime) -> dt.datetime:
    if row.submitted_on is None:
        return now
    return dt.datetime.combine(row.submitted_on, NOON, COMMITTEE_ZONE).astimezone(dt.UTC)


async def _insert(
    db: AsyncSession, actor: Principal, row: SheetRow, found: _Resolved, now: dt.datetime
) -> int:
    at = _created_at(row, now)
    proposal = Proposal(
        number=row.number,
        title=row.title,
        summary=row.summary,
        category=row.category,
        key=row.key,
        group_proposer=found.group,
        status=Status.SUBMITTED,
        lead_unit_id=found.lead_unit_id,
        bundle_lead_id=None,
        supervisor_id=None,
        created_at=at,
        updated_at=now,
    )
    await store.add(db, proposal)
    await store.set_proposers(db, proposal.id, found.proposer_ids)
    await store.set_co_units(db, proposal.id, found.co_unit_ids)
    await store.add(
        db,
        ProposalTransition(
            proposal_id=proposal.id,
            from_status=None,
            to_status=Status.SUBMITTED,
            by_id=actor.id,
            at=at,
            note="导入",
        ),
    )
    return proposal.id


def _out(sheet: Sheet, dry_run: bool, ids: dict[int, int], language: str) -> ImportOut:
    def problem(field: str, message: Msg | str) -> ImportProblem:
        column = sheet.columns.get(field, COLUMNS[field][0])
        return ImportProblem(field=field, column=column, message=translate(message, language))

    rows = [
        ImportRow(
            row=r.row,
            number=r.number,
            title=r.title,
            proposers=r.proposers,
            group_proposer=r.group_proposer,
            category=r.category,
            lead_unit=r.lead_unit,
            co_units=r.co_units,
            submitted_on=r.submitted_on,
            key=r.key,
            errors=[problem(f, m) for f, m in r.errors],
            proposal_id=ids.get(r.row),
        )
        for r in sheet.rows
    ]
    bad = sum(1 for r in rows if r.errors)
    return ImportOut(
        dry_run=dry_run,
        total=len(rows),
        good=len(rows) - bad,
        bad=bad,
        imported=len(ids),
        columns=sheet.columns,
        ignored_columns=sheet.ignored,
        rows=rows,
    )


async def import_sheet(
    database: Database, actor: Principal, sheet: Sheet, *, dry_run: bool, language: str
) -> ImportOut:
    """Check every row; unless ``dry_run``, add the good ones in one transaction."""
    async with database.transaction() as db:
        resolved = await _check(db, sheet.rows)
        for r in sheet.rows:  # what the preview shows is what is stored
            if r.group_proposer is None and resolved[r.row].group is not None:
                r.group_proposer, r.proposers = resolved[r.row].group, []
        good = [r for r in sheet.rows if not r.errors]
        if dry_run:
            return _out(sheet, True, {}, language)
        if not good:
            raise Invalid(
                _("No row can be imported: every row has a problem. Check the preview."),
                errors=[
                    field_error(f"rows.{r.row}.{f}", m) for r in sheet.rows for f, m in r.errors
                ][:100],
            )
        now = utcnow()
        ids = {r.row: await _insert(db, actor, r, resolved[r.row], now) for r in good}
        await audit.record(
            db,
            "proposal.import",
            actor=actor,
            object_type="proposal",
            rows=len(sheet.rows),
            imported=len(ids),
            numbers=[r.number for r in good][:200],
        )
        return _out(sheet, False, ids, language)


def may_import(actor: Principal) -> None:
    """Only staff import (checked before the file is read: a stranger's upload costs nothing)."""
    require_staff(actor)


async def import_proposals(
    database: Database, actor: Principal, data: bytes, *, dry_run: bool, language: str
) -> ImportOut:
    """Read the workbook off the event loop, then preview or import its rows."""
    may_import(actor)
    try:
        sheet = await asyncio.to_thread(read_sheet, data)
    except SheetError as exc:
        raise Invalid(exc.message, errors=[field_error("(body)", exc.message)]) from None
    return await import_sheet(database, actor, sheet, dry_run=dry_run, language=language)
