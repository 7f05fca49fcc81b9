"""Notices: tell people what happened, in the transaction where it happened.

Other features call :func:`notify` (or :func:`notify_units`) with their own ``db`` inside the
transaction that makes the change, so a notice exists exactly when the change does: nothing is
told that did not happen (a rollback takes the notice with it), and nothing that happened goes
untold (the notice commits with it). What the transaction told is left in ``db.info``; once it
commits, :class:`server.notices.delivery.NoticeDelivery` pushes the new unread counts live and
wakes the mailer, which turns pending notices into outbox mail (one message per person per
round, a digest when several are waiting) unless the person turned that kind's email off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server import mail
from server.auth import Principal
from server.db import Database, utcnow
from server.directory import service as directory
from server.errors import Invalid, field_error
from server.i18n import DEFAULT, _, translate
from server.notices import store
from server.notices.kinds import MAILED_ELSEWHERE, Kind, kind_name, title
from server.notices.models import Notice
from server.notices.schemas import (
    EmailPreferenceOut,
    EmailPreferencesIn,
    EmailPreferencesOut,
    NoticeList,
    NoticeOut,
)

# db.info key: the people a transaction told something (their unread counts change).
TOLD = "notices.told"
# db.info key: set when a transaction left email to send.
TO_MAIL = "notices.to_mail"
MAX_PARAM = 300  # characters of one parameter kept (a title, a reason)
MAIL_BATCH = 200  # notices turned into mail per round


def _told(db: AsyncSession, person_ids: Iterable[int], *, mail_left: bool) -> None:
    told: set[int] = db.info.setdefault(TOLD, set())
    told.update(person_ids)
    if mail_left:
        db.info[TO_MAIL] = True


def _clean(params: Mapping[str, Any] | None) -> dict[str, str | int]:
    out: dict[str, str | int] = {}
    for key, value in (params or {}).items():
        out[key] = value if isinstance(value, int) else str(value)[:MAX_PARAM]
    return out


async def notify(
    db: AsyncSession,
    *,
    person_ids: Iterable[int | None],
    kind: Kind,
    link: str,
    params: Mapping[str, Any] | None = None,
    mail: bool = True,
    key: str | None = None,
    now: dt.datetime | None = None,
) -> list[Notice]:
    """Tell each person in ``person_ids`` (duplicates and None dropped) that ``kind`` happened.

    Call it inside the transaction that makes the change. ``params`` fill the kind's title
    (:data:`server.notices.kinds.TITLES`: ``proposal``, ``session``, ``reason``, ...; strings
    or integers); ``link`` is the app address the notice opens (``#/proposals/12``).
    ``mail=False``: the caller mails these people itself (e.g. a follow-up reminder).
    ``key``: tell each person of this kind with this key once only (a reminder that runs
    again); returns only the notices written."""
    people = sorted({p for p in person_ids if p is not None})
    if people and key is not None:
        told = await store.told_with_key(db, kind, key[:64], people)
        people = [p for p in people if p not in told]
    if not people:
        return []
    at = now or utcnow()
    mailed = mail and kind not in MAILED_ELSEWHERE
    rows = [
        Notice(
            person_id=person_id,
            kind=kind,
            params=_clean(params),
            link=link[:200],
            at=at,
            read_at=None,
            mail_pending=mailed,
            key=key[:64] if key is not None else None,
        )
        for person_id in people
    ]
    store.add_all(db, rows)
    await db.flush()
    _told(db, people, mail_left=mailed)
    return rows


async def notify_units(
    db: AsyncSession,
    *,
    unit_ids: Iterable[int | None],
    kind: Kind,
    link: str,
    params: Mapping[str, Any] | None = None,
    mail: bool = True,
    key: str | None = None,
    now: dt.datetime | None = None,
) -> list[Notice]:
    """:func:`notify` every active person of the units in ``unit_ids``."""
    units = sorted({u for u in unit_ids if u is not None})
    people = [p for ids in (await directory.people_of_units(db, units)).values() for p in ids]
    return await notify(
        db, person_ids=people, kind=kind, link=link, params=params, mail=mail, key=key, now=now
    )


async def wants_email(db: AsyncSession, person_ids: Iterable[int], kind: Kind) -> set[int]:
    """Those of ``person_ids`` who did not turn ``kind``'s email off (for a feature that mails
    them itself, e.g. the follow-up reminder)."""
    people = set(person_ids)
    off = await store.email_off(db, people)
    return {p for p in people if (p, kind) not in off}


# ---------------------------------------------------------------- the reader's side


def _out(row: Notice, language: str) -> NoticeOut:
    return NoticeOut(
        id=row.id,
        kind=row.kind,
        at=row.at,
        read=row.read_at is not None,
        title=title(row.kind, row.params, language),
        link=row.link,
    )


async def inbox(
    database: Database,
    actor: Principal,
    *,
    unread_only: bool,
    before: int | None,
    limit: int,
    language: str,
) -> NoticeList:
    """The actor's own notices, newest first, with titles in ``language``."""
    async with database.read() as db:
        rows = await store.page(db, actor.id, unread_only=unread_only, before=before, limit=limit)
        unread = (await store.unread_counts(db, [actor.id]))[actor.id]
    items = [_out(row, language) for row in rows]
    more = len(rows) == limit
    return NoticeList(items=items, unread=unread, next_before=rows[-1].id if more else None)


async def mark_read(
    database: Database, actor: Principal, ids: Sequence[int], *, everything: bool
) -> int:
    """Mark the actor's notices ``ids`` (or all of them) read; returns how many stay unread.
    Ids of other people's notices, or of none, change nothing."""
    if not ids and not everything:
        raise Invalid(
            _("Name the notices to mark read, or mark all of them."),
            errors=[field_error("ids", _("give at least one id, or all: true"))],
        )
    async with database.transaction() as db:
        changed = await store.mark_read(db, actor.id, None if everything else ids, utcnow())
        if changed:
            _told(db, [actor.id], mail_left=False)
        return (await store.unread_counts(db, [actor.id]))[actor.id]


async def email_preferences(
    database: Database, actor: Principal, language: str
) -> EmailPreferencesOut:
    """Each kind, and whether the actor gets it by email."""
    async with database.read() as db:
        off = await store.email_off(db, [actor.id])
        me = (await directory.addressees(db, [actor.id])).get(actor.id)
    items = [
        EmailPreferenceOut(
            kind=kind,
            name=kind_name(kind, language),
            email=(actor.id, kind) not in off and kind not in MAILED_ELSEWHERE,
            switchable=kind not in MAILED_ELSEWHERE,
        )
        for kind in Kind
    ]
    return EmailPreferencesOut(items=items, address=me.email if me else None)


async def set_email_preferences(
    database: Database, actor: Principal, body: EmailPreferencesIn, language: str
) -> EmailPreferencesOut:
    """Turn kinds' email on or off for the actor (kinds not named stay as they are)."""
    fixed = [i for i, item in enumerate(body.items) if item.kind in MAILED_ELSEWHERE]
    if fixed:
        raise Invalid(
            _("Session invitations are always sent as calendar invitations."),
            errors=[
                field_error(f"items.{i}.kind", _("this kind's email cannot be turned off"))
                for i in fixed
            ],
        )
    async with database.transaction() as db:
        for item in body.items:
            await store.set_email(db, actor.id, item.kind, item.email)
    return await email_preferences(database, actor, language)


# ---------------------------------------------------------------- mail


@dataclass(frozen=True)
class MailSettings:
    """Who the mail is from and where its links point."""

    sender: str
    public_url: str


async def mail_pending(database: Database, settings: MailSettings) -> int:
    """Turn pending notices into outbox mail, one message per person; returns how many
    messages were queued (0: nothing was waiting)."""
    async with database.transaction() as db:
        rows = await store.claim_mail(db, MAIL_BATCH)
        if not rows:
            return 0
        by_person: dict[int, list[Notice]] = {}
        for row in rows:
            row.mail_pending = False
            by_person.setdefault(row.person_id, []).append(row)
        off = await store.email_off(db, by_person)
        people = await directory.addressees(db, list(by_person))
        languages = await directory.languages(db, list(by_person))
        now, queued = utcnow(), 0
        for person_id, notices in by_person.items():
            wanted = [n for n in notices if (person_id, n.kind) not in off]
            person = people.get(person_id)
            if not wanted or person is None or not person.email or not person.active:
                continue
            language = languages.get(person_id, DEFAULT)
            message = _message(settings, (person.name, person.email, language), wanted, now)
            if message is None:
                continue
            mail.enqueue(
                db,
                recipient=person.email,
                method="NOTICE",
                subject=str(message["Subject"]),
                message=message.as_bytes(),
                person_id=person_id,
                now=now,
            )
            queued += 1
        return queued


def _message(
    settings: MailSettings,
    recipient: tuple[str, str, str],
    notices: Sequence[Notice],
    now: dt.datetime,
) -> EmailMessage | None:
    """The mail of the notices waiting for one person (name, email, language), in their
    language."""
    name, email, language = recipient
    titles = [(title(n.kind, n.params, language), n.link) for n in notices]
    base = settings.public_url.rstrip("/")
    msg = EmailMessage(policy=SMTP)
    try:
        msg["From"] = settings.sender
        msg["To"] = email
    except ValueError:  # an address the email library refuses: nothing to send
        return None
    first = " ".join(titles[0][0].split())[:120]  # a header holds no line breaks
    msg["Subject"] = (
        first
        if len(titles) == 1
        else translate(_("You have {n} new notices: {first}", n=len(titles), first=first), language)
    )
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=settings.sender.partition("@")[2] or "xieshang.local")
    msg["Auto-Submitted"] = "auto-generated"
    lines = [translate(_("Dear {name},", name=name), language), ""]
    for text, link in titles:
        lines += [f"· {text}", f"  {base}/{link}", ""]
    lines += [
        translate(_("All your notices: {url}", url=f"{base}/#/notifications"), language),
        translate(
            _("Which notices come by email: {url}", url=f"{base}/#/notifications/settings"),
            language,
        ),
    ]
    msg.set_content("\n".join(lines), charset="utf-8")
    msg["Content-Language"] = language  # after set_content, which drops Content-* headers
    return msg


async def unread_counts(database: Database, person_ids: Iterable[int]) -> dict[int, int]:
    """How many unread notices each person has (for the live push)."""
    async with database.read() as db:
        return await store.unread_counts(db, set(person_ids))
