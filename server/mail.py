"""Durable outgoing mail: an outbox table written in the caller's transaction, and a worker.

A change that causes an email (an invite, an update, a cancellation) adds an outbox row in the
same transaction, so either both happen or neither. A background worker claims due rows, sends
them over SMTP (or writes ``.eml`` files when no SMTP server is configured), and retries with
exponential backoff; after the last attempt the row is ``failed`` with the reason, for staff to
see. Several server processes can run workers: a row is claimed with a lease before sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Database, UTCDateTime, enum_column, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
LEASE = dt.timedelta(minutes=2)
RECORD_ATTEMPTS = 4
STOP_GRACE = 5.0  # seconds a stopping worker may take to finish the message in hand


class DeliveryState(StrEnum):
    """Where an outgoing message is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """One email to one recipient, kept until sent or given up on."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(254))
    method: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, "delivery_state"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def enqueue(
    db: AsyncSession,
    *,
    recipient: str,
    method: str,
    subject: str,
    message: bytes,
    session_id: int | None = None,
    person_id: int | None = None,
    now: dt.datetime,
) -> OutboxMessage:
    """Add a message to the outbox inside the caller's transaction."""
    row = OutboxMessage(
        session_id=session_id,
        person_id=person_id,
        recipient=recipient,
        method=method,
        subject=subject[:300],
        message=message,
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.add(row)
    return row


async def deliveries(db: AsyncSession, session_id: int) -> Sequence[OutboxMessage]:
    """Every message about one session, oldest first."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.session_id == session_id)
        .order_by(OutboxMessage.id)
    )
    return (await db.execute(stmt)).scalars().all()


class Transport:
    """Where messages go: an SMTP server, or a folder of .eml files."""

    def __init__(self, *, smtp_url: str | None, mail_dir: Path, timeout: float = 20.0) -> None:
        self.smtp_url, self.mail_dir, self.timeout = smtp_url, mail_dir, timeout

    def send(self, row_id: int, recipient: str, sender: str, message: bytes) -> None:
        """Deliver one message (blocking: run it in a thread). Raises on failure."""
        if self.smtp_url is None:
            self.mail_dir.mkdir(parents=True, exist_ok=True)
            path = self.mail_dir / f"{row_id:06d}-{recipient.replace('/', '_')}.eml"
            path.write_bytes(message)
            return
        url = urlsplit(self.smtp_url)
        secure = url.scheme == "smtps"
        port = url.port or (465 if secure else 25)
        factory = smtplib.SMTP_SSL if secure else smtplib.SMTP
        with factory(url.hostname or "localhost", port, timeout=self.timeout) as smtp:
            if url.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.sendmail(sender, [recipient], message)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min, … capped at one hour."""
    wait: dt.timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, dt.timedelta(hours=1))


class OutboxWorker:
    """Sends due outbox rows in the background; ``wake()`` after a commit sends at once."""

    def __init__(
        self, *, database: Database, transport: Transport, sender: str, poll_seconds: float = 5.0
    ) -> None:
        self.database, self.transport, self.sender = database, transport, sender
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        """Finish the message in hand, then stop (a flag, because Python 3.11's ``wait_for``
        can swallow a cancellation that arrives as its wait ends)."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.send_due() > 0:
                    pass
            except Exception:
                log.exception("outbox worker: a round failed; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def _claim(self, now: dt.datetime, limit: int) -> list[OutboxMessage]:
        async with self.database.transaction() as db:
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.state == DeliveryState.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            ids = list((await db.execute(due)).scalars())
            if not ids:
                return []
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_until=now + LEASE)
            )
            rows = await db.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            return list(rows.scalars())

    async def send_due(self, limit: int = 20) -> int:
        """Try every due message once; returns how many were tried."""
        rows = await self._claim(utcnow(), limit)
        for row in rows:
            error: str | None = None
            try:
                await asyncio.to_thread(
                    self.transport.send, row.id, row.recipient, self.sender, row.message
                )
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"[:1000]
                log.warning("outbox: message %s to %s failed: %s", row.id, row.recipient, error)
            await self._record_with_retries(row.id, error)
        return len(rows)

    async def _record_with_retries(self, row_id: int, error: str | None) -> None:
        """Record a result even when SQLite is briefly locked by a burst of writes: a sent
        message that stays unrecorded would be sent again when its lease ends."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self._record(row_id, error)
                return
            except OperationalError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _record(self, row_id: int, error: str | None) -> None:
        now = utcnow()
        async with self.database.transaction() as db:
            row = await db.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.claimed_until = None
            if error is None:
                row.state, row.sent_at, row.last_error = DeliveryState.SENT, now, None
            elif row.attempts >= MAX_ATTEMPTS:
                row.state, row.last_error = DeliveryState.FAILED, error
            else:
                row.last_error, row.next_attempt_at = error, now + backoff(row.attempts)
