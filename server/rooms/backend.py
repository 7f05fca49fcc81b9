"""What the room namespace needs of a media server: the embedded SFU (``media.Sfu``) and the
Janus tier (``janus.JanusSfu``) both provide it, so clients speak the same ``rtc.*`` either way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from server.config import Config
from server.db import Database


class MediaBackend(Protocol):
    """Publish, subscribe and the room's rules for microphones and recording."""

    ice_servers: list[dict[str, Any]]

    async def publish(
        self, session_id: int, sid: str, who: str, sdp: str, source: str
    ) -> tuple[str, str]: ...

    async def subscribe(self, session_id: int, sid: str, feed_id: str, who: str = "") -> str: ...

    async def answer(self, session_id: int, sid: str, feed_id: str, sdp: str) -> None: ...

    async def unpublish(self, session_id: int, sid: str, feed_id: str) -> None: ...

    async def leave(self, session_id: int, sid: str) -> None: ...

    async def drop_person(self, session_id: int, who: str) -> None: ...

    def hear(self, session_id: int, audible: frozenset[str]) -> None: ...

    def start_recording(self, session_id: int) -> None: ...

    async def stop_recording(self, session_id: int) -> None: ...

    async def end_room(self, session_id: int) -> None: ...

    async def close(self) -> None: ...


MEDIA = web.AppKey("media", MediaBackend)


async def make_media(
    config: Config,
    database: Database,
    *,
    on_feed: Callable[[int, str, dict[str, Any]], Awaitable[None]],
    on_recorded: Callable[[int, Any, dict[str, Any]], Awaitable[None]],
    on_restart: Callable[[str, dict[str, Any]], Awaitable[None]],
    refresh: Callable[[int], Awaitable[Any]] | None = None,
) -> MediaBackend:
    """The embedded SFU, or the Janus tier when ``XIESHANG_JANUS_URLS`` is set."""
    from server.rooms.janus import JanusSfu
    from server.rooms.media import Sfu

    if not config.janus_urls:
        return Sfu(
            ice_servers=config.ice_servers,
            on_feed=on_feed,
            on_recorded=on_recorded,
            recording_dir=config.recording_dir,
        )
    janus = JanusSfu(
        urls=config.janus_urls,
        api_secret=config.janus_api_secret,
        admin_key=config.janus_admin_key,
        database=database,
        ice_servers=config.ice_servers,
        on_feed=on_feed,
        on_recorded=on_recorded,
        on_restart=on_restart,
        refresh=refresh if config.redis_url else None,  # several processes
        recording_dir=config.recording_dir,
    )
    await janus.start()
    return janus
