"""The browser's room state agrees with the server's: random rooms, replayed through both.

``web/js/room-state.js`` applies events to a snapshot by hand, as ``server/rooms/apply.py`` does;
``server/rooms/views.py`` decides what each viewer sees. Hypothesis drives a room through
``decide``/``apply`` (commands of every family from every kind of actor, and the events the
server logs itself: presence, feeds, the active speaker, the end of a turn) and, for every kind
of viewer, starts the JS from that viewer's snapshot at a random point of the log, feeds it the
rest as the viewer receives it, and compares its state with ``state_view`` of the server's:

- live: each event as it is broadcast to the viewer's audience, compared after every event;
- ``sync``: the events since the snapshot as ``events_view`` gives them, compared at the end
  (a message hidden within that list arrives without its text, so only the end is a view).

Crowd rooms (``server.rooms.crowd``) are replayed too: there a member, a guest, a unit... see
the listed people and counts; the ``names`` of those in view that the browser keeps may grow
past the server's (names are kept once known), so it must hold every name the server's has.

A guest waiting in the lobby holds no state (it hears only its own lobby events); a guest is
compared from its snapshot, as after it was admitted. One Node process runs every case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.rooms.crowd import in_crowd, logged
from server.rooms.reducer import Actor, RoomError, State, apply, floor_expiry
from server.rooms.views import event_view, events_view, state_view
from tests.server.rooms.test_reducer import KINDS
from tests.server.rooms.test_reducer import Room as ReducerRoom

HARNESS = Path(__file__).resolve().parent / "room_state.mjs"
STAFF_HOST = Actor("p:1", "王秘书", "host", staff=True, reads_drafts=True)
HOST = Actor("p:2", "李委员", "host", reads_drafts=True)  # a member who hosts
PROPOSER = Actor("p:3", "张委员", "proposer")
UNIT = Actor("p:5", "赵处长", "unit", unit_id=1)
OTHER_UNIT = Actor("p:6", "孙科长", "unit", unit_id=2)
LEADER = Actor("p:8", "陈主席", "leader", reads_drafts=True)
GUEST = Actor("g:1", "刘先生", "guest")
OTHER_GUEST = Actor("g:2", "周女士", "guest")
HALL = Actor("h:1", "政协大楼第一会议室", "hall")
MEMBER = Actor("p:9", "吴委员", "member")
VIEWERS = [STAFF_HOST, HOST, PROPOSER, UNIT, LEADER, GUEST, HALL, MEMBER]
ACTORS = [*VIEWERS, OTHER_UNIT, OTHER_GUEST]
AGENDA: list[dict[str, Any]] = [
    {"id": 1, "title": "进展介绍", "planned_minutes": 10, "proposal_id": 11},
    {"id": 2, "title": "发表意见", "planned_minutes": None, "proposal_id": None},
    {"id": 3, "title": "协商交流", "planned_minutes": 20, "proposal_id": 12},
]
REPORTS = [
    {"proposal_id": 11, "unit_id": 1, "summary": "已完成七成"},
    {"proposal_id": 12, "unit_id": 2},
]
# The commands the reducer's own property tests send, and those they leave out.
COMMANDS = sorted((set(KINDS) - {"no.such"}) | {"floor.extend", "progress.show", "progress.hide"})
COMMANDS += ["recording.start", "recording.stop", "audio.mute", "audio.unmute"]
COMMANDS += ["recording.ask", "recording.consent", "recording.consent"]
# Commands that take a state a few others make first (a poll, a message, a running timer).
OFTEN = ["poll.vote", "poll.vote", "chat.hide", "timer.pause", "floor.grant"]
OFTEN += ["point_of_order.request", "floor.revoke", "poll.close"]
# What the server does by itself: a device connects or goes, a process restarts, media moves.
SERVER_STEPS = [
    "join",
    "leave",
    "batch",
    "reset",
    "feed.add",
    "feed.remove",
    "speaker.active",
    "wait",
    "expire",
]


class Room(ReducerRoom):
    """The reducer tests' room (decide, then apply, with a fake clock), on this agenda."""

    def __init__(self, crowd: bool = False) -> None:
        super().__init__(AGENDA)
        if crowd:  # a public session's room
            self.events[0]["data"]["visibility"] = "public"
            self.state["crowd_room"] = True

    def log(self, kind: str, data: dict[str, Any], by: str | None = None) -> None:
        """A fact the server logs, with what it adds (``RoomHub.record``, presence)."""
        self._append(kind, logged(self.state, kind, data), by)

    def send(self, actor: Actor, kind: str, data: dict[str, Any]) -> None:
        """A command; refused ones log nothing."""
        with contextlib.suppress(RoomError):
            self.do(actor, kind, **data)

    def join(self, actor: Actor) -> None:
        self.log("presence.join", joining(actor), actor.key)


def joining(actor: Actor) -> dict[str, Any]:
    """The data the server logs when ``actor`` connects."""
    attendance = "in_person" if actor.is_hall else "remote"
    return {"who": actor.key, "name": actor.name, "role": actor.role, "attendance": attendance}


def may_join(state: State, actor: Actor) -> bool:
    """As the server lets people in: guests once admitted, nobody removed."""
    return actor.key not in state["removed"] and (
        not actor.is_guest or actor.key in state["admitted"]
    )


def _someone(state: State, pick: random.Random) -> str:
    """Mostly someone in the room, sometimes anyone (the rules refuse the rest)."""
    here = [*state["presence"], *state["admitted"]]
    return str(pick.choice(here if here and pick.random() < 0.8 else [a.key for a in ACTORS]))


def _entry(state: State, pick: random.Random) -> tuple[int, str, str | None, int]:
    """An entry of the minutes (item, group, id, version), mostly one that exists."""
    entries: list[tuple[int, str, str | None, int]] = [
        (int(item), group[:-1], entry_id, entry["version"])
        for item, groups in sorted(state["minutes"].items())
        for group in ("decisions", "actions")
        for entry_id, entry in sorted(groups[group].items())
    ]
    if entries and pick.random() < 0.6:
        return pick.choice(entries)
    return int(pick.choice(AGENDA)["id"]), pick.choice(["decision", "action"]), None, 0


def minutes_edit(state: State, pick: random.Random) -> dict[str, Any]:
    """A minutes operation, mostly on the version it is based on."""
    item, group, entry, version = _entry(state, pick)
    stale = pick.random() < 0.1
    if pick.random() < 0.3:
        notes = state["minutes"].get(str(item), {}).get("notes", {})
        base = notes.get("version", 0) - stale
        return {
            "item_id": item,
            "op": "notes",
            "text": pick.choice(["", "进展"]),
            "base_version": base,
        }
    verb = pick.choice(["add", "update", "update", "remove"]) if entry else "add"
    data = {"item_id": item, "op": f"{group}.{verb}", "entry_id": entry, "base_version": version}
    data |= {"text": pick.choice(["细则", "补贴"]), "owner_unit_id": pick.choice([None, 1, 2])}
    return data | {"due": pick.choice([None, "2027-03-31"]), "proposal_id": pick.choice([None, 11])}


def command_data(state: State, actor: Actor, kind: str, pick: random.Random) -> dict[str, Any]:
    """The data of ``kind``: mostly valid in ``state``, so that most commands are accepted."""
    chat = [m["id"] for m in state["chat"]] or [0]
    polls = sorted(k for k, p in state["polls"].items() if p["open"] or pick.random() < 0.2)
    polls = polls or ["0"]
    ids = [item["id"] for item in state["agenda"]]
    if kind == "agenda.goto":
        return {"item_id": pick.choice([*ids, 99])}
    if kind == "agenda.add":
        return {"title": "临时动议", "planned_minutes": pick.choice([None, 5, 30])}
    if kind == "agenda.reorder":
        return {"item_ids": pick.sample(ids, len(ids))}
    if kind in ("timer.extend", "floor.extend"):
        return {"seconds": pick.randint(1, 600)}
    if kind == "hand.lower":
        return {"who": pick.choice([actor.key, *state["queue"]])}
    if kind == "floor.grant":
        return {"who": _someone(state, pick), "seconds": pick.randint(1, 300)}
    if kind == "chat.send":
        return {
            "text": pick.choice(["你好", "请问补贴"]),
            "kind": pick.choice(["chat", "question"]),
        }
    if kind in ("chat.hide", "question.answer"):
        return {"message_id": pick.choice(chat)}
    if kind in ("lobby.admit", "lobby.deny"):
        return {"who": pick.choice([*state["lobby"], GUEST.key])}
    if kind == "poll.open":
        options = ["同意", "不同意", "弃权"][: pick.randint(2, 3)]
        spec = {"question": "是否同意？", "options": options, "multiple": pick.random() < 0.5}
        if pick.random() < 0.3:  # as before voters: every participant, guests or not
            return spec | {"guests": pick.random() < 0.5}
        roles = pick.sample(["host", "proposer", "unit", "leader", "member"], pick.randint(0, 3))
        threshold = pick.choice(["none", "majority_of_votes", "majority_of_present", "two_thirds"])
        return spec | {
            "voters": {"roles": roles, "guests": pick.random() < 0.5},
            "threshold": threshold,
            "secret": pick.random() < 0.5,
        }
    if kind in ("poll.vote", "poll.close"):
        choices = pick.sample([0, 1], 2 if pick.random() < 0.2 else 1)
        return {"poll_id": int(pick.choice(polls)), "choices": choices}
    if kind == "presence.checkin":
        return {"who": pick.choice([a.key for a in ACTORS if a.key.startswith("p:")]), "name": "某"}
    if kind == "audio.unmute" and state["muted"]:
        return {"who": pick.choice(state["muted"])}
    if kind in ("participant.remove", "audio.mute", "audio.unmute"):
        return {"who": _someone(state, pick)}
    if kind == "minutes.edit":
        return minutes_edit(state, pick)
    if kind == "progress.show":
        return {"report": pick.choice(REPORTS)}
    if kind == "recording.consent":
        return {"answer": pick.choice(["accepted", "accepted", "declined", "maybe"])}
    return {}


def server_step(room: Room, actor: Actor, kind: str, pick: random.Random) -> None:
    """What the server logs by itself (never refused: it logs only what happened)."""
    state = room.state
    if kind == "join":
        if may_join(state, actor):
            room.join(actor)
    elif kind == "batch":  # joins and leaves coalesced into one event, as the hub logs a crowd
        changes: list[dict[str, Any]] = []
        for other in pick.sample(ACTORS, pick.randint(2, 4)):
            if other.key in state["presence"] and pick.random() < 0.5:
                changes.append({"op": "leave", "who": other.key})
            elif may_join(state, other):
                changes.append({"op": "join", **joining(other)})
        room.log("presence.batch", {"changes": changes})
    elif kind == "leave" and actor.key in state["presence"]:
        room.log("presence.leave", {"who": actor.key}, actor.key)
    elif kind == "reset":
        room.log(
            "presence.reset",
            {"who": pick.sample(sorted(state["presence"]), 1)}
            if state["presence"]
            else {"who": []},
        )
    elif kind == "feed.add":
        data = {"feed_id": f"f{len(room.events)}", "who": actor.key}
        room.log("feed.add", data | {"source": pick.choice(["camera", "screen"])})
    elif kind == "feed.remove" and state["feeds"]:
        feed = pick.choice(state["feeds"])
        room.log("feed.remove", {"feed_id": feed["feed_id"], "who": feed["who"]})
    elif kind == "speaker.active":
        room.log("speaker.active", {"who": pick.choice([actor.key, None])})
    elif kind == "wait":  # fractions near a whole second: they are cut as the server cuts them
        fraction = pick.choice([0, 1, 999, 1000, 500_000, 999_999, pick.randrange(10**6)])
        room.now += dt.timedelta(seconds=pick.randint(0, 400), microseconds=fraction)
    elif kind == "expire" and state["floor"]:
        with contextlib.suppress(RoomError):
            room.log("floor.expire", floor_expiry(state, state["floor"]["grant"], room.now))


STEPS = st.lists(
    st.tuples(
        st.sampled_from(ACTORS),
        st.sampled_from(COMMANDS + OFTEN + SERVER_STEPS * 2),
        st.integers(0, 2**32),
    ),
    min_size=40,
    max_size=80,
)


# Commands anyone in the room may send; hosts send the others, mostly (so that most are accepted).
EVERYONE = {"hand.raise", "hand.lower", "chat.send", "lobby.enter", "poll.vote"}
EVERYONE |= {"point_of_order.request"}
EVERYONE |= {"progress.show", "progress.hide"}
EVERYONE |= {"recording.consent"}


def room_of(steps: list[tuple[Actor, str, int]], crowd: bool = False) -> Room:
    room = Room(crowd)
    for actor in (STAFF_HOST, PROPOSER, UNIT, HALL):
        room.join(actor)
    room.send(STAFF_HOST, "session.start", {})
    room.send(GUEST, "lobby.enter", {})
    for actor, kind, seed in steps:
        pick = random.Random(seed)
        if kind in SERVER_STEPS:
            server_step(room, actor, kind, pick)
            continue
        if kind == "session.end" and pick.random() < 0.7:
            continue  # rarer: an ended room takes few commands more
        if kind not in EVERYONE and pick.random() < 0.7:
            actor = pick.choice([STAFF_HOST, HOST])
        room.send(actor, kind, command_data(room.state, actor, kind, pick))
    return room


# ---- the JS side: one Node process for the whole test


@pytest.fixture(scope="module")
def node() -> Iterator[subprocess.Popen[str]]:
    binary = shutil.which("node")
    assert binary, "Node.js runs the browser's room state (the machine image has it)"
    process = subprocess.Popen(
        [binary, str(HARNESS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    yield process
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    process.wait(timeout=10)
    process.stdout.close()


def in_node(node: subprocess.Popen[str], cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert node.stdin is not None and node.stdout is not None
    node.stdin.write(json.dumps(cases) + "\n")
    node.stdin.flush()
    line = node.stdout.readline()
    assert line, "the Node harness stopped (see its stderr above)"
    return json.loads(line)  # type: ignore[no-any-return]


def canonical(value: Any) -> str:
    """JSON with sorted keys, as the harness writes the browser's state."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def views(room: Room) -> dict[str, list[str]]:
    """Each viewer's view after every event (index i: after the first i + 1 events)."""
    state: State = {}
    seen: dict[str, list[str]] = {v.key: [] for v in VIEWERS}
    for event in room.events:
        state = apply(state, event)
        for viewer in VIEWERS:
            seen[viewer.key].append(canonical(state_view(state, viewer)))
    return seen


def as_js(viewer: Actor, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The viewer as the page tells the room client: its key, whether it hosts, its ballots
    (what it voted, as it sent the votes of the log itself)."""
    ballots = {
        # A secret vote's event has no choices; the client still sent some (here [0]).
        str(e["data"]["poll_id"]): e["data"].get("choices", [0])
        for e in events
        if e["type"] == "poll.vote" and e["data"]["who"] == viewer.key
    }
    return {"key": viewer.key, "drives": viewer.drives, "ballots": ballots}


def cases_of(room: Room, start: int, seen: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """For each viewer, the live stream and the ``sync`` answer after a snapshot at ``start``."""
    rest, cases = room.events[start:], []
    for viewer in VIEWERS:
        snapshot = json.loads(seen[viewer.key][start - 1])
        js = as_js(viewer, room.events)
        crowd = in_crowd(viewer)
        live = [event_view(e, drafts=viewer.reads_drafts, crowd=crowd) for e in rest]
        cases.append({"snapshot": snapshot, "events": live, "viewer": js, "every": True})
        synced = events_view(rest, viewer)
        cases.append({"snapshot": snapshot, "events": synced, "viewer": js, "every": False})
    return cases


def differences(expected: Any, got: Any, path: str = "state") -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        keys = sorted(set(expected) | set(got))
        return [d for k in keys for d in differences(expected.get(k), got.get(k), f"{path}.{k}")]
    return [] if expected == got else [f"{path}: server {expected!r}, browser {got!r}"]


def agree(expected: str, got: str, what: str) -> None:
    """The browser's state is the server's view; its ``names`` (a crowd view's) hold at least
    the server's."""
    server, browser = json.loads(expected), json.loads(got)
    if "names" in server or "names" in browser:
        names, known = server.pop("names"), browser.pop("names")
        assert names.items() <= known.items(), f"{what}: names {names} not in {known}"
        expected, got = canonical(server), canonical(browser)
    if expected != got:
        assert not differences(json.loads(expected), json.loads(got)), what
        raise AssertionError(f"{what}: {expected} != {got}")  # e.g. 1 and 1.0


def check(
    room: Room, start: int, results: list[dict[str, Any]], seen: dict[str, list[str]]
) -> None:
    """The browser's states (``results`` of ``cases_of(room, start)``) are the server's views."""
    for index, viewer in enumerate(VIEWERS):
        expected = seen[viewer.key]
        live, synced = results[2 * index], results[2 * index + 1]
        assert "refused" not in live, f"{viewer.key} could not apply event {live['refused']}"
        assert "refused" not in synced, f"{viewer.key} could not apply synced {synced['refused']}"
        for offset, got in enumerate(live["states"]):
            event = room.events[start + offset]
            agree(expected[start + offset], got, f"{viewer.key} live after {event}")
        agree(expected[-1], synced["states"][-1], f"{viewer.key} after sync from seq {start}")


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=STEPS, where=st.floats(0, 1), crowd=st.booleans())
def test_every_viewer_of_the_browser_ends_with_the_servers_view(
    node: subprocess.Popen[str], steps: list[tuple[Actor, str, int]], where: float, crowd: bool
) -> None:
    room = room_of(steps, crowd)
    seen = views(room)
    # Snapshots after the first ``start`` events: right after the room opened, and anywhere.
    starts = (1, 1 + int(where * (len(room.events) - 1)))
    cases = [case for start in starts for case in cases_of(room, start, seen)]
    results = in_node(node, cases)
    for index, start in enumerate(starts):
        part = slice(index * 2 * len(VIEWERS), (index + 1) * 2 * len(VIEWERS))
        check(room, start, results[part], seen)


def test_a_timer_and_a_turn_count_microseconds_as_the_server(node: subprocess.Popen[str]) -> None:
    """89.999001 seconds are 89 on the timer, as ``int()`` cuts them (milliseconds made 90), and
    a turn granted at a fraction of a second ends at the same instant written the same way."""
    room = room_of([])
    room.now += dt.timedelta(microseconds=999)
    room.send(STAFF_HOST, "timer.start", {})
    room.send(STAFF_HOST, "floor.grant", {"who": PROPOSER.key, "seconds": 60})
    room.now += dt.timedelta(seconds=89, microseconds=999_002)
    room.send(STAFF_HOST, "timer.pause", {})
    room.send(STAFF_HOST, "floor.extend", {"seconds": 30})
    seen = views(room)
    host = json.loads(seen[STAFF_HOST.key][-1])
    assert host["timer"]["elapsed"] == 89
    assert host["floor"]["until"] == "2026-12-01T01:31:30.000999+00:00"
    check(room, 1, in_node(node, cases_of(room, 1, seen)), seen)
