"""SQLite through aiosqlite, one trip to the driver's thread per statement.

aiosqlite runs each connection's calls on a thread of its own; every call is a trip there and
back through the event loop (a queue put, a thread wake-up, a ``call_soon_threadsafe``), and on a
busy process each trip waits its turn for the GIL and the loop. SQLAlchemy's aiosqlite adapter
makes a cursor (a trip), executes (a trip), fetches a query's rows (a trip) and closes the cursor
(a trip): four trips for a SELECT, three for an INSERT or a ``BEGIN``. A room command took eight.

:class:`OneTripConnection` is aiosqlite's connection whose :meth:`~OneTripConnection.cursor`
makes, runs, fetches and closes in a single trip: the statement runs on the driver's thread with
a cursor made there, a query's rows come back with it, and the cursor is closed there too. What
SQLAlchemy asks of the cursor afterwards (description, rowcount, lastrowid, the rows) is kept on
this side. :func:`connect` is what the engine calls instead of ``aiosqlite.connect``.

What this relies on inside aiosqlite (0.20 to 0.22): a connection's ``_execute(fn, *args)``
runs ``fn`` on its thread and returns its result, ``_conn`` is the ``sqlite3.Connection``, and
``_thread`` its thread. ``tests/server/test_sqlite_trips.py`` checks these.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

CHUNK = 64  # aiosqlite's iter_chunk_size default (unused here: rows come back at once)


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[Any, int, int | None, list[Any] | None]:
    """On the driver's thread: run one statement, fetch a query's rows, close the cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """A DB-API cursor as SQLAlchemy's aiosqlite adapter uses it, one trip per statement."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _statement(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        self.description, self.rowcount, self.lastrowid, rows = await self._connection.trip(
            _run, sql, parameters, many
        )
        self._rows = rows or []
        return self

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        return await self._statement(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Any) -> OneTripCursor:
        return await self._statement(sql, parameters, True)

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        size = self.arraysize if size is None else size
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []  # the sqlite3 cursor was closed on the driver's thread already


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection with :class:`OneTripCursor` cursors."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def trip(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(sqlite3_connection, *args)`` on the driver's thread."""
        return await self._execute(fn, self._conn, *args)  # type: ignore[no-untyped-call]


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """``aiosqlite.connect`` with :class:`OneTripConnection` (awaited by SQLAlchemy)."""
    connection = OneTripConnection(functools.partial(sqlite3.connect, database, **kwargs), CHUNK)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection
