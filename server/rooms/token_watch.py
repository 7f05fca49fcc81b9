"""Room connections opened with a login token end when the token does.

Signing out ends the token's connections on this process at once (:meth:`TokenWatch.revoked`,
called from ``POST /api/auth/logout``). A check every ``XIESHANG_ROOM_TOKEN_CHECK_SECONDS`` ends
the rest: connections on other server processes, and tokens that expired, were revoked by a
password reset or whose account was disabled. One query per check covers every connection of
the process; a connection keeps only its token's digest, never the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection

log = logging.getLogger(__name__)

LiveTokens = Callable[[Collection[str]], Awaitable[set[str]]]


class TokenWatch:
    """The token digests of this process's signed-in connections, by Socket.IO sid."""

    def __init__(
        self, *, live: LiveTokens, end: Callable[[str], Awaitable[None]], interval: float
    ) -> None:
        self.live, self.end, self.interval = live, end, interval
        self.digests: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    def watch(self, sid: str, digest: str) -> None:
        self.digests[sid] = digest

    def forget(self, sid: str) -> None:
        self.digests.pop(sid, None)

    async def revoked(self, digest: str) -> None:
        """The token with ``digest`` was revoked here: end its connections on this process."""
        for sid in [s for s, d in self.digests.items() if d == digest]:
            await self._end(sid)

    async def check(self) -> None:
        """End every connection whose token no longer signs anyone in."""
        watched = dict(self.digests)  # those that connect during the query wait for the next
        if not watched:
            return
        live = await self.live(set(watched.values()))
        for sid, digest in watched.items():
            if digest not in live and self.digests.get(sid) == digest:
                await self._end(sid)

    async def _end(self, sid: str) -> None:
        self.forget(sid)
        try:
            await self.end(sid)
        except Exception:
            log.exception("could not end the connection %s of a revoked token", sid)

    def start(self) -> None:
        """Check every ``interval`` seconds until :meth:`close`."""
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        # Stopped by flag, not by cancelling: a cancellation that lands in a database call can
        # come out as an ordinary error, and the loop would go on (as ReminderLoop found).
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.interval)
            if self._closing.is_set():
                return
            try:
                await self.check()
            except Exception:
                log.exception("could not check the login tokens of room connections")

    async def close(self) -> None:
        self._closing.set()
        if self._task is not None:
            await self._task
