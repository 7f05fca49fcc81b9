"""Health, OpenAPI and the basics every client relies on."""

from __future__ import annotations

import datetime as dt
import socket

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.config import Config
from server.db import Database, utcnow
from server.mail import DeliveryState, enqueue
from tests.conftest import ApiClient

REQUIRED_ROUTES = {
    ("get", "/api/health"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("post", "/api/units"),
    ("get", "/api/units"),
    ("post", "/api/people"),
    ("get", "/api/people"),
    ("post", "/api/venues"),
    ("get", "/api/venues"),
    ("post", "/api/proposals"),
    ("get", "/api/proposals"),
    ("get", "/api/proposals/{proposal_id}"),
    ("patch", "/api/proposals/{proposal_id}"),
    ("post", "/api/proposals/{proposal_id}/transitions"),
    ("post", "/api/sessions"),
    ("get", "/api/sessions"),
    ("get", "/api/sessions/{session_id}"),
    ("patch", "/api/sessions/{session_id}"),
}


async def test_health_reports_ok_with_the_database_reachable(anon: ApiClient) -> None:
    reply = await anon.get("/api/health")
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert reply.body["database"] == "ok"
    assert reply.body["redis"] == "not_configured"
    assert reply.body["mail"] == "ok"
    assert reply.body["outbox"] == {
        "pending": 0,
        "oldest_pending_seconds": None,
        "retrying": 0,
        "failed_last_hour": 0,
    }
    assert reply.body["janus"] == []


async def _queue(database: Database, *, state: DeliveryState, age: dt.timedelta) -> None:
    """A message queued ``age`` ago, tried and failed: waiting for its next try in an hour
    (pending), or given up on a minute ago (failed)."""
    now = utcnow()
    async with database.transaction() as db:
        row = enqueue(
            db,
            recipient="wang@xieshang.example",
            method="REQUEST",
            subject="邀请",
            message=b"Subject: x\r\n\r\nx\r\n",
            now=now - age,
        )
        row.state, row.attempts, row.last_error = state, 3, "connection refused"
        row.next_attempt_at = now + dt.timedelta(hours=1)
        if state is DeliveryState.FAILED:
            row.next_attempt_at = now - dt.timedelta(minutes=1)


async def test_health_is_degraded_not_down_while_mail_waits_too_long(
    anon: ApiClient, database: Database
) -> None:
    await _queue(database, state=DeliveryState.PENDING, age=dt.timedelta(minutes=5))
    fresh = await anon.get("/api/health")
    assert (fresh.status, fresh.body["status"], fresh.body["mail"]) == (200, "ok", "ok")
    assert fresh.body["outbox"]["pending"] == 1
    assert fresh.body["outbox"]["retrying"] == 1
    await _queue(database, state=DeliveryState.PENDING, age=dt.timedelta(minutes=40))
    reply = await anon.get("/api/health")
    assert reply.status == 200  # mail is kept and retried; the server still serves
    assert (reply.body["status"], reply.body["mail"]) == ("degraded", "failing")
    assert reply.body["database"] == "ok"
    assert reply.body["outbox"]["pending"] == 2
    assert 40 * 60 <= reply.body["outbox"]["oldest_pending_seconds"] < 45 * 60


async def test_health_is_degraded_after_mail_was_given_up_on(
    anon: ApiClient, database: Database
) -> None:
    await _queue(database, state=DeliveryState.FAILED, age=dt.timedelta(minutes=30))
    reply = await anon.get("/api/health")
    assert reply.status == 200
    assert (reply.body["status"], reply.body["mail"]) == ("degraded", "failing")
    assert reply.body["outbox"]["failed_last_hour"] == 1
    assert reply.body["outbox"]["pending"] == 0


async def test_health_and_metrics_report_a_janus_instance_that_is_down(config: Config) -> None:
    with socket.socket() as closed:  # a port nobody listens on once the socket is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    token = "metrics-" + "t" * 24
    changed = config.with_changes(
        janus_urls=(f"ws://127.0.0.1:{port}",), janus_admin_key="admin", metrics_token=token
    )
    srv = TestServer(create_app(changed))
    await srv.start_server()  # waits a few seconds for the instance, then serves without it
    try:
        async with ClientSession() as http:
            client = ApiClient(http, str(srv.make_url("")).rstrip("/"))
            reply = await client.get("/api/health")
            scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    finally:
        await srv.close()
    assert reply.status == 200
    assert reply.body["status"] == "degraded"
    assert reply.body["janus"] == [{"instance": 1, "state": "down"}]
    assert str(port) not in reply.text  # the instances' addresses are not public
    samples = {
        (s.name, s.labels.get("instance"), s.labels.get("backend")): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }
    assert samples[("xieshang_janus_instance_up", f"ws://127.0.0.1:{port}", None)] == 0
    assert ("xieshang_media_feeds", None, "janus") in samples


async def test_health_is_degraded_but_serving_while_redis_is_unreachable(config: Config) -> None:
    with socket.socket() as closed:  # a port nobody listens on once the socket is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    srv = TestServer(create_app(config.with_changes(redis_url=f"redis://127.0.0.1:{port}/0")))
    await srv.start_server()
    try:
        async with ClientSession() as http:
            reply = await ApiClient(http, str(srv.make_url("")).rstrip("/")).get("/api/health")
    finally:
        await srv.close()
    assert reply.status == 200  # this process still serves its own clients
    assert reply.body["status"] == "degraded"
    assert (reply.body["database"], reply.body["redis"]) == ("ok", "unavailable")


async def test_openapi_lists_every_contract_route_with_schemas(anon: ApiClient) -> None:
    reply = await anon.get("/api/openapi.json")
    assert reply.status == 200
    doc = reply.body
    assert doc["openapi"].startswith("3.")
    served = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served >= REQUIRED_ROUTES
    create = doc["paths"]["/api/sessions"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"kind", "mode", "starts_at", "participants", "agenda"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    params = {p["name"] for p in doc["paths"]["/api/sessions"]["get"]["parameters"]}
    assert {"from", "to", "person_id", "proposal_id", "kind"} <= params


async def test_unknown_api_route_is_a_problem_document(anon: ApiClient) -> None:
    reply = await anon.get("/api/nothing-here")
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"
    assert reply.body["code"] == "not_found"


async def test_wrong_method_is_405_with_allow_header(anon: ApiClient) -> None:
    reply = await anon.request("DELETE", "/api/health")
    assert reply.status == 405
    assert reply.content_type == "application/problem+json"
    assert "GET" in reply.headers.get("Allow", "")


async def test_home_page_is_served_in_chinese(anon: ApiClient) -> None:
    reply = await anon.get("/")
    assert reply.status == 200
    assert 'lang="zh-CN"' in reply.text
