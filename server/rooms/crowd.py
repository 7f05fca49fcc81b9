"""The crowd view: what a large room shows those who do not host it.

A 民生议政厅 fills a hall and a few hundred phones; a plenary talk has a hundred members or
more. Showing every phone everyone else (each join to each person present, a snapshot listing
the whole hall) costs the crowd more than it tells them, and lists citizens' names to other
citizens. So a room is a *crowd room* when its session is public or has at least
``CROWD_PARTICIPANTS`` participants (decided when the room opens: ``state["crowd_room"]``),
and in a crowd room whoever does not host sees, as a webinar's attendees do:

- in ``presence``, the people who take part by their role (``LISTED_ROLES``: hosts, proposers,
  units, leaders and the hall's own device), as everyone sees them in any room;
- in ``crowd``, how many others are present, by role (``{"member": 812, "guest": 150}``);
- in ``names``, the names of the others the room shows (in the queue, with the floor or having
  had it, publishing a feed); events that bring someone new into view carry their name.

Hosts, staff and whoever reads the draft minutes (a leader) see everyone, as in any room.
Presence events of a crowd room carry ``crowd``, the change they make to those counts (worked
out when they are logged, from the room's state: someone's second device changes nothing); a
crowd viewer receives them with only the listed people's changes. ``web/js/room-state.js``
applies them; the JS/Python agreement test replays crowd rooms too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from server.rooms.actors import Actor

State = dict[str, Any]
Event = dict[str, Any]

CROWD_PARTICIPANTS = 100
LISTED_ROLES = frozenset({"host", "proposer", "unit", "leader", "hall"})
# Presence events that change the counts (participant.remove takes someone out as well).
COUNTED = frozenset(
    {"presence.join", "presence.leave", "presence.batch", "presence.reset", "participant.remove"}
)
# Those a crowd viewer receives with the listed people's changes only.
REDUCED = frozenset({"presence.join", "presence.leave", "presence.batch"})


def is_crowd(seed: dict[str, Any]) -> bool:
    """Whether a room opened from ``seed`` (``sessions.room_seed``) is a crowd room."""
    return seed.get("visibility") == "public" or seed.get("participants", 0) >= CROWD_PARTICIPANTS


def listed(role: Any) -> bool:
    """Whether someone of this role is listed to a crowd (else only counted)."""
    return role in LISTED_ROLES


def in_crowd(viewer: Actor) -> bool:
    """Whether ``viewer`` is one of a crowd room's crowd: neither hosting nor keeping the
    record (those who read draft minutes read the attendance with them)."""
    return not (viewer.drives or viewer.reads_drafts)


def sees_crowd(state: State, viewer: Actor) -> bool:
    """Whether ``viewer`` gets the crowd view of this room."""
    return bool(state.get("crowd_room")) and in_crowd(viewer)


# ---------------------------------------------------------------- when an event is logged


def _changes(kind: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's presence changes, in order: joins, leaves, and ``gone`` (out at once)."""
    if kind == "presence.batch":
        return list(data["changes"])
    if kind == "presence.join":
        return [{"op": "join", **data}]
    if kind == "presence.leave":
        return [{"op": "leave", **data}]
    if kind == "presence.reset":
        return [{"op": "gone", "who": who} for who in data["who"]]
    return [{"op": "gone", "who": data["who"]}]  # participant.remove


def logged(state: State, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A fact the server logs (``RoomHub.record``, presence), with what the crowd view needs:
    a new feed names its publisher; a presence change is :func:`counted`."""
    if kind == "feed.add" and "name" not in data:
        return {**data, "name": name_of(state, data.get("who"))}
    return counted(state, kind, data)


def counted(state: State, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` of a presence event about to be logged, with what a crowd room's viewers
    need: the change it makes to the counts of people present (``crowd``), and with each join
    and leave the role of its person (a crowd viewer's copy keeps the listed people's alone).
    Unchanged in other rooms and for other events."""
    if not state.get("crowd_room") or kind not in COUNTED:
        return data
    presence = state["presence"]
    here: dict[str, tuple[Any, int] | None] = {}  # (role, devices) as the changes leave them

    def current(who: str) -> tuple[Any, int] | None:
        if who in here:
            return here[who]
        entry = presence.get(who)
        return None if entry is None else (entry.get("role"), entry["devices"])

    delta: Counter[str] = Counter()
    roles: dict[str, Any] = {}
    for change in _changes(kind, data):
        who, op = str(change["who"]), change.get("op")
        now = current(who)
        if op == "join":
            role = roles[who] = now[0] if now else change.get("role")
            here[who] = (role, now[1] + 1 if now else 1)
            if now is None and not listed(role):
                delta[str(role)] += 1
            continue
        if now is None:
            continue
        roles[who] = now[0]
        devices = now[1] - 1 if op == "leave" else 0
        if devices > 0:
            here[who] = (now[0], devices)
            continue
        here[who] = None
        if not listed(now[0]):
            delta[str(now[0])] -= 1
    return {**_with_roles(kind, data, roles), "crowd": {k: n for k, n in delta.items() if n}}


def _with_roles(kind: str, data: dict[str, Any], roles: dict[str, Any]) -> dict[str, Any]:
    """Each join and leave with the role the room knows its person by (a second device joins
    as the first did)."""

    def known(change: dict[str, Any]) -> dict[str, Any]:
        who = change.get("who")
        return change if who not in roles else {**change, "role": roles[who]}

    if kind in ("presence.join", "presence.leave"):
        return known(data)
    if kind == "presence.batch":
        return {**data, "changes": [known(c) for c in data["changes"]]}
    return data


def name_of(state: State, who: Any) -> str:
    """Someone's name as the room knows them (present, once present, admitted)."""
    for place in ("presence", "attendance", "admitted"):
        entry = state.get(place, {}).get(who)
        if entry and entry.get("name"):
            return str(entry["name"])
    return ""


# ---------------------------------------------------------------- what a crowd viewer sees


def crowd_state(state: State, view: State) -> None:
    """Turn ``view`` (a copy of the top level of ``state``) into the crowd view."""
    presence = state["presence"]
    view["presence"] = {k: p for k, p in presence.items() if listed(p.get("role"))}
    counts = Counter(str(p.get("role")) for p in presence.values() if not listed(p.get("role")))
    view["crowd"] = dict(sorted(counts.items()))
    shown = {*state["queue"], *(f["who"] for f in state.get("feeds", []))}
    shown |= {t["who"] for t in state.get("spoken", [])}
    if state.get("floor"):
        shown.add(state["floor"]["holder"])
    names = ((who, name_of(state, who)) for who in sorted(shown) if who not in view["presence"])
    view["names"] = {who: name for who, name in names if name}
    view.pop("attendance", None)


def crowd_event(event: Event) -> Event:
    """A presence event as a crowd viewer receives it: the listed people's changes and the
    change to the counts."""
    data = event["data"]
    if event["type"] not in REDUCED or "crowd" not in data:
        return event
    if event["type"] == "presence.batch":
        changes = [c for c in data["changes"] if listed(c.get("role"))]
        return {**event, "data": {"changes": changes, "crowd": data["crowd"]}}
    if listed(data.get("role")):
        return event
    return {**event, "by": None, "data": {"crowd": data["crowd"]}}  # nobody's key or name
