"""Polls with quorum (issue 19), through the pure reducer: who may vote, 应到 / 实到 / 投票,
thresholds at their edges (ties, no votes, exactly two thirds), secret ballots that never put a
voter next to a choice, named ballots that do; points of order and speaking time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.record.exports import poll_outcome
from server.rooms.commands.polls import outcome
from server.rooms.record import room_record
from server.rooms.reducer import Actor, RoomError, reduce
from server.rooms.views import event_view, events_view, state_view
from tests.server.rooms.test_reducer import GUEST, HALL, HOST, MEMBER, UNIT, Room

HOST2 = Actor("p:2", "李委员", "host")
LEADER = Actor("p:8", "陈主席", "leader", reads_drafts=True)


def room_with(*people: Actor) -> Room:
    room = Room()
    for actor in people:
        room.join(actor)
    room.do(HOST, "session.start")
    return room


def open_poll(room: Room, **spec: Any) -> int:
    spec = {"question": "是否同意该办理方案？", "options": ["同意", "不同意", "弃权"], **spec}
    return int(room.do(HOST, "poll.open", **spec)["data"]["poll_id"])


def close(room: Room, poll_id: int) -> dict[str, Any]:
    return room.do(HOST, "poll.close", poll_id=poll_id)["data"]  # type: ignore[no-any-return]


def test_only_the_eligible_vote_and_the_refusal_says_why() -> None:
    room = room_with(HOST, MEMBER, UNIT, HALL, LEADER)
    room.do(GUEST, "lobby.enter")
    room.do(HOST, "lobby.admit", who=GUEST.key)
    poll = open_poll(room, voters={"roles": ["proposer", "leader"], "guests": False})
    opened = room.events[-1]["data"]
    assert opened["voters"] == {"roles": ["proposer", "leader"], "guests": False}
    assert opened["eligible"] == ["p:3", "p:8"]  # from the session's list, not the client
    assert opened["threshold"] == "none" and opened["secret"] is False
    for outsider in (UNIT, HOST):
        with pytest.raises(RoomError, match="not among this poll's voters") as refused:
            room.do(outsider, "poll.vote", poll_id=poll, choices=[0])
        assert refused.value.code == "forbidden"
    with pytest.raises(RoomError, match="Guests do not vote"):
        room.do(GUEST, "poll.vote", poll_id=poll, choices=[0])
    with pytest.raises(RoomError, match="hall device"):
        room.do(HALL, "poll.vote", poll_id=poll, choices=[0])
    room.do(MEMBER, "poll.vote", poll_id=poll, choices=[0])
    room.do(LEADER, "poll.vote", poll_id=poll, choices=[1])


def test_guests_vote_when_the_poll_says_so_and_count_as_eligible() -> None:
    room = room_with(HOST, MEMBER)
    room.do(GUEST, "lobby.enter")
    room.do(HOST, "lobby.admit", who=GUEST.key)
    room.join(GUEST)
    poll = open_poll(room, voters={"roles": [], "guests": True}, threshold="majority_of_votes")
    with pytest.raises(RoomError, match="not among"):
        room.do(MEMBER, "poll.vote", poll_id=poll, choices=[0])
    room.do(GUEST, "poll.vote", poll_id=poll, choices=[0])
    closed = close(room, poll)
    assert (closed["eligible"], closed["present"], closed["voted"]) == (1, 1, 1)
    assert closed["quorum_met"] is True and closed["passed"] is True


def test_today_s_guests_flag_still_works() -> None:
    room = room_with(HOST, MEMBER)
    room.do(GUEST, "lobby.enter")
    room.do(HOST, "lobby.admit", who=GUEST.key)
    poll = open_poll(room, guests=True)
    assert room.events[-1]["data"]["voters"] == {
        "roles": ["host", "proposer", "unit", "leader", "member"],
        "guests": True,
    }
    room.do(GUEST, "poll.vote", poll_id=poll, choices=[2])
    room.do(MEMBER, "poll.vote", poll_id=poll, choices=[0])
    assert close(room, poll)["results"] == [1, 0, 1]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"threshold": "most"}, "threshold is none"),
        ({"secret": "yes"}, "secret is true or false"),
        ({"voters": {"roles": ["king"]}}, "voters has roles"),
        ({"voters": {"roles": [], "guests": False}}, "Say who may vote"),
        ({"voters": ["proposer"]}, "voters has roles"),
        ({"voters": {"roles": ["proposer"], "guests": 1}}, "voters has roles"),
    ],
)
def test_bad_poll_specs_are_refused(data: dict[str, Any], words: str) -> None:
    room = room_with(HOST)
    with pytest.raises(RoomError, match=words) as refused:
        open_poll(room, **data)
    assert refused.value.code == "invalid"


@pytest.mark.parametrize(
    ("threshold", "results", "eligible", "present", "voted", "expected"),
    [
        ("none", [3, 0], 4, 4, 3, (True, None)),
        ("majority_of_votes", [2, 2], 4, 4, 4, (True, False)),  # a tie is no majority
        ("majority_of_votes", [3, 2], 5, 5, 5, (True, True)),
        ("majority_of_votes", [0, 0], 4, 3, 0, (True, False)),  # no votes pass nothing
        ("majority_of_present", [3, 1], 6, 6, 4, (True, False)),  # 3 of 6 present is half
        ("majority_of_present", [4, 0], 6, 6, 4, (True, True)),
        ("two_thirds", [2, 1], 3, 3, 3, (True, True)),  # exactly two thirds of votes cast
        ("two_thirds", [3, 2], 5, 5, 5, (True, False)),
        ("two_thirds", [0, 0], 3, 3, 0, (True, False)),
        ("majority_of_votes", [2, 0], 4, 2, 2, (False, False)),  # half present: no quorum
        ("majority_of_votes", [0, 0], 0, 0, 0, (False, False)),  # nobody eligible
        ("none", [1, 0], 4, 2, 1, (False, None)),
    ],
)
def test_quorum_and_thresholds_at_their_edges(
    threshold: str,
    results: list[int],
    eligible: int,
    present: int,
    voted: int,
    expected: tuple[bool, bool | None],
) -> None:
    assert outcome(threshold, results, eligible, present, voted) == expected


def test_a_poll_closes_with_the_counts_present_and_the_words_for_the_minutes() -> None:
    room = room_with(HOST, MEMBER, UNIT)  # on the list: p:1, p:2 (absent), p:3, p:5, p:6, p:8
    poll = open_poll(room, threshold="majority_of_present")
    room.do(MEMBER, "poll.vote", poll_id=poll, choices=[0])
    room.do(UNIT, "poll.vote", poll_id=poll, choices=[0])
    room._append("presence.leave", {"who": UNIT.key}, UNIT.key)  # voted, then left
    closed = close(room, poll)
    # 应到 6 (everyone on the list), 实到 3 (host and member here, the unit voted): no quorum.
    assert (closed["eligible"], closed["present"], closed["voted"]) == (6, 3, 2)
    assert closed["quorum_met"] is False and closed["passed"] is False
    assert closed["results"] == [2, 0, 0]
    assert closed["ballots"] == [
        {"who": "p:3", "name": "张委员", "choices": [0]},
        {"who": "p:5", "name": "赵处长", "choices": [0]},
    ]
    record = room_record(room.state, None)
    [entry] = record["polls"]
    assert entry["quorum_met"] is False and entry["ballots"][0] == {
        "name": "张委员",
        "choices": [0],
    }
    assert "未达到法定人数" in poll_outcome(entry)
    assert "未通过" in poll_outcome(entry)
    assert "quorum not met" in poll_outcome(entry, "en")
    assert "not passed" in poll_outcome(entry, "en")


def test_a_secret_ballot_keeps_no_voter_next_to_a_choice_anywhere() -> None:
    room = room_with(HOST, MEMBER, UNIT, LEADER, HOST2)
    poll = open_poll(room, secret=True, threshold="majority_of_votes", options=["甲方案", "乙方案"])
    room.do(MEMBER, "poll.vote", poll_id=poll, choices=[1])
    room.do(UNIT, "poll.vote", poll_id=poll, choices=[0])
    room.do(LEADER, "poll.vote", poll_id=poll, choices=[1])
    with pytest.raises(RoomError, match="already"):
        room.do(LEADER, "poll.vote", poll_id=poll, choices=[0])
    votes = [e for e in room.events if e["type"] == "poll.vote"]
    assert [e["data"] for e in votes] == [
        {"poll_id": poll, "who": w} for w in ("p:3", "p:5", "p:8")
    ]
    assert room.box[poll] == [1, 2]  # the ballot box: counts only
    closed = close(room, poll)
    assert closed["results"] == [1, 2] and "ballots" not in closed
    assert closed["passed"] is False  # 甲方案 (the first option) has 1 of 3
    text = json.dumps(room.events, ensure_ascii=False)
    assert "乙方案" in text  # the options are there, but no choice of anyone:
    assert '"choices"' not in text and '"ballot"' not in text
    for viewer in (HOST, MEMBER, LEADER, HOST2):  # the hosts too
        view = state_view(room.state, viewer)["polls"][str(poll)]
        assert "votes" not in view and "ballots" not in view
        assert view["my_choices"] in ([], None)
        assert all("choices" not in e["data"] for e in events_view(room.events, viewer))
    record = room_record(room.state, None)
    assert "ballots" not in record["polls"][0] and record["polls"][0]["secret"] is True
    assert "无记名投票" in poll_outcome(record["polls"][0])
    assert reduce(room.events) == room.state


def test_a_named_ballot_shows_each_voter_their_own_choice_and_all_once_closed() -> None:
    room = room_with(HOST, MEMBER, UNIT)
    poll = open_poll(room)
    vote = room.do(MEMBER, "poll.vote", poll_id=poll, choices=[2])
    assert "choices" not in event_view(vote, drafts=False)["data"]  # live: who, not what
    assert state_view(room.state, MEMBER)["polls"][str(poll)]["my_choices"] == [2]
    assert state_view(room.state, HOST)["polls"][str(poll)]["my_choices"] is None
    close(room, poll)
    ballots = state_view(room.state, UNIT)["polls"][str(poll)]["ballots"]
    assert ballots == [{"who": "p:3", "name": "张委员", "choices": [2]}]


def test_a_point_of_order_goes_ahead_of_the_hands_in_its_own_order() -> None:
    room = room_with(HOST, MEMBER, UNIT, LEADER, HALL)
    room.do(UNIT, "hand.raise")
    room.do(LEADER, "hand.raise")
    room.do(MEMBER, "point_of_order.request")
    room.do(LEADER, "point_of_order.request")  # a raised hand becomes a point of order
    assert room.state["queue"] == ["p:3", "p:8", "p:5"]
    assert room.state["points_of_order"] == ["p:3", "p:8"]
    with pytest.raises(RoomError, match="already waiting"):
        room.do(MEMBER, "point_of_order.request")
    room.do(HALL, "point_of_order.request")  # the hall device may raise its hand, so this too
    assert room.state["queue"] == ["p:3", "p:8", "h:1", "p:5"]
    room.do(HOST, "floor.grant", who="p:3", seconds=60)
    assert room.state["queue"] == ["p:8", "h:1", "p:5"]
    assert room.state["points_of_order"] == ["p:8", "h:1"]
    with pytest.raises(RoomError, match="You have the floor"):
        room.do(MEMBER, "point_of_order.request")
    room.do(LEADER, "hand.lower")
    assert room.state["points_of_order"] == ["h:1"]
    assert reduce(room.events) == room.state


def test_speaking_time_is_kept_per_person_and_item() -> None:
    room = room_with(HOST, MEMBER, UNIT)
    room.do(HOST, "floor.grant", who="p:3", seconds=300)
    room.tick(95)
    room.do(HOST, "floor.grant", who="p:5", seconds=300)  # ends the member's turn
    room.tick(40)
    room.do(HOST, "floor.revoke")
    room.do(HOST, "agenda.next")
    room.do(HOST, "floor.grant", who="p:3", seconds=30)
    room.tick(30)
    room.expire(room.state["floor"]["grant"])
    room.do(HOST, "floor.grant", who="p:5", seconds=300)
    room.tick(12)
    room.do(HOST, "session.end")  # ends the unit's second turn
    record = room_record(room.state, None)
    assert record["items"][0]["speaking"] == [
        {"who": "p:3", "name": "张委员", "seconds": 95},
        {"who": "p:5", "name": "赵处长", "seconds": 40},
    ]
    assert record["items"][1]["speaking"] == [
        {"who": "p:3", "name": "张委员", "seconds": 30},
        {"who": "p:5", "name": "赵处长", "seconds": 12},
    ]
    assert record["speaking"] == [
        {"who": "p:3", "name": "张委员", "seconds": 125},
        {"who": "p:5", "name": "赵处长", "seconds": 52},
    ]
