"""How the hub and the media backends reach clients: room broadcasts and media restarts."""

from __future__ import annotations

from typing import Any

import socketio

from server.rooms.events import NAMESPACE, guest_room, room_name
from server.rooms.service import Event
from server.rooms.views import event_view, lobby_event


def make_emitter(sio: socketio.AsyncServer) -> Any:
    """The hub's broadcast: every event to the room, lobby events also to the guest concerned."""

    async def emit(session_id: int, event: Event) -> None:
        view = event_view(event)
        await sio.emit("event", view, room=room_name(session_id), namespace=NAMESPACE)
        guest = lobby_event(event)
        if guest is not None:
            await sio.emit("event", view, room=guest_room(session_id, guest), namespace=NAMESPACE)

    return emit


def make_restarter(sio: socketio.AsyncServer) -> Any:
    """Tell one connection its media moved (a media server failed): ``rtc.restart`` asks it to
    publish again and to subscribe again to the room's feeds."""

    async def restart(sid: str, data: dict[str, Any]) -> None:
        await sio.emit("rtc.restart", data, to=sid, namespace=NAMESPACE)

    return restart
