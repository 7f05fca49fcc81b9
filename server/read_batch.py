"""Lookups of one kind asked at once share one query.

A crowd arrives at once: a hall's phones scan the QR code together, a meeting's members open
the room in the same minute. Each connection asks the same two things (whom its login token
signs in, whether that person may enter the room), and asked one by one each costs a pooled
connection, a transaction and a trip to the driver. A :class:`ReadBatch` answers every key
asked while the loop runs its current callbacks, and every key asked while a query is in
flight, with the next single query: the busier the server, the larger the batches, as with
the room log's group commit (``server.rooms.service``). A key asked alone waits one turn of
the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

LIMIT = 500  # keys per query: well under every database's parameter limit


class ReadBatch(Generic[K, V]):
    """``await batch.get(key)``: the value ``fetch`` finds for ``key``, or None.

    ``fetch`` takes up to ``limit`` distinct keys and returns what it found for them (a key it
    leaves out has no value). Its exception reaches every caller of that query, and only them.
    """

    def __init__(
        self, fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]], *, limit: int = LIMIT
    ) -> None:
        self.fetch, self.limit = fetch, limit
        self.waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self.task: asyncio.Task[None] | None = None
        self.queries = 0  # how many queries answered how many keys: for tests and benchmarks
        self.keys = 0

    async def get(self, key: K) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append(future)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            await asyncio.sleep(0)  # the callers of this turn of the loop join the first query
            while self.waiting:
                keys = list(self.waiting)[: self.limit]
                await self._answer({key: self.waiting.pop(key) for key in keys})
        finally:
            self.task = None
            for futures in self.waiting.values():  # cancelled while callers waited (shutdown)
                for future in futures:
                    future.cancel()
            self.waiting.clear()

    async def _answer(self, asked: dict[K, list[asyncio.Future[V | None]]]) -> None:
        try:
            found = await self.fetch(list(asked))
        except asyncio.CancelledError:
            _settle(asked, None, asyncio.CancelledError())
            raise
        except Exception as exc:  # the callers of this query handle it, each in its own way
            _settle(asked, None, exc)
            return
        self.queries += 1
        self.keys += len(asked)
        for key, futures in asked.items():
            _settle({key: futures}, found.get(key), None)


def _settle(
    asked: Mapping[K, list[asyncio.Future[V | None]]], value: V | None, error: BaseException | None
) -> None:
    for futures in asked.values():
        for future in futures:
            if future.done():  # its caller gave up waiting
                continue
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
