"""What a crowd joining costs the server besides its presence events (issue 19, "Crowds"): the
people who join at the same point of the log share one encoding of the state, and the only
server process reads no room log to append an event or take a snapshot, since it has appended
every event itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.db import Database
from server.packets import Encoded, Packet
from server.rooms.reducer import Actor
from server.rooms.views import state_view
from tests.server.rooms.conftest import Hubs, engine_events
from tests.server.test_sqlite_trips import trips

MEMBERS = [Actor(f"p:{i}", f"委员{i}", "member") for i in range(1, 6)]
HOST = Actor("p:99", "主持人", "host", staff=True, reads_drafts=True)


def log_reads(executed: list[tuple[Any, ...]]) -> list[str]:
    """The statements among ``executed`` (``before_cursor_execute``) that read the room log."""
    statements = [str(args[2]) for args in executed]
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and "room_events" in s]


async def test_joiners_at_one_point_of_the_log_share_each_encoding_of_the_state(
    room_session: dict[str, Any], hubs: Hubs
) -> None:
    sid = room_session["id"]
    hub = hubs()
    for member in MEMBERS:
        await hub.presence(sid, {"op": "join", "who": member.key, "name": member.name})
    seq, first = await hub.view(sid, MEMBERS[0])
    views = [await hub.view(sid, member) for member in MEMBERS[1:]]
    # The same text, encoded once: not equal copies made one by one.
    assert all(view == (seq, first) and view[1] is first for view in views)
    _seq, state = await hub.snapshot(sid)
    assert json.loads(first) == json.loads(json.dumps(state_view(state, MEMBERS[0])))
    # A host sees another view (draft minutes, hidden chat), encoded for hosts.
    _seq, hosts = await hub.view(sid, HOST)
    assert hosts is not first
    assert json.loads(hosts) == json.loads(json.dumps(state_view(state, HOST)))

    # The next event drops the encodings at once (a big room's are large, and stale now) and
    # the next view makes a new one, which holds it.
    room = await hub.room(sid)
    assert room.views
    await hub.presence(sid, {"op": "join", "who": "p:6", "name": "委员6"})
    assert room.views == {}
    later, text = await hub.view(sid, MEMBERS[0])
    assert later == seq + 1 and "p:6" in json.loads(text)["presence"]

    # Someone who voted sees their own choices: a view of their own, never shared.
    proposer = next(p for p in room_session["participants"] if p["role"] == "proposer")
    voter_actor = Actor(f"p:{proposer['person_id']}", "提案人", "proposer")
    for actor in (HOST, voter_actor):
        await hub.presence(sid, {"op": "join", "who": actor.key, "name": actor.name})
    await hub.command(sid, HOST, "session.start", {})
    question = {"question": "同意吗？", "options": ["是", "否"]}
    opened = await hub.command(sid, HOST, "poll.open", question)
    assert opened is not None
    poll = opened["data"]["poll_id"]
    await hub.command(sid, voter_actor, "poll.vote", {"poll_id": poll, "choices": [1]})
    _seq, voter = await hub.view(sid, voter_actor)
    _seq, other = await hub.view(sid, MEMBERS[1])
    assert json.loads(voter)["polls"][str(poll)]["my_choices"] == [1]
    assert json.loads(other)["polls"][str(poll)]["my_choices"] is None


async def test_the_only_process_reads_no_room_log_to_append_or_for_a_snapshot(
    room_session: dict[str, Any], database: Database, hubs: Hubs
) -> None:
    sid = room_session["id"]
    alone = hubs()
    await alone.room(sid)  # loading reads the log, once
    with engine_events(database, "before_cursor_execute") as executed:
        await alone.presence(sid, {"op": "join", "who": "p:1", "name": "委员1"})
        await alone.command(sid, HOST, "chat.send", {"text": "大家好"})
        await alone.snapshot(sid)
        await alone.view(sid, MEMBERS[0])
    assert log_reads(executed) == []

    # One of several processes reads what the others appended before each of those.
    shared = hubs(single_process=False)
    await shared.room(sid)
    with engine_events(database, "before_cursor_execute") as executed:
        await shared.command(sid, HOST, "chat.send", {"text": "第二个进程"})
        await shared.snapshot(sid)
    assert len(log_reads(executed)) == 2


async def test_a_process_that_thought_it_was_alone_catches_up_when_it_loses_a_seq(
    room_session: dict[str, Any], hubs: Hubs
) -> None:
    """Skipping the read relies on there being one process; if another appends after all
    (a misconfigured deployment), the unique seq refuses the stale append and the process
    reads the log, then appends after it: nothing is lost or overwritten."""
    sid = room_session["id"]
    first, second = hubs(), hubs()
    await first.room(sid)
    await second.command(sid, HOST, "chat.send", {"text": "另一个进程"})
    sent = await first.command(sid, HOST, "chat.send", {"text": "这一个进程"})
    assert sent is not None
    _seq, state = await first.snapshot(sid)
    assert [m["text"] for m in state["chat"]] == ["另一个进程", "这一个进程"]
    assert sent["seq"] == (await second.newest(sid) or {})["seq"]


def test_an_encoded_part_of_a_packet_is_sent_as_it_is() -> None:
    state = {"presence": {"p:1": {"name": "委员1"}}, "chat": []}
    text = json.dumps(state, separators=(",", ":"))
    for data in (
        ["snapshot", {"seq": 3, "state": Encoded(text)}],
        [{"ok": True, "snapshot": {"seq": 3, "state": Encoded(text)}}],  # an ack
    ):
        plain = json.loads(json.dumps(data, default=lambda e: json.loads(e.text)))
        encoded = Packet(2, namespace="/room", data=data).encode()
        assert encoded == Packet(2, namespace="/room", data=plain).encode()
    # What JSON cannot hold still cannot be sent as JSON (bytes take the binary path).
    with pytest.raises(TypeError):
        Packet(2, namespace="/room", data=["x", {"raw": b"\x00"}], binary=False).encode()


async def test_a_room_command_takes_three_trips_to_the_sqlite_thread(
    database: Database, room_session: dict[str, Any], hubs: Hubs
) -> None:
    """BEGIN IMMEDIATE, the INSERT of its event, COMMIT: it took eight (SQLAlchemy's aiosqlite
    adapter makes, uses and closes a cursor per statement, and the pool rolled back after the
    commit). See server/sqlite_trips.py."""
    if database.engine.dialect.name != "sqlite":
        # What is counted is aiosqlite's thread; PostgreSQL (asyncpg) has none, and its
        # statements go over the socket from the event loop.
        pytest.skip("counts trips to aiosqlite's thread, which only SQLite has")
    sid = room_session["id"]
    hub = hubs()
    await hub.room(sid)

    def room_log(made: list[tuple[int, str]]) -> int:  # the connection that appended the event
        return next(conn for conn, sql in made if sql.startswith("INSERT INTO room_events"))

    with trips(on=room_log) as seen:  # (the outbox's jobs may use other connections meanwhile)
        await hub.command(sid, MEMBERS[0], "chat.send", {"text": "一条意见"})
    assert len(seen) == 3, seen
    assert seen[0] == "BEGIN IMMEDIATE" and seen[1].startswith("INSERT INTO room_events")
