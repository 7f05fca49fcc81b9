"""Session and agenda: opening the room, starting and ending, moving through the agenda."""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.floor import end_turn, stop_timer
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.crowd import is_crowd
from server.rooms.rules import chat_text, live, require


def initial(session: dict[str, Any]) -> State:
    """The state of a room that has just been opened (``room.open``, logged by the server)."""
    agenda = [dict(item) for item in session.get("agenda", [])]
    return {
        "session_id": session["session_id"],
        "title": session.get("title", ""),
        "status": "scheduled",
        "agenda": agenda,
        "current": None,
        "timer": None,
        "queue": [],
        "points_of_order": [],  # the queued hands that are points of order (at its front)
        "floor": None,
        "spoken": [],
        "showing": None,  # the progress report on everyone's screen
        "feeds": [],  # live media: [{feed_id, person_id, who, source}]
        "muted": [],  # people a host muted (their microphone is not forwarded)
        "recording": None,  # {since, by} while the session is being recorded
        # Whether everyone acknowledges a recording notice before sending media (consent.py):
        # the session's setting (``ask``/``on``); later a host's recording.ask or .start.
        "consent_asked": session.get("recording", "off") in ("ask", "on"),
        "consent": {},  # {who: {name, answer: accepted|declined, at}}
        "speaker": None,  # the active speaker, from the microphones' levels
        # A public or large session's room shows those who don't host it a crowd as counts.
        "crowd_room": is_crowd(session),
        "presence": {},
        "attendance": {},
        "lobby": {},
        "admitted": {},
        "removed": [],
        "chat": [],
        "polls": {},
        "minutes": {},
        "next_item_id": max([item["id"] for item in agenda], default=0) + 1,
        "started_at": None,
        "ended_at": None,
    }


# ---------------------------------------------------------------- the session


def _drives_session(cmd: Command) -> None:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff start or end the session."))


@command("session.start")
def start(state: State, cmd: Command) -> dict[str, Any]:
    _drives_session(cmd)
    require(
        state["status"] == "scheduled", "conflict", _("The session has already started or ended.")
    )
    return {"current": state["agenda"][0]["id"] if state["agenda"] else None}


@effect("session.start")
def started(state: State, event: Event) -> None:
    state["status"], state["started_at"] = "live", event["at"]
    state["current"] = event["data"]["current"]


@command("session.end")
def end(state: State, cmd: Command) -> dict[str, Any]:
    _drives_session(cmd)
    require(state["status"] == "live", "conflict", _("The session is not live."))
    return {}


@effect("session.end")
def ended(state: State, event: Event) -> None:
    stop_timer(state, event["at"])
    end_turn(state, event["at"])
    state["status"], state["ended_at"] = "ended", event["at"]
    state["floor"], state["queue"], state["recording"] = None, [], None
    state["points_of_order"] = []


# ---------------------------------------------------------------- the agenda


def _item_ids(state: State) -> list[int]:
    return [item["id"] for item in state["agenda"]]


def _position(state: State, cmd: Command) -> tuple[list[int], int]:
    """The agenda's ids and the current item's place (-1: none), for a host of a live room."""
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff drive the agenda."))
    ids = _item_ids(state)
    position = ids.index(state["current"]) if state["current"] in ids else -1
    live(state)
    return ids, position


@command("agenda.next")
def next_item(state: State, cmd: Command) -> dict[str, Any]:
    ids, position = _position(state, cmd)
    require(position + 1 < len(ids), "conflict", _("This is the last agenda item."))
    return {"current": ids[position + 1]}


@command("agenda.prev")
def previous_item(state: State, cmd: Command) -> dict[str, Any]:
    ids, position = _position(state, cmd)
    require(position > 0, "conflict", _("This is the first agenda item."))
    return {"current": ids[position - 1]}


@command("agenda.goto")
def goto_item(state: State, cmd: Command) -> dict[str, Any]:
    ids, _position_now = _position(state, cmd)
    item = cmd.data.get("item_id")
    require(item in ids, "invalid", _("There is no such agenda item."))
    return {"current": item}


@effect("agenda.next", "agenda.prev", "agenda.goto")
def moved(state: State, event: Event) -> None:
    stop_timer(state, event["at"])
    state["current"] = event["data"]["current"]


@command("agenda.add")
def add_item(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff drive the agenda."))
    title = chat_text(cmd.data.get("title"), 200, "title")
    minutes = cmd.data.get("planned_minutes")
    require(
        minutes is None or (isinstance(minutes, int) and 1 <= minutes <= 600),
        "invalid",
        _("planned_minutes must be 1 to 600."),
    )
    item = {"id": state["next_item_id"], "title": title, "planned_minutes": minutes}
    return {"item": {**item, "proposal_id": None, "presenter_id": None}}


@effect("agenda.add")
def added(state: State, event: Event) -> None:
    state["agenda"].append(dict(event["data"]["item"]))
    state["next_item_id"] = event["data"]["item"]["id"] + 1


@command("agenda.reorder")
def reorder(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff drive the agenda."))
    ids, order = _item_ids(state), cmd.data.get("item_ids")
    require(
        isinstance(order, list)
        and all(isinstance(i, int) for i in order)
        and sorted(order) == sorted(ids)
        and len(set(order)) == len(ids),
        "invalid",
        _("item_ids must list every agenda item exactly once."),
    )
    return {"item_ids": order}


@effect("agenda.reorder")
def reordered(state: State, event: Event) -> None:
    by_id = {item["id"]: item for item in state["agenda"]}
    state["agenda"] = [by_id[i] for i in event["data"]["item_ids"]]
