"""Jobs that run once: a lock that one server process holds at a time, so periodic work whose
effects are shared by every process runs in exactly one of them.

Which periodic work needs it, and why:

- **Follow-up reminders** (:mod:`server.record.reminders`): yes. Each run reads the overdue
  items and the time each was last reminded, then queues mail and stamps them; two processes
  running at once would both read "not reminded today" and both queue a reminder.
- **The outbox worker** (:class:`server.mail.OutboxWorker`): no. Each message row is claimed in
  its own transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, serial writes on SQLite) with a
  lease, so every process may send and no row is sent twice; several senders share the load.
- **Idle-room eviction** (:class:`server.rooms.service.RoomHub`) and **token checks**
  (:class:`server.rooms.token_watch.TokenWatch`): no. They act on one process's own memory and
  connections; each process must do its own.

The lock, by deployment:

- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated
  connection. It is the database whose rows the jobs change, and PostgreSQL ends the lock the
  moment the holder's connection ends (its process killed, its host gone once TCP notices).
- **Redis without PostgreSQL** (processes sharing one SQLite file): a key set with
  ``SET key token NX PX ttl`` and renewed by its holder with a compare-and-``PEXPIRE`` script;
  a holder that dies stops renewing and the key expires after ``ttl``.
- **SQLite without Redis**: one process serves the deployment, so the lock is simply held.

Every process tries to take the lock every third of ``ttl``; the holder renews it then. A
holder that cannot confirm its lock for half of ``ttl`` stops running jobs, before a Redis key
could expire and another process take over, so two holders never overlap on a working clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from server.tasks import finish

log = logging.getLogger(__name__)
LOCK_NAME = "xieshang:jobs"
TIMEOUT = 5.0  # seconds a lock server may take to answer before the lock counts as lost
# Renew only a key this holder still owns; a key another process took is left alone.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class JobLock(Protocol):
    """A lock one process holds at a time."""

    kind: str  # named in the logs

    async def hold(self) -> bool:
        """Take the lock if it is free, or confirm this process still holds it."""

    async def release(self) -> None:
        """Give the lock up (another process may take it at once) and close connections."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class LocalLock:
    """SQLite without Redis: one process serves the deployment, and it holds the lock."""

    kind = "single process"

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def advisory_key(name: str) -> int:
    """The signed 64-bit advisory lock key of ``name`` (stable across processes)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLock:
    """A session-level advisory lock on a connection of its own (outside the pool: the lock
    lives exactly as long as that connection)."""

    kind = "PostgreSQL advisory lock"

    def __init__(self, url: str, name: str = LOCK_NAME) -> None:
        self.key = advisory_key(name)
        self._engine = create_async_engine(
            url, poolclass=NullPool, connect_args={"timeout": TIMEOUT, "command_timeout": TIMEOUT}
        )
        self._conn: AsyncConnection | None = None
        self._held = False

    async def hold(self) -> bool:
        try:
            if self._conn is None:
                conn = await self._engine.connect()
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if self._held:  # the lock holds while its connection does
                await self._conn.execute(text("SELECT 1"))
            else:
                taken = await self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                )
                self._held = bool(taken.scalar())
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            # Once per try while the database is away: one line, not a traceback each time.
            log.warning("jobs: the PostgreSQL lock connection failed: %s", _first_line(exc))
            await self._drop()
        return self._held

    async def _drop(self) -> None:
        self._held, conn, self._conn = False, self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def release(self) -> None:
        await self._drop()  # closing the connection ends its advisory locks
        await self._engine.dispose()


class RedisLock:
    """A Redis key with an expiry, renewed by its holder."""

    kind = "Redis lock"

    def __init__(self, url: str, *, key: str, ttl: float) -> None:
        self.key, self.ttl_ms = key, max(1, int(ttl * 1000))
        self.token = secrets.token_hex(16)  # this process, as the key's value
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
        self._held = False

    async def hold(self) -> bool:
        try:
            if self._held:
                renew: Any = self._redis.eval(RENEW, 1, self.key, self.token, self.ttl_ms)
                self._held = bool(await renew)
            if not self._held:
                taken = await self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms)
                self._held = bool(taken)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("jobs: Redis did not answer about the lock: %s", _first_line(exc))
            self._held = False
        return self._held

    async def release(self) -> None:
        try:
            if self._held:
                release: Any = self._redis.eval(RELEASE, 1, self.key, self.token)
                await release
        except (RedisError, OSError, TimeoutError):
            log.warning("jobs: could not release the Redis lock (it expires)", exc_info=True)
        finally:
            self._held = False
            await self._redis.aclose()


def job_lock(db_url: str, redis_url: str | None, *, prefix: str, ttl: float) -> JobLock:
    """The lock a deployment's processes share: PostgreSQL's, else Redis's, else none needed."""
    if db_url.startswith("postgresql"):
        return PostgresLock(db_url, f"{prefix}:jobs")
    if redis_url:
        return RedisLock(redis_url, key=f"{prefix}:jobs", ttl=ttl)
    return LocalLock()


class Leadership:
    """Keeps trying to hold ``lock`` (every third of ``ttl``); ``held`` says whether this
    process runs the once-only jobs now. ``on_gain`` callbacks run when it starts to."""

    def __init__(self, lock: JobLock, *, ttl: float) -> None:
        self.lock, self.ttl = lock, ttl
        self.on_gain: list[Callable[[], None]] = []
        self._until = 0.0  # monotonic time up to which the last confirmation counts
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._trying: asyncio.Future[bool] | None = None  # a try to hold the lock, in flight
        self._asked = 0.0  # when it began

    @property
    def held(self) -> bool:
        return time.monotonic() < self._until

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.ttl / 3)

    async def check(self) -> None:
        """Take or renew the lock once, and note a change.

        A try that outlasts half of ``ttl`` counts as a failure, but is not cancelled (a
        cancellation inside a database or Redis call can leave its connection open): the next
        check waits for that same try, and a confirmation counts from when the try began.
        """
        was, asked = self.held, time.monotonic()
        if self._trying is None:
            self._trying, self._asked = asyncio.ensure_future(self.lock.hold()), asked
        done, _ = await asyncio.wait({self._trying}, timeout=self.ttl / 2)
        ok = False
        if done:
            trying, self._trying = self._trying, None
            ok = not trying.cancelled() and trying.exception() is None and bool(trying.result())
            asked = self._asked
        self._until = asked + self.ttl / 2 if ok else 0.0
        if ok and not was:
            log.info("jobs: this process now runs the periodic jobs (%s)", self.lock.kind)
            for gained in self.on_gain:
                gained()
        elif was and not ok:
            log.warning("jobs: this process lost the job lock; another will run the jobs")

    async def stop(self) -> None:
        """Stop trying, and give the lock up so another process takes over at once."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        if self._trying is not None:
            await finish([self._trying])
            self._trying = None
        self._until = 0.0
        await self.lock.release()
