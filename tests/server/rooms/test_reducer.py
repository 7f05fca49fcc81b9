"""The room reducer without any server: table-driven rules and property-based invariants."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.rooms.reducer import (
    Actor,
    RoomError,
    State,
    apply,
    decide,
    floor_expiry,
    reduce,
)

T0 = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
HOST = Actor("p:1", "王秘书", "host", staff=True)
MEMBER = Actor("p:3", "张委员", "proposer")
UNIT = Actor("p:5", "赵处长", "unit", unit_id=1)
OTHER_UNIT = Actor("p:6", "孙科长", "unit", unit_id=2)
GUEST = Actor("g:1", "刘先生", "guest")
HALL = Actor("h:1", "政协大楼第一会议室", "hall")
# The session's list as the hub gives it to poll.open (everyone above with a session role).
ROSTER = [
    {"who": "p:1", "role": "host"},
    {"who": "p:2", "role": "host"},
    {"who": "p:3", "role": "proposer"},
    {"who": "p:8", "role": "leader"},
    {"who": "p:5", "role": "unit"},
    {"who": "p:6", "role": "unit"},
]
AGENDA = [
    {"id": 1, "title": "进展介绍"},
    {"id": 2, "title": "发表意见"},
    {"id": 3, "title": "协商交流"},
]


class Room:
    """A room driven through decide/apply, as the server does, with a fake clock."""

    def __init__(self, agenda: list[dict[str, Any]] = AGENDA) -> None:
        self.events: list[dict[str, Any]] = []
        self.box: dict[int, list[int]] = {}  # secret polls' ballot boxes (counts only)
        self.state: State = {}
        self.now = T0
        self._append("room.open", {"session_id": 7, "title": "办理协商", "agenda": agenda}, None)

    def _append(self, kind: str, data: dict[str, Any], by: str | None) -> dict[str, Any]:
        event = {
            "seq": len(self.events) + 1,
            "type": kind,
            "data": data,
            "at": self.now.isoformat(),
            "by": by,
        }
        self.events.append(event)
        self.state = apply(self.state, event)
        return event

    def do(self, actor: Actor, command: str, /, **data: Any) -> dict[str, Any]:
        # What the hub fills in (server/rooms/service.py): the session's list for a poll's
        # voters, a secret poll's ballot box when it closes.
        if command == "poll.open":
            data = {"roster": ROSTER, **data}
        if command == "poll.close" and isinstance(data.get("poll_id"), int):
            data = {"tally": self.box.get(data["poll_id"]), **data}
        accepted = decide(self.state, command, data, actor, self.now, len(self.events) + 1)
        if accepted is None:  # in effect already: nothing is logged
            return self.events[-1]
        ballot = accepted.pop("ballot", None)  # a secret vote's choices: counted, not logged
        if ballot is not None:
            poll = self.state["polls"][str(accepted["poll_id"])]
            box = self.box.setdefault(accepted["poll_id"], [0] * len(poll["options"]))
            for choice in ballot:
                box[choice] += 1
        return self._append(command, accepted, actor.key)

    def expire(self, grant: int) -> dict[str, Any]:
        """What the server's timer does when a turn's time is up."""
        return self._append("floor.expire", floor_expiry(self.state, grant, self.now), None)

    def join(self, actor: Actor) -> None:
        self._append(
            "presence.join",
            {"who": actor.key, "name": actor.name, "role": actor.role, "attendance": "remote"},
            actor.key,
        )

    def tick(self, seconds: int) -> None:
        self.now += dt.timedelta(seconds=seconds)


def live_room() -> Room:
    room = Room()
    for actor in (HOST, MEMBER, UNIT):
        room.join(actor)
    room.do(HOST, "session.start")
    return room


def test_the_host_runs_the_agenda_and_members_cannot() -> None:
    room = live_room()
    assert room.state["current"] == 1
    room.do(HOST, "agenda.next")
    assert room.state["current"] == 2
    with pytest.raises(RoomError) as refused:
        room.do(MEMBER, "agenda.next")
    assert refused.value.code == "forbidden"
    room.do(HOST, "agenda.goto", item_id=3)
    with pytest.raises(RoomError, match="last"):
        room.do(HOST, "agenda.next")
    room.do(HOST, "agenda.add", title="临时动议", planned_minutes=10)
    room.do(HOST, "agenda.reorder", item_ids=[4, 1, 2, 3])
    assert [i["id"] for i in room.state["agenda"]] == [4, 1, 2, 3]
    assert room.state["current"] == 3


def test_timer_counts_event_time_only() -> None:
    room = live_room()
    room.do(HOST, "timer.start")
    room.tick(90)
    room.do(HOST, "timer.pause")
    room.tick(600)
    room.do(HOST, "timer.extend", seconds=120)
    assert room.state["timer"] == {
        "item_id": 1,
        "running": False,
        "started_at": None,
        "elapsed": 90,
        "extra": 120,
    }
    assert reduce(room.events) == room.state  # replay gives the same state


def test_the_speaker_queue_and_the_floor() -> None:
    room = live_room()
    room.do(MEMBER, "hand.raise")
    room.do(UNIT, "hand.raise")
    with pytest.raises(RoomError, match="already"):
        room.do(MEMBER, "hand.raise")
    room.do(HOST, "floor.grant", who="p:3", seconds=120)
    assert room.state["floor"]["holder"] == "p:3"
    assert room.state["queue"] == ["p:5"]
    with pytest.raises(RoomError) as refused:
        room.do(UNIT, "floor.grant", who="p:5", seconds=60)
    assert refused.value.code == "forbidden"
    room.do(HOST, "floor.revoke")
    assert room.state["floor"] is None
    room.do(HOST, "hand.lower", who="p:5")
    assert room.state["queue"] == []


def test_guests_wait_in_the_lobby_until_admitted() -> None:
    room = live_room()
    room.do(GUEST, "lobby.enter")
    with pytest.raises(RoomError) as waiting:
        room.do(GUEST, "chat.send", text="你好")
    assert waiting.value.code == "in_lobby"
    with pytest.raises(RoomError):
        room.do(MEMBER, "lobby.admit", who="g:1")
    room.do(HOST, "lobby.admit", who="g:1")
    room.do(GUEST, "chat.send", text="请问加装电梯补贴怎么申请？", kind="question")
    assert room.state["chat"][-1]["kind"] == "question"
    room.do(HOST, "question.answer", message_id=room.state["chat"][-1]["id"])
    assert room.state["chat"][-1]["answered"] is True


def test_a_guest_already_waiting_or_admitted_entering_again_logs_nothing() -> None:
    room = live_room()
    room.do(GUEST, "lobby.enter")
    assert decide(room.state, "lobby.enter", {}, GUEST, room.now, 99) is None
    room.do(HOST, "lobby.admit", who="g:1")
    assert decide(room.state, "lobby.enter", {}, GUEST, room.now, 99) is None
    assert "g:1" not in room.state["lobby"]


def test_admit_all_lets_in_everyone_waiting_and_only_them_with_one_event() -> None:
    room = live_room()
    others = [Actor(f"g:{i}", f"市民{i}", "guest") for i in (2, 3, 4)]
    for guest in (GUEST, *others):
        room.do(guest, "lobby.enter")
    room.do(HOST, "lobby.deny", who="g:4")  # turned away before: stays out
    with pytest.raises(RoomError) as refused:
        room.do(MEMBER, "lobby.admit_all")
    assert refused.value.code == "forbidden"
    before = len(room.events)
    event = room.do(HOST, "lobby.admit_all")
    assert len(room.events) == before + 1
    assert event["data"]["guests"] == [
        {"who": "g:1", "name": GUEST.name},
        {"who": "g:2", "name": "市民2"},
        {"who": "g:3", "name": "市民3"},
    ]
    assert room.state["lobby"] == {}
    assert sorted(room.state["admitted"]) == ["g:1", "g:2", "g:3"]
    assert "g:4" in room.state["removed"]
    room.do(others[0], "chat.send", text="谢谢")  # in the room now
    assert decide(room.state, "lobby.admit_all", {}, HOST, room.now, 99) is None  # nobody waits
    assert reduce(room.events) == room.state


def test_a_denied_or_removed_guest_cannot_come_back() -> None:
    room = live_room()
    room.do(GUEST, "lobby.enter")
    room.do(HOST, "lobby.deny", who="g:1")
    with pytest.raises(RoomError) as refused:
        room.do(GUEST, "lobby.enter")
    assert refused.value.code == "removed"


def test_polls_take_one_vote_each_and_guests_only_when_allowed() -> None:
    room = live_room()
    room.do(GUEST, "lobby.enter")
    room.do(HOST, "lobby.admit", who="g:1")
    opened = room.do(
        HOST, "poll.open", question="是否同意该办理方案？", options=["同意", "不同意", "弃权"]
    )
    poll_id = opened["data"]["poll_id"]
    room.do(MEMBER, "poll.vote", poll_id=poll_id, choices=[0])
    with pytest.raises(RoomError, match="already"):
        room.do(MEMBER, "poll.vote", poll_id=poll_id, choices=[1])
    with pytest.raises(RoomError, match="Guests"):
        room.do(GUEST, "poll.vote", poll_id=poll_id, choices=[0])
    with pytest.raises(RoomError, match="options"):
        room.do(UNIT, "poll.vote", poll_id=poll_id, choices=[0, 1])
    room.do(HOST, "poll.close", poll_id=poll_id)
    with pytest.raises(RoomError, match="closed"):
        room.do(UNIT, "poll.vote", poll_id=poll_id, choices=[2])
    assert room.state["polls"][str(poll_id)]["votes"] == {"p:3": [0]}


def test_minutes_edits_never_overwrite_silently() -> None:
    room = live_room()
    room.do(HOST, "minutes.edit", item_id=1, op="notes", text="住建局介绍了进展。", base_version=0)
    with pytest.raises(RoomError) as clash:
        room.do(
            HOST, "minutes.edit", item_id=1, op="notes", text="另一位记录员的版本", base_version=0
        )
    assert clash.value.code == "edit_conflict"
    assert clash.value.details["current"]["text"] == "住建局介绍了进展。"
    room.do(
        HOST,
        "minutes.edit",
        item_id=1,
        op="notes",
        text="住建局介绍了进展，提案人表示满意。",
        base_version=1,
    )
    added = room.do(
        HOST,
        "minutes.edit",
        item_id=1,
        op="action.add",
        text="三月底前出台补贴细则",
        owner_unit_id=1,
        due="2027-03-31",
    )
    entry = added["data"]["entry_id"]
    room.do(
        UNIT,
        "minutes.edit",
        item_id=1,
        op="action.update",
        entry_id=entry,
        text="细则已起草",
        base_version=1,
    )
    with pytest.raises(RoomError) as other:
        room.do(
            OTHER_UNIT,
            "minutes.edit",
            item_id=1,
            op="action.update",
            entry_id=entry,
            text="x",
            base_version=2,
        )
    assert other.value.code == "forbidden"
    with pytest.raises(RoomError):
        room.do(UNIT, "minutes.edit", item_id=1, op="notes", text="x", base_version=2)
    action = room.state["minutes"]["1"]["actions"][entry]
    assert (action["text"], action["owner_unit_id"], action["due"], action["version"]) == (
        "细则已起草",
        1,
        "2027-03-31",
        2,
    )


def test_presence_counts_devices_and_keeps_the_attendance_record() -> None:
    room = live_room()
    room.join(MEMBER)
    assert room.state["presence"]["p:3"]["devices"] == 2
    room._append("presence.leave", {"who": "p:3"}, "p:3")
    room.tick(60)
    room._append("presence.leave", {"who": "p:3"}, "p:3")
    assert "p:3" not in room.state["presence"]
    assert room.state["attendance"]["p:3"]["left"] == [room.now.isoformat()]


def test_removed_participants_lose_floor_queue_and_voice() -> None:
    room = live_room()
    room.do(MEMBER, "hand.raise")
    room.do(HOST, "participant.remove", who="p:3")
    assert room.state["queue"] == []
    with pytest.raises(RoomError) as refused:
        room.do(MEMBER, "chat.send", text="还在吗")
    assert refused.value.code == "removed"


# ---- property: any sequence of commands keeps the state valid

ACTORS = [HOST, MEMBER, UNIT, OTHER_UNIT, GUEST, HALL]
COMMANDS = st.one_of(
    st.tuples(st.just("session.start"), st.just({})),
    st.tuples(st.just("session.end"), st.just({})),
    st.tuples(st.sampled_from(["agenda.next", "agenda.prev"]), st.just({})),
    st.tuples(st.just("agenda.goto"), st.fixed_dictionaries({"item_id": st.integers(0, 5)})),
    st.tuples(st.just("agenda.add"), st.fixed_dictionaries({"title": st.text(max_size=5)})),
    st.tuples(st.sampled_from(["timer.start", "timer.pause"]), st.just({})),
    st.tuples(st.sampled_from(["hand.raise", "hand.lower"]), st.just({})),
    st.tuples(
        st.just("hand.lower"),
        st.fixed_dictionaries({"who": st.sampled_from([a.key for a in ACTORS])}),
    ),
    st.tuples(
        st.just("floor.grant"),
        st.fixed_dictionaries(
            {"who": st.sampled_from([a.key for a in ACTORS]), "seconds": st.integers(0, 100)}
        ),
    ),
    st.tuples(st.just("floor.revoke"), st.just({})),
    st.tuples(st.just("floor.extend"), st.fixed_dictionaries({"seconds": st.integers(-1, 5000)})),
    st.tuples(st.just("wait"), st.fixed_dictionaries({"seconds": st.integers(0, 400)})),
    st.tuples(st.just("expire"), st.fixed_dictionaries({"grant": st.integers(0, 60)})),
    st.tuples(st.just("lobby.enter"), st.just({})),
    st.tuples(
        st.sampled_from(["lobby.admit", "lobby.deny"]),
        st.fixed_dictionaries({"who": st.just("g:1")}),
    ),
    st.tuples(st.just("chat.send"), st.fixed_dictionaries({"text": st.text(max_size=5)})),
    st.tuples(
        st.just("participant.remove"),
        st.fixed_dictionaries({"who": st.sampled_from([a.key for a in ACTORS])}),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ACTORS), COMMANDS), max_size=60))
def test_any_sequence_of_commands_keeps_the_room_valid(
    script: list[tuple[Actor, tuple[str, dict[str, Any]]]],
) -> None:
    room = Room()
    for actor in (HOST, MEMBER, UNIT, OTHER_UNIT, HALL):
        room.join(actor)
    for actor, (kind, data) in script:
        with contextlib.suppress(RoomError):
            if kind == "wait":
                room.tick(data["seconds"])
            elif kind == "expire":
                ended = room.state["floor"]
                room.expire(data["grant"])
                assert ended is not None and ended["grant"] == data["grant"]
                assert dt.datetime.fromisoformat(ended["until"]) <= room.now
            else:
                room.do(actor, kind, **data)
                assert not actor.is_hall or kind in ("hand.raise", "hand.lower")
        state = room.state
        floor = state["floor"]
        if floor is not None:
            since = dt.datetime.fromisoformat(floor["since"])
            until = dt.datetime.fromisoformat(floor["until"])
            assert until - since == dt.timedelta(seconds=floor["seconds"])
        ids = [i["id"] for i in state["agenda"]]
        assert state["current"] is None or state["current"] in ids
        assert len(state["queue"]) == len(set(state["queue"]))
        assert state["floor"] is None or state["floor"]["holder"] not in state["queue"]
        assert not set(state["lobby"]) & set(state["admitted"])
        assert not set(state["removed"]) & (set(state["admitted"]) | set(state["queue"]))
        assert state["status"] in ("scheduled", "live", "ended")
        assert state["status"] == "live" or state["floor"] is None
    assert reduce(room.events) == room.state


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
KINDS = sorted(
    {
        "session.start",
        "session.end",
        "agenda.next",
        "agenda.prev",
        "agenda.goto",
        "agenda.add",
        "agenda.reorder",
        "timer.start",
        "timer.pause",
        "timer.extend",
        "hand.raise",
        "hand.lower",
        "floor.grant",
        "floor.revoke",
        "chat.send",
        "chat.hide",
        "question.answer",
        "lobby.enter",
        "lobby.admit",
        "lobby.admit_all",
        "lobby.deny",
        "poll.open",
        "poll.vote",
        "poll.close",
        "point_of_order.request",
        "presence.checkin",
        "participant.remove",
        "minutes.edit",
        "no.such",
    }
)
FIELDS = [
    "item_id",
    "title",
    "item_ids",
    "seconds",
    "who",
    "text",
    "kind",
    "message_id",
    "question",
    "options",
    "poll_id",
    "choices",
    "op",
    "entry_id",
    "base_version",
    "owner_unit_id",
    "due",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ACTORS),
            st.sampled_from(KINDS),
            st.dictionaries(st.sampled_from(FIELDS), JUNK, max_size=4),
        ),
        max_size=25,
    )
)
def test_junk_commands_are_refused_cleanly_never_crash(
    script: list[tuple[Actor, str, dict[str, Any]]],
) -> None:
    room = live_room()
    room.do(HOST, "poll.open", question="q", options=["a", "b"])
    room.do(HOST, "minutes.edit", item_id=1, op="action.add", text="t", owner_unit_id=1)
    for actor, kind, data in script:
        with contextlib.suppress(RoomError):
            room.do(actor, kind, **data)
    assert reduce(room.events) == room.state


def test_a_turn_expires_only_when_its_time_is_up_and_only_once() -> None:
    room = live_room()
    grant = room.do(HOST, "floor.grant", who="p:3", seconds=60)["seq"]
    with pytest.raises(RoomError):
        room.expire(grant)  # not yet
    room.tick(30)
    room.do(HOST, "floor.extend", seconds=60)
    room.tick(40)
    with pytest.raises(RoomError):
        room.expire(grant)  # 70 of 120 seconds
    with pytest.raises(RoomError):
        room.do(MEMBER, "floor.extend", seconds=60)  # only hosts extend
    room.tick(50)
    assert room.expire(grant)["data"] == {"who": "p:3", "grant": grant}
    assert room.state["floor"] is None
    with pytest.raises(RoomError):
        room.expire(grant)


def test_the_hall_device_raises_its_hand_and_nothing_else() -> None:
    room = live_room()
    room.join(HALL)
    room.do(HALL, "hand.raise")
    assert room.state["queue"] == [HALL.key]
    room.do(HOST, "floor.grant", who=HALL.key, seconds=120)
    assert room.state["floor"]["holder"] == HALL.key
    for command, data in (
        ("agenda.next", {}),
        ("chat.send", {"text": "会场"}),
        ("floor.revoke", {}),
    ):
        with pytest.raises(RoomError, match="hall device"):
            room.do(HALL, command, **data)
