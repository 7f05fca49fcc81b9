"""The control connection to one Janus instance: its WebSocket API, keepalives and reconnects.

Janus answers a request with the same ``transaction``: at once (``success``/``error``) for core
requests, or with an ``ack`` and later an ``event`` for plugin messages. Events without a
transaction (``webrtcup``, ``hangup``, ``talking`` ...) go to ``on_event``. Sessions live as
long as they get a keepalive within Janus's ``session_timeout``, and as long as this connection,
or a little longer: Janus keeps a closed connection's sessions for its
``reclaim_session_timeout`` (``deploy/janus/janus.jcfg``), and its ``info`` tells how long.

When the connection breaks, it is opened again in the background, with growing pauses:

* A short break: for up to ``grace`` seconds (less when Janus would let the sessions go sooner)
  the sessions are kept; the new connection ``claim``s each of them, and nothing else happens
  (``on_back`` is told, e.g. to apply what could not be sent meanwhile). Meanwhile requests fail
  at once with :class:`JanusDown` and keepalives pause.
* Otherwise (the grace runs out, a claim is refused, or nothing listens at the address any more:
  that Janus process and its sessions are gone) the sessions are forgotten and ``on_down`` is
  told; the next connection is a fresh one (``on_up``).

The API secret goes into every request and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

KEEPALIVE = 20.0  # seconds; Janus's session_timeout is 60 by default
TIMEOUT = 10.0  # seconds to wait for any answer
GRACE = 10.0  # longest wait, in seconds, for a broken connection to come back before failing over
MARGIN = 1.0  # seconds a claim must arrive before Janus would let a session go
PLUGIN = "janus.plugin.videoroom"

Listener = Callable[["JanusInstance"], Awaitable[None]]
EventListener = Callable[["JanusInstance", dict[str, Any]], None]


class JanusError(Exception):
    """Janus refused a request (``code`` is Janus's or the VideoRoom's error code)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code, self.reason = code, reason


class JanusDown(ConnectionError):
    """The instance is not reachable (or went away while a request was waiting)."""


class JanusInstance:
    """One Janus API endpoint (``ws://`` or ``wss://``), kept connected."""

    def __init__(
        self,
        url: str,
        *,
        api_secret: str | None = None,
        on_event: EventListener | None = None,
        on_down: Listener | None = None,
        on_up: Listener | None = None,
        on_back: Listener | None = None,
        keepalive: float = KEEPALIVE,
        grace: float = GRACE,
    ) -> None:
        self.url, self.api_secret, self.keepalive = url, api_secret, keepalive
        self.on_event, self.on_down, self.on_up, self.on_back = on_event, on_down, on_up, on_back
        self.grace = grace
        self.up = False
        self.sessions: set[int] = set()
        self.kept = 0.0  # seconds Janus keeps the sessions of a closed connection (its info)
        self._back_by: float | None = None  # loop time by which a broken connection must be back
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._http: aiohttp.ClientSession | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._closed = False

    def __repr__(self) -> str:
        return f"JanusInstance({self.url!r}, up={self.up})"

    @property
    def reconnecting(self) -> bool:
        """The connection broke a moment ago; its sessions wait on Janus to be claimed again."""
        return self._back_by is not None

    # ---- connecting

    async def start(self, wait: float = 5.0) -> None:
        """Connect (and keep reconnecting); waits up to ``wait`` seconds for the first success."""
        self._http = aiohttp.ClientSession()
        self._tasks = [
            asyncio.ensure_future(self._run()),
            asyncio.ensure_future(self._keepalive()),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pause = 0.2
        while not self._closed:
            if self._back_by is not None and loop.time() >= self._back_by:
                await self._give_up("it did not come back in time")
            limit = TIMEOUT
            if self._back_by is not None:
                limit = min(limit, max(self._back_by - loop.time(), 0.1))
            try:
                assert self._http is not None
                async with asyncio.timeout(limit):
                    ws = await self._http.ws_connect(
                        self.url,
                        protocols=("janus-protocol",),
                        heartbeat=10,
                        timeout=aiohttp.ClientWSTimeout(ws_close=5),
                    )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.debug("Janus %s unreachable: %s", self.url, exc)
                if self._back_by is not None and _refused(exc):
                    await self._give_up("nothing listens there any more")
                    continue
                if self._back_by is not None:
                    pause = min(pause, 0.5, max(self._back_by - loop.time(), 0.0))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0) if self._back_by is None else 0.5
                continue
            pause = 0.2
            await self._serve(ws)
            if not self._closed:
                await self._broke()

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        reader = asyncio.ensure_future(self._read(ws))
        try:
            fresh = await self._hello(ws)
            self.up = True
            self._connected.set()
            log.info("Janus %s connected", self.url)
            listener = self.on_up if fresh else self.on_back
            if listener is not None:
                await self._tell(listener)
            await reader
        except (JanusDown, TimeoutError) as exc:
            log.warning("Janus %s: the new connection failed: %s", self.url, exc)
        finally:
            reader.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
            self._lost()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    self._dispatch(message.json())
                except ValueError:
                    log.warning("Janus %s sent something that is not JSON", self.url)
        finally:
            self._lost()

    async def _hello(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Learn how long Janus keeps sessions; claim those kept through a break. True when
        this is a fresh start (no sessions kept)."""
        try:
            info = await self._request(ws, {"janus": "info"})
        except JanusError as exc:  # then it keeps nothing we know of
            log.warning("Janus %s refused to tell its settings: %s", self.url, exc)
            info = {}
        reclaim = float(info.get("reclaim-session-timeout") or 0)
        timeout = float(info.get("session-timeout") or 0)
        self.kept = min(reclaim, timeout) if timeout > 0 else reclaim
        if self._back_by is None:
            return True
        for session in list(self.sessions):
            try:
                await self._request(ws, {"janus": "claim", "session_id": session})
            except JanusError as exc:
                await self._give_up(f"session {session} could not be claimed ({exc.reason})")
                return True
        self._back_by = None
        log.warning("Janus %s: reconnected, %d sessions claimed", self.url, len(self.sessions))
        return False

    async def _broke(self) -> None:
        """The connection ended: keep the sessions for a while, or give them up now."""
        if self._back_by is not None:
            return  # already waiting since the first break
        # Janus counts from the session's last request; a keepalive may be ``keepalive`` old.
        grace = min(self.grace, self.kept - self.keepalive - MARGIN)
        if not self.sessions or grace <= 0:
            await self._give_up("its sessions end with it")
            return
        self._back_by = asyncio.get_running_loop().time() + grace
        log.warning(
            "Janus %s: control connection lost; its sessions are kept for %.1f s", self.url, grace
        )

    async def _give_up(self, why: str) -> None:
        """The sessions are gone: forget them and tell ``on_down``."""
        self._back_by = None
        self.sessions.clear()
        log.warning("Janus %s: control connection lost (%s)", self.url, why)
        if not self._closed and self.on_down is not None:
            await self._tell(self.on_down)

    async def _tell(self, listener: Listener) -> None:
        try:
            await listener(self)
        except Exception:
            log.exception("Janus %s: listener failed", self.url)

    def _lost(self) -> None:
        """Requests waiting on the ended connection fail (their callers retry or report)."""
        self.up = False
        self._connected.clear()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(JanusDown(f"lost Janus {self.url}"))
        self._waiting.clear()

    async def close(self) -> None:
        """Destroy this server's sessions and close the connection."""
        self._closed = True
        if self.sessions:
            destroys = [self.destroy(session) for session in list(self.sessions)]
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*destroys, return_exceptions=True), 2)
        for task in self._tasks:
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    # ---- requests

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        transaction = str(message.get("transaction"))
        future = self._waiting.get(transaction)
        # A keepalive is answered with an ack only; a plugin message with an ack, then its event.
        final = kind != "ack" or transaction.startswith("k")
        if future is not None and final:
            self._waiting.pop(str(message["transaction"]), None)
            if not future.done():
                future.set_result(message)
        elif future is None and kind not in ("ack", "success") and self.on_event is not None:
            try:
                self.on_event(self, message)
            except Exception:
                log.exception("Janus %s: event handler failed on %s", self.url, kind)

    async def send(self, body: dict[str, Any], wait: float = TIMEOUT) -> dict[str, Any]:
        """Send one request; its answer (the ``event`` after an ``ack`` for plugin messages)."""
        ws = self._ws
        if not self.up or ws is None or ws.closed:
            raise JanusDown(f"Janus {self.url} is down")
        return await self._request(ws, body, wait)

    async def _request(
        self, ws: aiohttp.ClientWebSocketResponse, body: dict[str, Any], wait: float = TIMEOUT
    ) -> dict[str, Any]:
        prefix = "k" if body.get("janus") == "keepalive" else "t"
        transaction = f"{prefix}{next(self._ids)}-{secrets.token_hex(4)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        request = {**body, "transaction": transaction}
        if self.api_secret:
            request["apisecret"] = self.api_secret
        try:
            await ws.send_json(request)
            answer = await asyncio.wait_for(future, wait)
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise JanusDown(f"Janus {self.url}: {exc}") from None
        finally:
            self._waiting.pop(transaction, None)
        if answer.get("janus") == "error":
            error = answer.get("error", {})
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
        return answer

    async def create_session(self) -> int:
        answer = await self.send({"janus": "create"})
        session = int(answer["data"]["id"])
        self.sessions.add(session)
        return session

    async def attach(self, session: int) -> int:
        answer = await self.send({"janus": "attach", "session_id": session, "plugin": PLUGIN})
        return int(answer["data"]["id"])

    async def destroy(self, session: int) -> None:
        self.sessions.discard(session)
        with contextlib.suppress(JanusError):
            await self.send({"janus": "destroy", "session_id": session})

    async def message(
        self, session: int, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A VideoRoom request; its data and the JSEP (SDP) that came with the answer."""
        request: dict[str, Any] = {
            "janus": "message",
            "session_id": session,
            "handle_id": handle,
            "body": body,
        }
        if jsep is not None:
            request["jsep"] = jsep
        answer = await self.send(request)
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        if "error_code" in data or (data.get("videoroom") == "event" and "error" in data):
            raise JanusError(int(data.get("error_code", 0)), str(data.get("error", "")))
        return data, answer.get("jsep")

    async def _keepalive(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.keepalive)
            if not self.up:
                continue  # paused while the connection is broken
            for session in list(self.sessions):
                try:
                    await self.send({"janus": "keepalive", "session_id": session}, wait=5)
                except JanusError:
                    self.sessions.discard(session)  # Janus forgot it (e.g. timed out)
                except (JanusDown, TimeoutError):
                    break


def _refused(exc: BaseException) -> bool:
    """Nothing listens at the address (as opposed to a network that does not answer)."""
    error = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    return (
        isinstance(error, ConnectionRefusedError)
        or getattr(error, "errno", None) == errno.ECONNREFUSED
    )
