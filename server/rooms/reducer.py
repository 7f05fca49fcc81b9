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
from typing import Any

from server.i18n import _
from server.rooms.actors import Actor
from server.rooms.apply import State, apply, initial
from server.rooms.commands import RULES, Command
from server.rooms.commands.floor import floor_expiry
from server.rooms.rules import RoomError, require

# The hall's device also acknowledges the recording notice: it sends the hall's camera.
HALL_COMMANDS = frozenset(
    {"hand.raise", "hand.lower", "point_of_order.request", "recording.consent"}
)


def decide(
    state: State, kind: str, data: dict[str, Any], actor: Actor, now: dt.datetime, seq: int
) -> dict[str, Any] | None:
    """The data of the event that command ``kind`` produces, None when the command is in effect
    already (nothing to log), or :class:`RoomError`. The command's own rule is in the table of
    ``server.rooms.commands``; the checks here hold for every command."""
    require(isinstance(data, dict), "invalid", _("data must be an object."))
    require(
        actor.key not in state["removed"] or kind == "lobby.enter",
        "removed",
        _("You were removed from this session."),
    )
    require(
        not actor.is_hall or kind in HALL_COMMANDS,
        "forbidden",
        _("The hall device can only raise or lower its hand; people use their own accounts."),
    )
    rule = RULES.get(kind)
    if rule is None:
        raise RoomError("unknown_command", _("Unknown command {kind}.", kind=repr(kind)))
    return rule(state, Command(kind, data, actor, now, seq))


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
    "decide",
    "floor_expiry",
    "initial",
    "reduce",
]
