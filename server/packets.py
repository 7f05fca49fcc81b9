"""Socket.IO packets nested too deeply for Python's JSON decoder still reach their handler.

python-socketio decodes each packet with ``json.loads``, which raises RecursionError somewhere
past a thousand levels of nesting; the packet is then dropped with a logged traceback and the
client never gets its ack. :class:`Packet` decodes such a packet to its event name and an
:class:`Unreadable` payload instead, so the event's handler answers with a clear error. (The
size of a message is bounded before this, by ``XIESHANG_WS_MAX_MESSAGE_BYTES``.)
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


class _Json:
    """``json`` for packets: the same, except for what is nested too deeply to decode."""

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        return json.dumps(value, **kwargs)

    @staticmethod
    def loads(text: str, **kwargs: Any) -> Any:
        try:
            return json.loads(text, **kwargs)
        except RecursionError:
            return _unreadable(text)


class Packet(packet.Packet):  # type: ignore[misc]
    """python-socketio's packet, decoding with :class:`_Json` (``AsyncServer.packet_class``)."""

    json = _Json
