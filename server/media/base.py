"""What the rooms need of a media server, and the feed bookkeeping every backend shares.

The embedded SFU (``embedded.sfu.Sfu``) and the Janus tier (``janus.sfu.JanusSfu``) both provide
:class:`MediaBackend`, so clients speak the same ``rtc.*`` either way. Both keep the same books
per room (:class:`RoomMedia`: feeds, subscriptions, which connection is whose, who may be heard,
recording) and end feeds the same way (:class:`FeedRooms`); only how a feed is opened, closed,
silenced and recorded differs.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from server.errors import AppError
from server.i18n import _

log = logging.getLogger(__name__)

SOURCES = ("camera", "screen")
KINDS = frozenset({"audio", "video"})  # what a subscription may carry (rtc.subscribe ``kinds``)
# The simulcast layers a subscriber may ask for (rtc.layer), smallest first: the browser sends
# its camera three times, at a quarter, half and full size (rids l, m, h).
LAYERS = ("low", "medium", "high")
SOURCE_WORDS = {"camera": _("camera"), "screen": _("screen share")}
FeedChanged = Callable[[int, str, dict[str, Any]], Awaitable[None]]
Recorded = Callable[[int, Any, dict[str, Any]], Awaitable[None]]


class MediaError(AppError):
    """A media request refused; ``code`` is stable, ``message`` is for people (acks carry the
    same ``{code, message}`` as a refused room command)."""

    status = 409

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise MediaError("invalid", _("source must be camera or screen."))


def check_kinds(kinds: Any) -> frozenset[str]:
    """``kinds`` of ``rtc.subscribe``: absent means both; else a non-empty list of distinct
    ``"audio"``/``"video"`` (a weak link receives a camera's sound without its picture)."""
    if kinds is None:
        return KINDS
    if (
        not isinstance(kinds, list)
        or not kinds
        or any(k not in KINDS for k in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        raise MediaError("invalid", _('kinds must list "audio", "video" or both, once each.'))
    return frozenset(kinds)


def check_layer(layer: Any) -> str:
    """``layer`` of ``rtc.layer``: one of :data:`LAYERS`."""
    if layer not in LAYERS:
        raise MediaError("invalid", _('layer must be "low", "medium" or "high".'))
    return str(layer)


def no_such_feed() -> MediaError:
    return MediaError("not_found", _("There is no such feed (it may have ended)."))


def subscribe_first() -> MediaError:
    return MediaError("conflict", _("Subscribe to that feed first (rtc.subscribe)."))


def superseded() -> MediaError:
    return MediaError(
        "conflict",
        _("A later request for that feed (or leaving it) took the place of this subscription."),
    )


class MediaBackend(Protocol):
    """Publish, subscribe and the room's rules for microphones and recording."""

    ice_servers: list[dict[str, Any]]
    simulcast: bool  # publishers send three layers and subscribers pick one (rtc.layer)

    async def publish(
        self, session_id: int, sid: str, who: str, sdp: str, source: str
    ) -> tuple[str, str]: ...

    async def subscribe(
        self, session_id: int, sid: str, feed_id: str, who: str = "", kinds: frozenset[str] = KINDS
    ) -> str: ...

    async def unsubscribe(self, session_id: int, sid: str, feed_id: str) -> None: ...

    async def layer(self, session_id: int, sid: str, feed_id: str, layer: str) -> None: ...

    async def answer(self, session_id: int, sid: str, feed_id: str, sdp: str) -> None: ...

    async def unpublish(self, session_id: int, sid: str, feed_id: str) -> None: ...

    async def leave(self, session_id: int, sid: str) -> None: ...

    async def drop_person(self, session_id: int, who: str) -> None: ...

    def hear(self, session_id: int, audible: frozenset[str]) -> None: ...

    def start_recording(self, session_id: int) -> None: ...

    async def stop_recording(self, session_id: int) -> None: ...

    async def end_room(self, session_id: int) -> None: ...

    async def close(self) -> None: ...


@dataclass
class FeedBase:
    """One published stream (a camera with its microphone, or a screen)."""

    feed_id: str
    who: str
    source: str
    owner_sid: str


FeedT = TypeVar("FeedT", bound=FeedBase)
SubT = TypeVar("SubT")


@dataclass
class RoomMedia(Generic[FeedT, SubT]):
    """What this process knows of one room's media."""

    feeds: dict[str, FeedT] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], SubT] = field(default_factory=dict)  # (sid, feed_id)
    # The rtc.subscribe of each (sid, feed_id) being set up that counts: the last one to begin.
    asking: dict[tuple[str, str], object] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # sid -> who, for removals
    audible: frozenset[str] = frozenset()
    recording: bool = False
    speaker: str | None = None  # the active speaker last announced


RoomT = TypeVar("RoomT", bound=RoomMedia[Any, Any])


class FeedRooms(ABC, Generic[RoomT, FeedT]):
    """Every media room of this process and the rules all backends share. A backend says how
    to open, close, silence and record one feed (its abstract methods)."""

    def __init__(self, *, on_feed: FeedChanged, on_recorded: Recorded | None) -> None:
        self.on_feed, self.on_recorded = on_feed, on_recorded
        self.rooms: dict[int, RoomT] = {}
        # Who may be heard in rooms that have no media here yet: applied when one starts. Not a
        # room itself, so a room left empty is not brought back by the next change of floor or
        # presence.
        self._audible: dict[int, frozenset[str]] = {}

    # ---- what each backend does its own way

    @abstractmethod
    def _new_room(self) -> RoomT:
        """An empty media room of this backend."""

    @abstractmethod
    async def _unsubscribe(self, room: RoomT, key: tuple[str, str]) -> None:
        """Close one subscription, answered or not."""

    @abstractmethod
    async def _close_feed(self, room: RoomT, feed: FeedT) -> None:
        """Close a feed that left the room (its subscriptions are closed already)."""

    @abstractmethod
    def _follow_audible(self, room: RoomT) -> None:
        """Silence or forward each feed's microphone as ``room.audible`` now says."""

    @abstractmethod
    def _record_later(self, session_id: int, room: RoomT, feed: FeedT) -> None:
        """Start recording a feed that is already published."""

    @abstractmethod
    async def _recorded(self, session_id: int, room: RoomT, feed: FeedT) -> dict[str, Any] | None:
        """Finish a feed's recording: the file made, or None when there is none."""

    def _let_go(self, room: RoomT) -> None:
        """The room is no longer served here: stop what watches it."""

    async def _set_layer(self, room: RoomT, key: tuple[str, str], layer: str) -> None:
        """Send this subscription the simulcast ``layer`` of its feed (without simulcast: nothing
        to choose, the feed's one layer goes on)."""

    # ---- the shared books

    def _room(self, session_id: int) -> RoomT:
        room = self.rooms.get(session_id)
        if room is None:
            room = self.rooms[session_id] = self._new_room()
            if session_id in self._audible:
                room.audible = self._audible.pop(session_id)
        return room

    def _may_publish(self, room: RoomT, who: str, source: str) -> None:
        """One camera and one screen per person."""
        if any(f.who == who and f.source == source for f in room.feeds.values()):
            raise MediaError(
                "conflict",
                _(
                    "You already publish your {source}; unpublish it first.",
                    source=SOURCE_WORDS.get(source, source),
                ),
            )

    def _ask(self, room: RoomT, key: tuple[str, str]) -> object:
        """An rtc.subscribe of ``key`` begins: until a later one begins, or the connection stops
        receiving that feed (rtc.unsubscribe, leaving, the feed ending), it is the one to book.
        Setting one up awaits the media server, so two of a key may finish in either order."""
        ticket = object()
        room.asking[key] = ticket
        return ticket

    def _booking(self, session_id: int, key: tuple[str, str], ticket: object) -> RoomT:
        """The room to book a subscription set up for ``ticket`` in, once the media server
        made it; :func:`superseded` if it no longer counts (nothing is booked: the caller closes
        what it made)."""
        room = self.rooms.get(session_id)
        if room is None or room.asking.get(key) is not ticket:
            raise superseded()
        del room.asking[key]
        return room

    @staticmethod
    def _unask(room: RoomT, key: tuple[str, str], ticket: object) -> None:
        """A subscription being set up for ``ticket`` failed: it no longer keeps the room."""
        if room.asking.get(key) is ticket:
            del room.asking[key]

    def _book(self, room: RoomT, feed: FeedT) -> None:
        """A published feed joins the room's books."""
        room.feeds[feed.feed_id] = feed
        room.owners[feed.owner_sid] = feed.who

    async def _announce(self, session_id: int, feed: FeedT) -> None:
        data = {"feed_id": feed.feed_id, "who": feed.who, "source": feed.source}
        await self.on_feed(session_id, "feed.add", data)

    async def unpublish(self, session_id: int, sid: str, feed_id: str) -> None:
        room = self._room(session_id)
        feed = room.feeds.get(feed_id)
        if feed is None or feed.owner_sid != sid:
            raise MediaError("not_found", _("You publish no such feed."))
        await self._drop(session_id, room, feed)

    async def unsubscribe(self, session_id: int, sid: str, feed_id: str) -> None:
        """Stop receiving a feed: the server sends this connection nothing more of it."""
        room = self.rooms.get(session_id)
        key = (sid, feed_id)
        being_set_up = room is not None and room.asking.pop(key, None) is not None
        if room is None or (key not in room.subscriptions and not being_set_up):
            raise MediaError("not_found", _("You receive no such feed."))
        await self._unsubscribe(room, key)

    async def layer(self, session_id: int, sid: str, feed_id: str, layer: str) -> None:
        """Receive the ``layer`` (:data:`LAYERS`) of a feed this connection subscribed to (it
        may not have answered yet: the layer applies from the start)."""
        room = self.rooms.get(session_id)
        if room is None or (sid, feed_id) not in room.subscriptions:
            raise MediaError("not_found", _("You receive no such feed."))
        await self._set_layer(room, (sid, feed_id), check_layer(layer))

    async def _drop(self, session_id: int, room: RoomT, feed: FeedT) -> None:
        """End a feed: its recording is kept, its subscriptions close, everyone hears of it."""
        if room.feeds.pop(feed.feed_id, None) is None:
            return
        for key in [k for k in room.asking if k[1] == feed.feed_id]:
            del room.asking[key]
        try:
            await self._finish(session_id, room, feed)
        except Exception:
            log.exception("could not keep the recording of feed %s", feed.feed_id)
        finally:
            for key in [k for k in room.subscriptions if k[1] == feed.feed_id]:
                await self._unsubscribe(room, key)
            await self._close_feed(room, feed)
        await self.on_feed(session_id, "feed.remove", {"feed_id": feed.feed_id, "who": feed.who})

    async def drop_person(self, session_id: int, who: str) -> None:
        """Someone was removed from the room: their feeds and subscriptions end now."""
        room = self.rooms.get(session_id)
        if room is None:
            return
        for feed in [f for f in room.feeds.values() if f.who == who]:
            await self._drop(session_id, room, feed)
        sids = {sid for sid, owner in room.owners.items() if owner == who}
        for key in [k for k in room.subscriptions if k[0] in sids]:
            await self._unsubscribe(room, key)

    async def leave(self, session_id: int, sid: str) -> None:
        """A connection left the room: its feeds and subscriptions end."""
        room = self.rooms.get(session_id)
        if room is None:
            return
        for feed in [f for f in room.feeds.values() if f.owner_sid == sid]:
            await self._drop(session_id, room, feed)
        for key in [k for k in room.asking if k[0] == sid]:
            del room.asking[key]
        for key in [k for k in room.subscriptions if k[0] == sid]:
            await self._unsubscribe(room, key)
        room.owners.pop(sid, None)
        if not room.feeds and not room.subscriptions and not room.asking and not room.recording:
            self.rooms.pop(session_id, None)
            self._let_go(room)

    def hear(self, session_id: int, audible: frozenset[str]) -> None:
        """Forward the microphones of exactly these people (``p:``/``g:``/``h:`` keys)."""
        room = self.rooms.get(session_id)
        if room is None:
            if audible:
                self._audible[session_id] = audible
            else:
                self._audible.pop(session_id, None)
            return
        room.audible = audible
        self._follow_audible(room)

    # ---- recording and the end

    def start_recording(self, session_id: int) -> None:
        """Record every feed of the room (and every feed published later) until stopped."""
        room = self._room(session_id)
        if room.recording:
            return
        room.recording = True
        for feed in room.feeds.values():
            self._record_later(session_id, room, feed)

    async def _finish(self, session_id: int, room: RoomT, feed: FeedT) -> None:
        done = await self._recorded(session_id, room, feed)
        if done is not None and self.on_recorded is not None:
            await self.on_recorded(session_id, feed, done)

    async def stop_recording(self, session_id: int) -> None:
        room = self.rooms.get(session_id)
        if room is None or not room.recording:
            return
        room.recording = False
        for feed in list(room.feeds.values()):
            await self._finish(session_id, room, feed)

    async def end_room(self, session_id: int) -> None:
        """The session ended: finish recordings and close every feed and subscription."""
        await self.stop_recording(session_id)
        self._audible.pop(session_id, None)
        room = self.rooms.pop(session_id, None)
        if room is None:
            return
        self._let_go(room)
        for feed in list(room.feeds.values()):
            await self._drop(session_id, room, feed)
        for key in list(room.subscriptions):
            await self._unsubscribe(room, key)
