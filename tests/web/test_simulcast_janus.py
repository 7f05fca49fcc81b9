"""Simulcast through Janus: Chromium publishes its fake camera as three layers (rids h/m/l, full,
half and quarter size) and each subscriber receives the layer it asks for (``rtc.layer``, a
VideoRoom ``configure`` with that ``substream``): a constrained subscriber gets the low one, and
switching layer changes what arrives. Measured on the frames that arrive (aiortc decodes them)
and in Chromium's own ``getStats`` (``frameWidth``/``frameHeight`` of the inbound video)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from playwright.async_api import Page, expect

from server.config import Config
from tests.conftest import Cast
from tests.server.media.janus_setup import (  # noqa: F401  (fixtures)
    JanusProcess,
    janus_fixture,
    shim_fixture,
)
from tests.server.media.test_media import Peer, until
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener
from tests.web.test_video_janus import feeds_of

FULL, LOW = 960, 240  # the widths of the camera's high and low layers (960×540, 240×135)


@pytest.fixture
def config(config: Config, janus: list[JanusProcess]) -> Config:
    return config.with_changes(
        janus_urls=tuple(j.url for j in janus),
        janus_api_secret=janus[0].api_secret,
        janus_admin_key=janus[0].admin_key,
    )


class Viewer(Peer):
    """A subscriber that keeps the size of every decoded video frame, per feed."""

    def __init__(self, client: RoomClient) -> None:
        super().__init__(client)
        self.sizes: dict[str, list[tuple[int, int]]] = {}

    async def _read(self, feed_id: str, track: Any) -> None:
        sizes = self.sizes.setdefault(feed_id, [])
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    sizes.append((frame.width, frame.height))
        except MediaStreamError:
            return

    def width(self, feed_id: str) -> int:
        """The width of the latest frame (0 before the first)."""
        sizes = self.sizes.get(feed_id) or [(0, 0)]
        return sizes[-1][0]

    async def layer(self, feed_id: str, layer: str) -> None:
        ack = await self.client.call("rtc.layer", {"feed_id": feed_id, "layer": layer})
        assert ack["ok"], ack

    async def subscribe_at(self, feed_id: str, layer: str) -> None:
        """Subscribe and ask for ``layer`` before answering (from the first picture on)."""
        ack = await self.client.call("rtc.subscribe", {"feed_id": feed_id})
        assert ack["ok"], ack
        await self.layer(feed_id, layer)
        pc = RTCPeerConnection()
        self.pcs.append(pc)

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.tasks.append(asyncio.ensure_future(self._read(feed_id, track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        done = await self.client.call(
            "rtc.answer", {"feed_id": feed_id, "sdp": pc.localDescription.sdp}
        )
        assert done["ok"], done


async def publishing_page(
    cast: Cast, open_as: Opener, server: TestServer
) -> tuple[int, Viewer, str, Page]:
    """A started session, its host's connection, and the member's camera published in
    Chromium (with simulcast: the snapshot says so)."""
    s = await create_session(cast)
    sid = s["id"]
    url = str(server.make_url(""))
    host = Viewer(await RoomClient(url, {"token": cast.staff.token, "session_id": sid}).connect())
    await host.client.command("session.start")
    assert host.client.snapshots[-1]["simulcast"] is True
    page = await open_as(cast.member, f"/#/rooms/{sid}")
    await page.get_by_role("button", name="我已知悉，同意录制").click()
    await page.get_by_role("button", name="开启摄像头").click()
    await expect(page.get_by_role("button", name="关闭摄像头")).to_be_visible(timeout=15000)
    key = f"p:{cast.ids['member']}"
    feed = (await host.client.wait_for(lambda: feeds_of(host.client, key), 15))[0]
    return sid, host, feed, page


async def sent_layers(page: Page) -> list[dict[str, Any]]:
    """What the publishing Chromium sends: one outbound-rtp per simulcast layer."""
    return list(
        await page.evaluate(
            """async () => {
              const out = [];
              return await window.xieshang.sentLayers();
            }"""
        )
    )


async def test_a_constrained_subscriber_receives_the_low_layer_and_switching_changes_it(
    cast: Cast, open_as: Opener, server: TestServer, janus: Any
) -> None:
    sid, host, feed, page = await publishing_page(cast, open_as, server)
    url = str(server.make_url(""))
    constrained = Viewer(
        await RoomClient(url, {"token": cast.staff.token, "session_id": sid}).connect()
    )
    await constrained.subscribe_at(feed, "low")
    await host.subscribe(feed)  # asks for nothing: the highest layer
    # On this busy machine Chromium may encode a frame a second: generous waits.
    await until(lambda: host.width(feed) == FULL and constrained.width(feed), 90)
    sent = {layer["rid"]: layer for layer in await sent_layers(page)}
    assert {rid: sent[rid]["frameWidth"] for rid in sent} == {"h": 960, "m": 480, "l": 240}
    seen = len(constrained.sizes[feed])
    await until(lambda: len(constrained.sizes[feed]) >= seen + 5, 60)  # a while on both
    low_sizes, high_sizes = constrained.sizes[feed][-5:], host.sizes[feed][-3:]
    assert set(low_sizes) == {(LOW, 135)}, low_sizes
    assert set(high_sizes) == {(FULL, 540)}, high_sizes
    # Switching: the constrained one may now take the full picture, the other the middle one.
    await constrained.layer(feed, "high")
    await host.layer(feed, "medium")
    await until(lambda: constrained.width(feed) == FULL and host.width(feed) == FULL // 2, 90)
    assert host.sizes[feed][-1] == (480, 270)
    await constrained.layer(feed, "low")
    await until(lambda: constrained.width(feed) == LOW, 90)
    await constrained.close()
    await host.close()
