"""Commands that reach a room together are appended in one transaction (group commit, issue 19
"Crowds": a hall voting at once): one commit for the group, each command still its own event,
in the order the commands arrived, each caller answered with its own event or its own error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.db import Database
from server.rooms import store
from server.rooms.reducer import Actor, RoomError, reduce
from server.rooms.service import RoomHub, as_event
from tests.server.rooms.conftest import Hubs, engine_events

PEOPLE = [Actor(f"p:{i}", f"委员{i}", "member") for i in range(1, 21)]


@pytest.fixture
def hub(hubs: Hubs) -> RoomHub:
    return hubs()


async def test_commands_sent_together_are_one_commit_each_its_own_event_in_order(
    hub: RoomHub, hubs: Hubs, room_session: dict[str, Any], database: Database
) -> None:
    sid = room_session["id"]
    await hub.room(sid)
    texts = [f"第{i}条意见" for i in range(len(PEOPLE))]
    with engine_events(database, "commit") as done:
        answers = await asyncio.gather(
            *(
                hub.command(sid, person, "chat.send", {"text": text})
                for person, text in zip(PEOPLE, texts, strict=True)
            )
        )
    # Sent in one step of the event loop, they are one group (one by one, 20 commits).
    assert 1 <= len(done) < len(PEOPLE) / 2
    seqs = [answer["seq"] for answer in answers if answer is not None]
    assert seqs == list(range(seqs[0], seqs[0] + len(PEOPLE)))
    assert [a["data"]["text"] for a in answers if a is not None] == texts
    assert [e["seq"] for e in hubs.sent[hub] if e["type"] == "chat.send"] == seqs
    _seq, state = await hub.snapshot(sid)
    assert [m["text"] for m in state["chat"]] == texts
    # What the process holds in memory is what its log says.
    assert (await hubs().snapshot(sid))[1] == state


async def test_a_refused_command_in_a_group_gets_its_error_and_the_others_go_on(
    hub: RoomHub, room_session: dict[str, Any]
) -> None:
    sid = room_session["id"]
    await hub.room(sid)
    sent = [{"text": "第一条"}, {"text": "第二条"}, {"text": ""}, {"text": "第四条"}]
    answers = await asyncio.gather(
        *(hub.command(sid, p, "chat.send", d) for p, d in zip(PEOPLE, sent, strict=False)),
        return_exceptions=True,
    )
    assert isinstance(answers[2], RoomError) and answers[2].code == "invalid"
    logged = [a for i, a in enumerate(answers) if i != 2]
    assert all(isinstance(a, dict) for a in logged)
    assert [a["data"]["text"] for a in logged] == ["第一条", "第二条", "第四条"]  # type: ignore[index]
    assert [a["seq"] for a in logged] == [logged[0]["seq"] + i for i in range(3)]  # type: ignore[index]


async def test_a_group_that_loses_its_seq_reads_the_log_and_decides_again(
    hub: RoomHub, hubs: Hubs, room_session: dict[str, Any], database: Database
) -> None:
    """A process that took itself for the only one, when another appended after all: the
    group's first insert is refused by the unique seq, the events it had applied in memory
    are dropped for the log's, and the group goes in after the other process's event."""
    sid = room_session["id"]
    await hub.room(sid)
    await hubs().command(sid, PEOPLE[0], "chat.send", {"text": "另一个进程"})
    texts = [f"第{i}条" for i in range(5)]
    answers = await asyncio.gather(
        *(
            hub.command(sid, p, "chat.send", {"text": t})
            for p, t in zip(PEOPLE, texts, strict=False)
        )
    )
    assert all(a is not None for a in answers)
    _seq, state = await hub.snapshot(sid)
    assert [m["text"] for m in state["chat"]] == ["另一个进程", *texts]
    async with database.read() as db:
        logged = [as_event(row) for row in await store.events_after(db, sid, 0)]
    assert reduce(logged) == state


async def test_commands_waiting_when_their_appender_is_cancelled_are_not_left_waiting(
    hub: RoomHub, room_session: dict[str, Any]
) -> None:
    """A shutdown past its grace cancels the task appending a room's commands, perhaps before
    it even ran: its callers are cancelled too, not left waiting for an answer forever."""
    sid = room_session["id"]
    await hub.room(sid)
    waiting = [
        asyncio.ensure_future(hub.command(sid, p, "chat.send", {"text": "等待中"}))
        for p in PEOPLE[:3]
    ]
    await asyncio.sleep(0)  # all three queued; the appender is made but has not run yet
    appender = hub.rooms[sid].committing
    assert appender is not None and len(hub.rooms[sid].commands) == 3
    appender.cancel()
    answers = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 5)
    assert all(isinstance(a, asyncio.CancelledError) for a in answers)
    # The room goes on: the next command is appended by a new task.
    assert await hub.command(sid, PEOPLE[0], "chat.send", {"text": "之后"}) is not None
