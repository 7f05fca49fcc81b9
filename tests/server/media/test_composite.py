"""The session's one composite recording (issue #19): made by a background job from the
per-feed files and the room's floor events, listed and downloaded next to the feeds."""

from __future__ import annotations

import array
import asyncio
import datetime as dt
import math
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from server.config import Config
from server.db import Database
from server.media import recordings
from server.media.composite import FeedIn, plan
from server.media.compositing import ATTEMPTS, Compositor
from server.media.models import Recording
from server.rooms import store as room_store
from server.rooms.models import RoomEvent
from tests.conftest import Cast
from tests.server.media.feeds import BLUE, GREEN, RED, near, pixel, write_feed
from tests.server.sessions.test_sessions_api import create as create_session

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
LARGE_CENTRE = (640, 270)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


async def log_events(
    database: Database, sid: int, events: list[tuple[float, str, dict[str, Any]]]
) -> None:
    async with database.transaction() as db:
        for seq, (seconds, kind, data) in enumerate(events, start=1):
            db.add(
                RoomEvent(session_id=sid, seq=seq, type=kind, data=data, by=None, at=at(seconds))
            )


async def save_feed(
    database: Database,
    root: Path,
    sid: int,
    *,
    who: str,
    source: str,
    colour: tuple[int, int, int],
    start: float,
    seconds: float,
    tone: float | None = 440.0,
) -> None:
    """A feed's file, written and saved the way the SFU saves a finished recording."""
    path = root / str(sid) / f"{who.replace(':', '')}-{source}-{start}.webm"
    write_feed(path, colour, seconds, tone=tone)
    feed = SimpleNamespace(feed_id=f"f{who}{source}", who=who, source=source)
    done = {
        "path": path,
        "size": path.stat().st_size,
        "duration_ms": round(seconds * 1000),
        "started_at": at(start),
        "ended_at": at(start + seconds),
    }
    await recordings.save(database, root, sid, feed, who, done)


async def make_due(database: Database) -> None:
    """Skip the few seconds the job waits for the other feeds of a stop."""
    async with database.transaction() as db:
        await db.execute(
            update(Recording).where(Recording.kind == "composite").values(due_at=at(0))
        )


def compositor(
    database: Database, config: Config, budget: float = 300.0, per_second: float = 1.0
) -> Compositor:
    return Compositor(
        database, config.recording_dir, room_store.timeline, budget=budget, per_second=per_second
    )


async def composite_row(cast: Cast, sid: int) -> dict[str, Any]:
    items = (await cast.staff.get(f"/api/sessions/{sid}/recordings")).body["items"]
    return next(i for i in items if i["kind"] == "composite")


async def a_recorded_session(cast: Cast, database: Database, config: Config) -> int:
    """Two members on camera (red A from 0 s, blue B from 1 s, both to 9 s); A holds the
    floor from 0.5 s, B from 3.5 s; B shares a green screen from 6 s to 8.5 s."""
    sid = (await create_session(cast, title="住建局办理协商"))["id"]
    root = config.recording_dir
    await log_events(
        database,
        sid,
        [
            (0.0, "recording.start", {"name": "王秘书"}),
            (0.5, "floor.grant", {"who": "p:a", "seconds": 180}),
            (3.5, "floor.grant", {"who": "p:b", "seconds": 180}),
            (9.0, "recording.stop", {"name": "王秘书"}),
        ],
    )
    await save_feed(database, root, sid, who="p:a", source="camera", colour=RED, start=0, seconds=9)
    await save_feed(
        database, root, sid, who="p:b", source="camera", colour=BLUE, start=1, seconds=8, tone=660
    )
    await save_feed(
        database,
        root,
        sid,
        who="p:b",
        source="screen",
        colour=GREEN,
        start=6,
        seconds=2.5,
        tone=None,
    )
    return sid


async def test_the_composite_shows_the_floor_holder_large_the_screen_share_and_mixes_the_sound(
    cast: Cast, database: Database, config: Config, tmp_path: Path
) -> None:
    sid = await a_recorded_session(cast, database, config)
    pending = await composite_row(cast, sid)
    assert (pending["status"], pending["reason"]) == ("pending", None)
    job = compositor(database, config)
    assert await job.run_once() is None  # due a few seconds after the last feed came in
    await make_due(database)
    started = time.monotonic()
    assert await job.run_once() == pending["id"]
    took = time.monotonic() - started
    done = await composite_row(cast, sid)
    assert done["status"] == "done", done
    assert abs(done["duration_ms"] - 9000) <= 500
    assert took < 60, took  # 2–3 s here (2 cores, shared)

    status, data, headers = await cast.staff.download(f"/api/recordings/{done['id']}")
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    assert f"session-{sid}-{done['id']}.mp4" in headers["Content-Disposition"]
    path = tmp_path / "composite.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - 9.0) <= 0.5
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
        video = container.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 1280, 720)
        assert container.streams.audio[0].codec_context.name == "aac"
        frames = {round(f.time * 15): f for f in container.decode(video=0) if f.time is not None}
    with av.open(str(path)) as container:
        left = [x for f in container.decode(audio=0) for x in _samples(f)]  # 48 kHz

    def large(second: float) -> tuple[int, int, int]:
        return pixel(frames[round(second * 15)], *LARGE_CENTRE)

    def strip(second: float, x: int) -> tuple[int, int, int]:
        return pixel(frames[round(second * 15)], x, 630)

    assert near(large(0.2), RED)  # nobody holds the floor yet: the first camera
    assert near(large(2.0), RED), large(2.0)  # A holds the floor
    assert near(strip(2.0, 640), BLUE)  # B small, alone in the strip (centred)
    assert near(large(5.0), BLUE), large(5.0)  # B has the floor now
    assert near(strip(5.0, 640), RED)
    assert near(large(7.0), GREEN), large(7.0)  # the screen share large...
    assert near(strip(7.0, 480), BLUE)  # ...the floor holder first in the strip, then A
    assert near(strip(7.0, 800), RED)
    assert near(large(8.8), BLUE)  # the share ended
    assert abs(len(left) / 48000 - 9.0) <= 0.5
    alone, both = left[24000:28800], left[144000:148800]  # at 0.5 s (A only), at 3 s (A and B)
    assert tone(alone, 440) > 50 * tone(alone, 660)
    assert tone(both, 440) > 50 * tone(both, 1000) and tone(both, 660) > 50 * tone(both, 1000)


def _samples(frame: Any) -> list[float]:
    """The left channel of a decoded AAC frame (planar float)."""
    assert frame.format.name == "fltp"
    return list(array.array("f", bytes(frame.planes[0])[: frame.samples * 4]))


def tone(samples: list[float], hz: float) -> float:
    """The power of ``hz`` in ``samples`` (48 kHz), by Goertzel's algorithm."""
    k = 2 * math.cos(2 * math.pi * hz / 48000)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2


async def test_a_pause_in_the_recording_is_cut_out_and_the_floor_follows_it() -> None:
    feeds = [
        FeedIn("a.webm", "p:a", "camera", at(0), 10.0),
        FeedIn("b.webm", "p:b", "camera", at(100), 5.0),  # recording started again later
    ]
    events = [
        (at(1), "floor.grant", {"who": "p:a"}),
        (at(50), "floor.grant", {"who": "p:b"}),  # during the pause: from the restart on
        (at(102), "floor.expire", {"who": "p:b"}),
    ]
    spec = plan(feeds, events)
    assert spec["duration"] == 15.0
    assert [f["offset"] for f in spec["feeds"]] == [0.0, 10.0]
    assert spec["floor"] == [(0.0, None), (1.0, "p:a"), (10.0, "p:b"), (12.0, None)]


async def test_the_job_waits_while_the_session_records_and_fails_with_a_reason(
    cast: Cast, database: Database, config: Config
) -> None:
    sid = (await create_session(cast, title="教育局办理协商"))["id"]
    await log_events(database, sid, [(0.0, "recording.start", {"name": "王秘书"})])
    # Someone left while the recording goes on: their file is saved, the composite waits.
    await save_feed(
        database,
        config.recording_dir,
        sid,
        who="p:a",
        source="camera",
        colour=RED,
        start=0,
        seconds=1,
    )
    await make_due(database)
    job = compositor(database, config)
    assert await job.run_once() is None
    assert (await composite_row(cast, sid))["status"] == "pending"
    async with database.transaction() as db:
        db.add(RoomEvent(session_id=sid, seq=2, type="recording.stop", data={}, by=None, at=at(2)))
    # Its file is gone (removed by hand): nothing to make it from.
    for file in (config.recording_dir / str(sid)).iterdir():
        file.unlink()
    assert await job.run_once() is not None
    failed = await composite_row(cast, sid)
    assert (failed["status"], failed["reason"]) == ("failed", "no_media")
    reply = await cast.staff.get(f"/api/recordings/{failed['id']}")
    assert reply.status == 409 and "could not be made" in reply.text, reply.text


async def test_a_job_that_overruns_its_budget_is_killed_and_fails(
    cast: Cast, database: Database, config: Config
) -> None:
    sid = await a_recorded_session(cast, database, config)
    await make_due(database)
    assert await compositor(database, config, budget=0.05, per_second=0).run_once() is not None
    row = await composite_row(cast, sid)
    assert (row["status"], row["reason"]) == ("failed", "timeout")
    assert not list((config.recording_dir / str(sid)).glob("composite-*"))


async def test_a_job_whose_process_died_is_taken_over_after_its_lease_then_given_up(
    cast: Cast, database: Database, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = await a_recorded_session(cast, database, config)
    row = await composite_row(cast, sid)
    # A process claimed it and died: running, its lease over, half a file left behind.
    stray = config.recording_dir / str(sid) / "composite-20261201T020000.mp4"
    stray.write_bytes(b"\x00" * 100)
    async with database.transaction() as db:
        await db.execute(
            update(Recording)
            .where(Recording.kind == "composite")
            .values(status="running", attempts=1, lease_until=at(0), due_at=at(0))
        )
    # (The server's recording folder may be relative to its working directory.)
    monkeypatch.chdir(config.recording_dir.parent)
    relative = Path(config.recording_dir.name)
    job = Compositor(database, relative, room_store.timeline, budget=300)
    assert await job.run_once() is not None
    assert (await composite_row(cast, sid))["status"] == "done"
    status, data, _headers = await cast.staff.download(f"/api/recordings/{row['id']}")
    assert status == 200 and data[4:8] == b"ftyp"
    assert not stray.exists()
    async with database.transaction() as db:
        await db.execute(
            update(Recording)
            .where(Recording.kind == "composite")
            .values(status="running", attempts=ATTEMPTS, lease_until=at(0))
        )
    assert await compositor(database, config).run_once() is None
    row = await composite_row(cast, sid)
    assert (row["status"], row["reason"]) == ("failed", "abandoned")


async def test_the_composite_is_listed_for_staff_and_leaders_and_downloaded_by_staff_only(
    cast: Cast, database: Database, config: Config
) -> None:
    sid = await a_recorded_session(cast, database, config)
    url = f"/api/sessions/{sid}/recordings"
    items = (await cast.staff.get(url)).body["items"]
    assert [i["kind"] for i in items] == ["composite", "feed", "feed", "feed"]
    assert {i["status"] for i in items[1:]} == {"done"}
    composite = items[0]
    early = await cast.staff.get(f"/api/recordings/{composite['id']}")
    assert early.status == 409 and "still being made" in early.text, early.text
    await make_due(database)
    await compositor(database, config).run_once()
    assert (await cast.leader.get(url)).body["items"][0]["status"] == "done"
    assert (await cast.member.get(url)).status == 403
    assert (await cast.leader.download(f"/api/recordings/{composite['id']}"))[0] == 403
    status, data, _headers = await cast.staff.download(f"/api/recordings/{composite['id']}")
    assert status == 200 and data[4:8] == b"ftyp"  # an MP4
    # A feed recorded again later asks for it anew; the old file goes once the new one is made.
    old = (await cast.staff.get(url)).body["items"][0]
    await save_feed(
        database,
        config.recording_dir,
        sid,
        who="p:a",
        source="camera",
        colour=RED,
        start=20,
        seconds=1,
    )
    assert (await cast.staff.get(url)).body["items"][0]["status"] == "pending"
    await make_due(database)
    await compositor(database, config).run_once()
    again = (await cast.staff.get(url)).body["items"][0]
    assert again["status"] == "done" and abs(again["duration_ms"] - 10_000) <= 500, again
    assert len(list((config.recording_dir / str(sid)).glob("composite-*"))) == 1
    assert old["id"] == again["id"]


async def test_stopping_the_server_mid_job_puts_the_composite_back_in_the_queue(
    cast: Cast, database: Database, config: Config
) -> None:
    sid = await a_recorded_session(cast, database, config)
    await make_due(database)
    job = compositor(database, config)
    job.start()
    running = False
    for _ in range(500):
        if running := (await composite_row(cast, sid))["status"] == "running":
            break
        await asyncio.sleep(0.01)
    assert running
    await job.stop()
    row = await composite_row(cast, sid)
    assert row["status"] == "pending", row


async def test_a_job_stopped_between_its_claim_and_its_encode_puts_the_composite_back(
    cast: Cast, database: Database, config: Config
) -> None:
    """The stop comes after the row was claimed (``running``) but before the encoder was
    started, which is when the test above's poll usually sees ``running``: it made the whole
    composite anyway, and the row ended ``done`` instead of back in the queue."""
    sid = await a_recorded_session(cast, database, config)
    await make_due(database)
    job = compositor(database, config)
    await job.stop()  # stopping (never started): the next claim is the one in hand
    assert await job.run_once() is not None
    row = await composite_row(cast, sid)
    assert row["status"] == "pending", row
    assert list((config.recording_dir / str(sid)).glob("composite-*")) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 600), st.floats(0.1, 120), st.sampled_from(["p:a", "p:b", "p:c"])),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.tuples(st.floats(0, 800), st.sampled_from(["p:a", "p:b", None])), max_size=8),
)
def test_the_time_line_covers_every_feed_and_the_floor_moves_forward(
    spans: list[tuple[float, float, str]], grants: list[tuple[float, str | None]]
) -> None:
    feeds = [FeedIn(f"{i}.webm", who, "camera", at(s), d) for i, (s, d, who) in enumerate(spans)]
    events = [
        (at(t), "floor.grant" if who else "floor.revoke", {"who": who} if who else {})
        for t, who in sorted(grants, key=lambda g: g[0])
    ]
    spec = plan(feeds, events)
    # No longer than the recorded wall time, never shorter than the longest feed.
    wall = max(s + d for s, d, _ in spans) - min(s for s, _, _ in spans)
    assert max(d for _, d, _ in spans) - 0.01 <= spec["duration"] <= wall + 0.01
    for feed in spec["feeds"]:
        assert feed["offset"] >= 0 and feed["offset"] + feed["seconds"] <= spec["duration"] + 0.01
    times = [t for t, _who in spec["floor"]]
    assert times == sorted(times) and all(0 <= t <= spec["duration"] for t in times)
