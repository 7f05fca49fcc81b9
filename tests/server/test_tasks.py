"""Database work that others may cancel runs to its end (``server.tasks.to_the_end``).

A cancellation landing inside a database call can leave its connection neither returned nor
closed (asyncpg then warns ``unclosed connection`` later, anywhere): a CI run on PostgreSQL
failed on one, in a browser test whose media backend had cancelled its speaker watch while it
recorded a room event.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select

from server.db import Database, utcnow
from server.directory.models import Unit
from server.tasks import to_the_end


async def _units(database: Database, name: str) -> int:
    async with database.read() as db:
        return int(await db.scalar(select(func.count()).where(Unit.name == name)) or 0)


async def test_a_cancelled_caller_lets_the_transaction_in_hand_commit_then_ends(
    database: Database,
) -> None:
    inside = asyncio.Event()

    async def work() -> str:
        async with database.transaction() as db:
            inside.set()
            await asyncio.sleep(0.2)  # the caller is cancelled while this transaction is open
            await db.execute(insert(Unit).values(name="市民政局", created_at=utcnow()))
        return "done"

    caller = asyncio.create_task(to_the_end(work()))
    await inside.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    # The cancellation took effect only once the work had committed.
    assert await _units(database, "市民政局") == 1


async def test_the_result_and_errors_pass_through(database: Database) -> None:
    async def fails() -> None:
        async with database.transaction() as db:
            await db.execute(insert(Unit).values(name="市教育局", created_at=utcnow()))
            raise LookupError("no such thing")

    async def answers() -> int:
        return 42

    assert await to_the_end(answers()) == 42
    with pytest.raises(LookupError):
        await to_the_end(fails())
    assert await _units(database, "市教育局") == 0  # rolled back as usual


async def test_closing_the_database_waits_for_work_still_using_a_connection(
    database: Database,
) -> None:
    # At shutdown, work may still be inside a transaction (a room command arriving as the
    # server stops); if closing returned at once, the event loop could end under that query.
    inside = asyncio.Event()

    async def work() -> None:
        async with database.transaction() as db:
            inside.set()
            await asyncio.sleep(0.3)
            await db.execute(insert(Unit).values(name="市卫健委", created_at=utcnow()))

    task = asyncio.create_task(work())
    await inside.wait()
    await database.close()
    assert task.done() and task.exception() is None
    reopened = Database.from_url(str(database.engine.url.render_as_string(hide_password=False)))
    try:
        assert await _units(reopened, "市卫健委") == 1
    finally:
        await reopened.close()
