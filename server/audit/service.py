"""Recording acts in the audit log, in the same transaction as the act, and reading them back.

Where a request came from is carried in a context variable that the HTTP middleware and the
Socket.IO handlers set, so domain code records it without passing requests around. Details never
hold secrets: no tokens, passwords or signed links, only ids, names, states and counts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import store
from server.audit.models import AuditEntry
from server.auth import Principal
from server.db import Database, utcnow
from server.errors import TooManyRequests
from server.i18n import Msg, _

SYSTEM = "system"
ORIGIN: ContextVar[str] = ContextVar("audit_origin", default=SYSTEM)
LOGIN_FAILED, LOGIN_OK = "auth.login_failed", "auth.login"


def set_origin(address: str | None) -> None:
    """Where the acts of the current request or event come from (an IP address)."""
    ORIGIN.set((address or "unknown")[:64])


def actor_label(actor: Principal | str | None) -> tuple[int | None, str]:
    """The id and the printed name of who acted (a person, a guest's name, a device, the system)."""
    if isinstance(actor, Principal):
        return actor.id, f"{actor.name} ({actor.role.value})"[:120]
    return None, (actor or SYSTEM)[:120]


async def record(
    db: AsyncSession,
    action: str,
    *,
    actor: Principal | str | None,
    object_type: str,
    object_id: int | None = None,
    session_id: int | None = None,
    proposal_id: int | None = None,
    subject: str | None = None,
    actor_id: int | None = None,
    **detail: Any,
) -> None:
    """Append one act to the log inside the caller's transaction (so both land or neither)."""
    person_id, label = actor_label(actor)
    actor_id = person_id if person_id is not None else actor_id
    await store.add(
        db,
        AuditEntry(
            at=utcnow(),
            actor_id=actor_id,
            actor=label,
            address=ORIGIN.get(),
            action=action,
            object_type=object_type,
            object_id=object_id,
            session_id=session_id,
            proposal_id=proposal_id,
            subject=subject[:100] if subject else None,
            detail=detail,
        ),
    )


async def record_on(
    db: AsyncSession,
    action: str,
    actor: Principal,
    object_type: str,
    object_id: int,
    **detail: Any,
) -> None:
    """:func:`record` for an act on a proposal, a session or its minutes (filed under that
    proposal's or session's trail)."""
    trail = "proposal_id" if object_type == "proposal" else "session_id"
    where: dict[str, Any] = {trail: object_id}
    await record(
        db, action, actor=actor, object_type=object_type, object_id=object_id, **where, **detail
    )


async def record_now(database: Database, action: str, **kw: Any) -> None:
    """Append one act in a transaction of its own (for reads worth tracing: exports, downloads)."""
    async with database.transaction() as db:
        await record(db, action, **kw)


@dataclass(frozen=True, kw_only=True)
class LoginLimits:
    """Failed sign-ins allowed within ``window``: at one account from one address
    (``per_account``), and from one address at any accounts (``per_address``)."""

    per_account: int
    per_address: int
    window: dt.timedelta


def _wait(oldest: dt.datetime | None, window: dt.timedelta, now: dt.datetime) -> int:
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return _("{count} seconds", count=seconds)
    return _("{count} minutes", count=math.ceil(seconds / 60))


async def check_login_allowed(
    db: AsyncSession, username: str, limits: LoginLimits, now: dt.datetime
) -> None:
    """Refuse (429, with "try again in") when this address failed too often at this account,
    or at any accounts.

    Failures at an account are counted per address, since that address's last successful
    sign-in to it: whoever guesses from one address waits, even with the right password (or the
    guessing would go on), while the owner signing in from another address is not locked out by
    them (counting per account alone let anyone lock any account).
    """
    address, since = ORIGIN.get(), now - limits.window
    last_ok = await store.last_at(db, LOGIN_OK, username, address=address)
    account_since = max(since, last_ok) if last_ok else since
    count, oldest = await store.count_since(
        db, LOGIN_FAILED, account_since, subject=username, address=address
    )
    if count >= limits.per_account:
        wait = _wait(oldest, limits.window, now)
        raise TooManyRequests(
            _(
                "Too many failed sign-ins for this account from your "
                "address; try again in {in_words}.",
                in_words=_in_words(wait),
            ),
            retry_after=wait,
        )
    count, oldest = await store.count_since(db, LOGIN_FAILED, since, address=address)
    if count >= limits.per_address:
        wait = _wait(oldest, limits.window, now)
        raise TooManyRequests(
            _(
                "Too many failed sign-ins from your address; try again in {in_words}.",
                in_words=_in_words(wait),
            ),
            retry_after=wait,
        )


async def check_rate(
    db: AsyncSession, action: str, limit: int, window: dt.timedelta, what: str | Msg
) -> None:
    """Refuse (429) when this address did ``action`` ``limit`` times within ``window``; counted
    from the log itself, so every server process and a restart agree."""
    now = utcnow()
    count, oldest = await store.count_since(db, action, now - window, address=ORIGIN.get())
    if count >= limit:
        wait = _wait(oldest, window, now)
        raise TooManyRequests(
            _(
                "Too many {what} from your address; try again in {in_words}.",
                what=what,
                in_words=_in_words(wait),
            ),
            retry_after=wait,
        )


async def entries(db: AsyncSession, **filters: Any) -> Sequence[AuditEntry]:
    """Entries matching the filters, newest first (see :func:`store.entries`)."""
    return await store.entries(db, **filters)
