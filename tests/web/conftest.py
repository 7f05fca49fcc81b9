"""Browser tests: the real server on a fixed loopback port, Debian's Chromium via Playwright.

Chromium runs headless with fake camera and microphone devices; screenshots of each page go to
``tests/artifacts/`` (ignored by git) for people to look at.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from server.app import create_app
from server.config import Config
from tests.conftest import REQUIRE_SERVICES, ApiClient

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it
    MISSING = "Chromium is not installed (apt install chromium fonts-noto-cjk; .ci/run does)"
    if REQUIRE_SERVICES:  # CI installs it: there, its absence is a failure, not a skip
        pytest.fail(MISSING, pytrace=False)
    pytest.skip(MISSING, allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402

# A loaded CI machine (two workers, a server each, Chromium) took over Playwright's default 5 s
# for a session create that sends invitations; the assertions wait for what they name, so a
# longer bound only costs time when something is wrong.
expect.set_options(timeout=15_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def config(config: Config) -> Config:
    port = _free_port()
    return dataclasses.replace(config, port=port, public_url=f"http://127.0.0.1:{port}")


class ServedAsInProduction(TestServer):
    """The test server as ``xieshang serve`` runs it (``web.run_app``): a request whose client
    goes away is not cancelled. aiohttp's test server cancels it, and a static file whose open
    was under way in the thread pool then stays open until garbage collected (aiohttp 3.14's
    ``FileResponse.prepare``): a ResourceWarning that failed a CI run of the hall display's
    network-drop test. Pages are what these tests load, so they are served the production way."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return await super()._make_runner(**{**kwargs, "handler_cancellation": False})


@pytest.fixture
async def server(config: Config) -> AsyncIterator[TestServer]:
    srv = ServedAsInProduction(create_app(config), host="127.0.0.1", port=config.port)
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        yield chromium
        await chromium.close()


Opener = Callable[..., Awaitable[Page]]


@pytest.fixture
async def open_as(browser: Browser, server: TestServer) -> AsyncIterator[Opener]:
    """A page in its own browser context, signed in as ``who`` (or anonymous)."""
    contexts = []
    problems: list[str] = []

    async def open_page(
        who: ApiClient | None, path: str = "/", *, phone: bool = False, lang: str = "zh-CN"
    ) -> Page:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
        context = await browser.new_context(
            viewport=viewport, locale=lang, timezone_id="Asia/Shanghai"
        )
        contexts.append(context)
        await context.add_init_script(f"localStorage.setItem('xs.lang', {json.dumps(lang)});")
        if who is not None:
            me = (await who.get("/api/me")).body
            stored = json.dumps({"token": who.token, "person": me})
            await context.add_init_script(
                f"localStorage.setItem('xs.session', {json.dumps(stored)});"
            )
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"{path}: {error}"))
        page.on(
            "console",
            lambda m: problems.append(f"{path}: {m.text}") if m.type == "error" else None,
        )
        await page.goto(str(server.make_url(path)))
        return page

    yield open_page
    for context in contexts:
        await context.close()
    expected = (
        "Failed to load resource",  # 4xx answers the pages handle (conflicts, refusals)
        "ERR_INTERNET_DISCONNECTED",  # reconnection attempts while a test takes the network away
    )
    serious = [p for p in problems if not any(e in p for e in expected)]
    assert serious == [], serious


async def shot(page: Page, name: str, **kw: Any) -> None:
    """Save a full-page screenshot under tests/artifacts/ to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, **kw)


AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
# What the front end must never have: axe-core's two worst impact levels.
SERIOUS = ("critical", "serious")
AXE_SOURCE = f"(() => {{ {AXE.read_text(encoding='utf-8')} }})()" if AXE.exists() else ""


async def axe(page: Page, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe-core's critical and serious violations on the page as it is now (each rule with the
    number of nodes and the first targets), injected from web/node_modules (npm, locked)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol, not as a <script>: the pages' CSP allows no
        # inline script, and the test must not loosen it.
        await page.evaluate(AXE_SOURCE)
    result = await page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
            const found = await window.axe.run(context, {resultTypes: ["violations"]});
            return found.violations.map((v) => ({
                id: v.id, impact: v.impact, nodes: v.nodes.length,
                targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }""",
        list(exclude),
    )
    return [v for v in result if v["impact"] in SERIOUS]
