"""The Janus tier with real Janus instances (started per test from ``deploy/janus/``) and real
aiortc peers through the real server's ``rtc.*``: content arrives (colours, a tone), the floor
decides whose microphone is heard, recordings are made, and a killed instance's room recovers on
the other one."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config, ConfigError
from server.media.janus import store
from server.media.janus.client import JanusDown, JanusError, JanusInstance
from server.media.janus.placement import KEYFRAME_EVERY, Place
from server.media.janus.sfu import JanusSfu
from server.media.routes import MEDIA
from tests.conftest import Cast, redis_url
from tests.server.media.janus_setup import (  # noqa: F401  (fixtures)
    JanusProcess,
    janus_fixture,
    shim_fixture,
    start_janus,
)
from tests.server.media.test_media import (
    BLUE,
    GREEN,
    RED,
    Colour,
    Peer,
    Tone,
    centre,
    near,
    until,
)
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create


@pytest.fixture
def config(config: Config, janus: list[JanusProcess]) -> Config:
    return config.with_changes(
        janus_urls=tuple(j.url for j in janus),
        janus_api_secret=janus[0].api_secret,
        janus_admin_key=janus[0].admin_key,
    )


@contextlib.asynccontextmanager
async def two_processes(
    config: Config, session_id: int, tokens: tuple[str, str]
) -> AsyncIterator[tuple[list[TestServer], list[Peer]]]:
    """Two server processes sharing a Redis channel, and a peer in the room through each (the
    first token's through the first process); everything is closed afterwards."""
    shared = config.with_changes(redis_url=redis_url(), redis_channel=f"t-{secrets.token_hex(6)}")
    servers = [TestServer(create_app(shared), host="127.0.0.1") for _ in range(2)]
    for srv in servers:
        await srv.start_server()
    made: list[RoomClient] = []
    try:
        for srv, token in zip(servers, tokens, strict=True):
            auth = {"token": token, "session_id": session_id}
            made.append(await RoomClient(str(srv.make_url("")), auth).connect())
        yield servers, [Peer(client) for client in made]
    finally:
        for client in made:
            await client.close()
        for srv in servers:
            await srv.close()


async def placed_on(server: TestServer, session_id: int) -> str:
    backend = server.app[MEDIA]
    assert isinstance(backend, JanusSfu)
    async with backend.placer.database.read() as db:
        row = await store.placement_of(db, session_id)
    assert row is not None
    return row.instance


async def test_publishers_reach_every_subscriber_through_janus(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer, janus: Any
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
    assert await placed_on(server, sid) == janus[0].url
    # The room has Janus ask publishers for a keyframe every KEYFRAME_EVERY seconds (a busy
    # browser may not answer a single request: tests/web/test_simulcast_janus.py).
    backend = server.app[MEDIA]
    place = await backend.placer.place(sid)
    listed = await backend.placer.request(place, {"request": "list"}, with_admin=True)
    (room,) = [r for r in listed["list"] if r["room"] == place.room]
    assert room["fir_freq"] == KEYFRAME_EVERY == 10
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
    # Nothing of Janus reaches clients: no secret in any message they got.
    everything = repr(host.client.events) + repr(host.client.snapshots)
    for secret in (janus[0].api_secret, janus[0].admin_key, "janus"):
        assert secret not in everything
    await unit.client.call("rtc.unpublish", {"feed_id": feeds["screen"]})
    await host.client.wait_for(
        lambda: any(
            e["type"] == "feed.remove" and e["data"]["feed_id"] == feeds["screen"]
            for e in host.client.events
        )
    )
    for peer in watchers.values():
        await peer.close()


async def test_microphones_follow_the_floor_through_janus(
    cast: Cast, room_session: dict[str, Any], clients: Any, janus: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 5)
    await asyncio.sleep(0.7)
    assert [x for x in host.audio[feed] if x > 1000] == []  # not on the floor: Janus mutes it
    member_key = f"p:{cast.ids['member']}"
    assert (await host.client.command("floor.grant", who=member_key, seconds=60))["ok"]
    heard = await until(lambda: [x for x in host.audio[feed] if x > 1000])
    assert len(heard) > 0
    speaking = await host.client.wait_for(
        lambda: next((e for e in host.client.events if e["type"] == "speaker.active"), None)
    )
    assert speaking["data"]["who"] == member_key
    assert (await host.client.command("audio.mute", who=member_key))["ok"]
    await asyncio.sleep(0.5)  # what was in flight
    count = len([x for x in host.audio[feed] if x > 1000])
    await asyncio.sleep(1.0)
    assert len([x for x in host.audio[feed] if x > 1000]) - count <= 2  # muted on the floor
    await host.client.command("audio.unmute", who=member_key)
    await until(lambda: len([x for x in host.audio[feed] if x > 1000]) > count + 10)
    await host.client.command("floor.revoke")
    await asyncio.sleep(0.5)
    count = len([x for x in host.audio[feed] if x > 1000])
    await asyncio.sleep(1.0)
    assert len([x for x in host.audio[feed] if x > 1000]) - count <= 2
    await member.close()
    await host.close()


async def test_janus_recordings_are_listed_and_play_with_audio_and_video(
    cast: Cast, room_session: dict[str, Any], clients: Any, tmp_path: Path, janus: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    await host.client.command("floor.grant", who=f"p:{cast.ids['member']}", seconds=120)
    await member.publish(Colour(GREEN), Tone())
    assert (await host.client.command("recording.start"))["ok"]
    started = dt.datetime.now(dt.UTC)
    await asyncio.sleep(3.0)
    assert (await host.client.command("recording.stop"))["ok"]
    wall = (dt.datetime.now(dt.UTC) - started).total_seconds()
    url = f"/api/sessions/{sid}/recordings"
    items: list[Any] = []
    for _ in range(200):
        items = [i for i in (await cast.staff.get(url)).body["items"] if i["kind"] == "feed"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert len(items) == 1, items
    record = items[0]
    assert (record["who"], record["source"]) == (f"p:{cast.ids['member']}", "camera")
    status, data, headers = await cast.staff.download(f"/api/recordings/{record['id']}")
    assert status == 200 and headers["Content-Type"] == "video/webm"
    path = tmp_path / "downloaded.webm"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        kinds = sorted(s.type for s in container.streams)
        colours = [centre(f) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = [f for f in container.decode(audio=0)]
    assert kinds == ["audio", "video"]
    assert len(colours) > 10 and near(colours[-1], GREEN), colours[-3:]
    assert audio and abs(record["duration_ms"] / 1000 - wall) <= 0.35 * wall, (record, wall)
    await member.close()
    await host.close()


async def test_a_killed_janus_hands_its_room_to_the_other_one(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer, janus: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    restarts: list[Any] = []
    member.client.sio.on("rtc.restart", restarts.append, namespace="/room")
    host.client.sio.on("rtc.restart", restarts.append, namespace="/room")
    await host.client.command("session.start")
    await host.client.command("floor.grant", who=f"p:{cast.ids['member']}", seconds=120)
    feed = await member.publish(Colour(GREEN), Tone())
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 5)
    assert (await host.client.command("recording.start"))["ok"]
    await asyncio.sleep(3)  # Janus writes through a stdio buffer: let it flush some
    first = await placed_on(server, sid)
    dead = next(j for j in janus if j.url == first)
    dead.kill()
    killed = asyncio.get_running_loop().time()
    await until(lambda: len(restarts) == 2, 5)
    assert {r["reason"] for r in restarts} == {"media_moved"}
    await host.client.wait_for(
        lambda: any(
            e["type"] == "feed.remove" and e["data"]["feed_id"] == feed for e in host.client.events
        )
    )
    # What the web client does on rtc.restart: close its peer connections, publish again and
    # subscribe to the feeds the room now lists.
    for peer in (host, member):
        for pc in peer.pcs:
            await pc.close()
        peer.pcs.clear()
    again = await member.publish(Colour(GREEN), Tone())
    await host.subscribe(again)
    got = await until(lambda: len(host.video[again]) >= 5 and host.video[again])
    recovered = asyncio.get_running_loop().time() - killed
    assert near(got[-1], GREEN) and recovered < 5.0, recovered
    assert await placed_on(server, sid) != first
    state = (await host.client.call("sync", {"since": -1}))["snapshot"]["state"]
    assert [f["feed_id"] for f in state["feeds"]] == [again]
    # The recording went on: what the dead instance wrote is kept, the new feed is recorded.
    await asyncio.sleep(1.0)
    assert (await host.client.command("recording.stop"))["ok"]
    items: list[Any] = []
    for _ in range(100):
        listed = (await cast.staff.get(f"/api/sessions/{sid}/recordings")).body["items"]
        items = [i for i in listed if i["kind"] == "feed"]
        if len(items) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(items) == 2, items
    assert all(i["who"] == f"p:{cast.ids['member']}" and i["duration_ms"] > 500 for i in items)
    await member.close()
    await host.close()


async def test_a_feed_whose_connection_closes_ends_for_everyone(
    cast: Cast, room_session: dict[str, Any], clients: Any, janus: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN))
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 3)
    await member.pcs[0].close()  # still in the room, but the browser's connection is gone
    await host.client.wait_for(
        lambda: any(
            e["type"] == "feed.remove" and e["data"]["feed_id"] == feed for e in host.client.events
        ),
        10,
    )
    await member.close()
    await host.close()


async def test_bad_offers_and_unknown_feeds_are_refused_on_janus(
    cast: Cast, room_session: dict[str, Any], clients: Any, janus: Any
) -> None:
    sid = room_session["id"]
    member = await clients(token=cast.member.token, session_id=sid)
    assert (await member.command("recording.consent", answer="accepted"))["ok"]
    refused = await member.call("rtc.publish", {"sdp": "v=0 garbage", "source": "camera"})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid"
    broken = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    refused = await member.call("rtc.publish", {"sdp": broken, "source": "camera"})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid", refused
    for feed_id in ("nope", "12345"):
        missing_feed = await member.call("rtc.subscribe", {"feed_id": feed_id})
        assert missing_feed["error"]["code"] == "not_found", missing_feed
    assert (await member.call("rtc.answer", {"feed_id": "nope", "sdp": "v=0"}))["ok"] is False


async def test_two_rooms_go_to_the_least_loaded_instances_and_leave_nothing_behind(
    cast: Cast, clients: Any, server: TestServer, janus: Any
) -> None:
    first = await create(cast)
    second = await create(cast, title="第二场协商")
    peers = []
    for session in (first, second):
        host = Peer(await clients(token=cast.staff.token, session_id=session["id"]))
        member = Peer(await clients(token=cast.member.token, session_id=session["id"]))
        await host.client.command("session.start")
        feed = await member.publish(Colour(GREEN))
        await host.subscribe(feed)
        await until(lambda h=host, f=feed: len(h.video[f]) >= 3)
        peers += [host, member]
    placed = {await placed_on(server, s["id"]) for s in (first, second)}
    assert placed == {j.url for j in janus}  # one room on each
    backend = server.app[MEDIA]
    assert isinstance(backend, JanusSfu)
    for peer in peers:
        await peer.close()
    await until(lambda: not backend.rooms, 5)
    for instance in backend.instances.values():  # only the control session of each is left
        assert len(instance.sessions) == 1, instance.sessions
    staff = await clients(token=cast.staff.token, session_id=first["id"])
    assert (await staff.command("session.end"))["ok"]

    async def placement() -> Any:
        async with backend.placer.database.read() as db:
            return await store.placement_of(db, first["id"])

    for _ in range(50):
        if await placement() is None:
            break
        await asyncio.sleep(0.1)
    assert await placement() is None  # the Janus room was destroyed and forgotten


async def test_the_control_connection_keeps_sessions_alive_and_reconnects(
    shim: Path, tmp_path: Path
) -> None:
    secret, key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    janus = await start_janus(tmp_path / "a", shim, secret, key, session_timeout=2)
    ups, downs = [], []

    async def up(instance: JanusInstance) -> None:
        ups.append(instance)

    async def down(instance: JanusInstance) -> None:
        downs.append(instance)

    instance = JanusInstance(janus.url, api_secret=secret, on_up=up, on_down=down, keepalive=0.5)
    intruder = JanusInstance(janus.url, api_secret="not-the-secret")
    silent = JanusInstance(janus.url, api_secret=secret, keepalive=3600)
    again = None
    try:
        await instance.start()
        await intruder.start()
        await silent.start()
        with pytest.raises(JanusError) as refused:
            await intruder.create_session()
        assert refused.value.code == 403
        sessions = [await instance.create_session() for _ in range(3)]
        forgotten = await silent.create_session()
        # Janus's watchdog looks every few seconds: 8 s is well past its 2 s session_timeout.
        await asyncio.sleep(8)
        for session in sessions:  # kept alive by the keepalives
            assert await instance.attach(session)
        with pytest.raises(JanusError):  # no keepalives: Janus let it go
            await silent.attach(forgotten)
        session = sessions[0]
        janus.kill()
        await until(lambda: downs, 5)
        with pytest.raises(JanusDown):
            await instance.create_session()
        again = await start_janus(tmp_path / "b", shim, secret, key, port=janus.port)
        await until(lambda: len(ups) == 2 and instance.up, 10)
        with pytest.raises(JanusError):
            await instance.attach(session)  # it ended with the Janus that was killed
        assert await instance.create_session()
    finally:
        await instance.close()
        await intruder.close()
        await silent.close()
        janus.stop()
        if again is not None:
            again.stop()


@pytest.mark.redis
async def test_two_server_processes_share_a_room_on_janus(
    cast: Cast, room_session: dict[str, Any], config: Config, janus: Any
) -> None:
    """A member connected to one process publishes; a host connected to another sees and hears
    them, and the floor the host gives is enforced by the member's process. When the instance
    dies, both processes move the room to the same other instance."""
    sid = room_session["id"]
    tokens = (cast.member.token, cast.staff.token)
    async with two_processes(config, sid, tokens) as (servers, (member, host)):
        await host.client.command("session.start")
        feed = await member.publish(Colour(GREEN), Tone())
        await host.subscribe(feed)
        got = await until(lambda: len(host.video[feed]) >= 5 and host.video[feed])
        assert near(got[-1], GREEN)
        await asyncio.sleep(0.5)
        assert [x for x in host.audio[feed] if x > 1000] == []
        member_key = f"p:{cast.ids['member']}"
        assert (await host.client.command("floor.grant", who=member_key, seconds=60))["ok"]
        await until(lambda: [x for x in host.audio[feed] if x > 1000])
        places = {await placed_on(srv, sid) for srv in servers}
        assert len(places) == 1
        # Both processes see the instance die; the room moves once and both agree where to.
        restarts: list[Any] = []
        for client in (member.client, host.client):
            client.sio.on("rtc.restart", restarts.append, namespace="/room")
        next(j for j in janus if j.url in places).kill()
        await until(lambda: len(restarts) == 2, 5)
        moved = {await placed_on(srv, sid) for srv in servers}
        assert len(moved) == 1 and moved != places
        for peer in (host, member):
            for pc in peer.pcs:
                await pc.close()
            peer.pcs.clear()
        again = await member.publish(Colour(GREEN), Tone())
        await host.subscribe(again)
        await until(lambda: [x for x in host.audio[again] if x > 1000])  # still on the floor
        got = await until(lambda: len(host.video[again]) >= 5 and host.video[again])
        assert near(got[-1], GREEN)
        await member.close()
        await host.close()


def test_janus_settings_are_checked_at_start_and_secrets_stay_out_of_reprs() -> None:
    env = {
        "XIESHANG_JANUS_URLS": "ws://10.0.0.5:8188, ws://10.0.0.6:8188",
        "XIESHANG_JANUS_API_SECRET": "api-secret-value",
        "XIESHANG_JANUS_ADMIN_KEY": "admin-key-value",
    }
    config = Config.from_env(env)
    assert config.janus_urls == ("ws://10.0.0.5:8188", "ws://10.0.0.6:8188")
    assert "api-secret-value" not in repr(config) and "admin-key-value" not in repr(config)
    with pytest.raises(ConfigError, match="XIESHANG_JANUS_URLS"):
        Config.from_env({"XIESHANG_JANUS_URLS": "http://10.0.0.5:8088/janus"})
    assert Config.from_env({}).janus_urls == ()
    place = Place(JanusInstance("ws://10.0.0.5:8188", api_secret="api-secret-value"), 7, "room-pw")
    assert "room-pw" not in repr(place) and "api-secret-value" not in repr(place)


@pytest.mark.redis
async def test_when_one_process_loses_its_janus_the_other_processes_follow_the_room(
    cast: Cast, room_session: dict[str, Any], config: Config, janus: Any
) -> None:
    """The instance is fine but one process's control connection to it breaks: that process
    moves the room; a process that still had a feed on the old instance notices the move and
    restarts its connection too, so the whole room ends up on one instance."""
    sid = room_session["id"]
    tokens = (cast.staff.token, cast.member.token)
    async with two_processes(config, sid, tokens) as (servers, (host, member)):
        restarts: dict[str, list[Any]] = {"host": [], "member": []}
        host.client.sio.on("rtc.restart", restarts["host"].append, namespace="/room")
        member.client.sio.on("rtc.restart", restarts["member"].append, namespace="/room")
        await host.client.command("session.start")
        feed = await member.publish(Colour(GREEN))
        await host.subscribe(feed)
        await until(lambda: len(host.video[feed]) >= 5)
        first = await placed_on(servers[0], sid)
        backend = servers[0].app[MEDIA]
        assert isinstance(backend, JanusSfu)
        lost = backend.instances[first]
        ws = lost._ws
        assert ws is not None
        lost.grace = 0  # a break longer than the grace (a short one reclaims the sessions)
        await ws.close()  # the host's process loses its connection; Janus itself is fine
        await until(lambda: restarts["host"] and restarts["member"], 5)
        assert await placed_on(servers[1], sid) != first
        for peer in (host, member):
            for pc in peer.pcs:
                await pc.close()
            peer.pcs.clear()
        again = await member.publish(Colour(GREEN))
        await host.subscribe(again)
        got = await until(lambda: len(host.video[again]) >= 5 and host.video[again])
        assert near(got[-1], GREEN)
        await member.close()
        await host.close()
