"""Rate limits, so one client's flood cannot starve the others.

HTTP requests per client address, room messages per connection; refusals are answered late
(see ``errors.TARPIT_SECONDS`` and ``rooms.events.REFUSAL_DELAY``) so that a flooding client
slows itself down instead of the server.

HTTP: per client address.

A token bucket per address: ``rate`` API requests a second, bursts up to ``burst``. Refusals are
decided before the request touches the database or even resolves its token, so a flood costs
the server little more than reading it. Behind a reverse proxy, the address comes from
X-Forwarded-For (``XIESHANG_TRUSTED_PROXIES``); limit per address at the proxy too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from server.audit.service import ORIGIN
from server.errors import TooManyRequests
from server.i18n import _

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PRUNE_AT = 10_000  # addresses remembered before idle ones are forgotten


class AddressLimiter:
    """Token buckets keyed by client address."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: dict[str, tuple[float, float]] = {}

    def check(self, address: str) -> None:
        """Take one token for ``address`` or refuse with how long to wait."""
        now = time.monotonic()
        tokens, last = self.buckets.get(address, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self.buckets[address] = (tokens, now)
            wait = max(1, math.ceil((1 - tokens) / self.rate))
            raise TooManyRequests(
                _("Too many requests from your address; try again in {wait} seconds.", wait=wait),
                retry_after=wait,
            )
        self.buckets[address] = (tokens - 1, now)
        if len(self.buckets) > PRUNE_AT:
            self._prune(now)

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate  # an idle bucket this old is full again: forget it
        self.buckets = {a: b for a, b in self.buckets.items() if now - b[1] < full_after}


def make_limit_middleware(limiter: AddressLimiter) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Middleware refusing API requests over the address's rate (needs the origin set first)."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/") and request.path != "/api/health":
            limiter.check(ORIGIN.get())
        return await handler(request)

    return limit


class RateLimiter:
    """A token bucket per connection: ``rate`` commands a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: dict[str, tuple[float, float]] = {}
        self.refused: dict[str, int] = {}  # refusals in a row

    def allow(self, sid: str) -> bool:
        now = time.monotonic()
        tokens, last = self.buckets.get(sid, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self.buckets[sid] = (tokens, now)
            self.refused[sid] = self.refused.get(sid, 0) + 1
            return False
        self.buckets[sid] = (tokens - 1, now)
        self.refused.pop(sid, None)
        return True

    def ignoring_refusals(self, sid: str) -> bool:
        """True for a client that keeps sending although every message is refused."""
        return self.refused.get(sid, 0) >= max(100, 5 * self.burst)

    def forget(self, sid: str) -> None:
        self.buckets.pop(sid, None)
        self.refused.pop(sid, None)
