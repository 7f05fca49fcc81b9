"""What each viewer may see of the room.

Ballots stay secret until a poll closes (who voted is known, not what); a secret poll's ballots
stay secret for good: the state never holds them (``server.rooms.commands.polls``). The minutes
being written are draft minutes: only those who read drafts through the minutes API (staff,
leaders, the session's hosts; ``Actor.reads_drafts``) see them, and the attendance record (who
came and left when, who checked in) with them. A hidden chat message keeps its
text only for the hosts and staff who moderate; everyone else sees that it was hidden.

A crowd room (``server.rooms.crowd``) shows those who do not host it the people taking part by
their role, and the others as counts.

Live events reach three audiences (``RoomNamespace`` puts each connection in one: those who
read drafts, the others who host, the rest, who see a crowd room's crowd view): an event that
carries draft minutes goes in full to the readers and as an empty edit, which keeps the seq
running, to everyone else; a crowd room's presence event goes to the crowd with the listed
people's changes alone.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from server.rooms.actors import Actor
from server.rooms.apply import State
from server.rooms.crowd import crowd_event, crowd_state, in_crowd, sees_crowd

Event = dict[str, Any]
DRAFT_EVENTS = frozenset({"minutes.edit"})


def state_view(state: State, viewer: Actor) -> State:
    """The state for one viewer: open polls show how many voted and whether the viewer did.

    Only what differs per viewer is copied: the rest of the view shares the live state (copying
    a room of a thousand people for each of them made connecting quadratic), so send it at
    once, before the room applies another event (``RoomNamespace`` encodes it in the same step).
    """
    polls = {}
    for key, poll in state.get("polls", {}).items():
        votes = poll.get("votes", {})
        shown = {k: v for k, v in poll.items() if k != "votes"}
        polls[key] = {
            **shown,
            "voters": len(votes),
            "voted_by": sorted(votes),
            "my_choices": votes.get(viewer.key),
        }
    view = {**state, "polls": polls}
    if not viewer.drives and any(m["hidden"] for m in state.get("chat", [])):
        view["chat"] = [{**m, "text": ""} if m["hidden"] else m for m in state["chat"]]
    if not viewer.reads_drafts:
        view["minutes"] = {}
        # Who came, left and checked in when is the record's, for those who keep it: the
        # others see who is here (``presence``), not everyone's comings and goings (in a
        # public hall, every citizen's), and a crowd's snapshot is half as large.
        view.pop("attendance", None)
    if sees_crowd(state, viewer):
        crowd_state(state, view)
    return view


def shared_view(state: State, viewer: Actor) -> tuple[bool, bool] | None:
    """What ``viewer``'s :func:`state_view` depends on when others see the same: whether they
    moderate the chat and whether they read drafts. None when it is theirs alone (they voted,
    and a poll shows them their own choices)."""
    if any(viewer.key in poll.get("votes", {}) for poll in state.get("polls", {}).values()):
        return None
    return viewer.drives, viewer.reads_drafts


def event_view(
    event: Event, *, drafts: bool, hidden: Collection[int] = (), crowd: bool = False
) -> Event:
    """An event as one audience sees it: a vote says who voted, not what; a minutes edit is
    empty unless the audience reads ``drafts``; a chat message in ``hidden`` has no text; a
    presence event as the ``crowd`` view shows it."""
    kind = event["type"]
    if crowd:
        event = crowd_event(event)
    if kind == "poll.vote":
        data = {k: v for k, v in event["data"].items() if k != "choices"}
        return {**event, "data": data}
    if kind in DRAFT_EVENTS and not drafts:
        return {**event, "data": {}}
    if kind == "chat.send" and event["seq"] in hidden:
        return {**event, "data": {**event["data"], "text": ""}}
    return event


def events_view(events: list[Event], viewer: Actor) -> list[Event]:
    """The events up to now as ``viewer`` may see them now (``sync``). A message hidden later
    than it was sent is hidden by an event of the same list, which runs to the end of the log."""
    hides = (e["data"]["message_id"] for e in events if e["type"] == "chat.hide")
    hidden = set() if viewer.drives else set(hides)
    crowd = in_crowd(viewer)  # only a crowd room's presence events differ for the crowd
    return [event_view(e, drafts=viewer.reads_drafts, hidden=hidden, crowd=crowd) for e in events]


def lobby_guests(event: Event) -> list[str]:
    """The guests a lobby event concerns (they get it even while waiting): one, or everyone
    admitted at once by ``lobby.admit_all``."""
    if event["type"] == "lobby.admit_all":
        return [str(guest["who"]) for guest in event["data"]["guests"]]
    if event["type"] in ("lobby.enter", "lobby.admit", "lobby.deny") or (
        event["type"] == "participant.remove" and str(event["data"].get("who", "")).startswith("g:")
    ):
        return [str(event["data"]["who"])]
    return []
