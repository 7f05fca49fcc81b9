"""Stopping background work without cutting a database call in half.

A task cancelled while it waits on the database can leave its connection neither returned nor
closed: SQLAlchemy's async pool and asyncpg clean up with awaits of their own, and a
cancellation landing in those leaves a live socket that the garbage collector finds later
(``ResourceWarning: unclosed connection``), on a closed event loop or in another request.
So background work stops by a flag where it can, and whatever is in flight at shutdown gets a
grace period to finish before anything is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

STOP_GRACE = 5.0  # seconds a stopping service lets the work in hand finish


async def finish(tasks: Iterable[asyncio.Future[Any]], grace: float = STOP_GRACE) -> None:
    """Wait up to ``grace`` seconds for ``tasks`` to end by themselves, then cancel those
    still running and wait for them. Never raises what the tasks raised."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    if pending:
        _done, pending = await asyncio.wait(pending, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def to_the_end(work: Awaitable[T]) -> T:
    """Await ``work`` so that cancelling the caller does not cut it in half: the work runs on
    in a task of its own, and the cancellation takes effect once it has ended.

    For database work called from tasks that others cancel (the media backends stop their
    speaker watch and feed tasks that way, and those record room events).
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # A second cancellation while waiting gives up on waiting (the task still runs on).
        await asyncio.wait({task})
        raise
