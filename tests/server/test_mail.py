"""The outbox worker against real aiosmtpd servers: slow, silent and stalling ones."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import AsyncIterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from server.db import Database, utcnow
from server.mail import DeliveryState, OutboxMessage, OutboxWorker, Transport, enqueue

SENDER = "tian@xieshang.example"


class SlowServer:
    """An aiosmtpd handler that keeps every message, then answers RCPT or DATA late."""

    def __init__(self, *, data_delay: float = 0.0, rcpt_delay: float = 0.0) -> None:
        self.data_delay, self.rcpt_delay = data_delay, rcpt_delay
        self.received: list[email.message.EmailMessage] = []
        self.in_flight = self.most_at_once = 0  # DATA replies being held back at one time

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # The message is in: a real server would queue it now, whatever happens to the reply.
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            await asyncio.sleep(self.data_delay)
        finally:
            self.in_flight -= 1
        return "250 OK"

    def copies(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.received:
            counts[str(message["To"])] = counts.get(str(message["To"]), 0) + 1
        return counts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve() -> Any:
    """Start an SMTP server with a given handler; returns its smtp:// URL."""
    controllers: list[Controller] = []

    def start(handler: SlowServer) -> str:
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return f"smtp://127.0.0.1:{port}"

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
async def worker_for(database: Database, tmp_path: Path) -> AsyncIterator[Any]:
    """An outbox worker (not started: the test runs its rounds) for an SMTP URL."""
    made: list[OutboxWorker] = []

    def make(smtp_url: str, timeout: float, concurrency: int = 6) -> OutboxWorker:
        transport = Transport(smtp_url=smtp_url, mail_dir=tmp_path, timeout=timeout)
        worker = OutboxWorker(
            database=database, transport=transport, sender=SENDER, concurrency=concurrency
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop()


def _message(recipient: str, number: int) -> bytes:
    message = email.message.EmailMessage(policy=policy.SMTP)
    message["From"], message["To"], message["Subject"] = SENDER, recipient, "邀请"
    message["Message-ID"] = f"<invite-{number}@xieshang.example>"
    message.set_content("诚邀您参加")
    return message.as_bytes()


async def queue(database: Database, recipients: list[str]) -> None:
    async with database.transaction() as db:
        for number, recipient in enumerate(recipients):
            enqueue(
                db,
                recipient=recipient,
                method="REQUEST",
                subject="邀请",
                message=_message(recipient, number),
                now=utcnow(),
            )


async def rows(database: Database) -> list[OutboxMessage]:
    async with database.read() as db:
        return list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def make_retries_due(database: Database) -> None:
    """The clock: every backoff is over."""
    async with database.transaction() as db:
        await db.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


async def rounds(worker: OutboxWorker, database: Database, count: int) -> None:
    for _ in range(count):
        await worker.send_due()
        await make_retries_due(database)


async def test_a_message_the_server_took_but_did_not_confirm_in_time_is_not_sent_again(
    database: Database, serve: Any, worker_for: Any
) -> None:
    server = SlowServer(data_delay=1.5)
    worker = worker_for(serve(server), timeout=0.3)
    recipients = ["member@example.org", "unit@example.org"]
    await queue(database, recipients)
    await rounds(worker, database, 3)
    await asyncio.sleep(server.data_delay)  # every late reply has come (or would have)
    assert server.copies() == {r: 1 for r in recipients}
    found = await rows(database)
    assert [r.state for r in found] == [DeliveryState.SENT] * 2
    assert all(r.attempts == 1 for r in found)
    assert all(r.last_error and r.last_error.startswith("outcome unknown") for r in found)


async def test_a_timeout_before_the_message_was_sent_is_retried(
    database: Database, serve: Any, worker_for: Any
) -> None:
    server = SlowServer(rcpt_delay=1.0)
    worker = worker_for(serve(server), timeout=0.3)
    await queue(database, ["member@example.org"])
    await worker.send_due()
    (row,) = await rows(database)
    assert row.state is DeliveryState.PENDING and row.attempts == 1
    assert row.last_error and "outcome unknown" not in row.last_error
    assert server.received == []
    server.rcpt_delay = 0.0
    await make_retries_due(database)
    await worker.send_due()
    (row,) = await rows(database)
    assert row.state is DeliveryState.SENT and row.last_error is None
    assert server.copies() == {"member@example.org": 1}


async def test_several_recipients_are_sent_at_once_so_a_slow_server_does_not_hold_the_outbox(
    database: Database, serve: Any, worker_for: Any
) -> None:
    delay, count = 1.0, 8
    server = SlowServer(data_delay=delay)
    worker = worker_for(serve(server), timeout=10.0, concurrency=6)
    recipients = [f"member{i}@example.org" for i in range(count)]
    await queue(database, recipients)
    while await worker.send_due() > 0:
        pass
    assert server.copies() == {r: 1 for r in recipients}
    assert all(r.state is DeliveryState.SENT for r in await rows(database))
    # Several messages were in the slow server at once (one after another, it would be 1): a
    # property of the sender, not of how loaded the machine is.
    assert server.most_at_once >= 4, f"at most {server.most_at_once} messages at once"


async def test_lines_starting_with_a_dot_arrive_intact(
    database: Database, serve: Any, worker_for: Any
) -> None:
    server = SlowServer()
    worker = worker_for(serve(server), timeout=5.0)
    async with database.transaction() as db:
        message = email.message.EmailMessage(policy=policy.SMTP)  # CRLF, as every message here
        message["From"], message["To"], message["Subject"] = SENDER, "member@example.org", "纪要"
        message.set_content("第一行\n.\n..两个点\n.一个点\n", cte="8bit")
        sent = message.as_bytes()
        enqueue(
            db,
            recipient="member@example.org",
            method="NOTICE",
            subject="纪要",
            message=sent,
            now=utcnow(),
        )
    await worker.send_due()
    (received,) = server.received
    assert received.get_content().replace("\r\n", "\n") == "第一行\n.\n..两个点\n.一个点\n"
