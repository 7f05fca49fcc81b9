"""Prometheus metrics of one server process: ``GET /metrics`` with ``XIESHANG_METRICS_TOKEN``.

Each app has a registry of its own (never prometheus-client's global one), so several apps in
one process (the tests) keep separate counts. Two kinds of numbers:

* counted as things happen: HTTP requests by route template (never the raw path, which would
  give one series per proposal) and status, with their durations; room commands by type and
  outcome (``ok`` or the error code);
* read when Prometheus asks (:class:`Readings`, refreshed by the app before each scrape): room
  connections, fan-out deliveries and slow-client drops, the outbox by state, media feeds and
  subscriptions per backend, and whether each Janus instance is up.

The scrape answers 404 while no token is configured, 401 without the right ``Authorization:
Bearer`` header, so the numbers (which tell how busy the server is) are not public.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a cached answer to a large export or upload.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Readings:
    """What this process is doing now; the app refreshes it just before each scrape."""

    connections: int = 0  # Socket.IO connections to the room namespace
    direct_deliveries: int = 0  # room broadcasts written straight to a socket (server/fanout.py)
    queued_deliveries: int = 0  # ... or through engine.io's queue
    slow_client_drops: int = 0
    outbox: dict[str, int] = field(default_factory=dict)  # delivery state -> messages
    oldest_pending_seconds: float = 0.0
    media_backend: str = ""
    feeds: int = 0
    subscriptions: int = 0
    janus: dict[str, bool] = field(default_factory=dict)  # instance -> up (Janus configured)


class _ReadingsCollector(Collector):
    def __init__(self, readings: Callable[[], Readings]) -> None:
        self.readings = readings

    def collect(self) -> Iterable[Metric]:
        now = self.readings()
        yield GaugeMetricFamily(
            "xieshang_room_connections",
            "Socket.IO connections to live rooms on this process.",
            value=now.connections,
        )
        deliveries = CounterMetricFamily(
            "xieshang_fanout_deliveries",
            "Room broadcasts delivered to a connection: written directly, or queued.",
            labels=["path"],
        )
        deliveries.add_metric(["direct"], now.direct_deliveries)
        deliveries.add_metric(["queued"], now.queued_deliveries)
        yield deliveries
        yield CounterMetricFamily(
            "xieshang_fanout_slow_client_drops",
            "Connections dropped because they did not read their messages (they resync).",
            value=now.slow_client_drops,
        )
        outbox = GaugeMetricFamily(
            "xieshang_outbox_messages",
            "Outgoing mail by state (pending is the outbox depth; all processes share it).",
            labels=["state"],
        )
        for state, count in sorted(now.outbox.items()):
            outbox.add_metric([state], count)
        yield outbox
        yield GaugeMetricFamily(
            "xieshang_outbox_oldest_pending_seconds",
            "Age of the oldest mail still waiting to be sent (0 when none waits).",
            value=now.oldest_pending_seconds,
        )
        feeds = GaugeMetricFamily(
            "xieshang_media_feeds", "Published media feeds on this process.", labels=["backend"]
        )
        subs = GaugeMetricFamily(
            "xieshang_media_subscriptions",
            "Media subscriptions (one viewer of one feed) on this process.",
            labels=["backend"],
        )
        if now.media_backend:
            feeds.add_metric([now.media_backend], now.feeds)
            subs.add_metric([now.media_backend], now.subscriptions)
        yield feeds
        yield subs
        if now.janus:
            up = GaugeMetricFamily(
                "xieshang_janus_instance_up",
                "1 while this process's control connection to the Janus instance is up.",
                labels=["instance"],
            )
            for instance, is_up in sorted(now.janus.items()):
                up.add_metric([instance], 1.0 if is_up else 0.0)
            yield up


class Metrics:
    """The registry of one app and the metrics counted as things happen."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "xieshang_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "xieshang_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.commands = Counter(
            "xieshang_room_commands",
            "Room commands by type and outcome (ok, or the error code).",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.readings = Readings()
        self.registry.register(_ReadingsCollector(lambda: self.readings))

    def command(self, kind: str, outcome: str) -> None:
        """Count one room command (``kind`` from a fixed list, so labels stay bounded)."""
        self.commands.labels(kind, outcome).inc()

    def render(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


def route_of(request: web.Request) -> str:
    """The template of the route that served ``request`` (``/api/proposals/{proposal_id}``),
    or ``unmatched``: never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def middleware(metrics: Metrics) -> Any:
    """An aiohttp middleware that counts and times every request (put it first)."""

    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            method = request.method if request.method in METHODS else "other"
            route = route_of(request)
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.durations.labels(method, route).observe(time.perf_counter() - started)

    return measure


def add_route(
    app: web.Application,
    metrics: Metrics,
    token: str | None,
    refresh: Callable[[], Awaitable[None]],
) -> None:
    """``GET /metrics`` behind ``Authorization: Bearer token``; no route at all without a token."""
    if token is None:
        return
    expected = f"Bearer {token}".encode()

    async def scrape(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(
                status=401,
                text="a bearer token is needed\n",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        await refresh()
        return web.Response(
            body=metrics.render(),
            headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
        )

    app.router.add_get("/metrics", scrape)
