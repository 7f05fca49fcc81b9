"""How a room steers its media: whose microphone is forwarded, when recording starts and stops,
and that the end of a session or a removal ends media. Read from the room's state and events
(the reducer's vocabulary), applied through :class:`server.media.base.MediaBackend` (which knows
nothing of rooms)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from server.media.base import MediaBackend
from server.rooms.commands.consent import asking, unconsented_publishers
from server.rooms.reducer import State

# Events after which who may be heard can have changed (the part before the dot).
AUDIO_NOUNS = frozenset({"floor", "audio", "presence", "participant", "feed", "room"})


class Spawner(Protocol):
    """Runs a coroutine in the background (``RoomHub.spawn``)."""

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...


class Expeller(Protocol):
    """Puts a removed participant's connections out of the room (``RoomNamespace.expel``)."""

    async def expel(self, session_id: int, who: str) -> None: ...


def audible(state: State) -> frozenset[str]:
    """Whose microphone the SFU forwards: whoever holds the floor, and hosts (who moderate);
    nobody a host muted. Everyone else is heard only when given the floor."""
    muted = set(state.get("muted", []))
    hosts = {k for k, p in state.get("presence", {}).items() if p.get("role") == "host"}
    holder = {state["floor"]["holder"]} if state.get("floor") else set()
    return frozenset((hosts | holder) - muted)


def follow_room(
    sfu: MediaBackend, hub: Spawner, namespace: Expeller | None = None
) -> Callable[[int, dict[str, Any], dict[str, Any]], None]:
    """A room observer: microphones follow the floor and mutes; the end of the session closes
    its media; a removed participant is put out of the room (``namespace``). Once the room asks
    for consent to recording, the media of anyone publishing who has not accepted (or who
    declines) is stopped: their browser publishes again after they accept."""

    def observe(session_id: int, state: dict[str, Any], event: dict[str, Any]) -> None:
        if event["type"] == "session.end":
            hub.spawn(sfu.end_room(session_id))
        elif event["type"] == "participant.remove":
            hub.spawn(sfu.drop_person(session_id, event["data"]["who"]))
            if namespace is not None:
                hub.spawn(namespace.expel(session_id, event["data"]["who"]))
            sfu.hear(session_id, audible(state))
        elif event["type"] in ("recording.ask", "recording.consent") and asking(state):
            for who in unconsented_publishers(state):
                hub.spawn(sfu.drop_person(session_id, who))
        elif event["type"] == "recording.start":
            sfu.start_recording(session_id)
        elif event["type"] == "recording.stop":
            hub.spawn(sfu.stop_recording(session_id))
        elif event["type"].split(".")[0] in AUDIO_NOUNS:
            sfu.hear(session_id, audible(state))

    return observe
