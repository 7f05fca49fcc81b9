"""Lookups asked at once share one query (``server.read_batch``): a crowd's sign-in and room
entry checks cost a few reads, not one each, and each caller still gets its own answer."""

from __future__ import annotations

import asyncio

import pytest

from server.read_batch import ReadBatch


class Squares:
    """A fetch that remembers what it was asked: the square of each non-negative number."""

    def __init__(self, *, fail_on: int | None = None, pause: float = 0.0) -> None:
        self.asked: list[list[int]] = []
        self.fail_on, self.pause = fail_on, pause

    async def __call__(self, keys: list[int]) -> dict[int, int]:
        self.asked.append(list(keys))
        await asyncio.sleep(self.pause)
        if self.fail_on is not None and self.fail_on in keys:
            raise RuntimeError(f"cannot read {self.fail_on}")
        return {k: k * k for k in keys if k >= 0}


async def test_keys_asked_in_one_turn_share_one_query_and_each_caller_gets_its_answer() -> None:
    fetch = Squares()
    batch = ReadBatch(fetch)
    keys = [3, 1, 4, 1, 5, -9, 2, 6]
    answers = await asyncio.gather(*(batch.get(k) for k in keys))
    assert answers == [9, 1, 16, 1, 25, None, 4, 36]
    assert fetch.asked == [[3, 1, 4, 5, -9, 2, 6]]  # once each, in the order first asked
    assert (batch.queries, batch.keys) == (1, 7)


async def test_keys_asked_while_a_query_is_in_flight_go_in_the_next_one() -> None:
    fetch = Squares(pause=0.05)
    batch = ReadBatch(fetch)
    first = asyncio.ensure_future(asyncio.gather(*(batch.get(k) for k in (1, 2))))
    await asyncio.sleep(0.01)  # the first query is running
    later = await asyncio.gather(*(batch.get(k) for k in (3, 4, 2)))
    assert await first == [1, 4] and later == [9, 16, 4]
    assert fetch.asked == [[1, 2], [3, 4, 2]]
    assert batch.task is None  # nothing left running once every caller has its answer


async def test_a_query_holds_at_most_the_limit_of_keys() -> None:
    fetch = Squares()
    batch = ReadBatch(fetch, limit=3)
    assert await asyncio.gather(*(batch.get(k) for k in range(8))) == [k * k for k in range(8)]
    assert fetch.asked == [[0, 1, 2], [3, 4, 5], [6, 7]]


async def test_a_failed_query_fails_its_own_callers_only() -> None:
    fetch = Squares(fail_on=7, pause=0.02)
    batch = ReadBatch(fetch)
    doomed = asyncio.ensure_future(asyncio.gather(*(batch.get(k) for k in (7, 8))))
    await asyncio.sleep(0.005)
    fine = asyncio.ensure_future(batch.get(9))  # asked while the failing query runs
    with pytest.raises(RuntimeError, match="cannot read 7"):
        await doomed
    assert await fine == 81
    assert await batch.get(8) == 64  # nothing of the failure is remembered
    assert fetch.asked == [[7, 8], [9], [8]]


async def test_a_caller_that_gives_up_leaves_the_others_their_answers() -> None:
    fetch = Squares(pause=0.05)
    batch = ReadBatch(fetch)
    impatient = asyncio.ensure_future(batch.get(2))
    patient = asyncio.ensure_future(batch.get(2))
    other = asyncio.ensure_future(batch.get(3))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert (await patient, await other) == (4, 9)
    assert impatient.cancelled()


async def test_callers_waiting_when_the_batch_is_cancelled_are_cancelled_too() -> None:
    batch = ReadBatch(Squares(pause=10))
    waiting = [asyncio.ensure_future(batch.get(k)) for k in (1, 2)]
    await asyncio.sleep(0.01)
    assert batch.task is not None
    batch.task.cancel()
    done = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(d, asyncio.CancelledError) for d in done)
    assert batch.task is None and not batch.waiting
