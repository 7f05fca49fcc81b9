"""Lobby and presence: guests waiting and admitted, who is here, check-in and removal.

``presence.join``, ``presence.leave``, ``presence.batch`` (several of both, coalesced) and
``presence.reset`` are facts the server logs itself (connections coming and going); they have
effects and no rule.
"""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.floor import end_turn, unqueue
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.crowd import counted
from server.rooms.rules import require

# ---------------------------------------------------------------- the lobby


@command("lobby.enter")
def enter(state: State, cmd: Command) -> dict[str, Any] | None:
    actor = cmd.actor
    require(actor.is_guest, "forbidden", _("Only guests wait in the lobby."))
    require(
        actor.key not in state["removed"], "removed", _("You were turned away from this session.")
    )
    if actor.key in state["lobby"] or actor.key in state["admitted"]:
        return None  # waiting (or let in) already: entering again changes nothing
    return {"who": actor.key, "name": actor.name}


@effect("lobby.enter")
def entered(state: State, event: Event) -> None:
    state["lobby"][event["data"]["who"]] = {"name": event["data"]["name"], "since": event["at"]}


@command("lobby.admit", "lobby.deny")
def let_in_or_turn_away(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff admit guests."))
    who = cmd.data.get("who")
    require(
        isinstance(who, str) and who in state["lobby"],
        "invalid",
        _("That guest is not waiting in the lobby."),
    )
    return {"who": who, "name": state["lobby"][who]["name"]}


@effect("lobby.admit", "lobby.deny")
def let_in_or_turned_away(state: State, event: Event) -> None:
    who = event["data"]["who"]
    guest = state["lobby"].pop(who)
    if event["type"] == "lobby.admit":
        state["admitted"][who] = {"name": guest["name"], "since": event["at"]}
    elif who not in state["removed"]:
        state["removed"].append(who)


@command("lobby.admit_all")
def let_everyone_in(state: State, cmd: Command) -> dict[str, Any] | None:
    """Admit every guest waiting, in one event that lists them (None: nobody is waiting)."""
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff admit guests."))
    if not state["lobby"]:
        return None
    return {"guests": [{"who": who, "name": g["name"]} for who, g in state["lobby"].items()]}


@effect("lobby.admit_all")
def let_everyone_in_done(state: State, event: Event) -> None:
    for guest in event["data"]["guests"]:
        waiting = state["lobby"].pop(guest["who"], None)
        name = waiting["name"] if waiting else guest["name"]
        state["admitted"][guest["who"]] = {"name": name, "since": event["at"]}


# ---------------------------------------------------------------- presence


def _attendance(state: State, data: dict[str, Any]) -> dict[str, Any]:
    """The attendance record of ``data["who"]``, made on their first appearance."""
    record: dict[str, Any] = state["attendance"].setdefault(
        data["who"],
        {
            "name": data.get("name", ""),
            "role": data.get("role"),
            "attendance": data.get("attendance"),
            "joined": [],
            "left": [],
        },
    )
    return record


@command("presence.checkin")
def check_in(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff mark people present."))
    who = cmd.data.get("who")
    require(
        isinstance(who, str) and who.startswith("p:"), "invalid", _("Mark a participant present.")
    )
    return {"who": who, "name": str(cmd.data.get("name", ""))[:100]}


@effect("presence.checkin")
def checked_in(state: State, event: Event) -> None:
    record = _attendance(state, event["data"])
    record["attendance"], record["checked_in"] = "in_person", event["at"]


@effect("presence.join")
def joined(state: State, event: Event) -> None:
    data, at = event["data"], event["at"]
    record, here = _attendance(state, data), state["presence"].get(data["who"])
    if here is not None:
        here["devices"] += 1
        return
    state["presence"][data["who"]] = {
        "name": data.get("name", ""),
        "role": data.get("role"),
        "attendance": data.get("attendance"),
        "devices": 1,
        "since": at,
    }
    record["joined"].append(at)


@effect("presence.leave")
def left(state: State, event: Event) -> None:
    who = event["data"]["who"]
    record, here = _attendance(state, event["data"]), state["presence"].get(who)
    if here is not None:
        here["devices"] -= 1
        if here["devices"] <= 0:
            del state["presence"][who]
            record["left"].append(event["at"])


@effect("presence.batch")
def batched(state: State, event: Event) -> None:
    """Several joins and leaves at once (coalesced by the hub), applied in their order exactly
    as the same ``presence.join`` and ``presence.leave`` events would be."""
    for change in event["data"]["changes"]:
        one = {"data": change, "at": event["at"]}
        if change.get("op") == "leave":
            left(state, one)
        else:
            joined(state, one)


@effect("presence.reset")
def reset(state: State, event: Event) -> None:
    """Nobody the server lost (a process that died) is still shown present or publishing."""
    gone = set(event["data"]["who"])
    state["feeds"] = [f for f in state.get("feeds", []) if f["who"] not in gone]
    for who in event["data"]["who"]:
        if state["presence"].pop(who, None) is not None and who in state["attendance"]:
            state["attendance"][who]["left"].append(event["at"])


@command("participant.remove")
def remove(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff remove participants."))
    who = cmd.data.get("who")
    require(isinstance(who, str) and who != cmd.actor.key, "invalid", _("Remove someone else."))
    return counted(state, "participant.remove", {"who": who})


@effect("participant.remove")
def removed(state: State, event: Event) -> None:
    who = event["data"]["who"]
    for place in ("presence", "admitted", "lobby"):
        state[place].pop(who, None)
    unqueue(state, who)
    if state["floor"] and state["floor"]["holder"] == who:
        end_turn(state, event["at"])
        state["floor"] = None
    if who not in state["removed"]:
        state["removed"].append(who)
