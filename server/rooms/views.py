"""What each viewer may see of the room: ballots stay secret until a poll closes."""

from __future__ import annotations

import copy
from typing import Any

from server.rooms.reducer import State

Event = dict[str, Any]


def state_view(state: State, viewer: str) -> State:
    """The state for one viewer: open polls show how many voted and whether the viewer did."""
    view = copy.deepcopy(state)
    for poll in view.get("polls", {}).values():
        votes = poll.pop("votes", {})
        poll["voters"] = len(votes)
        poll["my_choices"] = votes.get(viewer)
    return view


def event_view(event: Event) -> Event:
    """An event as broadcast: a vote says who voted, not what."""
    if event["type"] != "poll.vote":
        return event
    data = {k: v for k, v in event["data"].items() if k != "choices"}
    return {**event, "data": data}


def lobby_event(event: Event) -> str | None:
    """The guest a lobby event concerns (they get it even while waiting), else None."""
    if event["type"] in ("lobby.enter", "lobby.admit", "lobby.deny") or (
        event["type"] == "participant.remove" and str(event["data"].get("who", "")).startswith("g:")
    ):
        return str(event["data"]["who"])
    return None
