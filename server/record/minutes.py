"""Minutes (会议纪要) of a session: drafted from the room, edited by staff, reviewed, approved.

A session's minutes are a chain of versions, only ever appended to (``MinutesVersion``): the
room's draft is version 1; each edit, each status change (``draft → in_review → approved``, or
back to draft from review) and each correction of approved minutes adds one, with its author,
time and the hash of the version before. Approved minutes never change; a correction is a new
version that needs approval again, and the approved one stays readable.

Approving minutes turns their action items into follow-ups (``server/record/followups.py``).

Staff and leaders read every version; a session's hosts read drafts too; anyone else who may see
the session reads only approved versions. Only staff write.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import service as audit
from server.auth import Principal, require_staff
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Conflict, NotFound
from server.i18n import _
from server.notices.kinds import Kind
from server.notices.service import notify
from server.proposals import service as proposals
from server.record import followups, store
from server.record.document import GENESIS, chain_problems, version_hash
from server.record.models import MINUTES_STATUS_WORDS, MinutesStatus, MinutesVersion
from server.record.schemas import (
    MinutesContent,
    MinutesCorrection,
    MinutesEdit,
    MinutesOut,
    MinutesTransition,
    MinutesVerifyOut,
    MinutesVersionList,
    MinutesVersionOut,
)
from server.sessions import service as sessions

NEXT = {
    MinutesStatus.DRAFT: {MinutesStatus.IN_REVIEW},
    MinutesStatus.IN_REVIEW: {MinutesStatus.DRAFT, MinutesStatus.APPROVED},
    MinutesStatus.APPROVED: set(),
}


def checked(content: dict[str, Any]) -> dict[str, Any]:
    """Content as the API shape stores it (validated, JSON types)."""
    return MinutesContent.model_validate_json(json.dumps(content)).model_dump(mode="json")


async def append_version(
    db: AsyncSession,
    session_id: int,
    *,
    status: MinutesStatus,
    content: dict[str, Any],
    note: str | None,
    author_id: int | None,
    now: dt.datetime,
    previous: MinutesVersion | None,
) -> MinutesVersion:
    number = previous.number + 1 if previous else 1
    prev_hash = previous.hash if previous else GENESIS
    row = MinutesVersion(
        session_id=session_id,
        number=number,
        status=status,
        content=content,
        note=note,
        author_id=author_id,
        created_at=now,
        prev_hash=prev_hash,
        hash=version_hash(
            session_id=session_id,
            number=number,
            status=status.value,
            content=content,
            note=note,
            author_id=author_id,
            created_at=now,
            prev_hash=prev_hash,
        ),
    )
    await store.add(db, row)
    return row


# ---------------------------------------------------------------- reading


async def _reads_drafts(db: AsyncSession, actor: Principal, session_id: int) -> bool:
    if actor.reads_everything:
        return True
    return await sessions.room_role(db, session_id, actor.id) == "host"


async def _visible_versions(
    db: AsyncSession, actor: Principal, session_id: int
) -> tuple[list[MinutesVersion], bool]:
    if not await sessions.is_visible(db, session_id, actor):
        raise NotFound(_("There is no session {session_id}.", session_id=session_id))
    versions = list(await store.minutes_versions(db, session_id))
    drafts = await _reads_drafts(db, actor, session_id)
    if not drafts:
        versions = [v for v in versions if v.status is MinutesStatus.APPROVED]
    if not versions:
        raise NotFound(
            _("Session {session_id} has no minutes yet.", session_id=session_id)
            if drafts
            else _(
                "The minutes of session {session_id} are not approved yet.", session_id=session_id
            )
        )
    return versions, drafts


def _out(row: MinutesVersion, versions: list[MinutesVersion], names: dict[int, str]) -> MinutesOut:
    approved = [v.number for v in versions if v.status is MinutesStatus.APPROVED]
    return MinutesOut(
        session_id=row.session_id,
        version=row.number,
        status=row.status,
        content=MinutesContent.model_validate_json(json.dumps(row.content)),
        note=row.note,
        author_id=row.author_id,
        author=names.get(row.author_id) if row.author_id else None,
        created_at=row.created_at,
        approved_version=approved[-1] if approved else None,
        latest_version=versions[-1].number,
        hash=row.hash,
    )


async def _names(db: AsyncSession, versions: list[MinutesVersion]) -> dict[int, str]:
    return await directory.names_of(db, sorted({v.author_id for v in versions if v.author_id}))


async def get_minutes(
    database: Database, actor: Principal, session_id: int, version: int | None
) -> MinutesOut:
    """One version (by default the newest the actor may read)."""
    async with database.read() as db:
        versions, _drafts = await _visible_versions(db, actor, session_id)
        row = versions[-1] if version is None else _numbered(versions, session_id, version)
        return _out(row, versions, await _names(db, versions))


def _numbered(versions: list[MinutesVersion], session_id: int, version: int) -> MinutesVersion:
    """Version ``version`` among those the reader may read (404 otherwise)."""
    found = next((v for v in versions if v.number == version), None)
    if found is None:
        raise NotFound(
            _(
                "Session {session_id}'s minutes have no version {version} for you.",
                session_id=session_id,
                version=version,
            )
        )
    return found


async def list_versions(
    database: Database, actor: Principal, session_id: int
) -> MinutesVersionList:
    """The chain, oldest first."""
    async with database.read() as db:
        versions, _drafts = await _visible_versions(db, actor, session_id)
        names = await _names(db, versions)
    return MinutesVersionList(
        items=[
            MinutesVersionOut(
                version=v.number,
                status=v.status,
                note=v.note,
                author_id=v.author_id,
                author=names.get(v.author_id) if v.author_id else None,
                created_at=v.created_at,
                prev_hash=v.prev_hash,
                hash=v.hash,
            )
            for v in versions
        ]
    )


async def verify(database: Database, actor: Principal, session_id: int) -> MinutesVerifyOut:
    """Recompute every version's hash and link (staff and leaders)."""
    if not actor.reads_everything:
        raise NotFound(
            _(
                "There is no session {session_id} whose minutes you may audit.",
                session_id=session_id,
            )
        )
    async with database.read() as db:
        if not await sessions.exists(db, session_id):
            raise NotFound(_("There is no session {session_id}.", session_id=session_id))
        rows = await store.minutes_versions(db, session_id)
    stored = [
        {
            "number": r.number,
            "status": r.status.value,
            "content": r.content,
            "note": r.note,
            "author_id": r.author_id,
            "created_at": r.created_at,
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in rows
    ]
    problems = chain_problems(session_id, stored)
    return MinutesVerifyOut.model_validate(
        {"ok": not problems, "versions": len(stored), "problems": problems}
    )


async def export_content(
    database: Database, actor: Principal, session_id: int, version: int | None
) -> tuple[MinutesOut, dict[int, str]]:
    """A version to export (by default the newest approved one, else the newest readable),
    with the proposal titles it mentions."""
    async with database.read() as db:
        versions, _drafts = await _visible_versions(db, actor, session_id)
        if version is None:
            approved = [v for v in versions if v.status is MinutesStatus.APPROVED]
            row = (approved or versions)[-1]
        else:
            row = _numbered(versions, session_id, version)
        out = _out(row, versions, await _names(db, versions))
        ids = sorted(
            {i for item in out.content.items for i in item.proposal_ids}
            | {a.proposal_id for item in out.content.items for a in item.actions if a.proposal_id}
        )
        titles = await proposals.titles(db, ids)
    return out, titles


# ---------------------------------------------------------------- writing


async def _latest_for_write(db: AsyncSession, session_id: int, base: int) -> MinutesVersion:
    await sessions.lock(db, session_id)
    latest = await store.latest_minutes(db, session_id)
    if latest is None:
        if not await sessions.exists(db, session_id):
            raise NotFound(_("There is no session {session_id}.", session_id=session_id))
        raise NotFound(
            _(
                "Session {session_id} has no minutes yet; they are drafted when it ends.",
                session_id=session_id,
            )
        )
    if latest.number != base:
        raise Conflict(
            _(
                "These minutes changed since you loaded version {base}: the "
                "newest is version {number}. Reload them and apply your "
                "change again.",
                base=base,
                number=latest.number,
            ),
            latest_version=latest.number,
        )
    return latest


async def _audit(
    db: AsyncSession, action: str, actor: Principal, object_id: int, **detail: Any
) -> None:
    await audit.record_on(db, action, actor, "minutes", object_id, **detail)


async def edit(
    database: Database, actor: Principal, session_id: int, body: MinutesEdit
) -> MinutesOut:
    """Save new content of draft minutes as the next version (staff)."""
    require_staff(actor)
    async with database.transaction() as db:
        latest = await _latest_for_write(db, session_id, body.base_version)
        if latest.status is MinutesStatus.APPROVED:
            raise Conflict(_("Approved minutes cannot change; send a correction instead."))
        if latest.status is MinutesStatus.IN_REVIEW:
            raise Conflict(_("These minutes are in review; send them back to draft to edit them."))
        await append_version(
            db,
            session_id,
            status=MinutesStatus.DRAFT,
            content=body.content.model_dump(mode="json"),
            note=body.note,
            author_id=actor.id,
            now=utcnow(),
            previous=latest,
        )
        await _audit(db, "minutes.edit", actor, session_id, version=latest.number + 1)
    return await get_minutes(database, actor, session_id, None)


async def transition(
    database: Database, actor: Principal, session_id: int, body: MinutesTransition
) -> MinutesOut:
    """Move the minutes to review, back to draft, or to approved (staff)."""
    require_staff(actor)
    async with database.transaction() as db:
        latest = await _latest_for_write(db, session_id, body.base_version)
        if body.to not in NEXT[latest.status]:
            allowed = tuple(MINUTES_STATUS_WORDS[s] for s in sorted(NEXT[latest.status]))
            if not allowed:
                raise Conflict(
                    _(
                        "Minutes that are {status} can go nowhere, not to {to}. Send a "
                        "correction to change approved minutes.",
                        status=MINUTES_STATUS_WORDS[latest.status],
                        to=MINUTES_STATUS_WORDS[body.to],
                    )
                )
            raise Conflict(
                _(
                    "Minutes that are {status} can go to {allowed}, not {to}.",
                    status=MINUTES_STATUS_WORDS[latest.status],
                    allowed=allowed,
                    to=MINUTES_STATUS_WORDS[body.to],
                )
            )
        now = utcnow()
        await append_version(
            db,
            session_id,
            status=body.to,
            content=latest.content,
            note=body.note,
            author_id=actor.id,
            now=now,
            previous=latest,
        )
        await _audit(db, f"minutes.{body.to.value}", actor, session_id, version=latest.number + 1)
        if body.to is MinutesStatus.APPROVED:
            # Approved action items are followed up (督办) until their units report them done.
            await followups.sync_from_minutes(db, session_id, latest.content, now)
            await _tell_approved(db, session_id, now)
    return await get_minutes(database, actor, session_id, None)


async def _tell_approved(db: AsyncSession, session_id: int, now: dt.datetime) -> None:
    """The session's participants hear that its minutes are approved."""
    facts = await sessions.minutes_facts(db, session_id)
    if facts is None:
        return
    await notify(
        db,
        person_ids=[p["person_id"] for p in facts["participants"]],
        kind=Kind.MINUTES_APPROVED,
        link=f"#/minutes/{session_id}",
        params={"session": facts["session"]["title"]},
        now=now,
    )


async def correct(
    database: Database, actor: Principal, session_id: int, body: MinutesCorrection
) -> MinutesOut:
    """Correct approved minutes: a new draft version, to be reviewed and approved again; the
    approved version stays as it was (staff)."""
    require_staff(actor)
    async with database.transaction() as db:
        latest = await _latest_for_write(db, session_id, body.base_version)
        if latest.status is not MinutesStatus.APPROVED:
            raise Conflict(
                _(
                    "Only approved minutes take corrections; these are {value}, "
                    "so edit them directly.",
                    value=MINUTES_STATUS_WORDS[latest.status],
                )
            )
        await append_version(
            db,
            session_id,
            status=MinutesStatus.DRAFT,
            content=body.content.model_dump(mode="json"),
            note=f"correction of version {latest.number}: {body.reason}"[:500],
            author_id=actor.id,
            now=utcnow(),
            previous=latest,
        )
        version = {"version": latest.number + 1, "corrects": latest.number}
        await _audit(db, "minutes.correction", actor, session_id, **version, reason=body.reason)
    return await get_minutes(database, actor, session_id, None)


async def approved_excerpts(
    db: AsyncSession, session_ids: list[int], proposal_ids: set[int]
) -> dict[int, dict[str, Any]]:
    """For a proposal's dossier: each session's newest approved minutes, cut down to the agenda
    items about ``proposal_ids`` (all items when none names a proposal)."""
    result: dict[int, dict[str, Any]] = {}
    for session_id, row in (await store.approved_minutes(db, session_ids)).items():
        items = row.content.get("items", [])
        named = [
            item
            for item in items
            if set(item.get("proposal_ids", [])) & proposal_ids
            or any(a.get("proposal_id") in proposal_ids for a in item.get("actions", []))
        ]
        anonymous = not any(item.get("proposal_ids") for item in items)
        result[session_id] = {
            "version": row.number,
            "approved_at": row.created_at,
            "hash": row.hash,
            "items": named or (items if anonymous else []),
        }
    return result
