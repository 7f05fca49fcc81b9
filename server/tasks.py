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
from collections.abc import Iterable
from typing import Any

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
