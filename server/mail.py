"""Durable outgoing mail: an outbox table written in the caller's transaction, and a worker.

A change that causes an email (an invite, an update, a cancellation) adds an outbox row in the
same transaction, so either both happen or neither. A background worker claims due rows, sends
them over SMTP (or writes ``.eml`` files when no SMTP server is configured), several at a time,
and retries with exponential backoff; after the last attempt the row is ``failed`` with the
reason, for staff to see. Several server processes can run workers: a row is claimed with a lease
before sending.

A message is resent only when the server cannot have it. Once the whole message went out, a
missing final reply (a timeout, a dropped connection) means the server may well have queued it
(RFC 1047): such a row is ``sent`` with the note "outcome unknown", never retried, because a retry
would hand every recipient a second copy with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Database, UTCDateTime, enum_column, utcnow
from server.tasks import STOP_GRACE

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
LEASE = dt.timedelta(minutes=2)
RECORD_ATTEMPTS = 4
SMTP_TIMEOUT = 20.0  # seconds each SMTP step may take
CONCURRENCY = 6  # messages sent at once (each over its own connection)
UNCONFIRMED = "outcome unknown: the server did not confirm in time"


@dataclass(frozen=True)
class Mailer:
    """Who the server's mail comes from, and the outbox's wake-up once some is queued."""

    sender: str
    sender_name: str
    # Sends what was just queued now rather than at the worker's next poll; a no-op before the
    # outbox worker runs (and in the CLI, which has none).
    wake: Callable[[], None]


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


@dataclass(frozen=True)
class OutboxState:
    """How the outbox stands, for health and metrics (shared by every process)."""

    counts: dict[str, int]  # delivery state -> messages (every state, zero included)
    oldest_pending_at: dt.datetime | None  # when the oldest message still waiting was queued
    retrying: int  # waiting messages whose last try failed
    failed_since: int  # messages given up on since the ``since`` asked about


async def outbox_state(db: AsyncSession, *, since: dt.datetime) -> OutboxState:
    """Counts by state, the oldest waiting message, and those given up on since ``since`` (a
    row's ``next_attempt_at`` is the time of its last try once it is ``failed``)."""
    rows = await db.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    counts = {state.value: 0 for state in DeliveryState}
    for state, count in rows.all():
        counts[DeliveryState(state).value] = count
    pending = OutboxMessage.state == DeliveryState.PENDING
    oldest = await db.scalar(select(func.min(OutboxMessage.created_at)).where(pending))
    retrying = await db.scalar(select(func.count()).where(pending, OutboxMessage.attempts > 0))
    failed = await db.scalar(
        select(func.count()).where(
            OutboxMessage.state == DeliveryState.FAILED, OutboxMessage.next_attempt_at >= since
        )
    )
    return OutboxState(counts, oldest, retrying or 0, failed or 0)


class OutcomeUnknown(smtplib.SMTPException):
    """The server received the whole message but its answer never came: it may have it."""


class _SMTP(smtplib.SMTP):
    """smtplib's client, telling a message the server may have from one it cannot have."""

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        """smtplib's DATA, raising :class:`OutcomeUnknown` when the final reply does not come."""
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        self.send(_dot_stuffed(msg.encode("ascii") if isinstance(msg, str) else bytes(msg)))
        try:
            return self.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:  # a timeout is an OSError
            raise OutcomeUnknown(f"{UNCONFIRMED} ({type(exc).__name__}: {exc})") from exc


class _SMTPS(_SMTP, smtplib.SMTP_SSL):
    """The same over TLS from the first byte (smtps://)."""


def _dot_stuffed(message: bytes) -> bytes:
    # RFC 5321 §4.5.2: a line starting with "." gets another one; "." alone ends the data.
    body = re.sub(rb"(?m)^\.", b"..", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


class Transport:
    """Where messages go: an SMTP server, or a folder of .eml files."""

    def __init__(
        self, *, smtp_url: str | None, mail_dir: Path, timeout: float = SMTP_TIMEOUT
    ) -> None:
        self.smtp_url, self.mail_dir, self.timeout = smtp_url, mail_dir, timeout

    def send(self, row_id: int, recipient: str, sender: str, message: bytes) -> None:
        """Deliver one message (blocking: run it in a thread). Raises on failure, and
        :class:`OutcomeUnknown` when the server may have the message all the same."""
        if self.smtp_url is None:
            self.mail_dir.mkdir(parents=True, exist_ok=True)
            path = self.mail_dir / f"{row_id:06d}-{recipient.replace('/', '_')}.eml"
            path.write_bytes(message)
            return
        url = urlsplit(self.smtp_url)
        secure = url.scheme == "smtps"
        port = url.port or (465 if secure else 25)
        factory = _SMTPS if secure else _SMTP
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


@dataclass(frozen=True)
class Attempt:
    """How one try went: delivered (no error), refused or failed (``error``), or maybe
    delivered (``unconfirmed``: the error is the note, and the row is not retried)."""

    error: str | None = None
    unconfirmed: bool = False


async def _claim_one(
    db: AsyncSession, now: dt.datetime, lease: dt.timedelta
) -> OutboxMessage | None:
    due = (
        select(OutboxMessage)
        .where(
            OutboxMessage.state == DeliveryState.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
        # PostgreSQL: a row another worker is claiming is skipped, not claimed twice (SQLite's
        # write transactions are serial already).
        .with_for_update(skip_locked=True)
    )
    row = (await db.execute(due)).scalar_one_or_none()
    if row is not None:
        row.claimed_until = now + lease
    return row


class OutboxWorker:
    """Sends due outbox rows in the background, ``concurrency`` at a time; ``wake()`` after a
    commit sends at once. Runs in every server process, without the job lock of
    :mod:`server.jobs`: each row is claimed with a lease in its own transaction, so no two
    processes send the same message."""

    def __init__(
        self,
        *,
        database: Database,
        transport: Transport,
        sender: str,
        poll_seconds: float = 5.0,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.database, self.transport, self.sender = database, transport, sender
        self.poll_seconds, self.concurrency = poll_seconds, concurrency
        # Each SMTP step may take the whole timeout (connect, greeting, EHLO, STARTTLS, AUTH,
        # MAIL, RCPT, DATA, content, reply): the lease outlasts them all, or another worker
        # would send the message again while this one is still at it.
        self.lease = max(LEASE, dt.timedelta(seconds=15 * transport.timeout))
        # Its own threads: slow SMTP servers must not take the default pool's threads, which
        # hash passwords.
        self._threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="smtp")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        """Finish the messages in hand, then stop (a flag, because Python 3.11's ``wait_for``
        can swallow a cancellation that arrives as its wait ends)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        self._threads.shutdown(wait=False, cancel_futures=True)

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

    async def send_due(self, limit: int = 20) -> int:
        """Try up to ``limit`` due messages once, ``concurrency`` at a time; returns how many
        were tried. Each lane claims a row only when it is free, so a lease never runs out
        while its row waits behind slow ones."""
        tickets = iter(range(limit))
        lanes = [self._lane(tickets) for _ in range(min(self.concurrency, limit))]
        return sum(await asyncio.gather(*lanes))

    async def _lane(self, tickets: Iterator[int]) -> int:
        tried = 0
        for _ticket in itertools.takewhile(lambda _: not self._stopping, tickets):
            async with self.database.transaction() as db:
                row = await _claim_one(db, utcnow(), self.lease)
            if row is None:
                break
            await self._record_with_retries(row.id, await self._try(row))
            tried += 1
        return tried

    async def _try(self, row: OutboxMessage) -> Attempt:
        loop = asyncio.get_running_loop()
        send = self.transport.send
        try:
            await loop.run_in_executor(
                self._threads, send, row.id, row.recipient, self.sender, row.message
            )
        except OutcomeUnknown as exc:
            log.warning("outbox: message %s to %s unconfirmed: %s", row.id, row.recipient, exc)
            return Attempt(error=str(exc)[:1000], unconfirmed=True)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("outbox: message %s to %s failed: %s", row.id, row.recipient, error)
            return Attempt(error=error)
        return Attempt()

    async def _record_with_retries(self, row_id: int, attempt: Attempt) -> None:
        """Record a result even when SQLite is briefly locked by a burst of writes: a sent
        message that stays unrecorded would be sent again when its lease ends."""
        for retry in range(RECORD_ATTEMPTS):
            try:
                await self._record(row_id, attempt)
                return
            except OperationalError:
                if retry == RECORD_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * (retry + 1))

    async def _record(self, row_id: int, attempt: Attempt) -> None:
        now = utcnow()
        async with self.database.transaction() as db:
            row = await db.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.claimed_until = None
            if attempt.error is None or attempt.unconfirmed:
                row.state, row.sent_at, row.last_error = DeliveryState.SENT, now, attempt.error
            elif row.attempts >= MAX_ATTEMPTS:
                row.state, row.last_error = DeliveryState.FAILED, attempt.error
            else:
                row.last_error, row.next_attempt_at = attempt.error, now + backoff(row.attempts)
