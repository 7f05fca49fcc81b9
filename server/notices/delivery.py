"""After a transaction that told people something commits: push their new unread counts to
their open pages, and mail what is waiting. Nothing here runs before the commit, so nobody
hears of a change that was rolled back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from server.db import Database
from server.notices import service
from server.tasks import finish

log = logging.getLogger(__name__)
EVENT = "notifications"  # Socket.IO event on the default namespace: {"unread": N}
Emit = Callable[[int, dict[str, Any]], Awaitable[None]]  # (person id, data) to their room


class NoticeDelivery:
    """Pushes unread counts after each commit, and turns pending notices into mail (woken by
    commits, and every ``poll_seconds`` for what another process or a crash left waiting).
    Runs in every server process: each notice's mail is claimed in a transaction."""

    def __init__(
        self,
        *,
        database: Database,
        emit: Emit,
        settings: service.MailSettings,
        wake_outbox: Callable[[], None],
        poll_seconds: float = 30.0,
    ) -> None:
        self.database, self.emit, self.settings = database, emit, settings
        self.wake_outbox, self.poll_seconds = wake_outbox, poll_seconds
        self._pushes: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def committed(self, info: dict[Any, Any]) -> None:
        """The database's on-commit hook."""
        told: set[int] = info.pop(service.TOLD, set())
        if told and not self._stopping:
            task = asyncio.create_task(self._push(told), name="notices-push")
            self._pushes.add(task)
            task.add_done_callback(self._pushes.discard)
        if info.pop(service.TO_MAIL, False):
            self._wake.set()

    async def _push(self, people: set[int]) -> None:
        try:
            counts = await service.unread_counts(self.database, people)
            for person_id, unread in counts.items():
                await self.emit(person_id, {"unread": unread})
        except Exception:  # a page missing one push refreshes on the next; log, go on
            log.exception("notices: could not push unread counts")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notices-mailer")

    async def _run(self) -> None:
        # Stopped by a flag, not cancelled: see server.tasks.
        while not self._stopping:
            self._wake.clear()  # before the round: a commit during it wakes the next one
            try:
                while not self._stopping and await service.mail_pending(
                    self.database, self.settings
                ):
                    self.wake_outbox()
            except Exception:
                log.exception("notices: a mail round failed; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def stop(self) -> None:
        """Stop mailing and pushing: the round and the pushes in hand finish (within a grace
        period); what is still pending mails at the next start."""
        self._stopping = True
        self._wake.set()
        await finish([*self._pushes, *([self._task] if self._task else [])])
