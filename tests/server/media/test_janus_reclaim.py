"""A break of the control connection to a real Janus, made by a TCP proxy between the server and
Janus (the only fake: the network). A short break reconnects to the same Janus sessions, so the
room's media goes on untouched; a break longer than the grace fails the room over as before."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.config import Config
from server.media.janus.sfu import JanusSfu
from server.media.routes import MEDIA
from tests.conftest import Cast
from tests.server.media.janus_setup import (  # noqa: F401  (fixtures)
    JanusProcess,
    janus_fixture,
    shim_fixture,
)
from tests.server.media.test_janus import placed_on
from tests.server.media.test_media import GREEN, Colour, Peer, Tone, near, until


class Cable:
    """A TCP proxy to one Janus. ``cut()`` breaks every connection through it, and while cut
    a new connection is dropped as soon as it is made; ``mend()`` lets them through again."""

    def __init__(self, janus: JanusProcess) -> None:
        self.janus, self.cut_off = janus, False
        self.ends: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> Cable:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.janus.port)
        except OSError:
            writer.transport.abort()
            return
        self.ends |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.ends -= {writer, up_writer}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    def cut(self) -> None:
        self.cut_off = True
        for end in list(self.ends):
            end.transport.abort()

    def mend(self) -> None:
        self.cut_off = False

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def cables(janus: list[JanusProcess]) -> AsyncIterator[list[Cable]]:
    made = [await Cable(j).start() for j in janus]
    yield made
    for cable in made:
        await cable.close()


@pytest.fixture
def config(config: Config, janus: list[JanusProcess], cables: list[Cable]) -> Config:
    return config.with_changes(
        janus_urls=tuple(c.url for c in cables),
        janus_api_secret=janus[0].api_secret,
        janus_admin_key=janus[0].admin_key,
    )


def loud(peer: Peer, feed: str) -> int:
    return len([x for x in peer.audio[feed] if x > 1000])


async def test_a_short_break_keeps_the_janus_sessions_and_a_long_one_fails_over(
    cast: Cast,
    room_session: dict[str, Any],
    clients: Any,
    server: TestServer,
    cables: list[Cable],
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    restarts: list[Any] = []
    for peer in (host, member):
        peer.client.sio.on("rtc.restart", restarts.append, namespace="/room")
    member_key = f"p:{cast.ids['member']}"
    await host.client.command("session.start")
    await host.client.command("floor.grant", who=member_key, seconds=120)
    feed = await member.publish(Colour(GREEN), Tone())
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 5 and loud(host, feed) > 0)
    backend = server.app[MEDIA]
    assert isinstance(backend, JanusSfu)
    first = await placed_on(server, sid)
    cable = next(c for c in cables if c.url == first)
    instance = backend.instances[first]
    room = backend.rooms[sid]
    published = {f.feed_id: (f.session, f.handle) for f in room.feeds.values()}
    subscribed = {k: (s.session, s.handle) for k, s in room.subscriptions.items()}
    assert list(published) == [feed] and len(subscribed) == 1

    # A short break (~1.5 s, well under the grace): the member is muted meanwhile.
    cable.cut()
    await until(lambda: instance.reconnecting and not instance.up, 5)
    assert (await host.client.command("audio.mute", who=member_key))["ok"]
    await asyncio.sleep(1.5)
    assert instance.reconnecting and not restarts
    cable.mend()
    await until(lambda: instance.up and not instance.reconnecting, 5)
    assert restarts == []
    assert await placed_on(server, sid) == first
    assert {f.feed_id: (f.session, f.handle) for f in room.feeds.values()} == published
    assert {k: (s.session, s.handle) for k, s in room.subscriptions.items()} == subscribed
    assert {s for s, _h in [*published.values(), *subscribed.values()]} <= instance.sessions
    assert not any(e["type"] == "feed.remove" for e in host.client.events)
    # Media goes on through the same Janus sessions, and the mute given during the break holds.
    frames = len(host.video[feed])
    got = await until(lambda: len(host.video[feed]) >= frames + 10 and host.video[feed])
    assert near(got[-1], GREEN)
    await asyncio.sleep(0.7)  # what was in flight
    count = loud(host, feed)
    await asyncio.sleep(1.0)
    assert loud(host, feed) - count <= 2
    # Commands and new subscriptions still work on the reclaimed connection.
    assert (await host.client.command("audio.unmute", who=member_key))["ok"]
    await until(lambda: loud(host, feed) > count + 10)
    unit = Peer(await clients(token=cast.unit.token, session_id=sid))
    unit.client.sio.on("rtc.restart", restarts.append, namespace="/room")
    await unit.subscribe(feed)
    got = await until(lambda: len(unit.video[feed]) >= 5 and unit.video[feed])
    assert near(got[-1], GREEN) and restarts == []

    # A long break: once the grace runs out the room moves to the other instance, as before.
    cable.cut()
    await until(lambda: len(restarts) == 3, instance.grace + 10)
    assert {r["reason"] for r in restarts} == {"media_moved"}
    assert await placed_on(server, sid) != first
    await host.client.wait_for(
        lambda: any(
            e["type"] == "feed.remove" and e["data"]["feed_id"] == feed for e in host.client.events
        )
    )
    assert not instance.up and not instance.sessions
    for peer in (host, member, unit):
        await peer.close()
