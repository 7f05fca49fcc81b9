"""Which media backend serves the rooms: the embedded SFU, or the Janus tier when configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from server.config import Config
from server.db import Database
from server.media.base import MediaBackend, RoomMedia
from server.media.embedded.sfu import Sfu
from server.media.janus.sfu import JanusSfu


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


@dataclass(frozen=True)
class MediaStats:
    """What a media backend holds on this process, for health and metrics."""

    backend: str  # "embedded" or "janus"
    feeds: int
    subscriptions: int
    janus: tuple[tuple[str, bool], ...]  # (instance URL without credentials, up), Janus only


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _count(rooms: Iterable[RoomMedia[Any, Any]]) -> tuple[int, int]:
    rooms = list(rooms)
    return sum(len(r.feeds) for r in rooms), sum(len(r.subscriptions) for r in rooms)


def media_stats(media: MediaBackend) -> MediaStats:
    """Feeds, subscriptions and (for Janus) which instances are up."""
    if isinstance(media, Sfu):
        return MediaStats("embedded", *_count(media.rooms.values()), ())
    if isinstance(media, JanusSfu):
        janus = tuple((_without_credentials(url), i.up) for url, i in media.instances.items())
        return MediaStats("janus", *_count(media.rooms.values()), janus)
    return MediaStats(type(media).__name__, 0, 0, ())
