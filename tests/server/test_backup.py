"""``xieshang backup`` while a room runs on a real server, then ``xieshang restore`` into a new
folder and a new server on it: what was acknowledged before the backup began is all there."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from server.config import Config
from tests.conftest import Cast
from tests.server.rooms.test_durability import Listener, ServerProcess, free_port
from tests.server.sessions.test_sessions_api import create
from tests.server.test_cli import run

pytestmark = pytest.mark.timeout(60)
FAST_ROOM = {"XIESHANG_ROOM_COMMAND_RATE": "1000", "XIESHANG_ROOM_COMMAND_BURST": "10000"}


@pytest.fixture
async def servers() -> AsyncIterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for process in started:
        await process.stop()


def sqlite_only(config: Config) -> None:
    if not config.db_url.startswith("sqlite"):
        pytest.skip("the online backup is SQLite's; PostgreSQL uses pg_dump")


async def held_with_minutes(url: str, cast: Cast) -> int:
    """A session run and ended in its room on the server at ``url``: its minutes exist."""
    sid = int((await create(cast))["id"])
    host = await Listener(url, {"token": cast.staff.token, "session_id": sid}).connect()
    assert (await host.command("session.start"))["ok"]
    edit = {"item_id": 1, "op": "notes", "text": "住建局介绍了进展", "base_version": 0}
    assert (await host.command("minutes.edit", **edit))["ok"]
    assert (await host.command("minutes.edit", item_id=1, op="decision.add", text="简化审批"))["ok"]
    assert (await host.command("session.end"))["ok"]
    await host.sio.disconnect()
    to_review = {"to": "in_review", "base_version": 1}
    reply = await cast.staff.post(f"/api/sessions/{sid}/minutes/transitions", to_review)
    assert reply.status == 200, reply.text
    return sid


async def verify_minutes(url: str, token: str, sid: int) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{url}/api/sessions/{sid}/minutes/verify",
            headers={"Authorization": f"Bearer {token}"},
        ) as reply,
    ):
        assert reply.status == 200, await reply.text()
        body: dict[str, object] = await reply.json()
        return body


async def test_a_backup_during_a_live_room_restores_every_event_acknowledged_before_it(
    cast: Cast, config: Config, servers: list[ServerProcess], tmp_path: Path
) -> None:
    sqlite_only(config)
    recording = config.recording_dir / "7" / "host-audio.webm"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"\x1aE\xdf\xa3" + bytes(range(256)) * 40)
    server = ServerProcess(config, free_port())
    server.env |= FAST_ROOM
    servers.append(server)
    await server.start()
    minuted = await held_with_minutes(server.url, cast)
    assert (await verify_minutes(server.url, cast.staff.token, minuted))["ok"] is True

    sid = int((await create(cast))["id"])
    host = await Listener(server.url, {"token": cast.staff.token, "session_id": sid}).connect()
    assert (await host.command("session.start"))["ok"]
    acked: list[tuple[int, float, str]] = []  # (seq, when acknowledged, text)
    refused: list[dict[str, object]] = []
    stop = asyncio.Event()

    async def chatter() -> None:
        n = 0
        while not stop.is_set() and n < 900:  # the room log answers sync with up to 1000
            n += 1
            reply = await host.command("chat.send", text=f"第{n}条")
            if not reply["ok"]:
                refused.append(reply)
                return
            acked.append((reply["seq"], time.time(), f"第{n}条"))
            await asyncio.sleep(0.005)

    async def until(check: Callable[[], bool]) -> None:
        for _ in range(1000):
            if check() or flowing.done():
                return
            await asyncio.sleep(0.01)

    flowing = asyncio.create_task(chatter())
    await until(lambda: len(acked) >= 15)
    folder = tmp_path / "backup"
    env = {"XIESHANG_RECORDING_DIR": str(config.recording_dir)}
    began = time.time()
    code, out, err = await run("backup", str(folder), "--db", config.db_url, env=env)
    ended = time.time()
    during = [seq for seq, at, _ in acked if began <= at <= ended]
    await until(lambda: any(at > ended for _seq, at, _ in acked))
    stop.set()
    await flowing
    await host.sio.disconnect()
    assert not refused, refused
    assert code == 0, err
    assert "Backup written to" in out
    assert during, "no command was acknowledged while the backup ran: the room was blocked"
    before = [(seq, text) for seq, at, text in acked if at < began]
    after = [seq for seq, at, _ in acked if at > ended]
    assert before and after

    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["schema_revision"] and manifest["app_version"]
    assert manifest["snapshot_at"].endswith("Z")
    assert "stored in the database" in manifest["attachments"]
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == {"xieshang.db", "recordings/7/host-audio.webm"}
    assert len(listed["xieshang.db"]["sha256"]) == 64

    restored = tmp_path / "restored"
    restored_db = f"sqlite+aiosqlite:///{restored / 'xieshang.db'}"
    env = {"XIESHANG_RECORDING_DIR": str(restored / "recordings")}
    code, out, err = await run("restore", str(folder), "--db", restored_db, env=env)
    assert code == 0, err
    assert (restored / "recordings" / "7" / "host-audio.webm").read_bytes() == (
        recording.read_bytes()
    )
    await server.stop()
    again = ServerProcess(config.with_changes(db_url=restored_db), free_port())
    servers.append(again)
    await again.start()
    room = await Listener(again.url, {"token": cast.staff.token, "session_id": sid}).connect()
    logged = await room.sio.call("sync", {"since": 0}, namespace="/room", timeout=5)
    assert logged["ok"], logged
    texts = {e["seq"]: e["data"].get("text") for e in logged["events"] if e["type"] == "chat.send"}
    missing = [(seq, text) for seq, text in before if texts.get(seq) != text]
    assert not missing, f"acknowledged before the backup began but not restored: {missing}"
    # Stronger: the backup's own instant, the snapshot it copied.
    snapshot_at = dt.datetime.fromisoformat(manifest["snapshot_at"]).timestamp()
    in_snapshot = [seq for seq, at, _ in acked if at < snapshot_at]
    assert len(in_snapshot) >= len(before)
    assert set(in_snapshot) <= set(texts), "acknowledged before the snapshot but not restored"
    snapshot = await room.sio.call("sync", {"since": -1}, namespace="/room", timeout=5)
    assert snapshot["snapshot"]["seq"] >= before[-1][0]
    assert snapshot["snapshot"]["state"]["status"] == "live"
    await room.sio.disconnect()
    verified = await verify_minutes(again.url, cast.staff.token, minuted)
    assert verified == {"ok": True, "versions": 2, "problems": []}


async def test_restore_refuses_a_database_with_data_and_a_changed_backup(
    config: Config, cast: Cast, tmp_path: Path
) -> None:
    sqlite_only(config)
    await create(cast)  # the test database holds a session and the cast's accounts
    folder = tmp_path / "backup"
    env = {"XIESHANG_RECORDING_DIR": str(tmp_path / "no-recordings")}
    code, _out, err = await run("backup", str(folder), "--db", config.db_url, env=env)
    assert code == 0, err
    code, _out, err = await run("backup", str(folder), "--db", config.db_url, env=env)
    assert code == 1 and "never overwrites" in err

    # The test's own server has config.db_url open; a copy nobody has open holds the data.
    copy = f"sqlite+aiosqlite:///{tmp_path / 'copy' / 'xieshang.db'}"
    code, out, err = await run("restore", str(folder), "--db", copy, env=env)
    assert code == 0, err
    code, _out, err = await run("restore", str(folder), "--db", copy, env=env)
    assert code == 1, err
    assert "already holds data" in err and "--force" in err
    assert "Traceback" not in err
    code, out, err = await run("restore", str(folder), "--force", "--db", copy, env=env)
    assert code == 0, err
    assert "Restored" in out

    database = folder / "xieshang.db"
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database.write_bytes(bytes(data))
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'xieshang.db'}"
    code, _out, err = await run("restore", str(folder), "--force", "--db", fresh, env=env)
    assert code == 1
    assert "does not match the sha256" in err and "xieshang.db" in err
    assert not (tmp_path / "new" / "xieshang.db").exists()


async def test_restore_refuses_a_database_a_running_server_has_open(
    config: Config, servers: list[ServerProcess], tmp_path: Path
) -> None:
    sqlite_only(config)
    folder = tmp_path / "backup"
    env = {"XIESHANG_RECORDING_DIR": str(tmp_path / "no-recordings")}
    code, _out, err = await run("backup", str(folder), "--db", config.db_url, env=env)
    assert code == 0, err
    empty = f"sqlite+aiosqlite:///{tmp_path / 'live' / 'xieshang.db'}"
    code, _out, err = await run("migrate", "--db", empty)
    assert code == 0, err
    server = ServerProcess(config.with_changes(db_url=empty), free_port())
    servers.append(server)
    await server.start()
    code, _out, err = await run("restore", str(folder), "--db", empty, env=env)
    assert code == 1
    assert "in use by another process" in err and "Stop it first" in err
    code, out, err = await run("restore", str(folder), "--force", "--db", empty, env=env)
    assert code == 0, err
    assert "restart the server" in out
    await server.stop()
    code, out, err = await run("restore", str(folder), "--db", empty, env=env)
    assert code == 0, err
    assert "Restored" in out


async def test_postgresql_is_refused_with_the_pg_dump_commands(tmp_path: Path) -> None:
    """No server to ask (port 1): the commands, and that its version is unknown."""
    url = "postgresql+asyncpg://xieshang:secret@127.0.0.1:1/xieshang"
    code, _out, err = await run("backup", str(tmp_path / "b"), "--db", url)
    assert code == 1
    assert "pg_dump --format=custom" in err and "pg_restore" in err
    assert "secret" not in err
    assert "could not be asked for its version" in err


async def test_postgresql_advice_names_the_server_version_and_the_local_pg_dump(
    config: Config, tmp_path: Path
) -> None:
    if not config.db_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set XIESHANG_TEST_DATABASE_URL (CI does)")
    conn = await asyncpg.connect(config.db_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()
    code, _out, err = await run("restore", str(tmp_path / "b"), "--db", config.db_url)
    assert code == 1
    assert f"The server runs PostgreSQL {major}." in err
    assert f"Use pg_dump and pg_restore of version {major} or newer." in err
    assert ("No pg_dump was found" in err) == (shutil.which("pg_dump") is None)
