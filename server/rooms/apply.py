"""Folding accepted room events into the room state (the ``apply`` half of the reducer).

Each event's effect lives with its command in ``server.rooms.commands``; this looks it up.
"""

from __future__ import annotations

from server.rooms.commands import EFFECTS, Event, State
from server.rooms.commands.agenda import initial

HANDLERS = EFFECTS  # every event kind but room.open, which starts a fresh state


def apply(state: State, event: Event) -> State:
    """Fold one event into ``state`` (in place) and return it."""
    if event["type"] == "room.open":
        state = initial(event["data"])
        state["seq"] = event["seq"]
        return state
    HANDLERS[event["type"]](state, event)
    state["seq"] = event["seq"]
    return state


__all__ = ["HANDLERS", "Event", "State", "apply", "initial"]
