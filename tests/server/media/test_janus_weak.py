"""Weak links on the Janus tier (real Janus instances, aiortc peers): an audio-only
subscription (``rtc.subscribe`` ``kinds: ["audio"]``) is offered the feed's sound only and
hears it; ``rtc.unsubscribe`` ends the subscription on Janus; the same when the feed was
published through another server process; a video-only one is offered no sound."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.config import Config
from server.media.routes import MEDIA
from tests.conftest import Cast
from tests.server.media.janus_setup import janus_fixture, shim_fixture  # noqa: F401  (fixtures)
from tests.server.media.test_janus import config, two_processes  # noqa: F401  (the Janus tier)
from tests.server.media.test_media import GREEN, Colour, Peer, Tone, until


async def test_audio_only_through_janus_gets_no_video_and_unsubscribe_ends_it(
    cast: Cast, room_session: dict[str, Any], clients: Any, janus: Any, server: TestServer
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    member_key = f"p:{cast.ids['member']}"
    assert (await host.client.command("floor.grant", who=member_key, seconds=60))["ok"]
    offer = await host.client.call("rtc.subscribe", {"feed_id": feed, "kinds": ["audio"]})
    assert offer["ok"], offer
    kinds = [line.split()[0] for line in offer["sdp"].splitlines() if line.startswith("m=")]
    assert kinds == ["m=audio"]  # Janus offers the sound only
    await host.subscribe(feed, ["audio"])
    await until(lambda: len([x for x in host.audio[feed] if x > 1000]) > 10, 20)
    await asyncio.sleep(0.5)
    assert host.video[feed] == []
    room = server.app[MEDIA].rooms[sid]  # type: ignore[attr-defined]
    assert len([k for k in room.subscriptions if k[1] == feed]) == 1  # the second replaced it
    assert (await host.client.call("rtc.unsubscribe", {"feed_id": feed})) == {"ok": True}
    assert [k for k in room.subscriptions if k[1] == feed] == []
    await asyncio.sleep(0.5)  # what was in flight
    heard = len(host.audio[feed])
    await asyncio.sleep(1.0)
    assert len(host.audio[feed]) - heard <= 2  # Janus sends nothing more
    await member.close()
    await host.close()


async def test_audio_only_of_a_camera_without_sound_is_refused_on_janus(
    cast: Cast, room_session: dict[str, Any], clients: Any, janus: Any, server: TestServer
) -> None:
    """As on the embedded SFU: the feed carries none of the kinds asked for (before, Janus was
    asked for every stream and sent the video)."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN))
    refused = await host.client.call("rtc.subscribe", {"feed_id": feed, "kinds": ["audio"]})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid", refused
    room = server.app[MEDIA].rooms[sid]  # type: ignore[attr-defined]
    assert [k for k in room.subscriptions if k[1] == feed] == []
    await host.subscribe(feed)  # the picture is still there for the asking
    await until(lambda: len(host.video[feed]) >= 3, 20)
    await member.close()
    await host.close()


async def test_video_only_through_janus_offers_and_sends_no_sound(
    cast: Cast, room_session: dict[str, Any], clients: Any, janus: Any, server: TestServer
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    member_key = f"p:{cast.ids['member']}"
    assert (await host.client.command("floor.grant", who=member_key, seconds=60))["ok"]
    await host.subscribe(feed, ["video"])
    offered = host.pcs[-1].remoteDescription.sdp.splitlines()
    assert [m.split()[0] for m in offered if m.startswith("m=")] == ["m=video"]
    await until(lambda: len(host.video[feed]) >= 5, 20)
    await asyncio.sleep(0.5)
    assert host.audio[feed] == []  # the floor holder's sound, not asked for
    await member.close()
    await host.close()


@pytest.mark.redis
async def test_audio_only_of_a_feed_published_through_another_process(
    cast: Cast,
    room_session: dict[str, Any],
    config: Config,  # noqa: F811  (the Janus tier's, imported above)
    janus: Any,
) -> None:
    """The member publishes through one process; the host, connected to another, asks for the
    sound only: Janus offers the sound only and sends no video, and the unsubscribe ends it.
    (The host's process knows the feed from the room's state, not from its own books.)"""
    sid = room_session["id"]
    tokens = (cast.member.token, cast.staff.token)
    async with two_processes(config, sid, tokens) as (_servers, (member, host)):
        await host.client.command("session.start")
        feed = await member.publish(Colour(GREEN), Tone())
        member_key = f"p:{cast.ids['member']}"
        assert (await host.client.command("floor.grant", who=member_key, seconds=60))["ok"]
        await host.subscribe(feed, ["audio"])
        await until(lambda: len([x for x in host.audio[feed] if x > 1000]) > 10, 20)
        await asyncio.sleep(0.5)
        assert host.video[feed] == []
        offered = host.pcs[-1].remoteDescription.sdp.splitlines()
        assert [m.split()[0] for m in offered if m.startswith("m=")] == ["m=audio"]
        assert (await host.client.call("rtc.unsubscribe", {"feed_id": feed})) == {"ok": True}
        await asyncio.sleep(0.5)  # what was in flight
        heard = len(host.audio[feed])
        await asyncio.sleep(1.0)
        assert len(host.audio[feed]) - heard <= 2  # Janus sends nothing more
        await member.close()
        await host.close()
