"""Jobs that run once: three server processes share one job lock; overdue follow-ups are
reminded exactly once, and when the holder is killed another process takes the jobs over.

On PostgreSQL the processes share an advisory lock; on SQLite (with Redis) a Redis key."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from server.config import Config
from server.db import Database, utcnow
from server.directory import service as directory
from server.jobs import Leadership, PostgresLock, RedisLock, job_lock
from server.mail import OutboxMessage
from server.record.models import FollowUp, FollowUpStatus
from server.record.reminders import remind_overdue
from tests.conftest import PG_URL, REDIS_URL, REQUIRE_SERVICES, Cast
from tests.server.rooms.test_durability import ServerProcess, free_port
from tests.server.sessions.test_sessions_api import create

TTL = 3  # seconds: XIESHANG_JOB_LOCK_SECONDS of the processes, so a takeover takes seconds
CHANNEL = "jobs-test"  # the processes' deployment; the in-process test app is another one
TOOK_OVER = b"now runs the periodic jobs"
REMINDED = b"overdue follow-ups reminded"


async def seed_overdue(database: Database, session_id: int, unit_id: int, n: int, tag: str) -> None:
    """``n`` open follow-ups of ``unit_id``, due last year: overdue, never reminded."""
    now = utcnow()
    async with database.transaction() as db:
        for i in range(n):
            db.add(
                FollowUp(
                    source=f"{tag}-{i}",
                    session_id=session_id,
                    owner_unit_id=unit_id,
                    text=f"事项 {tag}-{i}",
                    due=dt.date(2025, 1, 15),
                    status=FollowUpStatus.OPEN,
                    created_at=now,
                    updated_at=now,
                )
            )


async def reminders_by_item(database: Database) -> dict[str, int]:
    """How many reminder mails the outbox holds for each item (by the item's text)."""
    async with database.read() as db:
        rows = await db.execute(
            select(OutboxMessage.subject, func.count())
            .where(OutboxMessage.subject.startswith("督办提醒：事项 "))  # not the invitations
            .group_by(OutboxMessage.subject)
        )
        return {s.removeprefix("督办提醒：事项 ").split("（")[0]: n for s, n in rows.all()}


async def until(check: Callable[[], Awaitable[bool]], seconds: float) -> float:
    """Wait until ``await check()`` is true; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def holders(logs: list[Path], said: bytes = TOOK_OVER) -> list[int]:
    """The processes whose log says they took the job lock (or ``said`` something else)."""
    return [i for i, log in enumerate(logs) if log.exists() and said in log.read_bytes()]


@pytest.fixture
async def three(config: Config, tmp_path: Path) -> AsyncIterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    for i in range(3):
        process = ServerProcess(
            config, free_port(), REDIS_URL, channel=CHANNEL, log=tmp_path / f"serve-{i}.log"
        )
        process.env |= {
            "XIESHANG_REMIND_SECONDS": "1",
            "XIESHANG_JOB_LOCK_SECONDS": str(TTL),
            "XIESHANG_LOG_LEVEL": "INFO",
        }
        started.append(process)
    await asyncio.gather(*(p.start() for p in started))
    yield started
    for process in started:
        await process.stop()


@pytest.mark.redis
async def test_three_processes_remind_each_overdue_item_once_and_survive_the_holder_killed(
    cast: Cast, database: Database, three: list[ServerProcess]
) -> None:
    logs = [p.log for p in three if p.log is not None]

    async def one_holder() -> bool:
        return len(holders(logs)) == 1

    await until(one_holder, 2 * TTL)
    session = await create(cast)
    unit = cast.unit_ids["a"]
    async with database.read() as db:
        recipients = len((await directory.unit_people(db, [unit]))[unit])
    assert recipients >= 1

    await seed_overdue(database, session["id"], unit, 6, "first")

    async def all_reminded() -> bool:
        return len(await reminders_by_item(database)) == 6

    await until(all_reminded, 10)
    await asyncio.sleep(3)  # three more runs of every process's schedule
    assert await reminders_by_item(database) == {f"first-{i}": recipients for i in range(6)}
    [holder] = holders(logs)  # one process held the lock all along, and it alone reminded
    assert holders(logs, REMINDED) == [holder]

    await three[holder].kill()
    await seed_overdue(database, session["id"], unit, 3, "second")

    async def second_reminded() -> bool:
        return len(await reminders_by_item(database)) == 9

    took = await until(second_reminded, 60)
    assert took < 60
    await asyncio.sleep(2)
    assert await reminders_by_item(database) == {
        **{f"first-{i}": recipients for i in range(6)},
        **{f"second-{i}": recipients for i in range(3)},
    }
    survivors = [i for i in holders(logs) if i != holder]
    assert len(survivors) == 1, survivors  # exactly one of the two others took over
    assert holders(logs, REMINDED) == sorted([holder, *survivors])


@pytest.mark.redis
async def test_a_lock_is_held_by_one_holder_until_released(config: Config) -> None:
    """Two holders of the deployment's lock: the second is refused until the first lets go."""
    first = job_lock(config.db_url, REDIS_URL, prefix="lock-test", ttl=TTL)
    second = job_lock(config.db_url, REDIS_URL, prefix="lock-test", ttl=TTL)
    assert isinstance(first, PostgresLock if PG_URL else RedisLock)
    try:
        assert await first.hold()
        assert not await second.hold()
        assert await first.hold()  # renewing keeps it
        assert not await second.hold()
        await first.release()
        assert await second.hold()
    finally:
        await first.release()
        await second.release()


@pytest.mark.redis
async def test_a_redis_lock_expires_when_its_holder_stops_renewing() -> None:
    first = RedisLock(REDIS_URL or "", key="expiry-test", ttl=1)
    second = RedisLock(REDIS_URL or "", key="expiry-test", ttl=1)
    try:
        assert await first.hold()
        assert not await second.hold()
        await asyncio.sleep(1.3)  # the first holder went silent
        assert await second.hold()
        assert not await first.hold()  # and cannot renew a key that is no longer its own
    finally:
        await first.release()
        await second.release()


@pytest.mark.redis
async def test_leadership_counts_a_hold_for_half_the_expiry_only() -> None:
    """A holder that cannot confirm its lock stops running jobs before the key could expire."""
    lock = RedisLock(REDIS_URL or "", key="leadership-test", ttl=1)
    leadership = Leadership(lock, ttl=1)
    gained: list[bool] = []
    leadership.on_gain.append(lambda: gained.append(True))
    try:
        await leadership.check()
        assert leadership.held and gained == [True]
        await asyncio.sleep(0.6)
        assert not leadership.held
    finally:
        await leadership.stop()


async def test_reminder_runs_at_once_remind_each_item_once(cast: Cast, database: Database) -> None:
    """Even two runs at once (a handover, or staff pressing "remind now" during the scheduled
    run) never mail an item twice: each run claims the rows it reminds."""
    session = await create(cast)
    unit = cast.unit_ids["a"]
    await seed_overdue(database, session["id"], unit, 8, "both")
    runs = [
        remind_overdue(database, None, zone="Asia/Shanghai", sender="tian@xieshang.example")
        for _ in range(4)
    ]
    results = await asyncio.gather(*runs)
    assert sorted(i for r in results for i in r.follow_up_ids) == list(range(1, 9))
    assert await reminders_by_item(database) == {f"both-{i}": 1 for i in range(8)}


async def test_a_postgres_lock_whose_connection_ends_is_lost_and_taken_by_another(
    config: Config, database: Database
) -> None:
    """The advisory lock lives as long as its connection: ended by the server (as when the
    holder's process dies), another process takes it, and the old holder knows it lost it."""
    if not PG_URL:
        if REQUIRE_SERVICES:
            pytest.fail("XIESHANG_TEST_REQUIRE_SERVICES=1 but XIESHANG_TEST_DATABASE_URL is unset")
        pytest.skip("needs PostgreSQL: set XIESHANG_TEST_DATABASE_URL (CI does)")
    first, second = PostgresLock(config.db_url, "cut-test"), PostgresLock(config.db_url, "cut-test")
    try:
        assert await first.hold() and not await second.hold()
        async with database.transaction() as db:
            ended = await db.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND objid = :low AND granted"
                ),
                {"low": first.key & 0xFFFFFFFF},
            )
            assert ended.scalars().all() == [True]
        for _ in range(50):  # the backend ends a moment after it is told to
            if await second.hold():
                break
            await asyncio.sleep(0.05)
        assert await second.hold()
        assert not await first.hold()  # reconnected, it finds the lock taken
    finally:
        await first.release()
        await second.release()


class SlowLock:
    """A lock whose every try takes 0.3 s (as a lock server under load may): the test's own
    implementation of the ``JobLock`` protocol, to see what ``Leadership`` does with it."""

    kind = "slow test lock"

    def __init__(self) -> None:
        self.tries = self.cancelled = 0
        self.released = False

    async def hold(self) -> bool:
        self.tries += 1
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return True

    async def release(self) -> None:
        self.released = True


async def test_a_slow_try_for_the_lock_is_waited_for_never_cancelled() -> None:
    # A cancelled try can leave its database or Redis connection open (a CI run on PostgreSQL
    # failed on such an unclosed connection).
    lock = SlowLock()
    leadership = Leadership(lock, ttl=0.2)  # a try may take 0.1 s before it counts as failed
    await leadership.check()
    assert not leadership.held
    await asyncio.sleep(0.3)
    await leadership.check()  # collects that same try rather than starting another
    assert (lock.tries, lock.cancelled) == (1, 0)
    assert not leadership.held  # confirmed 0.3 s after it began: its half-expiry has passed
    await leadership.check()  # a new try, in flight when the process stops
    await leadership.stop()
    assert (lock.tries, lock.cancelled, lock.released) == (2, 0, True)
