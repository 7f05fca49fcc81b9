"""Weak links with the embedded SFU: a subscription may carry a camera's sound without its
picture (``rtc.subscribe`` ``kinds``), and ``rtc.unsubscribe`` stops a feed altogether; the
server then sends nothing more of it (no track, no relay queue)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.media.base import KINDS, MediaError
from server.media.routes import SFU
from tests.conftest import Cast
from tests.server.media.test_media import GREEN, Colour, Peer, Tone, until

AUDIO = frozenset({"audio"})


async def test_audio_only_subscription_gets_sound_and_no_picture_and_unsubscribe_stops_all(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    assert (await host.client.command("floor.grant", who=f"p:{cast.ids['member']}", seconds=60))[
        "ok"
    ]
    await host.subscribe(feed, ["audio"])
    await until(lambda: len([x for x in host.audio[feed] if x > 1000]) > 10)
    assert host.video[feed] == []  # the sound arrives, the picture never does
    room = server.app[SFU].rooms[sid]
    relays = room.feeds[feed].relays
    assert relays["video"].tracks == set()  # nothing queued for this subscriber's video
    assert len(relays["audio"].tracks) == 1

    # Back to video: the same subscription again with both kinds.
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 5)
    assert len(relays["video"].tracks) == 1 and len(relays["audio"].tracks) == 1

    done = await host.client.call("rtc.unsubscribe", {"feed_id": feed})
    assert done == {"ok": True}
    assert relays["video"].tracks == set() and relays["audio"].tracks == set()
    assert not [k for k in room.subscriptions if k[1] == feed]
    await asyncio.sleep(0.3)  # what was in flight
    frames = len(host.video[feed])
    await asyncio.sleep(1.0)
    assert len(host.video[feed]) == frames  # nothing more is sent
    again = await host.client.call("rtc.unsubscribe", {"feed_id": feed})
    assert again["ok"] is False and again["error"]["code"] == "not_found"
    await member.close()
    await host.close()


async def test_kinds_and_unsubscribe_are_checked(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    await host.client.command("session.start")
    screen = await host.publish(Colour(GREEN), source="screen")  # a screen has no sound
    member = await clients(token=cast.member.token, session_id=sid)
    for kinds in ([], ["audio", "audio"], ["picture"], "audio", [1]):
        refused = await member.call("rtc.subscribe", {"feed_id": screen, "kinds": kinds})
        assert refused["ok"] is False and refused["error"]["code"] == "invalid", kinds
        assert "audio" in refused["error"]["message"]  # says what is accepted
    none = await member.call("rtc.subscribe", {"feed_id": screen, "kinds": ["audio"]})
    assert none["ok"] is False and none["error"]["code"] == "invalid"
    for payload in ({}, {"feed_id": ""}, {"feed_id": 5}, None):
        bad = await member.call("rtc.unsubscribe", payload)
        assert bad["ok"] is False and bad["error"]["code"] == "invalid", payload
    await member.close()
    await host.close()


async def test_asking_for_the_sound_of_a_feed_without_sound_stops_its_video_too(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    """A page on floor only asks for a camera's sound alone (its owner does not hold the
    floor); a camera published without a microphone has none. The request is refused, and the
    video it was receiving stops as well: the page dropped it, so nothing may keep sending it
    (a CI run of the floor-only browser test found it still sent)."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN))  # no microphone
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 3)
    relays = server.app[SFU].rooms[sid].feeds[feed].relays
    assert len(relays["video"].tracks) == 1
    refused = await host.client.call("rtc.subscribe", {"feed_id": feed, "kinds": ["audio"]})
    assert refused["ok"] is False and refused["error"]["code"] == "invalid"
    room = server.app[SFU].rooms[sid]
    assert relays["video"].tracks == set()
    assert [k for k in room.subscriptions if k[1] == feed] == [] and room.asking == {}
    await member.close()
    await host.close()


async def test_two_subscriptions_of_one_feed_at_once_leave_the_later_one(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    """A connection's messages are handled concurrently: when two rtc.subscribe of the same
    feed overlap (a switch flipped twice quickly), the one asked last counts, whichever the
    media server finishes first; the other is refused and nothing of it is left sending."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    sfu = server.app[SFU]
    for first, then in ((KINDS, AUDIO), (AUDIO, KINDS), (KINDS, AUDIO)):
        earlier, later = await asyncio.gather(
            sfu.subscribe(sid, "sid-1", feed, "p:1", first),
            sfu.subscribe(sid, "sid-1", feed, "p:1", then),
            return_exceptions=True,
        )
        assert isinstance(earlier, MediaError) and earlier.code == "conflict", earlier
        assert isinstance(later, str) and "m=audio" in later
        room = sfu.rooms[sid]
        relays = room.feeds[feed].relays
        assert len(relays["audio"].tracks) == 1  # the later one's, not two
        assert len(relays["video"].tracks) == (1 if then == KINDS else 0)
        assert [k for k in room.subscriptions if k[1] == feed] == [("sid-1", feed)]
        assert room.asking == {}
    await sfu.leave(sid, "sid-1")
    await member.close()
    await host.close()


async def test_a_subscription_left_or_cancelled_while_being_made_leaves_nothing(
    cast: Cast, room_session: dict[str, Any], clients: Any, server: TestServer
) -> None:
    """rtc.unsubscribe of a feed whose offer is still being made (a phone flips audio only off
    and on) is accepted and that offer is not kept; a request cancelled meanwhile (its
    connection's task ended) leaves no relay track asking the publisher for keyframes."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    sfu = server.app[SFU]
    relays = sfu.rooms[sid].feeds[feed].relays

    asking = asyncio.ensure_future(sfu.subscribe(sid, "sid-1", feed, "p:1"))
    await asyncio.sleep(0)  # the offer is being made: its relay tracks exist
    assert len(relays["video"].tracks) == 1
    await sfu.unsubscribe(sid, "sid-1", feed)  # accepted, though nothing is booked yet
    with pytest.raises(MediaError) as refused:
        await asking
    assert refused.value.code == "conflict"
    room = sfu.rooms[sid]
    assert relays["video"].tracks == set() and relays["audio"].tracks == set()
    assert room.subscriptions == {} and room.asking == {}

    cancelled = asyncio.ensure_future(sfu.subscribe(sid, "sid-2", feed, "p:1"))
    await asyncio.sleep(0)
    assert len(relays["video"].tracks) == 1
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert relays["video"].tracks == set() and relays["audio"].tracks == set()
    assert room.subscriptions == {} and room.asking == {}
    # The feed is still there to be received.
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 3)
    await member.close()
    await host.close()


async def test_the_embedded_sfu_accepts_a_layer_and_forwards_its_one_stream(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    """``rtc.layer`` is checked the same way on every backend; the embedded SFU has no simulcast
    (the snapshot says so, and the publish answer), so a layer changes nothing: the stream goes
    on as published."""
    sid = room_session["id"]
    host = Peer(await clients(token=cast.staff.token, session_id=sid))
    member = Peer(await clients(token=cast.member.token, session_id=sid))
    assert host.client.snapshots[-1]["simulcast"] is False
    await host.client.command("session.start")
    feed = await member.publish(Colour(GREEN), Tone())
    early = await host.client.call("rtc.layer", {"feed_id": feed, "layer": "low"})
    assert early["ok"] is False and early["error"]["code"] == "not_found"  # not subscribed
    await host.subscribe(feed)
    await until(lambda: len(host.video[feed]) >= 3)
    for payload in (
        {"feed_id": feed},
        {"feed_id": feed, "layer": "lowest"},
        {"feed_id": feed, "layer": 0},
        {"feed_id": feed, "layer": ["low"]},
        {"layer": "low"},
        {"feed_id": "", "layer": "low"},
        None,
    ):
        bad = await host.client.call("rtc.layer", payload)
        assert bad["ok"] is False and bad["error"]["code"] == "invalid", payload
    refused = await host.client.call("rtc.layer", {"feed_id": feed, "layer": "lowest"})
    assert '"low", "medium" or "high"' in refused["error"]["message"]  # says what is accepted
    other = await host.client.call("rtc.layer", {"feed_id": "nofeed", "layer": "low"})
    assert other["ok"] is False and other["error"]["code"] == "not_found"
    for layer in ("low", "medium", "high"):
        assert await host.client.call("rtc.layer", {"feed_id": feed, "layer": layer}) == {
            "ok": True
        }
    seen = len(host.video[feed])
    await until(lambda: len(host.video[feed]) >= seen + 5)  # still the one stream, going on
    await member.close()
    await host.close()
