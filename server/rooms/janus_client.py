"""The control connection to one Janus instance: its WebSocket API, keepalives and reconnects.

Janus answers a request with the same ``transaction``: at once (``success``/``error``) for core
requests, or with an ``ack`` and later an ``event`` for plugin messages. Events without a
transaction (``webrtcup``, ``hangup``, ``talking`` ...) go to ``on_event``. Sessions live as
long as this connection (Janus destroys them when it closes) and as long as they get a keepalive
within Janus's ``session_timeout``; when the connection drops, ``on_down`` is told and the
connection is opened again in the background, with growing pauses.

The API secret goes into every request and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

KEEPALIVE = 20.0  # seconds; Janus's session_timeout is 60 by default
TIMEOUT = 10.0  # seconds to wait for any answer
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
        keepalive: float = KEEPALIVE,
    ) -> None:
        self.url, self.api_secret, self.keepalive = url, api_secret, keepalive
        self.on_event, self.on_down, self.on_up = on_event, on_down, on_up
        self.up = False
        self.sessions: set[int] = set()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._http: aiohttp.ClientSession | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._closed = False

    def __repr__(self) -> str:
        return f"JanusInstance({self.url!r}, up={self.up})"

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
        pause = 0.2
        while not self._closed:
            try:
                assert self._http is not None
                async with asyncio.timeout(TIMEOUT):
                    self._ws = await self._http.ws_connect(
                        self.url,
                        protocols=("janus-protocol",),
                        heartbeat=10,
                        timeout=aiohttp.ClientWSTimeout(ws_close=5),
                    )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.debug("Janus %s unreachable: %s", self.url, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            pause = 0.2
            await self._serve(self._ws)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.up = True
        self._connected.set()
        log.info("Janus %s connected", self.url)
        if self.on_up is not None:
            await self._tell(self.on_up)
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
        if not self._closed and self.on_down is not None:
            await self._tell(self.on_down)

    async def _tell(self, listener: Listener) -> None:
        try:
            await listener(self)
        except Exception:
            log.exception("Janus %s: listener failed", self.url)

    def _lost(self) -> None:
        self.up = False
        self._connected.clear()
        self.sessions.clear()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(JanusDown(f"lost Janus {self.url}"))
        self._waiting.clear()
        if not self._closed:
            log.warning("Janus %s: control connection lost", self.url)

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
            for session in list(self.sessions):
                try:
                    await self.send({"janus": "keepalive", "session_id": session}, wait=5)
                except JanusError:
                    self.sessions.discard(session)  # Janus forgot it (e.g. timed out)
                except (JanusDown, TimeoutError):
                    break
