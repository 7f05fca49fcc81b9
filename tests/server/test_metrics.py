"""GET /metrics: off without a token, refused without the right one, and counting what happens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.config import Config
from tests.conftest import ApiClient, Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create

TOKEN = "metrics-token-" + "m" * 24


@pytest.fixture
def config(config: Config) -> Config:
    return config.with_changes(metrics_token=TOKEN)


async def scrape(client: ApiClient) -> dict[str, list[Any]]:
    """Every sample, by metric name (families parsed by prometheus-client's own parser)."""
    reply = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    families = list(text_string_to_metric_families(reply.text))
    return {f.name: f.samples for f in families}


def value(samples: dict[str, list[Any]], family: str, sample: str, **labels: str) -> float:
    """The value of the one sample of ``family`` named ``sample`` with these labels (0 if none)."""
    found = [
        s.value
        for s in samples.get(family, [])
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


async def test_metrics_are_not_served_without_a_token_setting(config: Config) -> None:
    srv = TestServer(create_app(config.with_changes(metrics_token=None)), host="127.0.0.1")
    await srv.start_server()
    try:
        async with ClientSession() as http:
            client = ApiClient(http, str(srv.make_url("")).rstrip("/"))
            reply = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        await srv.close()
    assert reply.status == 404


async def test_metrics_need_the_token(anon: ApiClient) -> None:
    assert (await anon.get("/metrics")).status == 401
    wrong = await anon.get("/metrics", headers={"Authorization": "Bearer " + "x" * 38})
    assert wrong.status == 401
    assert wrong.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert "xieshang_" not in wrong.text
    # A signed-in person's login token is not the metrics token either.
    assert (await anon.get("/metrics", headers={"Authorization": TOKEN})).status == 401


async def test_metrics_are_prometheus_text_with_xieshang_names(anon: ApiClient) -> None:
    samples = await scrape(anon)
    assert samples
    assert all(name.startswith("xieshang_") for name in samples)
    assert {
        "xieshang_http_requests",
        "xieshang_http_request_duration_seconds",
        "xieshang_room_connections",
        "xieshang_room_commands",
        "xieshang_fanout_deliveries",
        "xieshang_fanout_slow_client_drops",
        "xieshang_outbox_messages",
        "xieshang_media_feeds",
        "xieshang_media_subscriptions",
    } <= set(samples)
    # Without Janus configured there is no Janus series.
    assert "xieshang_janus_instance_up" not in samples
    outbox = "xieshang_outbox_messages"
    assert value(samples, outbox, outbox, state="pending") == 0


@pytest.fixture
async def room_client(server: TestServer) -> AsyncIterator[list[RoomClient]]:
    made: list[RoomClient] = []
    yield made
    for client in made:
        await client.close()


async def test_requests_connections_commands_and_mail_are_counted(
    cast: Cast, anon: ApiClient, server: TestServer, room_client: list[RoomClient]
) -> None:
    staff = cast.staff
    session = await create(cast)  # staff schedule a session: invitations go to the outbox
    sid = session["id"]
    for _ in range(3):
        assert (await staff.get(f"/api/sessions/{sid}")).status == 200
    assert (await staff.get("/api/sessions/999999")).status == 404
    before = await scrape(anon)
    host = RoomClient(str(server.make_url("")), {"token": cast.staff.token, "session_id": sid})
    room_client.append(host)
    await host.connect()
    await host.wait_for(lambda: host.snapshots)
    assert (await host.command("session.start"))["ok"] is True
    refused = await host.command("session.start")  # already started
    assert refused["ok"] is False
    unknown = await host.command("no.such.command")
    assert unknown["ok"] is False
    after = await scrape(anon)

    route = "/api/sessions/{session_id}"
    requests = "xieshang_http_requests"
    ok = value(after, requests, "xieshang_http_requests_total", route=route, status="200")
    assert ok >= 3
    assert value(after, requests, "xieshang_http_requests_total", route=route, status="404") == 1
    # The route's template, never the raw path.
    paths = {s.labels["route"] for s in after[requests]}
    assert not any(str(sid) in p.split("/") for p in paths)
    assert "/api/sessions/999999" not in paths
    timed = value(
        after,
        "xieshang_http_request_duration_seconds",
        "xieshang_http_request_duration_seconds_count",
        route=route,
        method="GET",
    )
    assert timed >= 4

    assert value(after, "xieshang_room_connections", "xieshang_room_connections") == 1
    assert value(before, "xieshang_room_connections", "xieshang_room_connections") == 0
    commands, total = "xieshang_room_commands", "xieshang_room_commands_total"
    assert value(after, commands, total, type="session.start", outcome="ok") == 1
    error = refused["error"]["code"]
    assert value(after, commands, total, type="session.start", outcome=error) == 1
    assert value(after, commands, total, type="other", outcome=unknown["error"]["code"]) == 1
    kinds = {s.labels["type"] for s in after[commands]}
    assert "no.such.command" not in kinds  # a made-up type never becomes a label
    fanout = "xieshang_fanout_deliveries"
    delivered = sum(s.value for s in after[fanout] if s.name == fanout + "_total")
    assert delivered >= 1  # at least the session.start event reached the host
    assert value(after, "xieshang_media_feeds", "xieshang_media_feeds", backend="embedded") == 0

    outbox = "xieshang_outbox_messages"
    queued = sum(s.value for s in after[outbox] if s.labels["state"] in {"pending", "sent"})
    assert queued >= 1  # the session's invitations


async def test_each_app_counts_for_itself(config: Config, anon: ApiClient) -> None:
    """Two apps in one process (as here) keep separate registries: no clash, no shared counts."""
    for _ in range(3):
        await anon.get("/api/health")
    other = TestServer(create_app(config), host="127.0.0.1")
    await other.start_server()
    try:
        async with ClientSession() as http:
            client = ApiClient(http, str(other.make_url("")).rstrip("/"))
            await client.get("/api/health")
            theirs = await scrape(client)
    finally:
        await other.close()
    ours = await scrape(anon)
    family, sample = "xieshang_http_requests", "xieshang_http_requests_total"
    assert value(ours, family, sample, route="/api/health", status="200") == 3
    assert value(theirs, family, sample, route="/api/health", status="200") == 1
