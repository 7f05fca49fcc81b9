"""The authorisation matrix of live rooms: every client command and signaling event against every
room role, over real Socket.IO connections.

The room is R, a public hall about P (on its agenda, with unit a's progress report), live, with
staff (not a participant), a non-staff host, the proposer, a person of the lead unit a and one of
the co-handling unit c, a leader, a guest waiting in the lobby, an admitted guest and the hall's
device. ``ok`` means the permission check passed: the ack is ok, or a state error (``invalid``,
``conflict``, ``not_live``, ``edit_conflict``) that ``decide`` raises only after it. Each row may
first ``prepare`` the state (raise a hand, open a poll, seat a waiting guest) so that every role
meets the same situation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestServer

from server.config import Config
from server.db import Database
from server.rooms.apply import HANDLERS
from server.rooms.events import RoomNamespace
from tests.conftest import Cast
from tests.server.authorisation_world import (
    World,
    admit,
    guest_pass,
    seed_people,
    seed_proposal_p,
)
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session

ROOM_ROLES = (
    "staff",
    "host",
    "member_in",
    "lead_unit",
    "co_unit",
    "leader",
    "lobby_guest",
    "admitted_guest",
    "hall",
)
# Not in R: refused when they connect, so no command of theirs is ever read.
REFUSED = ("member_out", "other_unit", "guest_account", "anon")
# Facts only the server logs (``decide`` knows no such command: a client gets unknown_command).
SERVER_FACTS = frozenset(
    {
        "presence.join",
        "presence.leave",
        "presence.batch",
        "presence.reset",
        "floor.expire",
        "feed.add",
        "feed.remove",
        "speaker.active",
    }
)
CLIENT_COMMANDS = frozenset(HANDLERS) - SERVER_FACTS
EVENTS = frozenset(
    {
        "rtc.publish",
        "rtc.subscribe",
        "rtc.unsubscribe",
        "rtc.layer",
        "rtc.answer",
        "rtc.unpublish",
        "sync",
        "join",
    }
)
# State errors that ``decide`` (or the SFU, for rtc.*) raises only after the role checks.
AFTER_THE_CHECK = frozenset({"invalid", "conflict", "not_live", "edit_conflict", "not_found"})
DRIVERS = "staff host"
IN_ROOM = "staff host member_in lead_unit co_unit leader admitted_guest"
PEOPLE = "staff host member_in lead_unit co_unit leader"


@dataclass
class Room:
    """R's connections by role and what the rows refer to."""

    world: World
    session_id: int
    clients: dict[str, RoomClient]
    keys: dict[str, str]
    item_id: int
    action_id: str

    async def state(self) -> dict[str, Any]:
        synced = await self.clients["staff"].call("sync", {})
        return synced["snapshot"]["state"]  # type: ignore[no-any-return]

    async def waiting_guest(self) -> str:
        """A new guest in the lobby; returns its key."""
        joined = await guest_pass(self.world, self.session_id, "排队的市民")
        auth = {"guest_token": joined["guest_token"], "session_id": self.session_id}
        guest = await RoomClient(self.world.url, auth).connect()
        self.clients[f"waiting{joined['guest_id']}"] = guest
        await guest.wait_for(lambda: guest.lobby)
        return f"g:{joined['guest_id']}"


Data = Callable[[Room], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Cmd:
    """One command (or signaling event) and who passes its permission check."""

    name: str
    ok: str
    data: dict[str, Any] | Data | None = None
    prepare: Callable[[Room], Awaitable[Any]] | None = None
    variant: str = ""
    event: bool = False  # a Socket.IO event of its own (rtc.*, sync, join), not a command
    hall: str = "forbidden"  # the hall device may only raise and lower its hand
    lobby: str = "in_lobby"  # a waiting guest may do nothing but wait

    def expected(self, role: str) -> str:
        if role == "lobby_guest":
            return self.lobby
        if role == "hall":
            return self.hall
        return "ok" if role in self.ok.split() else "forbidden"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.variant})" if self.variant else self.name


def cmd(name: str, ok: str, data: Any = None, **kw: Any) -> Cmd:
    return Cmd(name, ok, data, **kw)


# ---------------------------------------------------------------- data and preparations


async def _member_hand(room: Room) -> None:
    await room.clients["member_in"].command("hand.raise")


async def _grant(room: Room) -> None:
    await room.clients["staff"].command("floor.grant", who=room.keys["member_in"], seconds=60)


async def _question(room: Room) -> None:
    await room.clients["member_in"].command("chat.send", text="补贴何时到位？", kind="question")


async def _last_message(room: Room) -> dict[str, Any]:
    return {"message_id": (await room.state())["chat"][-1]["id"]}


async def _poll(room: Room) -> None:
    opened = await room.clients["staff"].command(
        "poll.open", question="是否同意扩大补贴范围？", options=["同意", "不同意"], guests=True
    )
    assert opened["ok"], opened
    room.keys["poll"] = str(opened["seq"])


async def _vote(room: Room) -> dict[str, Any]:
    return {"poll_id": int(room.keys["poll"]), "choices": [0]}


async def _close(room: Room) -> dict[str, Any]:
    return {"poll_id": int(room.keys["poll"])}


async def _seat_guest(room: Room) -> None:
    room.keys["waiting"] = await room.waiting_guest()


async def _waiting(room: Room) -> dict[str, Any]:
    return {"who": room.keys["waiting"]}


async def _show(room: Room) -> None:
    report = room.world.own["report_id"]
    pid = room.world.own["proposal_id"]
    shown = await room.clients["lead_unit"].command(
        "progress.show", proposal_id=pid, report_id=report
    )
    assert shown["ok"], shown


async def _report(room: Room) -> dict[str, Any]:
    return {"proposal_id": room.world.own["proposal_id"], "report_id": room.world.own["report_id"]}


async def _notes(room: Room) -> dict[str, Any]:
    entry = (await room.state())["minutes"].get(str(room.item_id), {}).get("notes", {})
    return {
        "item_id": room.item_id,
        "op": "notes",
        "text": "住建局汇报进展。",
        "base_version": entry.get("version", 0),
    }


async def _action(room: Room) -> dict[str, Any]:
    minutes = (await room.state())["minutes"][str(room.item_id)]
    entry = minutes["actions"][room.action_id]
    return {
        "item_id": room.item_id,
        "op": "action.update",
        "entry_id": room.action_id,
        "text": "制定方案（已启动）",
        "base_version": entry.get("version", 0),
    }


async def _order(room: Room) -> dict[str, Any]:
    ids = [item["id"] for item in (await room.state())["agenda"]]
    return {"item_ids": list(reversed(ids))}


async def _goto(room: Room) -> dict[str, Any]:
    return {"item_id": room.item_id}


async def _member(room: Room) -> dict[str, Any]:
    return {"who": room.keys["member_in"]}


async def _member_named(room: Room) -> dict[str, Any]:
    return {"who": room.keys["member_in"], "name": "张委员"}


async def _member_turn(room: Room) -> dict[str, Any]:
    return {"who": room.keys["member_in"], "seconds": 60}


NO_FEED = {"feed_id": "nofeed"}
# An offer aiortc cannot use, to keep media cheap. How ``invalid`` counts as ``ok`` for rtc.publish:
# events.on_rtc_publish refuses guests and (for screens) everyone but hosts, staff and units
# before it calls Sfu.publish, and only Sfu.publish reads the SDP and answers ``invalid``; so a
# refused role never reaches SDP work, and ``invalid`` proves the role checks were passed.
# rtc.subscribe/unsubscribe/layer/answer/unpublish have no role rule past being in the room
# (_media_actor): their ``not_found``/``conflict`` for a feed that does not exist likewise come
# after it.
BAD_SDP = "v=0\r\n"

# In order: rows that change the room for good (lobby.enter, session.end) come last.
COMMANDS: tuple[Cmd, ...] = (
    cmd("session.start", DRIVERS),  # live already: a conflict after the check
    cmd("agenda.goto", DRIVERS, _goto),
    cmd("agenda.next", DRIVERS),
    cmd("agenda.prev", DRIVERS),
    cmd("agenda.reorder", DRIVERS, _order),
    cmd("agenda.add", DRIVERS, {"title": "临时动议", "planned_minutes": 5}),
    cmd("timer.start", DRIVERS),
    cmd("timer.extend", DRIVERS, {"seconds": 60}),
    cmd("timer.pause", DRIVERS),
    cmd("hand.raise", IN_ROOM, {}, hall="ok"),
    cmd("hand.lower", IN_ROOM, {}, variant="own hand", hall="ok"),
    cmd(
        "hand.lower",
        f"{DRIVERS} member_in",
        _member,
        prepare=_member_hand,
        variant="someone else's hand",
    ),
    cmd("point_of_order.request", IN_ROOM, {}, hall="ok"),
    cmd("floor.grant", DRIVERS, _member_turn),
    cmd("floor.extend", DRIVERS, {"seconds": 30}, prepare=_grant),
    cmd("floor.revoke", DRIVERS, {}, prepare=_grant),
    cmd("audio.mute", DRIVERS, _member),
    cmd("audio.unmute", DRIVERS, _member),
    cmd("chat.send", IN_ROOM, {"text": "支持这个建议", "kind": "chat"}),
    cmd("question.answer", DRIVERS, _last_message, prepare=_question),
    cmd("chat.hide", DRIVERS, _last_message, prepare=_question),
    cmd("poll.open", DRIVERS, {"question": "是否同意？", "options": ["同意", "不同意"]}),
    # Only the poll's voters (issue 19): the session's participants and, here, admitted guests;
    # staff who are not on the session's list do not vote.
    cmd(
        "poll.vote", "host member_in lead_unit co_unit leader admitted_guest", _vote, prepare=_poll
    ),
    cmd("poll.close", DRIVERS, _close, prepare=_poll),
    cmd("lobby.admit", DRIVERS, _waiting, prepare=_seat_guest),
    cmd("lobby.deny", DRIVERS, _waiting, prepare=_seat_guest),
    cmd("presence.checkin", DRIVERS, _member_named),
    cmd("minutes.edit", DRIVERS, _notes, variant="notes"),
    cmd("minutes.edit", f"{DRIVERS} lead_unit", _action, variant="unit a's action item"),
    cmd("progress.show", f"{DRIVERS} lead_unit", _report),
    cmd("progress.hide", f"{DRIVERS} lead_unit", {}, prepare=_show),
    # Consent to recording (this hall records: ``on``): anyone in the room answers the notice,
    # the hall's device too (it sends the hall's camera); before the rtc.publish rows.
    cmd("recording.consent", IN_ROOM, {"answer": "accepted"}, hall="ok"),
    cmd("recording.ask", DRIVERS),
    cmd("recording.start", DRIVERS),
    cmd("recording.stop", DRIVERS),
    cmd("participant.remove", DRIVERS, {"who": "p:2147483000"}),
    # Guests publish nothing; cameras are for people and the hall.
    cmd(
        "rtc.publish",
        PEOPLE,
        {"sdp": BAD_SDP, "source": "camera"},
        variant="camera",
        event=True,
        hall="ok",
    ),
    # Screens are for hosts (and staff) and the presenting units.
    cmd(
        "rtc.publish",
        f"{DRIVERS} lead_unit co_unit",
        {"sdp": BAD_SDP, "source": "screen"},
        variant="screen",
        event=True,
    ),
    # Watching needs no role past being in the room (events._media_actor).
    cmd("rtc.subscribe", IN_ROOM, NO_FEED, event=True, hall="ok"),
    cmd("rtc.unsubscribe", IN_ROOM, NO_FEED, event=True, hall="ok"),
    cmd("rtc.layer", IN_ROOM, {**NO_FEED, "layer": "low"}, event=True, hall="ok"),
    cmd("rtc.answer", IN_ROOM, {**NO_FEED, "sdp": BAD_SDP}, event=True, hall="ok"),
    cmd("rtc.unpublish", IN_ROOM, NO_FEED, event=True, hall="ok"),
    cmd("sync", IN_ROOM, {"since": 0}, event=True, hall="ok"),
    cmd("join", IN_ROOM, {}, event=True, hall="ok"),
    # Lets in every waiting guest, the lobby_guest's too: after the rows that need it waiting
    # (until it sends ``join`` its commands still meet in_lobby).
    cmd("lobby.admit_all", DRIVERS, {}, prepare=_seat_guest),
    # Only guests wait in the lobby (an admitted one may step back into it).
    cmd("lobby.enter", "admitted_guest", {}, lobby="ok"),
    cmd("session.end", DRIVERS),
)


def test_every_client_command_and_event_has_a_row() -> None:
    assert frozenset(HANDLERS) >= SERVER_FACTS
    events = {
        name.removeprefix("on_").replace("rtc_", "rtc.")
        for name in dir(RoomNamespace)
        if name.startswith("on_")
    } - {"connect", "disconnect", "command"}
    assert events == EVENTS, f"room events without a row: {sorted(events ^ EVENTS)}"
    table = {c.name for c in COMMANDS}
    missing = (CLIENT_COMMANDS | EVENTS) - table
    assert not missing, f"room commands without a row in the authorisation matrix: {missing}"
    assert table <= CLIENT_COMMANDS | EVENTS, table - (CLIENT_COMMANDS | EVENTS)


# ---------------------------------------------------------------- the room


@pytest.fixture
def config(config: Config) -> Config:
    """Room commands and guest joins well above what the matrix sends in a few seconds."""
    return dataclasses.replace(
        config, room_command_rate=1000, room_command_burst=1000, guest_joins_per_window=1000
    )


@pytest.fixture
async def room(server: TestServer, cast: Cast, database: Database, config: Config) -> Any:
    world = await seed_people(server, cast, database, config)
    await seed_proposal_p(world)
    pid = world.own["proposal_id"]
    people = {r: world.people[r] for r in ("host", "member_in", "lead_unit", "co_unit", "leader")}
    r = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        proposal_ids=[pid],
        participants=[
            {"person_id": people["host"], "role": "host"},
            {"person_id": people["member_in"], "role": "proposer"},
            {"person_id": people["lead_unit"], "role": "unit"},
            {"person_id": people["co_unit"], "role": "unit"},
            {"person_id": people["leader"], "role": "leader"},
        ],
        agenda=[{"title": "办理进展", "proposal_id": pid, "presenter_id": people["lead_unit"]}],
    )
    sid = r["id"]
    clients = {role: await world.room(role, sid) for role in ("staff", *people)}
    keys = {role: f"p:{pid_}" for role, pid_ in {**people, "staff": world.people["staff"]}.items()}
    assert (await clients["host"].command("session.start"))["ok"]
    waiting = await guest_pass(world, sid, "等候的市民")
    auth = {"guest_token": waiting["guest_token"], "session_id": sid}
    clients["lobby_guest"] = await RoomClient(world.url, auth).connect()
    clients["admitted_guest"], keys["admitted_guest"] = await admit(
        world, clients["host"], sid, "入场的市民"
    )
    device = await world.clients["host"].post(f"/api/sessions/{sid}/hall-device")
    assert device.status == 200, device.text
    hall = {"device_token": device.body["device_token"], "session_id": sid}
    clients["hall"] = await RoomClient(world.url, hall).connect()
    item_id = clients["host"].snapshots[0]["state"]["agenda"][0]["id"]
    added = await clients["staff"].command(
        "minutes.edit",
        item_id=item_id,
        op="action.add",
        text="制定方案",
        owner_unit_id=world.unit_ids["a"],
        due="2027-03-31",
    )
    assert added["ok"], added
    yield Room(world, sid, clients, keys, item_id, str(added["seq"]))
    for client in clients.values():
        await client.close()


async def attempt(room: Room, c: Cmd, role: str) -> str:
    if c.prepare is not None:
        await c.prepare(room)
    data = c.data if not callable(c.data) else await c.data(room)
    client = room.clients[role]
    if c.event:
        ack = await client.call(c.name, data)
    else:
        ack = await client.command(c.name, **(data or {}))
    if ack.get("ok"):
        return "ok"
    code = str(ack["error"]["code"])
    return "ok" if code in AFTER_THE_CHECK else code


async def test_every_room_command_answers_every_room_role_as_the_matrix_says(room: Room) -> None:
    started = time.monotonic()
    wrong = []
    for c in COMMANDS:
        for role in ROOM_ROLES:
            got = await attempt(room, c, role)
            if got != c.expected(role):
                wrong.append(f"{c.label} as {role}: want {c.expected(role)}, got {got}")
    size = f"{len(COMMANDS)} commands x {len(ROOM_ROLES)} roles = {len(COMMANDS) * len(ROOM_ROLES)}"
    print(f"\nroom authorisation matrix: {size} answers in {time.monotonic() - started:.1f}s")
    assert not wrong, "\n".join(wrong)


async def test_server_facts_are_no_commands_for_anyone(room: Room) -> None:
    for fact in sorted(SERVER_FACTS):
        for role in ("staff", "host", "lead_unit"):
            ack = await room.clients[role].command(fact, who=room.keys["member_in"])
            assert ack["error"]["code"] == "unknown_command", (fact, role, ack)


async def test_people_outside_the_session_are_refused_at_connect(room: Room) -> None:
    """A member or unit not in R, a guest account, nobody at all, and the guest and hall passes
    of another public session."""
    world = room.world
    other = await create_session(
        world.cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        participants=[{"person_id": world.people["host"], "role": "host"}],
        agenda=[],
    )
    guest = await guest_pass(world, other["id"], "别处的市民")
    device = await world.clients["host"].post(f"/api/sessions/{other['id']}/hall-device")
    assert device.status == 200, device.text
    passes = {
        "guest pass of another session": {"guest_token": guest["guest_token"]},
        "hall pass of another session": {"device_token": device.body["device_token"]},
    }
    tokens = {role: {"token": world.clients[role].token} for role in REFUSED if role != "anon"}
    for who, auth in {**tokens, "anon": {}, **passes}.items():
        client = RoomClient(world.url, {**auth, "session_id": room.session_id})
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect()
        assert client.refused, who
        await client.close()


async def test_a_removed_participant_reads_nothing_more_and_cannot_come_back(room: Room) -> None:
    """participant.remove puts the person (or admitted guest) out at once: their connection is
    closed, so no later event reaches them, and a person's reconnect is refused."""
    member, guest = room.clients["member_in"], room.clients["admitted_guest"]
    for who in (room.keys["member_in"], room.keys["admitted_guest"]):
        removed = await room.clients["host"].command("participant.remove", who=who)
        assert removed["ok"], removed
    await member.wait_for(lambda: not member.sio.connected)
    await guest.wait_for(lambda: not guest.sio.connected)
    seen = len(member.events)
    await room.clients["host"].command("chat.send", text="散会后请留步")
    again = RoomClient(room.world.url, member.auth)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect()
    assert again.refused
    await again.close()
    assert len(member.events) == seen
