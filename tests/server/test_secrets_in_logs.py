"""Tokens, passwords and signed links never reach the logs, even at DEBUG.

The server runs as a real ``xieshang serve`` process with its own logging set-up (access log
included); the test uses every kind of secret against it and then greps everything it wrote.
"""

from __future__ import annotations

import asyncio
import os
import re
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
    for _ in range(100):
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
