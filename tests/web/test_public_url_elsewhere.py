"""A browser that reaches the server at another address than XIESHANG_PUBLIC_URL: the room
still connects (Socket.IO to the page's own origin) and the log says so once."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from playwright.async_api import expect

from server.config import Config
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener


@pytest.fixture
def config(config: Config) -> Config:
    # The links say "localhost"; the browser below uses 127.0.0.1.
    return dataclasses.replace(config, public_url=f"http://localhost:{config.port}")


async def test_the_room_connects_from_another_origin_and_the_server_warns_once(
    cast: Cast, open_as: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    s = await create_session(cast)
    caplog.set_level(logging.WARNING, logger="server.realtime")
    staff = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    member = await open_as(cast.member, f"/#/rooms/{s['id']}")
    for page in (staff, member):
        await expect(page.locator(".tile")).to_have_count(2)
    warnings = [r.getMessage() for r in caplog.records if "XIESHANG_PUBLIC_URL" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert f"http://127.0.0.1:{cast.anon.base.rsplit(':', 1)[1]}" in warnings[0]
    assert f"http://localhost:{cast.anon.base.rsplit(':', 1)[1]}" in warnings[0]
