"""The embedded SFU with real aiortc peers through the real server: publishers send their own
colour, subscribers decode it; microphones follow the floor and mutes; feeds are room events;
nothing is left behind."""

from __future__ import annotations

import array
import asyncio
import datetime as dt
import fractions
import math
import os
import threading
from importlib.metadata import version
from typing import Any

import av
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
from sqlalchemy import text

from server.api import DATABASE
from server.media.embedded.relay import Tap
from server.media.routes import SFU
from server.realtime import SIO
from tests.conftest import Cast
from tests.server.media.feeds import pixel
from tests.server.rooms.conftest import RoomClient

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 40), (30, 40, 220)


class Colour(VideoStreamTrack):
    """A camera that films one colour."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        self.picture = bytes(rgb) * (160 * 120)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(160, 120, "rgb24")
        frame.planes[0].update(self.picture)
        frame.pts, frame.time_base = pts, time_base
        return frame.reformat(format="yuv420p")


class Tone(AudioStreamTrack):
    """A microphone that hears a loud 440 Hz tone."""

    def __init__(self) -> None:
        super().__init__()
        self.sample = 0

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()  # silence with the right timing
        samples = array.array(
            "h",
            (
                int(12000 * math.sin(2 * math.pi * 440 * (self.sample + i) / 48000))
                for i in range(frame.samples)
            ),
        )
        self.sample += frame.samples
        loud = av.AudioFrame(format="s16", layout="mono", samples=frame.samples)
        loud.planes[0].update(samples.tobytes())
        loud.pts, loud.sample_rate, loud.time_base = frame.pts, 48000, fractions.Fraction(1, 48000)
        return loud


def centre(frame: av.VideoFrame) -> tuple[int, int, int]:
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    row = bytes(plane)[(rgb.height // 2) * plane.line_size :]
    x = (rgb.width // 2) * 3
    return row[x], row[x + 1], row[x + 2]


def loudness(frame: av.AudioFrame) -> float:
    samples = array.array("h", bytes(frame.planes[0]))
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


class Peer:
    """A room participant with media: publishes and subscribes through the server."""

    def __init__(self, client: RoomClient) -> None:
        self.client = client
        self.pcs: list[RTCPeerConnection] = []
        self.video: dict[str, list[tuple[int, int, int]]] = {}
        self.audio: dict[str, list[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def publish(self, *tracks: Any, source: str = "camera") -> str:
        # The session may be recorded: acknowledge the notice first (rooms/commands/consent.py).
        assert (await self.client.command("recording.consent", answer="accepted"))["ok"]
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        for track in tracks:
            pc.addTrack(track)
        await pc.setLocalDescription(await pc.createOffer())
        ack = await self.client.call(
            "rtc.publish", {"sdp": pc.localDescription.sdp, "source": source}
        )
        assert ack["ok"], ack
        await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))
        return str(ack["feed_id"])

    async def subscribe(self, feed_id: str, kinds: list[str] | None = None) -> None:
        asked: dict[str, Any] = {"feed_id": feed_id}
        if kinds is not None:
            asked["kinds"] = kinds
        ack = await self.client.call("rtc.subscribe", asked)
        assert ack["ok"], ack
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        self.video[feed_id], self.audio[feed_id] = [], []

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.tasks.append(asyncio.ensure_future(self._read(feed_id, track)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        done = await self.client.call(
            "rtc.answer", {"feed_id": feed_id, "sdp": pc.localDescription.sdp}
        )
        assert done["ok"], done

    async def _read(self, feed_id: str, track: Any) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video[feed_id].append(centre(frame))
                else:
                    self.audio[feed_id].append(loudness(frame))
        except MediaStreamError:
            return

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for pc in self.pcs:
            await pc.close()
        await self.client.close()


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 45) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


async def until(check: Any, seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.05)):
        if result := check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for media")


async def test_the_aiortc_internals_the_sfu_uses_are_there() -> None:
    assert version("aiortc").startswith("1.16."), "re-check server/media/embedded/sfu.py first"
    assert hasattr(RTCRtpReceiver, "_send_rtcp_pli")
    assert hasattr(RTCRtpSender, "_send_keyframe")
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    queue = receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
    assert type(queue).__name__ == "Queue" and hasattr(queue, "put")
    await pc.close()


async def test_three_publishers_and_a_screen_reach_every_subscriber_undecoded(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    unit = Peer(await clients(token=cast.unit.token, session_id=sid))
    snapshot = (await host.client.wait_for(lambda: host.client.snapshots))[0]
    assert snapshot["ice_servers"] == []
    await host.client.command("session.start")
    feeds = {
        "host": await host.publish(Colour(RED)),
        "member": await member.publish(Colour(GREEN)),
        "unit": await unit.publish(Colour(BLUE)),
        "screen": await unit.publish(Colour((240, 240, 240)), source="screen"),
    }
    await host.client.wait_for(
        lambda: len([e for e in host.client.events if e["type"] == "feed.add"]) == 4
    )
    state = (await member.client.call("sync", {"since": -1}))["snapshot"]["state"]
    assert sorted((f["who"], f["source"]) for f in state["feeds"]) == sorted(
        [
            (f"p:{cast.ids['staff']}", "camera"),
            (f"p:{cast.ids['member']}", "camera"),
            (f"p:{cast.ids['unit']}", "camera"),
            (f"p:{cast.ids['unit']}", "screen"),
        ]
    )
    assert {f["person_id"] for f in state["feeds"]} == {
        cast.ids["staff"],
        cast.ids["member"],
        cast.ids["unit"],
    }
    expected = {"host": RED, "member": GREEN, "unit": BLUE, "screen": (240, 240, 240)}
    watchers = {"host": host, "member": member, "unit": unit}
    for name, peer in watchers.items():
        for feed_name, feed_id in feeds.items():
            if feed_name != name and not (name == "unit" and feed_name == "screen"):
                await peer.subscribe(feed_id)
    for name, peer in watchers.items():
        for feed_name, feed_id in feeds.items():
            if feed_id not in peer.video:
                continue
            got = await until(lambda p=peer, f=feed_id: len(p.video[f]) >= 5 and p.video[f])
            assert near(got[-1], expected[feed_name]), (name, feed_name, got[-1])
    sfu = server.app[SFU]
    room = sfu.rooms[sid]
    for feed in room.feeds.values():
        tap = feed.relays["video"].receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
        assert isinstance(tap, Tap) and tap.qsize() == 0  # nothing was queued for decoding
        assert feed.relays["video"].frames > 0
    for peer in watchers.values():
        await peer.close()


async def test_microphones_follow_the_floor_and_mutes(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 5)
    await asyncio.sleep(0.7)
    assert host.audio[feed] == []  # not on the floor: the server forwards nothing
    member_key = f"p:{cast.ids['member']}"
    assert (await host.client.command("floor.grant", who=member_key, seconds=60))["ok"]
    heard = await until(lambda: [x for x in host.audio[feed] if x > 1000])
    assert len(heard) > 0
    speaking = await host.client.wait_for(
        lambda: next((e for e in host.client.events if e["type"] == "speaker.active"), None)
    )
    assert speaking["data"]["who"] == member_key and speaking["by"] == member_key
    assert (await host.client.command("audio.mute", who=member_key))["ok"]
    await asyncio.sleep(0.5)  # what was in flight
    count = len(host.audio[feed])
    await asyncio.sleep(1.0)
    assert len(host.audio[feed]) - count <= 2  # muted although they hold the floor
    assert (await member.client.command("audio.unmute", who=member_key))["error"][
        "code"
    ] == "forbidden"
    await host.client.command("audio.unmute", who=member_key)
    await until(lambda: len(host.audio[feed]) > count + 10)
    await host.client.command("floor.revoke")
    await asyncio.sleep(0.5)
    count = len(host.audio[feed])
    await asyncio.sleep(1.0)
    assert len(host.audio[feed]) - count <= 2
    await member.close()
    await host.close()


async def test_guests_may_not_publish_and_bad_offers_are_refused(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    member = await clients(token=cast.member.token, session_id=sid)
    assert (await member.command("recording.consent", answer="accepted"))["ok"]
    refused = await member.call("rtc.publish", {"sdp": "v=0 garbage", "source": "camera"})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid"
    screen = await member.call("rtc.publish", {"sdp": "v=0", "source": "screen"})
    assert screen["error"]["code"] == "forbidden"
    missing = await member.call("rtc.subscribe", {"feed_id": "nope"})
    assert missing["error"]["code"] == "not_found"
    assert (await member.call("rtc.answer", {"feed_id": "nope", "sdp": "v=0"}))["ok"] is False
    assert (await member.call("rtc.publish", {}))["error"]["code"] == "invalid"
    host = await clients(token=cast.staff.token, session_id=sid)
    await host.command("session.start")
    removed = await host.command("participant.remove", who=f"p:{cast.ids['member']}")
    assert removed["ok"], removed
    # Removed: the connection is closed, so nothing more reaches it (no feed either).
    await member.wait_for(lambda: not member.sio.connected)


async def test_leaving_ends_feeds_and_many_cycles_leak_nothing(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    """Publish, subscribe, disconnect, again: no peer connection, thread or socket is left.
    XIESHANG_MEDIA_CYCLES=100 runs the long version (reported in the closing note)."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    await host.client.command("session.start")
    sfu = server.app[SFU]

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def cycle() -> None:
        member = Peer(await clients(token=cast.member.token, session_id=sid))
        feed = await member.publish(Colour(GREEN))
        await host.subscribe(feed)
        await until(lambda: len(host.video[feed]) >= 2)
        await member.close()  # disconnects: its feed and the host's subscription end
        await until(lambda: sid not in sfu.rooms or feed not in sfu.rooms[sid].feeds)
        for pc in host.pcs:
            await pc.close()
        host.pcs.clear()
        host.tasks.clear()

    async def fill_the_pool() -> None:
        """Open every connection the database pool keeps (on SQLite each is a thread and a few
        files), so that the counts below can only grow by what media leaks: how many of its
        connections the pool happened to keep depends on how the cycles' reads overlapped."""
        database = server.app[DATABASE]
        size, opened, ready = database.engine.pool.size(), [0], asyncio.Event()  # type: ignore[attr-defined]

        async def one() -> None:
            async with database.read() as db:
                await db.execute(text("SELECT 1"))
                opened[0] += 1
                if opened[0] == size:
                    ready.set()
                await ready.wait()

        await asyncio.gather(*(one() for _ in range(size)))

    await cycle()  # warm up (imports, codec tables, the first thread pool workers)
    await fill_the_pool()
    await asyncio.sleep(0.5)
    threads, fds = threading.active_count(), open_fds()
    for _ in range(int(os.environ.get("XIESHANG_MEDIA_CYCLES", "10"))):
        await cycle()
    await until(lambda: sid not in sfu.rooms or not sfu.rooms[sid].subscriptions, 5)
    state = (await host.client.call("sync", {"since": -1}))["snapshot"]["state"]
    assert state["feeds"] == []
    await asyncio.sleep(1.0)
    assert threading.active_count() <= threads + 1, threading.enumerate()
    assert open_fds() <= fds + 4, f"{open_fds() - fds} more open files or sockets"
    await host.close()


async def test_a_subscription_made_while_its_connection_left_is_not_kept(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    """A phone on 4G asks for a feed (and publishes) and drops while the server makes the offer
    (the answer): the disconnect closes that connection's media first, then the offer is booked.
    Neither may be kept for the departed connection (a relay track would ask the publisher for
    keyframes, a feed would be listed, for as long as the room lasts). The handlers run in that
    order on the server's own namespace."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    await host.client.command("session.start")
    feed = await host.publish(Colour(RED), Tone())
    member = await clients(token=cast.member.token, session_id=sid)
    await member.wait_for(lambda: member.snapshots)
    assert (await member.command("recording.consent", answer="accepted"))["ok"]
    gone = member.sio.get_sid("/room")
    namespace = server.app[SIO].namespace_handlers["/room"]
    sdp = await offer()
    asking = asyncio.ensure_future(namespace.on_rtc_subscribe(gone, {"feed_id": feed}))
    publishing = asyncio.ensure_future(
        namespace.on_rtc_publish(gone, {"sdp": sdp, "source": "camera"})
    )
    await asyncio.sleep(0)  # the offer and the answer are being made
    assert not asking.done() and not publishing.done()
    await namespace.on_disconnect(gone)
    await asking
    assert (await publishing)["ok"]
    sfu = server.app[SFU]
    assert [key for key in sfu.rooms[sid].subscriptions if key[0] == gone] == []
    assert [f.who for f in sfu.rooms[sid].feeds.values()] == [f"p:{cast.ids['staff']}"]
    relays = sfu.rooms[sid].feeds[feed].relays
    assert relays["video"].tracks == set() and relays["audio"].tracks == set()
    await member.close()
    await host.close()


async def offer() -> str:
    """A publisher's offer (a camera with its microphone), from a connection that goes away."""
    pc = RTCPeerConnection()
    pc.addTrack(Colour(GREEN))
    pc.addTrack(Tone())
    await pc.setLocalDescription(await pc.createOffer())
    sdp = str(pc.localDescription.sdp)
    await pc.close()
    return sdp


async def test_ending_or_shutting_down_closes_feeds_quietly(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer, caplog: Any
) -> None:
    """Closing a room's publisher connections (the session ended, or shutdown) must not come
    back as "this publisher failed": that brought an empty room back into the books and logged
    "You publish no such feed." for every feed."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    unit = Peer(await clients(token=cast.unit.token, session_id=sid))
    await host.client.command("session.start")
    await host.publish(Colour(RED), Tone())
    await unit.publish(Colour(GREEN))
    await unit.publish(Colour((240, 240, 240)), source="screen")
    sfu = server.app[SFU]
    await sfu.close()
    await asyncio.sleep(0.5)  # the connection state callbacks run
    assert sfu.rooms == {}
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    await unit.close()
    await host.close()


async def test_a_recording_is_announced_kept_per_feed_and_plays_for_its_duration(
    cast: Cast, room_session: dict[str, Any], clients: Any, tmp_path: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    await member.publish(Colour(GREEN), Tone())
    await host.client.command("floor.grant", who=f"p:{cast.ids['member']}", seconds=120)
    assert (await member.client.command("recording.start"))["error"]["code"] == "forbidden"
    assert (await host.client.command("recording.start"))["ok"]
    started = await member.client.wait_for(
        lambda: next((e for e in member.client.events if e["type"] == "recording.start"), None)
    )
    await asyncio.sleep(3.0)
    assert (await host.client.command("recording.stop"))["ok"]
    stopped = await member.client.wait_for(
        lambda: next((e for e in member.client.events if e["type"] == "recording.stop"), None)
    )
    url = f"/api/sessions/{sid}/recordings"
    items: list[Any] = []
    for _ in range(100):
        items = [i for i in (await cast.staff.get(url)).body["items"] if i["kind"] == "feed"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert items and len(items) == 1, items
    record = items[0]
    assert (record["who"], record["name"], record["source"]) == (
        f"p:{cast.ids['member']}",
        "张委员",
        "camera",
    )
    wall = (
        dt.datetime.fromisoformat(stopped["at"]) - dt.datetime.fromisoformat(started["at"])
    ).total_seconds()
    assert (await cast.leader.get(url)).status == 200
    assert (await cast.member.get(url)).status == 403
    assert (await cast.leader.download(f"/api/recordings/{record['id']}"))[0] == 403
    status, data, headers = await cast.staff.download(f"/api/recordings/{record['id']}")
    assert status == 200 and headers["Content-Type"] == "video/webm"
    path = tmp_path / "downloaded.webm"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        kinds = sorted(s.type for s in container.streams)
        duration = container.duration / 1_000_000
        colours = [centre(f) for f in container.decode(video=0)]
    assert kinds == ["audio", "video"]
    assert abs(duration - wall) <= 0.1 * wall, (duration, wall)
    assert len(colours) > 20 and near(colours[-1], GREEN)
    # The server's own job makes the session's composite a few seconds after the stop.
    composite: dict[str, Any] = {}
    for _ in range(600):
        listed = (await cast.staff.get(url)).body["items"]
        composite = next(i for i in listed if i["kind"] == "composite")
        if composite["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    assert composite["status"] == "done", composite
    assert abs(composite["duration_ms"] - record["duration_ms"]) <= 500
    status, data, headers = await cast.staff.download(f"/api/recordings/{composite['id']}")
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        kinds = sorted(s.type for s in container.streams)
        large = [pixel(f, 640, 270) for f in container.decode(video=0)]
    assert kinds == ["audio", "video"]
    assert near(large[-1], GREEN), large[-1]  # the floor holder's camera, large
    await member.close()
    await host.close()


async def test_who_may_be_heard_does_not_bring_back_a_room_without_media(
    server: TestServer,
) -> None:
    """The room's observer tells the SFU who may be heard after every presence or floor change;
    a room whose last connection left must stay gone (a coalesced presence.leave arrives after
    the media left, and brought an empty room back that nothing would ever remove)."""
    sfu = server.app[SFU]
    sfu.hear(4242, frozenset({"p:1"}))
    assert 4242 not in sfu.rooms
    sfu.hear(4242, frozenset())
    assert 4242 not in sfu.rooms
