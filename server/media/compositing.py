"""The job that makes each recorded session's composite file (:mod:`server.media.composite`).

Its state is on the composite's row in ``recordings`` (``kind`` "composite"): a feed's file
saved asks for the composite (``pending``, due a few seconds later so the other feeds of the
same stop come in first). The job takes one due composite at a time, in the one process that
holds the job lock (:mod:`server.jobs`), and only once the session is no longer recording:

- it claims the row (``running``, a lease as long as the time budget: the recording's duration
  times ``per_second`` plus ``budget`` seconds) and reads the feeds and
  the room's events in one short transaction;
- it encodes outside any transaction, in a child process (``python -m server.media.composite``)
  killed when it overruns the budget;
- it writes the outcome (``done`` with the file, or ``failed`` with a reason) only if nobody
  asked again meanwhile (``due_at`` unchanged); otherwise the row stays pending and is made
  again with the new feeds.

A process that dies mid-job leaves a ``running`` row whose lease runs out; the next holder of
the lock takes it over (at most ``ATTEMPTS`` times, then ``failed``: "abandoned"). A process
that stops puts the row it was working on back to ``pending``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database, utcnow
from server.media import composite, store
from server.media.models import Recording

log = logging.getLogger(__name__)

ATTEMPTS = 3
# Room events the job reads: who held the floor, and whether the session is still recording.
EVENTS = (
    "floor.grant",
    "floor.revoke",
    "floor.expire",
    "session.end",
    "recording.start",
    "recording.stop",
)
RoomEvents = Callable[
    [AsyncSession, int, Sequence[str]], Awaitable[list[tuple[dt.datetime, str, dict[str, Any]]]]
]
ROOT = Path(__file__).resolve().parents[2]  # where ``server`` is, for the child process


class Failed(Exception):
    """The composite could not be made; the reason is kept on its row."""


def _still_recording(events: Sequence[tuple[dt.datetime, str, dict[str, Any]]]) -> bool:
    last = [kind for _at, kind, _data in events if kind.split(".")[0] in ("recording", "session")]
    return bool(last) and last[-1] == "recording.start"


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _sweep(kept: Path) -> None:
    """Remove the session's other composite files: the one this replaces, and any a process
    that died mid-job left behind."""
    for path in kept.parent.glob(f"composite-*{composite.SUFFIX}"):
        if path != kept:
            path.unlink(missing_ok=True)


def _absolute(path: Path) -> Path:
    return path.resolve()


def _relative(path: Path, root: Path) -> str:
    return str(path.resolve().relative_to(root.resolve()))


class Compositor:
    """Makes the due composites one at a time, every ``every`` seconds or when woken, while
    ``may_run()`` (this process holds the job lock). Stops by flag (see :mod:`server.tasks`):
    the encode in hand is killed and its row put back to pending."""

    def __init__(
        self,
        database: Database,
        root: Path,
        room_events: RoomEvents,
        *,
        budget: float,
        per_second: float = 1.0,
        every: float = 30.0,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        self.database, self.root, self.room_events = database, root, room_events
        self.budget, self.every, self.may_run = budget, every, may_run
        self.per_second = per_second
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._child: asyncio.subprocess.Process | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._child is not None and self._child.returncode is None:
            self._child.kill()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            wait = self.every
            try:
                if self.may_run():
                    while not self._stopping.is_set() and await self.run_once() is not None:
                        pass
                    wait = await self._until_due()
            except Exception:
                log.exception("composite recordings: the job failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _until_due(self) -> float:
        async with self.database.read() as db:
            due = await store.next_due(db)
        if due is None:
            return self.every
        return min(self.every, max(0.5, (due - utcnow()).total_seconds() + 0.1))

    async def run_once(self) -> int | None:
        """Make one due composite; its row's id, or None when none was due."""
        claimed = await self._claim()
        if claimed is None:
            return None
        row_id, due, spec, target = claimed
        if spec is None:
            await self._finish(row_id, due, failed="no_media")
            return row_id
        started = asyncio.get_running_loop().time()
        try:
            result = await self._encode(spec, target)
        except Failed as exc:
            _remove(target)
            if self._stopping.is_set():
                await self._release(row_id, due)
            else:
                await self._finish(row_id, due, failed=str(exc))
            return row_id
        log.info(
            "composite recordings: made %s (%.1f s of video) in %.1f s",
            target.name,
            result["duration_ms"] / 1000,
            asyncio.get_running_loop().time() - started,
        )
        await self._finish(row_id, due, target=target, result=result, spec=spec)
        return row_id

    async def _claim(
        self,
    ) -> tuple[int, dt.datetime, dict[str, Any] | None, Path] | None:
        now = utcnow()
        async with self.database.transaction() as db:
            for row in await store.composites_due(db, now, 20):
                events = await self.room_events(db, row.session_id, EVENTS)
                if _still_recording(events):
                    continue
                row.attempts += 1
                if row.attempts > ATTEMPTS:
                    row.status, row.reason, row.lease_until = "failed", "abandoned", None
                    continue
                row.status, row.reason = "running", None
                assert row.due_at is not None  # a requested composite always has one
                spec = self._plan(await store.feeds_of(db, row.session_id), events)
                limit = self._limit(spec) if spec is not None else 0.0
                row.lease_until = now + dt.timedelta(seconds=limit + 60)
                stamp = now.strftime("%Y%m%dT%H%M%S")
                name = f"composite-{stamp}{composite.SUFFIX}"
                target = _absolute(
                    self.root / str(row.session_id) / name
                )  # the child's cwd differs
                return row.id, row.due_at, spec, target
        return None

    def _plan(
        self, feeds: Sequence[Recording], events: list[tuple[dt.datetime, str, dict[str, Any]]]
    ) -> dict[str, Any] | None:
        inputs = []
        for feed in feeds:
            path = (self.root / feed.path).resolve()
            if self.root.resolve() in path.parents and path.is_file() and feed.duration_ms > 0:
                inputs.append(
                    composite.FeedIn(
                        path=str(path),
                        who=feed.who,
                        source=feed.source,
                        started_at=feed.started_at,
                        seconds=feed.duration_ms / 1000,
                    )
                )
        if not inputs:
            return None
        spec = composite.plan(inputs, events)
        spec["span"] = [
            min(f.started_at for f in inputs).isoformat(),
            max(f.started_at + dt.timedelta(seconds=f.seconds) for f in inputs).isoformat(),
        ]
        return spec

    def _limit(self, spec: dict[str, Any]) -> float:
        """Seconds the encode of ``spec`` may take."""
        return self.budget + self.per_second * float(spec["duration"])

    async def _encode(self, spec: dict[str, Any], target: Path) -> dict[str, Any]:
        if self._stopping.is_set():  # stopped after the claim: the row goes back to pending
            raise Failed("stopped")
        self._child = child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.media.composite",
            str(target),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,  # ``-m`` finds ``server`` here, installed or in a checkout
        )
        if self._stopping.is_set():  # stop() came while the child was being started
            child.kill()
        try:
            out, err = await asyncio.wait_for(
                child.communicate(json.dumps(spec).encode()), self._limit(spec)
            )
        except TimeoutError:
            child.kill()
            await child.wait()
            raise Failed("timeout") from None
        finally:
            self._child = None
        if child.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines() or ["killed"]
            log.error("composite recordings: %s failed: %s", target.name, "\n".join(lines[-20:]))
            raise Failed(f"error: {lines[-1]}"[:300])
        return dict(json.loads(out))

    async def _finish(
        self,
        row_id: int,
        due: dt.datetime,
        *,
        failed: str | None = None,
        target: Path | None = None,
        result: dict[str, Any] | None = None,
        spec: dict[str, Any] | None = None,
    ) -> None:
        async with self.database.transaction() as db:
            row = await store.recording_by_id(db, row_id)
            if row is None or row.status != "running" or row.due_at != due:
                if target is not None:  # asked again meanwhile: this one is out of date
                    _remove(target)
                return
            row.lease_until = None
            if failed is not None or target is None or result is None or spec is None:
                row.status, row.reason = "failed", failed
                return
            row.status, row.reason = "done", None
            row.path = _relative(target, self.root)
            row.size, row.duration_ms = int(result["size"]), int(result["duration_ms"])
            row.started_at = dt.datetime.fromisoformat(spec["span"][0])
            row.ended_at = dt.datetime.fromisoformat(spec["span"][1])
        _sweep(target)

    async def _release(self, row_id: int, due: dt.datetime) -> None:
        """Put the row this stopping process was working on back in the queue."""
        async with self.database.transaction() as db:
            row = await store.recording_by_id(db, row_id)
            if row is not None and row.status == "running" and row.due_at == due:
                row.status, row.lease_until = "pending", None
                row.attempts = max(0, row.attempts - 1)
