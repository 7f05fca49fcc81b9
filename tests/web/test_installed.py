"""A server installed from the wheel (no checkout, no Node.js) serves pages that work."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.installed import build_wheel, clean_env, install

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]  # a wheel build and a venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Installed:
    """A running ``xieshang serve`` of the installed copy, with the demo's staff login."""

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = clean_env(
            XIESHANG_DB=f"sqlite+aiosqlite:///{folder / 'xieshang.db'}",
            XIESHANG_PORT=str(self.port),
            XIESHANG_PUBLIC_URL=self.base,
            XIESHANG_ARGON2_TIME_COST="1",
            XIESHANG_ARGON2_MEMORY_KIB="8",
        )
        self.bin_dir, self.folder = bin_dir, folder

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.bin_dir / "xieshang"), *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def imports_from(self) -> list[str]:
        code = "import server.config; print(server.__file__, server.config.Config().web_dir)"
        return self.run_python(code).split()

    def run_python(self, code: str) -> str:
        python = str(self.bin_dir / "python")
        return subprocess.run(
            [python, "-c", code], cwd=self.folder, env=self.env, capture_output=True, text=True
        ).stdout

    def call(self, path: str, body: object = None, token: str = "") -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as reply:
            result: dict[str, Any] = json.loads(reply.read())
            return result


def _wait_until_up(server: Installed, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            server.call("/api/health")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no answer on /api/health within 30 s:\n{log.read_text()}")


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[tuple[Installed, str]]:
    """The installed server, migrated, seeded with the demo data and listening."""
    server = Installed(install(build_wheel(tmp_path / "build"), tmp_path / "venv"), tmp_path)
    server.run("migrate")
    logins = server.run("demo")
    password = re.search(r"^\s+staff\s+(\S+)", logins, re.MULTILINE)
    assert password, logins
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(server.bin_dir / "xieshang"), "serve"],
            cwd=tmp_path,
            env=server.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(server, process, log)
        yield server, password.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _open(
    browser: Browser, url: str, token: str, person: dict[str, Any], problems: list[str]
) -> Page:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    stored = json.dumps({"token": token, "person": person})
    await context.add_init_script(f"localStorage.setItem('xs.session', {json.dumps(stored)});")
    page = await context.new_page()
    page.on("pageerror", lambda error: problems.append(f"{url}: {error}"))
    page.on("console", lambda m: problems.append(f"{url}: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"{url}: {r.url} failed: {r.failure}"))
    page.on(
        "response", lambda r: problems.append(f"{r.url}: {r.status}") if r.status >= 400 else None
    )
    await page.goto(url)
    return page


async def test_an_installed_wheel_serves_the_session_and_room_pages_without_errors(
    installed: tuple[Installed, str], browser: Browser
) -> None:
    server, password = installed
    where = server.imports_from()
    assert where and all(path.startswith(str(server.bin_dir.parent)) for path in where), where
    token = server.call("/api/auth/login", {"username": "staff", "password": password})["token"]
    me = server.call("/api/me", token=token)
    sessions = server.call("/api/sessions", token=token)["items"]
    public = next(s["id"] for s in sessions if s["visibility"] == "public")  # it has a QR code
    problems: list[str] = []
    session_page = await _open(browser, f"{server.base}/#/sessions/{public}", token, me, problems)
    room_page = await _open(browser, f"{server.base}/#/rooms/{public}", token, me, problems)
    try:
        await expect(session_page.locator("figure.qr svg").first).to_be_visible()  # uqr
        await expect(room_page.locator(".tile").first).to_be_visible()  # socket.io connected
    finally:
        assert problems == [], problems
