"""What a client may send to ``/room``, checked once where it enters, before any rule reads it.

A command is a JSON object ``{type, data}`` bounded in depth and size (nothing after this walks
a structure built to exhaust it) whose text can all be stored (``server/text.py``): text the
database or JSON cannot hold would otherwise fail far from here, e.g. in the minutes drafted
when the session ends. Ids and seqs are whole numbers in the database's integer range, never
booleans (Python counts ``True`` as 1).
"""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.packets import Unreadable
from server.rooms.rules import RoomError
from server.shapes import MAX_ID
from server.text import first_unstorable, unstorable

MAX_DEPTH = 10  # levels of objects and lists, the command itself included
MAX_VALUES = 5000  # values in one command (a message holds at most 64 KiB anyway)
MAX_SDP = 64 * 1024
HOW_TO_CONNECT = _(
    "Connect with auth {token, session_id}, {guest_token, session_id} "
    "or, for a hall device, {device_token, session_id}."
)


def whole(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` is an integer (not a boolean) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def session_of(auth: Any) -> int:
    """The session a connection's ``auth`` asks for (the namespace checks its pass), or
    :class:`RoomError` saying what is wrong."""
    if not isinstance(auth, dict):
        raise RoomError("invalid", HOW_TO_CONNECT)
    found = first_unstorable(auth, "auth")
    if found is not None:  # a token that cannot even be hashed
        raise RoomError(
            "invalid",
            _("{part0} {part1}, so it is no pass of ours.", part0=found[0], part1=found[1]),
        )
    session_id: Any = auth.get("session_id")
    if not whole(session_id, 1, MAX_ID):
        raise RoomError(
            "invalid", _("session_id must be a session's id (1 to {MAX_ID}).", MAX_ID=MAX_ID)
        )
    return int(session_id)


def since_of(payload: Any) -> int | None:
    """The seq a ``sync`` has seen (send the events after it), or None for a snapshot
    (``since`` left out, null or -1)."""
    since = payload.get("since") if isinstance(payload, dict) else None
    if since is None or whole(since, -1, -1):
        return None
    if not whole(since, 0, MAX_ID):
        raise RoomError(
            "invalid",
            _("since must be a seq from 0 to {MAX_ID}, or -1 for a snapshot.", MAX_ID=MAX_ID),
        )
    return int(since)


def _oversized(value: Any) -> str | None:
    """Why a decoded value is nested too deeply or holds too much, or None. Iterative."""
    pending, values = [(value, 1)], 0
    while pending:
        item, depth = pending.pop()
        values += 1
        if depth > MAX_DEPTH:
            return _("nests deeper than {depth} levels", depth=MAX_DEPTH)
        if values > MAX_VALUES:
            return _("holds more than {count} values", count=MAX_VALUES)
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return None


def command_of(payload: Any) -> tuple[str, dict[str, Any]]:
    """The type and data of a ``command`` message, or :class:`RoomError` saying what is wrong."""
    if isinstance(payload, Unreadable):
        raise RoomError("invalid", payload.reason)
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise RoomError("invalid", _("Send {type, data}."))
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise RoomError("invalid", _("data must be an object (or left out)."))
    problem = _oversized(payload)
    if problem is not None:
        raise RoomError("invalid", _("This command {problem}.", problem=problem))
    found = first_unstorable(payload)
    if found is not None:
        where, reason = found
        raise RoomError("invalid", _("{where} {reason}.", where=where, reason=reason), field=where)
    return payload["type"], data


def text_field(payload: Any, name: str, limit: int = MAX_SDP) -> str:
    """Field ``name`` of a signaling message (``rtc.*``): non-empty, storable text."""
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value or len(value) > limit or unstorable(value):
        raise RoomError(
            "invalid",
            _("Send {name} as text of at most {limit} characters.", name=name, limit=limit),
        )
    return value
