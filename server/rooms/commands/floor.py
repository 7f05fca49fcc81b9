"""Timers and the floor: an agenda item's clock, raised hands, points of order, speaking turns.

Each turn is kept in ``spoken`` (who, on which item, from when) and gets its ``seconds`` when
it ends (revoked, expired, the floor given to someone else, the holder removed, the session
ended): the minutes list each person's time with the floor per item and in total.

A point of order (程序性发言, ``point_of_order.request``) goes ahead of the ordinary hands, after
the points of order already waiting; ``points_of_order`` says which queued hands are ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.i18n import _
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.crowd import name_of
from server.rooms.rules import in_room, live, require, seconds

# ---------------------------------------------------------------- the timer


def _seconds_between(start: str, end: str) -> int:
    return int((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds())


def stop_timer(state: State, at: str) -> None:
    """Stop a running timer at ``at`` (pausing it, or moving on, or ending the session)."""
    timer = state["timer"]
    if timer and timer["running"]:
        timer["elapsed"] += _seconds_between(timer["started_at"], at)
        timer["running"], timer["started_at"] = False, None


def _current_timer(state: State, cmd: Command) -> dict[str, Any] | None:
    """The current item's timer (None: not run yet), for a host of a live room."""
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff run the timer."))
    live(state)
    require(state["current"] is not None, "conflict", _("No agenda item is current."))
    timer = state["timer"]
    return timer if timer and timer["item_id"] == state["current"] else None


@command("timer.start")
def start_timer(state: State, cmd: Command) -> dict[str, Any]:
    timer = _current_timer(state, cmd)
    require(not (timer and timer["running"]), "conflict", _("The timer is already running."))
    return {"item_id": state["current"]}


@command("timer.pause")
def pause_timer(state: State, cmd: Command) -> dict[str, Any]:
    timer = _current_timer(state, cmd)
    require(bool(timer and timer["running"]), "conflict", _("The timer is not running."))
    return {"item_id": state["current"]}


@command("timer.extend")
def extend_timer(state: State, cmd: Command) -> dict[str, Any]:
    _current_timer(state, cmd)
    return {"item_id": state["current"], "seconds": seconds(cmd.data.get("seconds"), 3600)}


def _timer_of(state: State, item_id: int) -> dict[str, Any]:
    timer: dict[str, Any] | None = state["timer"]
    if timer is None or timer["item_id"] != item_id:
        timer = state["timer"] = {
            "item_id": item_id,
            "running": False,
            "started_at": None,
            "elapsed": 0,
            "extra": 0,
        }
    return timer


@effect("timer.start", "timer.pause", "timer.extend")
def timed(state: State, event: Event) -> None:
    kind, data, at = event["type"], event["data"], event["at"]
    timer = _timer_of(state, data["item_id"])
    if kind == "timer.start":
        timer["running"], timer["started_at"] = True, at
    elif kind == "timer.pause":
        stop_timer(state, at)
    else:
        timer["extra"] += data["seconds"]


# ---------------------------------------------------------------- hands


def _may_raise(state: State, cmd: Command) -> None:
    actor = cmd.actor
    live(state)
    in_room(state, actor)
    require(
        state["floor"] is None or state["floor"]["holder"] != actor.key,
        "conflict",
        _("You have the floor."),
    )


@command("hand.raise")
def raise_hand(state: State, cmd: Command) -> dict[str, Any]:
    _may_raise(state, cmd)
    require(cmd.actor.key not in state["queue"], "conflict", _("Your hand is already raised."))
    return {"who": cmd.actor.key, "name": cmd.actor.name}


@effect("hand.raise")
def raised(state: State, event: Event) -> None:
    state["queue"].append(event["data"]["who"])


@command("point_of_order.request")
def point_of_order(state: State, cmd: Command) -> dict[str, Any]:
    """Anyone who may raise a hand; an ordinary raised hand becomes a point of order."""
    _may_raise(state, cmd)
    require(
        cmd.actor.key not in state.get("points_of_order", []),
        "conflict",
        _("Your point of order is already waiting."),
    )
    return {"who": cmd.actor.key, "name": cmd.actor.name}


@effect("point_of_order.request")
def ordered(state: State, event: Event) -> None:
    who, points = event["data"]["who"], state.setdefault("points_of_order", [])
    if who in state["queue"]:
        state["queue"].remove(who)
    state["queue"].insert(len(points), who)
    points.append(who)


def unqueue(state: State, who: str) -> None:
    """``who`` leaves the queue (and the points of order)."""
    state["queue"] = [q for q in state["queue"] if q != who]
    state["points_of_order"] = [q for q in state.get("points_of_order", []) if q != who]


def end_turn(state: State, at: str) -> None:
    """The current turn, if any, ends at ``at``: its seconds go on its ``spoken`` entry."""
    floor = state.get("floor")
    if floor and state.get("spoken"):
        state["spoken"][-1]["seconds"] = _seconds_between(floor["since"], at)


@command("hand.lower")
def lower_hand(state: State, cmd: Command) -> dict[str, Any]:
    live(state)
    who = cmd.data.get("who", cmd.actor.key)
    require(
        who == cmd.actor.key or cmd.actor.drives,
        "forbidden",
        _("Only hosts lower other people's hands."),
    )
    require(who in state["queue"], "conflict", _("That hand is not raised."))
    return {"who": who}


@effect("hand.lower")
def lowered(state: State, event: Event) -> None:
    unqueue(state, event["data"]["who"])


# ---------------------------------------------------------------- the floor


def _gives_the_floor(state: State, cmd: Command) -> None:
    live(state)
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff give or take the floor."))


@command("floor.grant")
def grant(state: State, cmd: Command) -> dict[str, Any]:
    _gives_the_floor(state, cmd)
    who = cmd.data.get("who")
    require(
        isinstance(who, str) and (who in state["presence"] or who in state["admitted"]),
        "invalid",
        _("Give the floor to someone who is in the room."),
    )
    # Named: a crowd room's viewers may not have them listed (server.rooms.crowd).
    name = name_of(state, who)
    return {"who": who, "name": name, "seconds": seconds(cmd.data.get("seconds", 180), 3600)}


@effect("floor.grant")
def granted(state: State, event: Event) -> None:
    data = event["data"]
    end_turn(state, event["at"])
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
    unqueue(state, data["who"])
    spoken = {"who": data["who"], "item_id": state["current"], "at": event["at"], "seconds": None}
    state.setdefault("spoken", []).append(spoken)  # who spoke on which item, for minutes


def _holder(state: State, cmd: Command) -> str:
    _gives_the_floor(state, cmd)
    require(state["floor"] is not None, "conflict", _("Nobody has the floor."))
    return str(state["floor"]["holder"])


@command("floor.extend")
def extend(state: State, cmd: Command) -> dict[str, Any]:
    holder = _holder(state, cmd)
    extra = seconds(cmd.data.get("seconds"), 3600)
    require(
        state["floor"]["seconds"] + extra <= 4 * 3600,
        "invalid",
        _("A turn cannot last more than four hours."),
    )
    return {"who": holder, "seconds": extra}


@effect("floor.extend")
def extended(state: State, event: Event) -> None:
    floor, extra = state["floor"], event["data"]["seconds"]
    floor["seconds"] += extra
    until = dt.datetime.fromisoformat(floor["until"]) + dt.timedelta(seconds=extra)
    floor["until"] = until.isoformat()


@command("floor.revoke")
def revoke(state: State, cmd: Command) -> dict[str, Any]:
    return {"who": _holder(state, cmd)}


def floor_expiry(state: State, grant: int, now: dt.datetime) -> dict[str, Any]:
    """The data of ``floor.expire`` (logged by the server, never sent by a client): the turn
    ``grant`` is over. Refused if that turn already ended or was extended past ``now``."""
    floor: dict[str, Any] = state.get("floor") or {}
    require(floor.get("grant") == grant, "conflict", _("That turn already ended."))
    require(
        dt.datetime.fromisoformat(floor["until"]) <= now, "conflict", _("That turn was extended.")
    )
    return {"who": floor["holder"], "grant": grant}


@effect("floor.revoke", "floor.expire")
def taken_back(state: State, event: Event) -> None:
    end_turn(state, event["at"])
    state["floor"] = None
