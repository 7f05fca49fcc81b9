"""A live room's state as a pure function of its event log.

``decide`` checks a command against the current state and the sender, and returns the event to
append (or raises :class:`RoomError`); ``apply`` folds one accepted event into the state. Both
take time from the event or the caller, never from a clock, and do no I/O, so the same log
gives the same state on every server process, after a crash, and in tests.

``apply`` updates the state in place (a room's chat can be long; copying it per event would
cost more than the event); ``reduce`` builds a fresh state from a list of events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from server.rooms.apply import State, apply, initial
from server.rooms.rules import (
    RoomError,
    chat_text,
    check_minutes_edit,
    poll_spec,
    require,
    seconds,
)

HOST_ROLES = frozenset({"host"})
HALL_COMMANDS = frozenset({"hand.raise", "hand.lower"})


@dataclass(frozen=True)
class Actor:
    """Who sends a command: a person (``p:<id>``), a guest (``g:<id>``) or a hall device
    (``h:<venue id>``, role ``hall``)."""

    key: str
    name: str
    role: str  # the role in this session: host, proposer, unit, leader, member, guest
    staff: bool = False
    unit_id: int | None = None

    @property
    def drives(self) -> bool:
        """Hosts and committee staff drive the agenda, floor, lobby and polls."""
        return self.staff or self.role in HOST_ROLES

    @property
    def is_guest(self) -> bool:
        return self.key.startswith("g:")

    @property
    def is_hall(self) -> bool:
        """The venue's own device (``h:<venue id>``): camera and microphone of the hall."""
        return self.role == "hall"


# ---------------------------------------------------------------- deciding


def _item_ids(state: State) -> list[int]:
    return [item["id"] for item in state["agenda"]]


def _live(state: State) -> None:
    require(state["status"] == "live", "not_live", "The session has not started, or has ended.")


def _in_room(state: State, actor: Actor) -> None:
    if actor.is_guest:
        require(actor.key in state["admitted"], "in_lobby", "Wait until a host admits you.")
    require(actor.key not in state["removed"], "removed", "You were removed from this session.")


def _decide_session(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    require(actor.drives, "forbidden", "Only hosts and staff start or end the session.")
    if kind == "session.start":
        require(
            state["status"] == "scheduled", "conflict", "The session has already started or ended."
        )
        first = state["agenda"][0]["id"] if state["agenda"] else None
        return {"current": first}
    require(state["status"] == "live", "conflict", "The session is not live.")
    return {}


def _decide_agenda(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    require(actor.drives, "forbidden", "Only hosts and staff drive the agenda.")
    ids = _item_ids(state)
    position = ids.index(state["current"]) if state["current"] in ids else -1
    if kind == "agenda.next":
        _live(state)
        require(position + 1 < len(ids), "conflict", "This is the last agenda item.")
        return {"current": ids[position + 1]}
    if kind == "agenda.prev":
        _live(state)
        require(position > 0, "conflict", "This is the first agenda item.")
        return {"current": ids[position - 1]}
    if kind == "agenda.goto":
        _live(state)
        item = data.get("item_id")
        require(item in ids, "invalid", "There is no such agenda item.")
        return {"current": item}
    if kind == "agenda.add":
        title = chat_text(data.get("title"), 200, "title")
        minutes = data.get("planned_minutes")
        require(
            minutes is None or (isinstance(minutes, int) and 1 <= minutes <= 600),
            "invalid",
            "planned_minutes must be 1 to 600.",
        )
        return {
            "item": {
                "id": state["next_item_id"],
                "title": title,
                "planned_minutes": minutes,
                "proposal_id": None,
                "presenter_id": None,
            }
        }
    if kind == "agenda.reorder":
        order = data.get("item_ids")
        require(
            isinstance(order, list)
            and all(isinstance(i, int) for i in order)
            and sorted(order) == sorted(ids)
            and len(set(order)) == len(ids),
            "invalid",
            "item_ids must list every agenda item exactly once.",
        )
        return {"item_ids": order}
    raise RoomError("unknown_command", f"Unknown command {kind}.")


def _decide_timer(
    state: State, kind: str, actor: Actor, data: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    require(actor.drives, "forbidden", "Only hosts and staff run the timer.")
    _live(state)
    require(state["current"] is not None, "conflict", "No agenda item is current.")
    timer = (
        state["timer"] if state["timer"] and state["timer"]["item_id"] == state["current"] else None
    )
    if kind == "timer.start":
        require(not (timer and timer["running"]), "conflict", "The timer is already running.")
        return {"item_id": state["current"]}
    if kind == "timer.pause":
        require(bool(timer and timer["running"]), "conflict", "The timer is not running.")
        return {"item_id": state["current"]}
    return {"item_id": state["current"], "seconds": seconds(data.get("seconds"), 3600)}


def _decide_floor(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    _live(state)
    if kind == "hand.raise":
        _in_room(state, actor)
        require(actor.key not in state["queue"], "conflict", "Your hand is already raised.")
        require(
            state["floor"] is None or state["floor"]["holder"] != actor.key,
            "conflict",
            "You have the floor.",
        )
        return {"who": actor.key, "name": actor.name}
    if kind == "hand.lower":
        who = data.get("who", actor.key)
        require(
            who == actor.key or actor.drives, "forbidden", "Only hosts lower other people's hands."
        )
        require(who in state["queue"], "conflict", "That hand is not raised.")
        return {"who": who}
    require(actor.drives, "forbidden", "Only hosts and staff give or take the floor.")
    if kind == "floor.grant":
        who = data.get("who")
        require(
            isinstance(who, str) and (who in state["presence"] or who in state["admitted"]),
            "invalid",
            "Give the floor to someone who is in the room.",
        )
        return {"who": who, "seconds": seconds(data.get("seconds", 180), 3600)}
    require(state["floor"] is not None, "conflict", "Nobody has the floor.")
    if kind == "floor.extend":
        extra = seconds(data.get("seconds"), 3600)
        require(
            state["floor"]["seconds"] + extra <= 4 * 3600,
            "invalid",
            "A turn cannot last more than four hours.",
        )
        return {"who": state["floor"]["holder"], "seconds": extra}
    return {"who": state["floor"]["holder"]}


def audible(state: State) -> frozenset[str]:
    """Whose microphone the SFU forwards: whoever holds the floor, and hosts (who moderate);
    nobody a host muted. Everyone else is heard only when given the floor."""
    muted = set(state.get("muted", []))
    hosts = {k for k, p in state.get("presence", {}).items() if p.get("role") == "host"}
    holder = {state["floor"]["holder"]} if state.get("floor") else set()
    return frozenset((hosts | holder) - muted)


def floor_expiry(state: State, grant: int, now: dt.datetime) -> dict[str, Any]:
    """The data of ``floor.expire`` (logged by the server, never sent by a client): the turn
    ``grant`` is over. Refused if that turn already ended or was extended past ``now``."""
    floor: dict[str, Any] = state.get("floor") or {}
    require(floor.get("grant") == grant, "conflict", "That turn already ended.")
    require(dt.datetime.fromisoformat(floor["until"]) <= now, "conflict", "That turn was extended.")
    return {"who": floor["holder"], "grant": grant}


def _decide_chat(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "chat.send":
        _in_room(state, actor)
        kind_of = data.get("kind", "chat")
        require(kind_of in ("chat", "question"), "invalid", "kind must be chat or question.")
        return {
            "who": actor.key,
            "name": actor.name,
            "text": chat_text(data.get("text"), 2000, "text"),
            "kind": kind_of,
        }
    require(actor.drives, "forbidden", "Only hosts and staff moderate the chat.")
    message_id = data.get("message_id")
    require(
        any(m["id"] == message_id for m in state["chat"]), "invalid", "There is no such message."
    )
    return {"message_id": message_id}


def _decide_lobby(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "lobby.enter":
        require(actor.is_guest, "forbidden", "Only guests wait in the lobby.")
        require(
            actor.key not in state["removed"], "removed", "You were turned away from this session."
        )
        return {"who": actor.key, "name": actor.name}
    require(actor.drives, "forbidden", "Only hosts and staff admit guests.")
    who = data.get("who")
    require(
        isinstance(who, str) and who in state["lobby"],
        "invalid",
        "That guest is not waiting in the lobby.",
    )
    return {"who": who, "name": state["lobby"][who]["name"]}


def _decide_poll(
    state: State, kind: str, actor: Actor, data: dict[str, Any], seq: int
) -> dict[str, Any]:
    _live(state)
    if kind == "poll.open":
        require(actor.drives, "forbidden", "Only hosts and staff open polls.")
        return {"poll_id": seq, **poll_spec(data)}
    poll = state["polls"].get(str(data.get("poll_id")))
    require(poll is not None, "invalid", "There is no such poll.")
    assert poll is not None
    require(poll["open"], "conflict", "The poll is closed.")
    if kind == "poll.close":
        require(actor.drives, "forbidden", "Only hosts and staff close polls.")
        results = [0] * len(poll["options"])
        for ballot in poll["votes"].values():
            for choice in ballot:
                results[choice] += 1
        return {"poll_id": data["poll_id"], "results": results, "voters": len(poll["votes"])}
    _in_room(state, actor)
    require(not actor.is_guest or poll["guests"], "forbidden", "Guests do not vote in this poll.")
    require(actor.key not in poll["votes"], "conflict", "You have already voted.")
    choices: Any = data.get("choices")
    valid = (
        isinstance(choices, list)
        and len(choices) > 0
        and all(isinstance(c, int) and 0 <= c < len(poll["options"]) for c in choices)
    )
    require(
        valid and len(set(choices)) == len(choices) and (poll["multiple"] or len(choices) == 1),
        "invalid",
        "Choose from the poll's options.",
    )
    return {"poll_id": data["poll_id"], "who": actor.key, "choices": choices}


def _decide_presence(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "presence.checkin":
        require(actor.drives, "forbidden", "Only hosts and staff mark people present.")
        who = data.get("who")
        require(
            isinstance(who, str) and who.startswith("p:"), "invalid", "Mark a participant present."
        )
        return {"who": who, "name": str(data.get("name", ""))[:100]}
    require(actor.drives, "forbidden", "Only hosts and staff remove participants.")
    who = data.get("who")
    require(isinstance(who, str) and who != actor.key, "invalid", "Remove someone else.")
    return {"who": who}


def decide(
    state: State, kind: str, data: dict[str, Any], actor: Actor, now: dt.datetime, seq: int
) -> dict[str, Any]:
    """The data of the event that command ``kind`` produces, or :class:`RoomError`."""
    require(isinstance(data, dict), "invalid", "data must be an object.")
    require(
        actor.key not in state["removed"] or kind == "lobby.enter",
        "removed",
        "You were removed from this session.",
    )
    require(
        not actor.is_hall or kind in HALL_COMMANDS,
        "forbidden",
        "The hall device can only raise or lower its hand; people use their own accounts.",
    )
    noun = kind.split(".", 1)[0]
    if kind in ("session.start", "session.end"):
        return _decide_session(state, kind, actor, data)
    if noun == "agenda":
        return _decide_agenda(state, kind, actor, data)
    if kind in ("timer.start", "timer.pause", "timer.extend"):
        return _decide_timer(state, kind, actor, data, now)
    if kind in ("hand.raise", "hand.lower", "floor.grant", "floor.revoke", "floor.extend"):
        return _decide_floor(state, kind, actor, data)
    if kind in ("chat.send", "chat.hide", "question.answer"):
        return _decide_chat(state, kind, actor, data)
    if kind in ("lobby.enter", "lobby.admit", "lobby.deny"):
        return _decide_lobby(state, kind, actor, data)
    if kind in ("poll.open", "poll.vote", "poll.close"):
        return _decide_poll(state, kind, actor, data, seq)
    if kind in ("presence.checkin", "participant.remove"):
        return _decide_presence(state, kind, actor, data)
    if kind == "minutes.edit":
        _in_room(state, actor)
        return check_minutes_edit(state, actor.drives, actor.unit_id, data, seq)
    if kind in ("progress.show", "progress.hide"):
        return _decide_progress(state, kind, actor, data)
    if kind in ("recording.start", "recording.stop"):
        require(actor.drives, "forbidden", "Only hosts and staff record the session.")
        _live(state)
        on = state.get("recording") is not None
        require(on != (kind == "recording.start"), "conflict", "Nothing to change.")
        return {"name": actor.name}
    if kind in ("audio.mute", "audio.unmute"):
        require(actor.drives, "forbidden", "Only hosts and staff mute or unmute people.")
        who = data.get("who")
        require(isinstance(who, str) and who in state["presence"], "invalid", "Name someone here.")
        muted = who in state.get("muted", [])
        require(muted != (kind == "audio.mute"), "conflict", "Nothing to change.")
        return {"who": who}
    raise RoomError("unknown_command", f"Unknown command {kind!r}.")


def _decide_progress(state: State, kind: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Put a unit's progress report on everyone's screen (hosts, or the unit that wrote it).

    ``data["report"]`` is filled in by the server from the proposal's records (never by the
    client): the report itself, or None when there is no such report of that proposal.
    """
    _live(state)
    _in_room(state, actor)
    if kind == "progress.hide":
        require(state.get("showing") is not None, "conflict", "No report is being shown.")
        require(
            actor.drives or state["showing"]["shown_by"] == actor.key,
            "forbidden",
            "Only hosts or whoever showed the report take it down.",
        )
        return {}
    report: dict[str, Any] = data.get("report") or {}
    require(bool(report), "invalid", "There is no such progress report.")
    on_agenda = {item.get("proposal_id") for item in state["agenda"]} - {None}
    require(
        report["proposal_id"] in on_agenda,
        "invalid",
        "Show reports of the proposals on this session's agenda.",
    )
    require(
        actor.drives or (actor.unit_id is not None and actor.unit_id == report["unit_id"]),
        "forbidden",
        "Only hosts or the unit that wrote the report show it.",
    )
    return {"report": report, "shown_by": actor.key, "name": actor.name}


def reduce(events: list[dict[str, Any]]) -> State:
    """The state after ``events`` (the first is ``room.open``)."""
    state: State = {}
    for event in events:
        state = apply(state, event)
    return state


__all__ = [
    "Actor",
    "RoomError",
    "State",
    "apply",
    "audible",
    "decide",
    "floor_expiry",
    "initial",
    "reduce",
]
