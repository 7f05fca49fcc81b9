"""Live rooms: command → check → append to the durable log → only then broadcast.

Each process keeps every active room's state in memory, rebuilt from the log on first use and
brought up to date from the database before each command (another process may have appended).
The log's unique ``(session_id, seq)`` is the concurrency control: when two processes race for
the same next seq, one insert fails and that process catches up and decides again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from server.audit import service as audit
from server.db import Database, utcnow
from server.errors import AppError
from server.i18n import _
from server.proposals import handling
from server.read_batch import ReadBatch
from server.record import draft
from server.rooms import store
from server.rooms.crowd import logged
from server.rooms.models import RoomEvent
from server.rooms.record import room_record
from server.rooms.reducer import Actor, RoomError, State, apply, decide, floor_expiry, reduce
from server.rooms.views import shared_view, state_view
from server.sessions import service as sessions
from server.sessions.models import SessionStatus
from server.tasks import finish

Event = dict[str, Any]
Emit = Callable[[int, Event], Awaitable[None]]
Build = Callable[[State, int, dt.datetime], dict[str, Any] | None]
Prepare = Callable[[Any, State], Awaitable[None]]
# A command waiting for its turn: (type, by, build, prepare) and its caller's future.
Pending = tuple[tuple[str, str | None, Build, Prepare | None], "asyncio.Future[Event | None]"]
MAX_SYNC = 1000  # a client further behind than this gets a fresh snapshot
RETRIES = 5
IDLE_SECONDS = 600.0  # a room without connections here is dropped from memory after this
# Joins and leaves arriving within this many seconds of each other go out as one event.
PRESENCE_WINDOW = 0.05
PRESENCE_BATCH = 250  # changes per event at most (a hall's whole crowd, ~25 KB)
COMMAND_GROUP = 100  # commands committed in one transaction at most (group commit)
log = logging.getLogger(__name__)


def _plain(change: dict[str, Any]) -> dict[str, Any]:
    """A presence change as the data of its own ``presence.join`` or ``presence.leave``."""
    return {key: value for key, value in change.items() if key != "op"}


def as_event(row: RoomEvent) -> Event:
    """The wire form of a logged event."""
    return {
        "seq": row.seq,
        "type": row.type,
        "data": row.data,
        "at": row.at.isoformat(),
        "by": row.by,
    }


@dataclass
class Room:
    """One room's state as this process knows it."""

    session_id: int
    state: State
    seq: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connections: int = 0  # this process's connections in the room
    floor_turn: tuple[int, str] | None = None  # (grant, until) the floor timer is set for
    floor_timer: asyncio.TimerHandle | None = None
    evict_timer: asyncio.TimerHandle | None = None
    # Joins and leaves waiting for the next presence event, each with its caller's future.
    presence_queue: list[tuple[dict[str, Any], asyncio.Future[Event]]] = field(default_factory=list)
    presence_flush: asyncio.Task[None] | None = None
    # Commands waiting to be appended, and the task appending them (group commit).
    commands: list[Pending] = field(default_factory=list)
    committing: asyncio.Task[None] | None = None
    # A group's events were applied in memory but its transaction failed, and the state could
    # not be read back from the log yet: it is read back before the room is used again.
    stale: bool = False
    # The state's JSON as each kind of viewer sees it (views.shared_view), at seq views_seq.
    views: dict[tuple[bool, bool], str] = field(default_factory=dict)
    views_seq: int = -1


class RoomHub:
    """Every room this process serves.

    Besides commands, the hub keeps time: when a speaking turn's ``until`` passes, it logs
    ``floor.expire`` (every process that holds the room sets the timer; the first to append
    wins, the others find the turn over and stop). A room nobody on this process has been
    connected to for ``idle_seconds`` is dropped from memory; the log reloads it on next use.
    """

    def __init__(
        self,
        *,
        database: Database,
        emit: Emit,
        single_process: bool = True,
        idle_seconds: float = IDLE_SECONDS,
        presence_window: float = PRESENCE_WINDOW,
        presence_batch: int = PRESENCE_BATCH,
    ) -> None:
        self.database, self.emit, self.single_process = database, emit, single_process
        self.idle_seconds, self.presence_window = idle_seconds, presence_window
        self.presence_batch = presence_batch
        self.rooms: dict[int, Room] = {}
        self._loading = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        # Called with (session_id, state, event) after each event this process applies
        # (e.g. the SFU follows the floor); they must not block.
        self.observers: list[Callable[[int, State, Event], None]] = []

    def _observe(self, room: Room, event: Event) -> None:
        """The room applied ``event``: tell the observers; its encodings are stale now (a big
        room's are large: a thousand people's state is about 270 KB)."""
        room.views = {}
        for observer in self.observers:
            try:
                observer(room.session_id, room.state, event)
            except Exception:
                log.exception("room observer failed on %s", event["type"])

    # ---- keeping time

    def spawn(self, coro: Any) -> None:
        if self.closed:
            coro.close()
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _watch_floor(self, room: Room) -> None:
        floor = room.state.get("floor")
        turn = (floor["grant"], floor["until"]) if floor else None
        if turn == room.floor_turn:
            return
        if room.floor_timer is not None:
            room.floor_timer.cancel()
        room.floor_turn, room.floor_timer = turn, None
        if turn is not None and not self.closed:
            delay = (dt.datetime.fromisoformat(turn[1]) - utcnow()).total_seconds()
            room.floor_timer = asyncio.get_running_loop().call_later(
                max(0.0, delay) + 0.01,
                lambda: self.spawn(self.expire_floor(room.session_id, turn[0])),
            )

    async def expire_floor(self, session_id: int, grant: int) -> Event | None:
        """End speaking turn ``grant`` if it is still on and its time is up."""
        room = await self.room(session_id)
        async with room.lock:
            try:
                return await self._append(
                    room, "floor.expire", None, lambda s, _q, now: floor_expiry(s, grant, now)
                )
            except RoomError:
                return None  # revoked, extended or expired already (maybe by another process)
            except Exception:
                log.exception("could not end the speaking turn %s in room %s", grant, session_id)
                return None

    async def attach(self, session_id: int) -> None:
        """A connection of this process is entering the room: load it and keep it in memory
        until :meth:`detach`. Counted in the same step of the event loop as the load (no wait
        between), so the idle clock a load starts can never evict the room a join is entering:
        reloaded without the joiner counted, the only process would take them for a connection
        of a dead process and reset their presence."""
        room = await self.room(session_id)
        room.connections += 1
        if room.evict_timer is not None:
            room.evict_timer.cancel()
            room.evict_timer = None

    def detach(self, session_id: int) -> None:
        """A connection left; the last one starts the idle clock."""
        room = self.rooms.get(session_id)
        if room is None:
            return
        room.connections = max(0, room.connections - 1)
        self._start_idle_clock(room)

    def _start_idle_clock(self, room: Room) -> None:
        if room.connections == 0 and room.evict_timer is None and not self.closed:
            room.evict_timer = asyncio.get_running_loop().call_later(
                self.idle_seconds, self._evict, room
            )

    def _evict(self, room: Room) -> None:
        room.evict_timer = None
        if room.connections == 0 and self.rooms.get(room.session_id) is room:
            if room.floor_timer is not None:
                room.floor_timer.cancel()
            del self.rooms[room.session_id]

    async def close(self) -> None:
        """Stop every timer and background task (application shutdown)."""
        self.closed = True
        for room in self.rooms.values():
            for timer in (room.floor_timer, room.evict_timer):
                if timer is not None:
                    timer.cancel()
        await finish(list(self._tasks))  # what is in hand ends a turn or a feed; see server.tasks

    # ---- loading and appending

    async def room(self, session_id: int) -> Room:
        """The room of a session, loaded (or opened) on first use."""
        room = self.rooms.get(session_id)
        if room is not None:
            return room
        async with self._loading:
            if session_id not in self.rooms:
                # Others see the room only once it is loaded: a join recorded into a half-loaded
                # room would be wiped by the presence.reset that loading appends.
                loading = Room(session_id, {}, 0)
                await self._catch_up(loading)
                if loading.seq == 0:
                    await self._open(loading)
                await self._forget_the_dead(loading)
                self.rooms[session_id] = loading
                self._start_idle_clock(loading)
            return self.rooms[session_id]

    async def _forget_the_dead(self, room: Room) -> None:
        """A room loaded by the only server process has no connections yet: anyone still
        shown as present was connected to a process that died (e.g. SIGKILL)."""
        stale = sorted(room.state.get("presence", {}))
        if self.single_process and stale:
            async with room.lock:
                data = {"who": stale}
                kind = "presence.reset"
                await self._append(room, kind, None, lambda s, _q, _n: logged(s, kind, data))

    async def _catch_up(self, room: Room) -> None:
        async with self.database.read() as db:
            rows = await store.events_after(db, room.session_id, room.seq)
        for row in rows:
            event = as_event(row)
            room.state = apply(room.state, event)
            room.seq = row.seq
            self._observe(room, event)
        if rows:
            self._watch_floor(room)

    async def _open(self, room: Room) -> None:
        async with self.database.read() as db:
            seed = await sessions.room_seed(db, room.session_id)
        if seed is None:
            raise RoomError("not_found", _("There is no such session."))

        def build(_state: State, _seq: int, _now: dt.datetime) -> dict[str, Any]:
            return seed

        await self._append(room, "room.open", None, build)

    async def _append(
        self,
        room: Room,
        kind: str,
        by: str | None,
        build: Build,
        prepare: Prepare | None = None,
    ) -> Event | None:
        """Log the event ``build`` makes of the current state and broadcast it; None (nothing
        logged) when ``build`` finds nothing to change. ``prepare`` reads what ``build`` needs
        from the database in the same transaction (a secret poll's ballot box)."""
        await self._fresh(room)
        for attempt in range(RETRIES):
            try:
                async with self.database.transaction() as db:
                    await self._take_turn(db, room, attempt)
                    if prepare is not None:
                        await prepare(db, room.state)
                    seq, now = room.seq + 1, utcnow()
                    data = build(room.state, seq, now)
                    if data is None:
                        return None
                    row = await self._log(db, room, kind, by, data, seq, now)
            except IntegrityError:
                continue  # another process took this seq after all: catch up and decide again
            event = as_event(row)
            room.state = apply(room.state, event)
            room.seq = seq
            self._watch_floor(room)
            self._observe(room, event)
            await self.emit(room.session_id, event)
            return event
        raise RoomError("busy", _("The room is very busy right now; try again."))

    async def _take_turn(self, db: Any, room: Room, attempt: int) -> None:
        """Become the room's one appender for this transaction and know every event before it.

        One appender per room at a time, across processes: the session row's lock (PostgreSQL)
        or the write lock taken at BEGIN (SQLite); the unique seq stays as the last line of
        defence. The only process appends every event itself, so it has them all: it reads the
        log only after losing a seq (which means it is not alone)."""
        await sessions.lock_for_room(db, room.session_id)
        if not self.single_process or attempt > 0:
            for row in await store.events_after(db, room.session_id, room.seq):
                earlier = as_event(row)  # appended by another process
                room.state, room.seq = apply(room.state, earlier), row.seq
                self._observe(room, earlier)

    async def _log(
        self,
        db: Any,
        room: Room,
        kind: str,
        by: str | None,
        data: dict[str, Any],
        seq: int,
        now: dt.datetime,
    ) -> RoomEvent:
        """Insert one event with what goes with it in the same transaction."""
        ballot = data.pop("ballot", None)  # a secret vote's choices: never logged
        row = RoomEvent(session_id=room.session_id, seq=seq, type=kind, data=data, by=by, at=now)
        await store.append(db, row)
        if ballot is not None:
            await _cast(db, room, data, ballot)
        await self._side_effects(db, room, row)
        return row

    async def _side_effects(self, db: Any, room: Room, row: RoomEvent) -> None:
        """Changes outside the log, in the same transaction as the event."""
        kind, now = row.type, row.at
        if kind in AUDITED:
            await _audit(db, room, row)
        if kind == "session.start":
            await sessions.set_room_status(db, room.session_id, SessionStatus.LIVE)
        elif kind == "session.end":
            await sessions.set_room_status(db, room.session_id, SessionStatus.ENDED)
            # The minutes draft is written with the end, so an ended session always has one.
            record = room_record(room.state, now.isoformat())
            await draft.draft_minutes(db, room.session_id, record, now)

    async def command(
        self, session_id: int, actor: Actor, kind: str, data: dict[str, Any]
    ) -> Event | None:
        """Check a client's command and, if accepted, log and broadcast its event (None when the
        command is in effect already)."""
        room = await self.room(session_id)
        if kind == "progress.show":  # the report comes from the record, not from the client
            data = {
                **data,
                "report": await handling.report_for_room(
                    self.database, data.get("proposal_id"), data.get("report_id")
                ),
            }

        if kind.startswith("poll."):  # the server's to fill in, never the client's
            data = {k: v for k, v in data.items() if k not in ("roster", "tally")}
        given: dict[str, Any] = {}

        async def prepare(db: Any, state: State) -> None:
            given.update(await _poll_facts(db, room.session_id, state, kind, data))

        def build(state: State, seq: int, now: dt.datetime) -> dict[str, Any] | None:
            return decide(state, kind, {**data, **given}, actor, now, seq)

        if self.closed:  # no group would be committed
            async with room.lock:
                return await self._append(room, kind, actor.key, build, prepare)
        future: asyncio.Future[Event | None] = asyncio.get_running_loop().create_future()
        room.commands.append(((kind, actor.key, build, prepare), future))
        if room.committing is None:
            room.committing = asyncio.ensure_future(self._commit_commands(room))
            self._tasks.add(room.committing)
            room.committing.add_done_callback(lambda task: self._committed(room, task))
        return await asyncio.shield(future)  # a caller giving up leaves the others' be

    def _committed(self, room: Room, task: asyncio.Task[None]) -> None:
        """The task appending ``room``'s commands ended. Cut short (a shutdown past its grace,
        maybe before it even started), it leaves no caller waiting for an answer: what it
        had in hand is still at the head of ``room.commands``."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "appending room %s's commands failed", room.session_id, exc_info=task.exception()
            )
        if room.committing is task:
            queued, room.commands, room.committing = room.commands, [], None
            for _command, future in queued:
                future.cancel()  # (a no-op on the futures answered already)

    async def _commit_commands(self, room: Room) -> None:
        """Append the commands waiting in ``room``, in their order. What arrived while the
        room was busy goes in one transaction (group commit): one commit, however many
        events; alone, a command is appended as it always was."""
        async with room.lock:
            while room.commands:
                group = room.commands[:COMMAND_GROUP]  # left queued until answered
                if len(group) == 1:
                    [(command, future)] = group
                    try:
                        _answer(future, await self._append(room, *command))
                    except Exception as exc:
                        _answer(future, exc)
                else:
                    await self._append_group(room, group)
                del room.commands[: len(group)]
            room.committing = None  # in the same step as finding the queue empty

    async def _append_group(self, room: Room, group: list[Pending]) -> None:
        """Append several commands' events in one transaction and broadcast them in order.

        Each command is decided against the state its predecessors leave, so their events
        are applied in memory as they are logged, before the commit. Should the transaction
        fail after all, the state is read back from the log (:meth:`_rebuild`). A command the
        room refuses gets its error; the others go on."""
        try:
            await self._fresh(room)
        except Exception as exc:
            for _command, future in group:
                _answer(future, exc)
            return
        for attempt in range(RETRIES):
            committed = room.seq
            events: list[Event] = []
            answers: list[tuple[asyncio.Future[Event | None], Event | Exception | None]] = []
            try:
                async with self.database.transaction() as db:
                    await self._take_turn(db, room, attempt)
                    committed = room.seq
                    for (kind, by, build, prepare), future in group:
                        try:
                            if prepare is not None:
                                await prepare(db, room.state)
                            seq, now = room.seq + 1, utcnow()
                            data = build(room.state, seq, now)
                        except AppError as refused:  # this command only; the others go on
                            answers.append((future, refused))
                            continue
                        if data is None:
                            answers.append((future, None))
                            continue
                        event = as_event(await self._log(db, room, kind, by, data, seq, now))
                        room.state, room.seq = apply(room.state, event), seq  # until the commit
                        events.append(event)
                        answers.append((future, event))
            except Exception as exc:
                try:
                    if isinstance(exc, IntegrityError) or room.seq != committed:
                        await self._rebuild(room, committed)
                except Exception:  # it stays stale: read back before its next use
                    log.exception("could not read room %s back from its log", room.session_id)
                else:
                    if isinstance(exc, IntegrityError):
                        continue  # another process took a seq after all: decide again
                for _command, future in group:
                    _answer(future, exc)
                return
            self._watch_floor(room)
            for event in events:
                self._observe(room, event)
                await self.emit(room.session_id, event)
            for future, answer in answers:
                _answer(future, answer)
            return
        busy = RoomError("busy", _("The room is very busy right now; try again."))
        for _command, future in group:
            _answer(future, busy)

    async def _current(self, room: Room) -> None:
        """Bring the room up to its log before it is read (the room's lock held)."""
        await self._fresh(room)
        if not self.single_process:  # the only process has every event already
            await self._catch_up(room)

    async def _fresh(self, room: Room) -> None:
        """Read a room whose state went stale (see :meth:`_rebuild`) back from its log."""
        if room.stale:
            await self._rebuild(room, None)

    async def _rebuild(self, room: Room, committed: int | None) -> None:
        """The state from the log again, after a transaction failed with events of a group
        applied in memory. The events after ``committed`` (those another process appended) are
        observed; None: nobody knows which, so none are. Should the log be unreadable now,
        the room stays ``stale`` and is read back before its next use."""
        room.stale = True
        async with self.database.read() as db:
            events = [as_event(row) for row in await store.events_after(db, room.session_id, 0)]
        room.state, room.seq, room.stale = reduce(events), events[-1]["seq"] if events else 0, False
        for event in events:
            if committed is not None and event["seq"] > committed:
                self._observe(room, event)
        self._watch_floor(room)

    async def record(
        self,
        session_id: int,
        kind: str,
        data: dict[str, Any],
        by: str,
        check: Callable[[State], None] | None = None,
    ) -> Event:
        """Log a fact the server observed (someone joined, left or checked in); ``check`` may
        refuse it (raise) given the room's state at that moment."""
        room = await self.room(session_id)

        def build(state: State, _seq: int, _now: dt.datetime) -> dict[str, Any]:
            if check is not None:
                check(state)
            return logged(state, kind, data)

        async with room.lock:
            event = await self._append(room, kind, by, build)
        assert event is not None  # build always has data
        return event

    async def presence(self, session_id: int, change: dict[str, Any]) -> Event:
        """Log that someone joined (``{"op": "join", "who", "name", "role", "attendance"}``)
        or left (``{"op": "leave", "who"}``), coalesced: what arrives within
        ``presence_window`` of the first goes out as one event, so a crowd joining costs
        everyone present one event per window, not one per joiner, and one commit. A change
        alone is logged as a plain ``presence.join`` or ``presence.leave``; several as
        ``presence.batch`` ``{"changes": [...]}`` in their order. Returns once the event that
        holds the change is logged (a snapshot taken then includes it)."""
        room = await self.room(session_id)
        if self.closed:  # no flush would run
            kind = "presence.leave" if change["op"] == "leave" else "presence.join"
            return await self.record(session_id, kind, _plain(change), change["who"])
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        room.presence_queue.append((change, future))
        if room.presence_flush is None:
            room.presence_flush = asyncio.ensure_future(self._flush_presence(room))
            self._tasks.add(room.presence_flush)
            room.presence_flush.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)  # a caller giving up leaves the others' event be

    async def _flush_presence(self, room: Room) -> None:
        await asyncio.sleep(self.presence_window)
        async with room.lock:
            # Taken under the lock: what arrives from here on starts the next window.
            queued, room.presence_queue, room.presence_flush = room.presence_queue, [], None
            try:
                for start in range(0, len(queued), self.presence_batch):
                    await self._log_presence(room, queued[start : start + self.presence_batch])
            except BaseException:  # cancelled (a shutdown past its grace): nobody waits on
                for _change, future in queued:
                    future.cancel()  # (a no-op on the futures answered already)
                raise

    async def _log_presence(
        self, room: Room, batch: list[tuple[dict[str, Any], asyncio.Future[Event]]]
    ) -> None:
        """Log ``batch`` as one event (the room's lock held) and answer its callers."""
        changes = [change for change, _future in batch]
        if len(changes) == 1:
            [change] = changes
            kind = "presence.leave" if change["op"] == "leave" else "presence.join"
            data, by = _plain(change), change["who"]
        else:
            kind, data, by = "presence.batch", {"changes": changes}, None
        try:
            event = await self._append(room, kind, by, lambda s, _q, _n: logged(s, kind, data))
        except Exception as exc:
            for _change, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        assert event is not None  # the data is never None
        for _change, future in batch:
            if not future.done():
                future.set_result(event)

    async def snapshot(self, session_id: int) -> tuple[int, State]:
        """The current seq and state (after catching up with other processes)."""
        room = await self.room(session_id)
        async with room.lock:
            await self._current(room)
            return room.seq, room.state

    async def view(self, session_id: int, viewer: Actor) -> tuple[int, str]:
        """The current seq and the state as ``viewer`` sees it, as JSON. A crowd joining at
        once shares each encoding: it is made once per seq for each kind of viewer."""
        room = await self.room(session_id)
        async with room.lock:
            await self._current(room)
            key = shared_view(room.state, viewer)
            if key is None:
                return room.seq, _json(state_view(room.state, viewer))
            if room.views_seq != room.seq:
                room.views, room.views_seq = {}, room.seq
            text = room.views.get(key)
            if text is None:
                text = room.views[key] = _json(state_view(room.state, viewer))
            return room.seq, text

    async def events_since(self, session_id: int, seq: int) -> list[Event] | None:
        """Events after ``seq`` in order, or None when a snapshot is the better answer."""
        if seq < 0:
            return None
        async with self.database.read() as db:
            rows = await store.events_after(db, session_id, seq, MAX_SYNC + 1)
        if len(rows) > MAX_SYNC:
            return None
        return [as_event(r) for r in rows]

    async def newest(self, session_id: int) -> Event | None:
        """The room's latest logged event, read without waiting for the room."""
        async with self.database.read() as db:
            row = await store.last_event(db, session_id)
        return None if row is None else as_event(row)


def guest_lookup(database: Database) -> ReadBatch[str, Any]:
    """The guest whose pass has this digest (``id``, ``session_id``, ``name``): a hall's crowd
    entering at once shares one query."""

    async def fetch(digests: list[str]) -> dict[str, Any]:
        async with database.read_columns() as db:
            return await store.guests_by_digest(db, digests)

    return ReadBatch(fetch)


def _answer(future: asyncio.Future[Any], answer: Any) -> None:
    """Answer a waiting caller: an exception is raised to it, anything else returned."""
    if future.done():
        return
    if isinstance(answer, BaseException):
        future.set_exception(answer)
    else:
        future.set_result(answer)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))  # as Socket.IO packets are encoded


async def _poll_facts(
    db: Any, session_id: int, state: State, kind: str, data: dict[str, Any]
) -> dict[str, Any]:
    """What a poll command needs from the database: the session's list for who may vote, a
    secret poll's ballot box when it closes."""
    if kind == "poll.open":
        facts = await sessions.minutes_facts(db, session_id)
        people = facts["participants"] if facts else []
        return {"roster": [{"who": f"p:{p['person_id']}", "role": p["role"]} for p in people]}
    if kind == "poll.close" and isinstance(data.get("poll_id"), int):
        poll = state.get("polls", {}).get(str(data["poll_id"]))
        if poll and poll.get("secret"):
            return {"tally": await store.tally_of(db, session_id, data["poll_id"])}
    return {}


async def _cast(db: Any, room: Room, data: dict[str, Any], ballot: list[int]) -> None:
    """Count a secret ballot in the poll's box (same transaction as its vote event)."""
    poll = room.state["polls"][str(data["poll_id"])]
    await store.cast_ballot(db, room.session_id, int(data["poll_id"]), len(poll["options"]), ballot)


# Room events that also go to the audit log (with the address of the connection that sent them).
AUDITED = frozenset(
    {
        "session.start",
        "session.end",
        "lobby.admit",
        "lobby.admit_all",
        "lobby.deny",
        "participant.remove",
        "recording.start",
        "recording.stop",
        "recording.ask",
        "recording.consent",
    }
)


def _name(state: State, key: str | None) -> str:
    for part in ("attendance", "admitted", "lobby"):
        entry = state.get(part, {}).get(key)
        if isinstance(entry, dict) and entry.get("name"):
            return str(entry["name"])
    return key or "system"


async def _audit(db: Any, room: Room, row: RoomEvent) -> None:
    """The audit entry of an audited room event (its actor named as the room knows them)."""
    by = row.by or ""
    actor_id = int(by[2:]) if by.startswith("p:") and by[2:].isdigit() else None
    target = row.data.get("who") if isinstance(row.data, dict) else None
    await audit.record(
        db,
        f"room.{row.type}",
        actor=f"{_name(room.state, row.by)} [{by or 'system'}]",
        actor_id=actor_id,
        object_type="session",
        object_id=room.session_id,
        session_id=room.session_id,
        seq=row.seq,
        **({"who": target, "name": _name(room.state, target)} if target else {}),
    )
