"""Tokens, passwords and signed links never reach the logs, even at DEBUG.

The server runs as a real ``xieshang serve`` process with its own logging set-up (access log
included); the test uses every kind of secret against it and then greps everything it wrote.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path

import aiohttp
import socketio

from server.logs import redact
from tests.server.test_cli import XIESHANG, _free_port, fresh_sqlite, run

PASSWORD = "Very-Secret-Passw0rd"
SECRET_KEY = "log-test-signing-key-" + "s" * 32


def test_redact_removes_each_kind_of_secret() -> None:
    line = (
        'GET /rsvp/eyJwIjozfQ.c2lnbmF0dXJl?answer=accepted "Authorization: Bearer abcDEF_123-x" '
        "/cal/eyJwIjozfQ.bWFj.ics /checkin/3?token=eyJzIjozfQ.bWFj "
        '{"password": "hunter2hunter2", "guest_token": "g-tok-123"}'
    )
    clean = redact(line)
    for secret in ("eyJwIjozfQ", "abcDEF_123", "eyJzIjozfQ", "hunter2", "g-tok-123"):
        assert secret not in clean
    assert "/rsvp/[redacted]?answer=accepted" in clean
    assert "/cal/[redacted].ics" in clean


async def _wait_up(http: aiohttp.ClientSession, base: str) -> None:
    # 30 s: a DEBUG server's start took over 10 s on a loaded 2-core machine (load 13)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{base}/api/health") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the server did not start")


async def _use_secrets(base: str) -> list[str]:
    """Sign in, use the token, the feed link, an RSVP-shaped link, a room connection and a
    check-in token; returns every secret that went over the wire."""
    async with aiohttp.ClientSession() as http:
        await _wait_up(http, base)
        async with http.post(
            f"{base}/api/auth/login", json={"username": "zhou", "password": "wrong-" + PASSWORD}
        ) as resp:
            assert resp.status == 401
        async with http.post(
            f"{base}/api/auth/login", json={"username": "zhou", "password": PASSWORD}
        ) as resp:
            token = (await resp.json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{base}/api/me/calendar", headers=auth) as resp:
            feed_url = (await resp.json())["feed_url"]
        feed_token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
        async with http.get(f"{base}/cal/{feed_token}.ics") as resp:
            assert resp.status == 200
        rsvp_token = feed_token  # signed for another purpose: refused, but still a secret
        async with http.get(f"{base}/rsvp/{rsvp_token}?answer=accepted") as resp:
            assert resp.status == 403
        async with http.post(
            f"{base}/api/sessions/1/checkin", json={"token": "x" * 12 + feed_token}, headers=auth
        ) as resp:
            assert resp.status in (403, 404)
        async with http.get(f"{base}/api/me", headers={"Authorization": "Bearer " + "z" * 40}):
            pass
    sio = socketio.AsyncClient(reconnection=False)
    try:
        await sio.connect(
            base, auth={"token": token, "session_id": 1}, namespaces=["/room"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        pass  # there is no session 1: refused, after the token was read
    finally:
        await sio.disconnect()
    return [PASSWORD, token, feed_token, "z" * 40]


async def test_no_secret_reaches_the_logs_at_debug_level(tmp_path: Path) -> None:
    db = fresh_sqlite(tmp_path)
    assert (await run("migrate", "--db", db))[0] == 0
    code, _out, err = await run(
        "user", "add", "--username", "zhou", "--name", "周委员", "--role", "member",
        "--email", "zhou@example.org", "--db", db, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    port = _free_port()
    env = {
        **os.environ,
        "XIESHANG_ARGON2_TIME_COST": "1",
        "XIESHANG_ARGON2_MEMORY_KIB": "8",
        "XIESHANG_LOG_LEVEL": "DEBUG",
        "XIESHANG_SECRET_KEY": SECRET_KEY,
    }
    proc = await asyncio.create_subprocess_exec(
        *XIESHANG, "serve", "--db", db, "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        secrets = await _use_secrets(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        out, err_bytes = await asyncio.wait_for(proc.communicate(), 30)
    logs = out.decode() + err_bytes.decode()
    assert re.search(r'"POST /api/auth/login" 401', logs), "the access log is on"
    assert "/cal/[redacted].ics" in logs and "/rsvp/[redacted]?answer=accepted" in logs
    for secret in [*secrets, SECRET_KEY]:
        assert secret not in logs, f"a secret reached the logs: {secret[:6]}…"


async def test_json_log_lines_carry_the_request_id_and_no_secret(tmp_path: Path) -> None:
    db = fresh_sqlite(tmp_path)
    assert (await run("migrate", "--db", db))[0] == 0
    code, _out, err = await run(
        "user", "add", "--username", "zhou", "--name", "周委员", "--role", "member",
        "--email", "zhou@example.org", "--db", db, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    port = _free_port()
    env = {
        **os.environ,
        "XIESHANG_ARGON2_TIME_COST": "1",
        "XIESHANG_ARGON2_MEMORY_KIB": "8",
        "XIESHANG_LOG_LEVEL": "DEBUG",
        "XIESHANG_LOG_FORMAT": "json",
        "XIESHANG_SECRET_KEY": SECRET_KEY,
    }
    log_file = tmp_path / "server.log"  # a file, not a pipe: DEBUG in JSON outgrows a pipe
    with log_file.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            *XIESHANG, "serve", "--db", db, "--port", str(port),
            stdout=sink, stderr=sink, env=env, cwd=tmp_path,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        secrets = await _use_secrets(base)
        async with aiohttp.ClientSession() as http:
            traced = {"X-Request-Id": "proxy-trace-42"}
            async with http.get(f"{base}/api/proposals", headers=traced) as resp:
                assert resp.status == 401
                assert resp.headers["X-Request-Id"] == "proxy-trace-42"
            hostile = {"X-Request-Id": "no spaces\tor=tabs please"}
            async with http.get(f"{base}/api/health", headers=hostile) as resp:
                made_up = resp.headers["X-Request-Id"]
                assert re.fullmatch(r"[0-9a-f]{32}", made_up)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    logs = log_file.read_text(encoding="utf-8")
    # Every log line is one JSON object; the one other line is serve's banner on stdout.
    others = [line for line in logs.splitlines() if not line.startswith("{")]
    assert [line.split(" on ")[0] for line in others] == ["xieshang serving"]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert lines
    assert all({"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines)
    access = [x for x in lines if x["logger"] == "aiohttp.access"]
    traced_lines = [x for x in access if x["request_id"] == "proxy-trace-42"]
    assert len(traced_lines) == 1 and '"GET /api/proposals" 401' in traced_lines[0]["message"]
    assert any(x["request_id"] == made_up for x in access)
    assert any('"POST /api/auth/login" 401' in x["message"] for x in access)
    assert any("/cal/[redacted].ics" in x["message"] for x in access)
    for secret in [*secrets, SECRET_KEY]:
        assert secret not in logs, f"a secret reached the logs: {secret[:6]}…"
