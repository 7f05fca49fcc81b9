"""Small checks shared by the room's commands: the error, where a sender must be, text and time."""

from __future__ import annotations

from typing import Any

from server.errors import AppError
from server.i18n import _
from server.rooms.actors import Actor
from server.text import unstorable

# The HTTP status of a room refusal that reaches a route (Socket.IO acks carry only the code):
# the README's rule, objects you may not see 404, actions you may not take 403; any other
# refusal is a clash with the room's state.
STATUS_OF_CODE = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "rate_limited": 429,
    "unavailable": 503,
}


class RoomError(AppError):
    """A command the room refuses; ``code`` is stable, ``message`` is for people."""

    status = 409

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code
        self.status = STATUS_OF_CODE.get(code, 409)


def require(condition: bool, code: str, message: str, **details: Any) -> None:
    if not condition:
        raise RoomError(code, message, **details)


def live(state: dict[str, Any]) -> None:
    require(state["status"] == "live", "not_live", _("The session has not started, or has ended."))


def in_room(state: dict[str, Any], actor: Actor) -> None:
    """The sender is in the room: not a guest still in the lobby, not removed."""
    if actor.is_guest:
        require(actor.key in state["admitted"], "in_lobby", _("Wait until a host admits you."))
    require(actor.key not in state["removed"], "removed", _("You were removed from this session."))


def chat_text(value: Any, limit: int, field: str) -> str:
    """Non-empty text of at most ``limit`` characters that can be stored (``server/text.py``)."""
    require(isinstance(value, str), "invalid", _("{field} must be text.", field=field))
    text = str(value).strip()
    require(
        0 < len(text) <= limit,
        "invalid",
        _("{field} must be 1 to {limit} characters.", field=field, limit=limit),
    )
    reason = unstorable(text)
    require(reason is None, "invalid", _("{field} {reason}.", field=field, reason=reason))
    return text


def seconds(value: Any, limit: int) -> int:
    require(
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limit,
        "invalid",
        _("seconds must be a whole number from 1 to {limit}.", limit=limit),
    )
    return int(value)
