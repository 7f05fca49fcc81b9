"""Socket.IO packets: nesting too deep to decode still reaches its handler, and a part already
encoded as JSON is sent as it is.

python-socketio decodes each packet with ``json.loads``, which raises RecursionError somewhere
past a thousand levels of nesting; the packet is then dropped with a logged traceback and the
client never gets its ack. :class:`Packet` decodes such a packet to its event name and an
:class:`Unreadable` payload instead, so the event's handler answers with a clear error. (The
size of a message is bounded before this, by ``XIESHANG_WS_MAX_MESSAGE_BYTES``.)

An :class:`Encoded` anywhere in what is sent is written as its JSON text: a room's snapshot is
encoded once for everyone who joins at the same point of the log
(``server.rooms.service.RoomHub.view``), not once per joiner.
"""

from __future__ import annotations

import json
import re
from typing import Any

from socketio import packet

from server.i18n import _

# The start of an event packet's data: ``["event name",``.
_EVENT = re.compile(r'\s*\[\s*("(?:[^"\\]|\\.)*")\s*,')


class Unreadable:
    """The payload of a message that could not be decoded."""

    reason = _("This message nests too deeply to read; send objects a few levels deep.")


def _unreadable(text: str) -> Any:
    found = _EVENT.match(text)
    if found is None:
        return Unreadable()
    try:
        event = json.loads(found.group(1))
    except ValueError:
        return Unreadable()
    return [event, Unreadable()]


class Encoded:
    """A value already encoded as JSON, sent as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _splice(value: Any, kwargs: dict[str, Any]) -> str:
    """``value`` as JSON, each :class:`Encoded` inside it written as its text. Only the
    containers on the way to one are taken apart; everything else is one ``json.dumps``."""
    if isinstance(value, Encoded):
        return value.text
    try:
        return json.dumps(value, **kwargs)
    except TypeError:
        item, key = kwargs.get("separators") or (", ", ": ")
        if isinstance(value, dict):
            members = (
                f"{json.dumps(str(k), **kwargs)}{key}{_splice(v, kwargs)}" for k, v in value.items()
            )
            return "{" + item.join(members) + "}"
        if isinstance(value, list | tuple):
            return "[" + item.join(_splice(v, kwargs) for v in value) + "]"
        raise


class _Json:
    """``json`` for packets: the same, except for what is nested too deeply to decode and what
    is :class:`Encoded` already."""

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        return _splice(value, kwargs)  # one json.dumps, unless an Encoded part is inside

    @staticmethod
    def loads(text: str, **kwargs: Any) -> Any:
        try:
            return json.loads(text, **kwargs)
        except RecursionError:
            return _unreadable(text)


class Packet(packet.Packet):  # type: ignore[misc]
    """python-socketio's packet, decoding with :class:`_Json` (``AsyncServer.packet_class``)."""

    json = _Json
