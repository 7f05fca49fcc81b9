"""Folding accepted room events into the room state (the ``apply`` half of the reducer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from server.rooms.rules import MAX_CHAT

State = dict[str, Any]
Event = dict[str, Any]


def initial(session: dict[str, Any]) -> State:
    """The state of a room that has just been opened."""
    agenda = [dict(item) for item in session.get("agenda", [])]
    return {
        "session_id": session["session_id"],
        "title": session.get("title", ""),
        "status": "scheduled",
        "agenda": agenda,
        "current": None,
        "timer": None,
        "queue": [],
        "floor": None,
        "spoken": [],
        "showing": None,  # the progress report on everyone's screen
        "feeds": [],  # live media: [{feed_id, person_id, who, source}]
        "muted": [],  # people a host muted (their microphone is not forwarded)
        "recording": None,  # {since, by} while the session is being recorded
        "speaker": None,  # the active speaker, from the microphones' levels
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


def _seconds_between(start: str, end: str) -> int:
    return int((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds())


def _stop_timer(state: State, at: str) -> None:
    timer = state["timer"]
    if timer and timer["running"]:
        timer["elapsed"] += _seconds_between(timer["started_at"], at)
        timer["running"], timer["started_at"] = False, None


def _session(state: State, event: Event) -> None:
    if event["type"] == "session.start":
        state["status"], state["started_at"], state["current"] = (
            "live",
            event["at"],
            event["data"]["current"],
        )
    else:
        _stop_timer(state, event["at"])
        state["status"], state["ended_at"] = "ended", event["at"]
        state["floor"], state["queue"], state["recording"] = None, [], None


def _agenda(state: State, event: Event) -> None:
    kind, data = event["type"], event["data"]
    if kind in ("agenda.next", "agenda.prev", "agenda.goto"):
        _stop_timer(state, event["at"])
        state["current"] = data["current"]
    elif kind == "agenda.add":
        state["agenda"].append(dict(data["item"]))
        state["next_item_id"] = data["item"]["id"] + 1
    elif kind == "agenda.reorder":
        by_id = {item["id"]: item for item in state["agenda"]}
        state["agenda"] = [by_id[i] for i in data["item_ids"]]


def _timer(state: State, event: Event) -> None:
    kind, data, at = event["type"], event["data"], event["at"]
    timer = state["timer"]
    if timer is None or timer["item_id"] != data["item_id"]:
        timer = state["timer"] = {
            "item_id": data["item_id"],
            "running": False,
            "started_at": None,
            "elapsed": 0,
            "extra": 0,
        }
    if kind == "timer.start":
        timer["running"], timer["started_at"] = True, at
    elif kind == "timer.pause":
        _stop_timer(state, at)
    else:
        timer["extra"] += data["seconds"]


def _floor(state: State, event: Event) -> None:
    kind, data = event["type"], event["data"]
    if kind == "hand.raise":
        state["queue"].append(data["who"])
    elif kind == "hand.lower":
        state["queue"].remove(data["who"])
    elif kind == "floor.grant":
        since = dt.datetime.fromisoformat(event["at"])
        state["floor"] = {
            "holder": data["who"],
            "since": event["at"],
            "seconds": data["seconds"],
            # The turn ends at ``until`` (everyone shows the time left); the server takes the
            # floor back then with ``floor.expire``. ``grant`` names this turn.
            "until": (since + dt.timedelta(seconds=data["seconds"])).isoformat(),
            "grant": event["seq"],
        }
        if data["who"] in state["queue"]:
            state["queue"].remove(data["who"])
        spoken = {"who": data["who"], "item_id": state["current"], "at": event["at"]}
        state.setdefault("spoken", []).append(spoken)  # who spoke on which item, for minutes
    elif kind == "floor.extend":
        floor = state["floor"]
        floor["seconds"] += data["seconds"]
        until = dt.datetime.fromisoformat(floor["until"]) + dt.timedelta(seconds=data["seconds"])
        floor["until"] = until.isoformat()
    else:  # floor.revoke, floor.expire
        state["floor"] = None


def _chat(state: State, event: Event) -> None:
    kind, data = event["type"], event["data"]
    if kind == "chat.send":
        state["chat"].append(
            {
                "id": event["seq"],
                "who": data["who"],
                "name": data["name"],
                "text": data["text"],
                "kind": data["kind"],
                "at": event["at"],
                "hidden": False,
                "answered": False,
            }
        )
        del state["chat"][:-MAX_CHAT]
        return
    for message in state["chat"]:
        if message["id"] == data["message_id"]:
            message["hidden" if kind == "chat.hide" else "answered"] = True


def _lobby(state: State, event: Event) -> None:
    kind, who = event["type"], event["data"]["who"]
    if kind == "lobby.enter":
        state["lobby"][who] = {"name": event["data"]["name"], "since": event["at"]}
        return
    guest = state["lobby"].pop(who)
    if kind == "lobby.admit":
        state["admitted"][who] = {"name": guest["name"], "since": event["at"]}
    elif who not in state["removed"]:
        state["removed"].append(who)


def _poll(state: State, event: Event) -> None:
    kind, data = event["type"], event["data"]
    if kind == "poll.open":
        spec = {k: data[k] for k in ("question", "options", "multiple", "guests")}
        state["polls"][str(data["poll_id"])] = {
            **spec,
            "open": True,
            "votes": {},
            "opened_at": event["at"],
        }
        return
    poll = state["polls"][str(data["poll_id"])]
    if kind == "poll.vote":
        poll["votes"][data["who"]] = data["choices"]
    else:
        poll["open"], poll["closed_at"] = False, event["at"]
        poll["results"] = data.get("results")


def _presence(state: State, event: Event) -> None:
    kind, data, at = event["type"], event["data"], event["at"]
    who = data["who"]
    if kind == "participant.remove":
        state["presence"].pop(who, None)
        state["admitted"].pop(who, None)
        state["lobby"].pop(who, None)
        state["queue"] = [q for q in state["queue"] if q != who]
        if state["floor"] and state["floor"]["holder"] == who:
            state["floor"] = None
        if who not in state["removed"]:
            state["removed"].append(who)
        return
    record = state["attendance"].setdefault(
        who,
        {
            "name": data.get("name", ""),
            "role": data.get("role"),
            "attendance": data.get("attendance"),
            "joined": [],
            "left": [],
        },
    )
    if kind == "presence.checkin":
        record["attendance"], record["checked_in"] = "in_person", at
        return
    here = state["presence"].get(who)
    if kind == "presence.join":
        if here is None:
            state["presence"][who] = {
                "name": data.get("name", ""),
                "role": data.get("role"),
                "attendance": data.get("attendance"),
                "devices": 1,
                "since": at,
            }
            record["joined"].append(at)
        else:
            here["devices"] += 1
    elif here is not None:
        here["devices"] -= 1
        if here["devices"] <= 0:
            del state["presence"][who]
            record["left"].append(at)


def _feeds(state: State, event: Event) -> None:
    data, feeds = event["data"], state.setdefault("feeds", [])
    if event["type"] == "feed.add":
        who = data["who"]
        person = int(who[2:]) if who.startswith("p:") else None
        feeds.append(
            {"feed_id": data["feed_id"], "person_id": person, "who": who, "source": data["source"]}
        )
    else:
        state["feeds"] = [f for f in feeds if f["feed_id"] != data["feed_id"]]


def _mute(state: State, event: Event) -> None:
    muted, who = state.setdefault("muted", []), event["data"]["who"]
    if event["type"] == "audio.mute" and who not in muted:
        muted.append(who)
    elif event["type"] == "audio.unmute" and who in muted:
        muted.remove(who)


def _speaker(state: State, event: Event) -> None:
    state["speaker"] = event["data"]["who"]


def _recording(state: State, event: Event) -> None:
    if event["type"] == "recording.start":
        state["recording"] = {
            "since": event["at"],
            "by": event["by"],
            "name": event["data"]["name"],
        }
    else:
        state["recording"] = None


def _reset(state: State, event: Event) -> None:
    gone = set(event["data"]["who"])
    state["feeds"] = [f for f in state.get("feeds", []) if f["who"] not in gone]
    for who in event["data"]["who"]:
        if state["presence"].pop(who, None) is not None and who in state["attendance"]:
            state["attendance"][who]["left"].append(event["at"])


def _minutes(state: State, event: Event) -> None:
    data, by, at = event["data"], event["by"], event["at"]
    item = state["minutes"].setdefault(
        str(data["item_id"]), {"notes": {}, "decisions": {}, "actions": {}}
    )
    op = data["op"]
    if op == "notes":
        version = item["notes"].get("version", 0) + 1
        item["notes"] = {"text": data["text"], "version": version, "by": by, "at": at}
        return
    group = "decisions" if op.startswith("decision") else "actions"
    entries, entry_id = item[group], data["entry_id"]
    if op.endswith(".remove"):
        entries.pop(entry_id, None)
        return
    fields = {k: data[k] for k in ("text", "owner_unit_id", "due", "proposal_id") if k in data}
    version = entries.get(entry_id, {}).get("version", 0) + 1
    entries[entry_id] = {
        **entries.get(entry_id, {}),
        **fields,
        "version": version,
        "by": by,
        "at": at,
    }


def _showing(state: State, event: Event) -> None:
    if event["type"] == "progress.show":
        state["showing"] = {**event["data"]["report"], "shown_by": event["data"]["shown_by"]}
    else:
        state["showing"] = None


HANDLERS: dict[str, Callable[[State, Event], None]] = {
    "session.start": _session,
    "session.end": _session,
    "agenda.next": _agenda,
    "agenda.prev": _agenda,
    "agenda.goto": _agenda,
    "agenda.add": _agenda,
    "agenda.reorder": _agenda,
    "timer.start": _timer,
    "timer.pause": _timer,
    "timer.extend": _timer,
    "hand.raise": _floor,
    "hand.lower": _floor,
    "floor.grant": _floor,
    "floor.revoke": _floor,
    "floor.extend": _floor,
    "floor.expire": _floor,
    "chat.send": _chat,
    "chat.hide": _chat,
    "question.answer": _chat,
    "lobby.enter": _lobby,
    "lobby.admit": _lobby,
    "lobby.deny": _lobby,
    "poll.open": _poll,
    "poll.vote": _poll,
    "poll.close": _poll,
    "presence.join": _presence,
    "presence.leave": _presence,
    "presence.checkin": _presence,
    "participant.remove": _presence,
    "presence.reset": _reset,
    "minutes.edit": _minutes,
    "progress.show": _showing,
    "progress.hide": _showing,
    "feed.add": _feeds,
    "feed.remove": _feeds,
    "audio.mute": _mute,
    "audio.unmute": _mute,
    "speaker.active": _speaker,
    "recording.start": _recording,
    "recording.stop": _recording,
}


def apply(state: State, event: Event) -> State:
    """Fold one event into ``state`` (in place) and return it."""
    if event["type"] == "room.open":
        state = initial(event["data"])
        state["seq"] = event["seq"]
        return state
    HANDLERS[event["type"]](state, event)
    state["seq"] = event["seq"]
    return state
