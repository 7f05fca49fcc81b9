"""The ``xieshang`` command, run as a real subprocess."""

from __future__ import annotations

import asyncio
import email
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

XIESHANG = [sys.executable, "-m", "server.cli"]


async def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    full_env = {
        **os.environ,
        "XIESHANG_ARGON2_TIME_COST": "1",
        "XIESHANG_ARGON2_MEMORY_KIB": "8",
        **(env or {}),
    }
    proc = await asyncio.create_subprocess_exec(
        *XIESHANG,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=full_env,
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def fresh_sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


async def test_serve_refuses_an_unmigrated_database_with_a_clear_message(tmp_path: Path) -> None:
    code, _out, err = await run("serve", "--db", fresh_sqlite(tmp_path), "--port", "1")
    assert code == 2
    assert "xieshang migrate" in err
    assert "Traceback" not in err


async def test_migrate_then_user_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    db = fresh_sqlite(tmp_path)
    code, out, err = await run("migrate", "--db", db)
    assert code == 0, err
    assert "upgraded from empty" in out
    code, out, _ = await run("migrate", "--db", db)
    assert "up to date" in out
    code, out, err = await run(
        "user",
        "add",
        "--username",
        "zhou",
        "--name",
        "周委员",
        "--role",
        "member",
        "--email",
        "zhou@example.org",
        "--db",
        db,
        stdin="a-long-password\n",
    )
    assert code == 0, err
    assert "zhou" in out
    code, _out, err = await run(
        "user",
        "add",
        "--username",
        "zhou",
        "--name",
        "重名",
        "--role",
        "member",
        "--db",
        db,
        stdin="a-long-password\n",
    )
    assert code == 1
    assert "taken" in err
    code, _out, err = await run(
        "user",
        "add",
        "--username",
        "u1x",
        "--name",
        "无单位",
        "--role",
        "unit",
        "--db",
        db,
        stdin="a-long-password\n",
    )
    assert code == 1
    assert "unit_id" in err


async def test_bad_settings_name_the_variable(tmp_path: Path) -> None:
    code, _out, err = await run("migrate", env={"XIESHANG_DB": "mysql://nope"})
    assert code == 2
    assert "XIESHANG_DB" in err
    code, _out, err = await run("serve", env={"XIESHANG_PORT": "eighty"})
    assert code == 2
    assert "XIESHANG_PORT" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_with_demo_seeds_once_and_the_logins_work(tmp_path: Path) -> None:
    db = fresh_sqlite(tmp_path)
    assert (await run("migrate", "--db", db))[0] == 0
    port = _free_port()
    full_env = {**os.environ, "XIESHANG_ARGON2_TIME_COST": "1", "XIESHANG_ARGON2_MEMORY_KIB": "8"}
    proc = await asyncio.create_subprocess_exec(
        *XIESHANG,
        "serve",
        "--demo",
        "--db",
        db,
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=full_env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not any("serving on" in line for line in lines):
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "server exited early"
            lines.append(line)
        logins = {
            p[0]: p[1]
            for p in (line.split() for line in lines)
            if len(p) >= 3 and p[0] in {"staff", "member1"}
        }
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/health") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(
                f"http://127.0.0.1:{port}/api/auth/login",
                json={"username": "staff", "password": logins["staff"]},
            ) as resp:
                assert resp.status == 200
                token = (await resp.json())["token"]
            async with http.get(
                f"http://127.0.0.1:{port}/api/sessions",
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                sessions = (await resp.json())["items"]
        assert {s["kind"] for s in sessions} == {"handling", "livelihood_hall", "quarterly_talk"}
    finally:
        proc.terminate()
        await proc.wait()
    code, out, _ = await run("demo", "--db", db)
    assert code == 0
    assert "already has accounts" in out


async def test_user_add_and_passwd_refuse_a_guessable_password_and_say_why(
    tmp_path: Path,
) -> None:
    db = fresh_sqlite(tmp_path)
    assert (await run("migrate", "--db", db))[0] == 0
    add = ["user", "add", "--username", "zhou", "--name", "周委员", "--role", "member"]
    code, _out, err = await run(*add, "--db", db, stdin="iloveyou\n")
    assert code == 1 and "most common" in err and "Traceback" not in err
    assert (await run(*add, "--db", db, stdin="a-long-password\n"))[0] == 0
    passwd = ["user", "passwd", "--username", "zhou", "--db", db]
    code, _out, err = await run(*passwd, stdin="Zhou-2026-spring\n")
    assert code == 1 and "username" in err and "Traceback" not in err
    code, _out, err = await run(*passwd, stdin="12345678\n")
    assert code == 1 and "most common" in err
    assert (await run(*passwd, stdin="another long one\n"))[0] == 0


async def test_serve_on_another_port_writes_links_with_that_port_and_warns_once(
    tmp_path: Path,
) -> None:
    """Without XIESHANG_PUBLIC_URL, links name the address ``serve`` listens on; a browser at
    another address still gets its Socket.IO connection, and the log says so once."""
    db = fresh_sqlite(tmp_path)
    assert (await run("migrate", "--db", db))[0] == 0
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "XIESHANG_PUBLIC_URL"}
    env |= {"XIESHANG_ARGON2_TIME_COST": "1", "XIESHANG_ARGON2_MEMORY_KIB": "8"}
    proc = await asyncio.create_subprocess_exec(
        *XIESHANG, "serve", "--demo", "--db", db, "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any("serving on" in line for line in lines):
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "server exited early"
            lines.append(line)
        password = next(p[1] for p in (x.split() for x in lines) if p and p[0] == "member1")
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.get(f"{base}/api/health") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(
                f"{base}/api/auth/login", json={"username": "member1", "password": password}
            ) as resp:
                token = (await resp.json())["token"]
            async with http.get(
                f"{base}/api/me/calendar", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                assert (await resp.json())["feed_url"].startswith(f"{base}/cal/")
            staff = next(p[1] for p in (x.split() for x in lines) if p and p[0] == "staff")
            async with http.post(
                f"{base}/api/auth/login", json={"username": "staff", "password": staff}
            ) as resp:
                as_staff = {"Authorization": f"Bearer {(await resp.json())['token']}"}
            async with http.get(f"{base}/api/sessions", headers=as_staff) as resp:
                held = [s for s in (await resp.json())["items"] if s["venue_id"]]
            async with http.get(
                f"{base}/api/sessions/{held[0]['id']}/checkin-link", headers=as_staff
            ) as resp:
                assert (await resp.json())["url"].startswith(f"{base}/checkin/")  # the QR code
            other = f"http://localhost:{port}"
            for _ in range(2):  # the page, then the room's Socket.IO handshake from it
                async with http.get(f"{other}/") as resp:
                    assert resp.status == 200
                async with http.get(
                    f"{other}/socket.io/?EIO=4&transport=polling", headers={"Origin": other}
                ) as resp:
                    assert resp.status == 200, await resp.text()
            async with http.get(
                f"{base}/socket.io/?EIO=4&transport=polling",
                headers={"Origin": "http://elsewhere.example"},
            ) as resp:
                assert resp.status == 400  # another site is still refused
        mail = tmp_path / "var" / "mail"
        for _ in range(100):
            if list(mail.glob("*.eml")):
                break
            await asyncio.sleep(0.1)
        parsed = email.message_from_bytes(sorted(mail.glob("*.eml"))[0].read_bytes())
        texts = "".join(
            part.get_payload(decode=True).decode()
            for part in parsed.walk()
            if part.get_content_maintype() == "text"
        )
        assert f"{base}/sessions/" in texts
        assert "127.0.0.1:8080" not in texts
    finally:
        proc.terminate()
        _out, err = await proc.communicate()
    warnings = [x for x in err.decode().splitlines() if "XIESHANG_PUBLIC_URL" in x]
    assert len(warnings) == 1, warnings
    assert other in warnings[0] and base in warnings[0]


ARENAS = """
import ctypes, sys, tempfile, threading
from server.cli import limit_malloc_arenas
print(limit_malloc_arenas(int(sys.argv[1])))
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
together = threading.Barrier(7)
def allocate():
    kept = [libc.malloc(1000) for _ in range(100)]  # all alive at once, in every thread
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads:
    t.start()
together.wait()
with tempfile.NamedTemporaryFile() as out:
    f = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, f)
    libc.fclose(f)
    print(open(out.name).read().count("<heap nr="))
for t in threads:
    t.join()
"""


async def test_serve_lets_its_threads_share_one_malloc_arena() -> None:
    """glibc would give each thread an arena of its own (bench/fanout: a seventh of a room
    connection's memory); ``serve`` limits them first thing (XIESHANG_MALLOC_ARENAS)."""
    if not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None:
        pytest.skip("M_ARENA_MAX is glibc's")  # CI and the documented platform are glibc Linux
    counts = {}
    for limit in ("0", "1"):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ARENAS, limit, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0
        took, arenas = out.decode().split()
        counts[limit] = (took, int(arenas))
    assert counts["1"] == ("True", 1)
    assert counts["0"][0] == "False" and counts["0"][1] > 1  # the C library's default
