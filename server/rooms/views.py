"""What each viewer may see of the room: ballots stay secret until a poll closes."""

from __future__ import annotations

from typing import Any

from server.rooms.reducer import State

Event = dict[str, Any]


def state_view(state: State, viewer: str) -> State:
    """The state for one viewer: open polls show how many voted and whether the viewer did.

    Only the polls are copied: the rest of the view shares the live state (copying a room of a
    thousand people for each of them made connecting quadratic), so send it at once, before the
    room applies another event (``RoomNamespace`` encodes it in the same step).
    """
    polls = {}
    for key, poll in state.get("polls", {}).items():
        votes = poll.get("votes", {})
        shown = {k: v for k, v in poll.items() if k != "votes"}
        polls[key] = {**shown, "voters": len(votes), "my_choices": votes.get(viewer)}
    return {**state, "polls": polls}


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
