"""Room fan-out for python-socketio on aiohttp: encode a broadcast once, write one frame to all.

Stock python-socketio 5.18 with python-engineio 4.x delivers a broadcast by creating one asyncio
task per recipient (``AsyncManager.emit``); each task puts the packet on that connection's
queue, whose writer task wakes through ``asyncio.wait_for`` (a task and a timer per wake-up) and
sends with aiohttp, which also deflates every frame separately for every connection that
offered permessage-deflate (every browser does). ``bench/fanout`` measured ~140 µs of server
CPU per delivered event that way, against ~16 µs for a plain aiohttp broadcast.

This module keeps python-socketio's protocol, rooms, acks and Redis fan-out, and changes only
how a broadcast reaches the sockets of this process:

* :class:`DirectWebSocket` is engine.io's aiohttp websocket wrapper with compression off (small
  JSON events gain little from deflate and each connection's zlib state costs ~200 KB) that
  remembers, per engine.io session, the connection's transport.
* :class:`FastEmit` (a client-manager mixin, python-socketio's extension point) encodes a
  broadcast without callbacks once and builds the websocket frame bytes once: a server does not
  mask its frames, so the bytes are the same for every recipient. Each recipient then costs one
  ``transport.write``. A recipient takes the stock path instead whenever writing directly could
  reorder its messages: it is not on websocket, is upgrading or closing, or engine.io still has
  packets queued for it or is writing them.
* A recipient with more than ``slow_client_bytes`` (``XIESHANG_WS_SLOW_CLIENT_BYTES``) unsent
  is disconnected (logged): its client reconnects and resyncs from the room log, instead of the
  server buffering for it without bound (the stock path would queue without bound too).
* Each connection's packets wait in a :class:`SocketQueue` (the server's ``create_queue``), a
  few hundred bytes where ``asyncio.Queue`` takes about 3 KB, and without the task that
  engine.io's writer would otherwise wrap around every wait.
* A connection that starts on websocket (every browser here: ``web/js/room-client.js`` asks for
  it) is served in the one task aiohttp gives its request (:meth:`DirectWebSocket.serve`):
  engine.io would add a writer task, a task around each read and a sleeping ping task, with a
  timer for each (~5 KB a connection, a third of a plain websocket's whole cost). Its packets
  are written as they are sent (:meth:`SocketQueue.write_through`), and one :class:`Pinger`
  pings every connection of the server when due. A connection that starts on long-polling and
  upgrades keeps engine.io's own loop.

What this relies on inside python-engineio 4.x (python-socketio is pinned to 5.18.*, which pins
engine.io 4.x): the server's driver table ``_async`` (copied per server, never mutated in
place), its ``sockets`` mapping, its ``create_queue`` making each socket's queue and the queue
calls of its sockets (``get`` awaited through ``asyncio.wait_for``, ``get_nowait``, ``put``,
``task_done`` right after each get, ``join``), the socket attributes ``queue``, ``upgraded``,
``upgrading``, ``closed``, ``closing``, ``connected`` (false until a polling connection's first
request, so still false for one that starts on websocket) and ``sid``, the websocket handler
being a bound method of that socket, ``receive`` taking each packet read, ``close(wait, abort,
reason)``, ``schedule_ping`` starting ``_send_ping`` through the server's
``start_background_task``, and the server's ``handlers["disconnect"]`` (python-socketio's,
awaited whenever a socket closes).
``tests/server/test_fanout.py`` checks each of these and that broadcasts really take the direct
path, so an upgrade that moves any of them fails the tests instead of silently slowing down.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import struct
import time
from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import WSMsgType, web
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as eio_aiohttp
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet

log = logging.getLogger(__name__)

SLOW_CONSUMER_BYTES = 4 * 1024 * 1024
# What the connect handlers read of a connection's environ (``server.rooms.events``,
# ``server.errors``, ``server.realtime``'s Origin check), for namespaces joined at any time.
# engine.io copies every request header into it once more as a WSGI key (~1 KB a connection,
# for its whole life); the request keeps its headers anyway.
ENVIRON_KEPT = frozenset(
    {
        "aiohttp.request",
        "REQUEST_METHOD",
        "PATH_INFO",
        "QUERY_STRING",
        "REMOTE_ADDR",
        "wsgi.url_scheme",
        "HTTP_HOST",
        "HTTP_ORIGIN",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_USER_AGENT",
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_FORWARDED_PROTO",
    }
)


class DirectWebSocket(eio_aiohttp.WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp websocket, uncompressed, with a way to write a ready frame."""

    def __init__(self, handler: Any, server: Any) -> None:
        super().__init__(handler, server)
        self.transport: Any = None
        self.sending = 0  # engine.io's writer is inside send(): direct writes would reorder
        self.reading = False  # serve() is reading from the peer
        self.closing: asyncio.Future[bool] | None = None  # end() closing the websocket

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request: web.Request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        self.transport = request.transport
        socket = self.handler.__self__  # the engine.io socket this websocket serves
        direct: dict[str, DirectWebSocket] = self.server.xieshang_direct
        direct[socket.sid] = self
        if not socket.connected and SERVE_LATER in request:
            # The realtime lane serves it once engine.io's handshake has returned: the five
            # frames of engine.io's request handling would otherwise wait as long as the
            # connection (about 1.3 KB).
            request[SERVE_LATER] = self
            return self._sock
        if not socket.connected:
            await self.serve()
            return self._sock
        try:  # an upgrade from long-polling: engine.io's own handshake and loop
            await self.handler(self)
        finally:
            self._forget(socket)
        return self._sock

    def _forget(self, socket: AsyncSocket) -> None:
        """No more direct writes; and a closed socket leaves the server's table, as when
        engine.io's own handling of a websocket returns."""
        direct: dict[str, DirectWebSocket] = self.server.xieshang_direct
        if direct.get(socket.sid) is self:
            del direct[socket.sid]
        self.transport = None
        if socket.closed and self.server.sockets.get(socket.sid) is socket:
            del self.server.sockets[socket.sid]

    async def serve(self) -> None:
        """engine.io's websocket transport for a connection that starts on it, in this task
        (the realtime lane's, ``SERVE_LATER``, or engine.io's request handling's).

        What it does as engine.io's loop does: reads each packet and hands it to the socket
        (which runs the Socket.IO handlers); when the peer closes, the websocket is closed and the
        socket with it (``transport close``). What it does not: packets the socket sends are
        written at once (:meth:`write`), pings come from the server's :class:`Pinger`, and a read
        has no timer of its own: a socket closed on the server's side (a peer that stopped
        answering pings is closed by engine.io's monitor) closes the websocket (:meth:`end`),
        which ends this loop. So there is no other task or timer for this connection.
        """
        socket: AsyncSocket = self.handler.__self__
        socket.connected = socket.upgraded = self.reading = True
        _keep_only(self.environ, ENVIRON_KEPT)
        socket.queue.write_through(self.write)
        try:
            while True:
                try:
                    message = await self._sock.receive()
                except asyncio.CancelledError:
                    # The connection was lost (aiohttp cancels the request): it ends here.
                    break
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break  # closed, closing or broken
                try:
                    pkt = eio_packet.Packet(encoded_packet=message.data)
                except Exception:  # not an engine.io packet: the client is not one of ours
                    log.info("closing %s: it sent no engine.io packet", socket.sid)
                    break
                try:
                    await socket.receive(pkt)
                except eio_exceptions.UnknownPacketError:
                    continue
                except eio_exceptions.SocketIsClosedError:
                    break
                except Exception:  # as engine.io: log it, keep the connection
                    log.exception("%s: could not handle a packet", socket.sid)
        finally:
            self.reading = False
            # The disconnect runs to its end even when aiohttp cancels this task because the
            # peer is gone (``handler_cancellation``): it records that the person left and
            # releases their media. A second cancellation stops the wait, not the disconnect.
            closing = asyncio.ensure_future(self._close(socket))
            try:
                await asyncio.shield(closing)
            except asyncio.CancelledError:
                await closing
            finally:
                self._forget(socket)

    async def _close(self, socket: AsyncSocket) -> None:
        with contextlib.suppress(OSError):
            await self._sock.close()
        await socket.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    def write(self, pkt: Any) -> None:
        """Write one engine.io packet as one frame now (``SocketQueue.write_through``): nothing is
        queued in between, so the order packets are sent in is the order they are written."""
        transport = self.transport
        if pkt is None or transport is None or transport.is_closing():
            return  # None is engine.io's "writer, stop"; a closing connection takes no more
        encoded = pkt.encode()
        if isinstance(encoded, bytes):
            frame = websocket_frame(encoded, binary=True)
        else:
            frame = text_frame(encoded)
        manager: FastEmit = self.server.xieshang_manager
        manager.deliver(transport, frame, self.handler.__self__.sid)

    def end(self) -> None:
        """The socket was closed on the server's side (disconnected, or its pings went
        unanswered): close the websocket, so that :meth:`serve` stops reading. From another
        task, as aiohttp allows; the read returns and the loop ends."""
        if self.reading and self.closing is None:
            self.closing = asyncio.ensure_future(self._sock.close())

    async def send(self, message: Any) -> None:
        self.sending += 1
        try:
            await super().send(message)
        finally:
            self.sending -= 1


def _keep_only(environ: dict[str, Any], kept: frozenset[str]) -> None:
    """Drop the rest of ``environ`` in place (python-socketio holds the same dict); cleared
    first, so that its table shrinks to what is kept."""
    keep = {key: value for key, value in environ.items() if key in kept}
    environ.clear()
    environ.update(keep)


# Set on a websocket request by ``server.realtime.realtime_lane``, which then serves the
# connection itself once engine.io has returned (:meth:`DirectWebSocket.serve`).
SERVE_LATER: web.RequestKey[DirectWebSocket | None] = web.RequestKey("serve_later")


class Pinger:
    """Pings every engine.io connection of one server when due, from one task.

    engine.io pings a connection ``ping_interval`` after it connected and after each answer
    (``schedule_ping``), each time from a task that sleeps until then: for a hall of a thousand
    phones, a thousand sleeping tasks and timers. Every connection waits the same interval, so
    the connections come due in the order they were scheduled: one queue, one task, and one timer
    for the earliest. What is sent and when is engine.io's: a connection that is closing or closed
    by then gets no ping; the others get ``last_ping`` set and a PING packet, and the server's
    own monitor closes those that do not answer in ``ping_timeout``.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.due: collections.deque[tuple[float, AsyncSocket]] = collections.deque()
        self.task: asyncio.Task[None] | None = None
        self.stopped = False

    def schedule(self, socket: AsyncSocket) -> None:
        if self.stopped:
            return
        loop = asyncio.get_running_loop()
        self.due.append((loop.time() + self.interval, socket))
        if self.task is None:
            self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.due:
                at, socket = self.due[0]
                if (wait := at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                    continue
                self.due.popleft()
                if socket.closing or socket.closed:
                    continue
                socket.last_ping = time.time()
                try:
                    await socket.send(eio_packet.Packet(eio_packet.PING))
                except Exception:  # one connection's trouble must not stop the others' pings
                    log.exception("%s: could not ping", socket.sid)
        finally:
            self.task = None

    async def stop(self) -> None:
        """No more pings (the server is shutting down)."""
        self.stopped = True
        self.due.clear()
        if (task := self.task) is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class SocketQueue:
    """engine.io's queue of packets for one connection, in a fraction of the memory.

    ``asyncio.Queue`` keeps four deques (items, getters, putters and its join event's waiters),
    about 3 KB for every connection before anything is queued; a hall holds a thousand. Engine.io
    needs first in first out, its one writer waiting, and ``task_done``/``join`` for a graceful
    close. :meth:`get` returns a future, so the writer's ``asyncio.wait_for`` wraps no task
    around it (one task fewer per connection).

    :meth:`empty` is true only once every packet put is done (``task_done``), not merely taken:
    engine.io's writer calls ``task_done`` right before it starts sending, so a packet on its
    way to the writer still counts, and :class:`FastEmit` never writes a broadcast ahead of it.
    """

    __slots__ = ("_items", "_joined", "_unfinished", "_waiters", "_write")

    def __init__(self) -> None:
        self._items: list[Any] = []  # rarely more than a few: the writer takes them as they come
        self._waiters: list[asyncio.Future[Any]] = []
        self._unfinished = 0  # put and not yet done
        self._joined: asyncio.Future[None] | None = None
        self._write: Callable[[Any], None] | None = None

    def write_through(self, write: Callable[[Any], None]) -> None:
        """From now on, hand each packet to ``write`` as it is put (there is no writer task to
        wait: :meth:`DirectWebSocket.serve`). What is queued already goes first."""
        items, self._items = self._items, []
        self._write = write
        for item in items:
            write(item)
            self.task_done()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return self._unfinished == 0

    def put_nowait(self, item: Any) -> None:
        if self._write is not None:
            self._write(item)
            return
        self._unfinished += 1
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():  # a waiter that gave up (wait_for's timeout) is skipped
                waiter.set_result(item)
                return
        self._items.append(item)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    def get(self) -> asyncio.Future[Any]:
        """The next item, as a future (cancelling it gives up the wait, losing nothing)."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._items:
            waiter.set_result(self._items.pop(0))
        else:
            self._waiters = [w for w in self._waiters if not w.done()]
            self._waiters.append(waiter)
        return waiter

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._joined is not None:
            if not self._joined.done():
                self._joined.set_result(None)
            self._joined = None

    async def join(self) -> None:
        if self._unfinished == 0:
            return
        if self._joined is None:
            self._joined = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._joined)


def install(sio: socketio.AsyncServer, *, slow_client_bytes: int = SLOW_CONSUMER_BYTES) -> None:
    """Serve this Socket.IO server's websockets through :class:`DirectWebSocket`, each
    connection's packets queued in a :class:`SocketQueue`."""
    eio = sio.eio
    eio._async = {**eio._async, "websocket": DirectWebSocket}  # a copy: other servers unchanged
    eio.create_queue = lambda *_args, **_kwargs: SocketQueue()  # engine.io's one queue per socket
    eio.xieshang_direct = {}
    eio.xieshang_manager = sio.manager
    sio.manager.slow_client_bytes = slow_client_bytes
    pinger = eio.xieshang_pinger = Pinger(eio.ping_interval)
    start_background_task = eio.start_background_task

    def start_task(target: Any, *args: Any, **kwargs: Any) -> Any:
        """engine.io's, except that a connection's next ping is the :class:`Pinger`'s."""
        if getattr(target, "__func__", None) is AsyncSocket._send_ping:
            pinger.schedule(target.__self__)
            return None
        return start_background_task(target, *args, **kwargs)

    eio.start_background_task = start_task
    heard = eio.handlers["disconnect"]  # python-socketio's

    async def disconnected(eio_sid: str, *args: Any) -> Any:
        """python-socketio's, then the websocket of a socket closed on the server's side ends."""
        try:
            return await heard(eio_sid, *args)
        finally:
            if (websocket := eio.xieshang_direct.get(eio_sid)) is not None:
                websocket.end()

    eio.handlers["disconnect"] = disconnected


async def stop_pings(sio: socketio.AsyncServer) -> None:
    """Stop the server's :class:`Pinger` (on shutdown, once the clients are disconnected)."""
    pinger: Pinger | None = getattr(sio.eio, "xieshang_pinger", None)
    if pinger is not None:
        await pinger.stop()


def websocket_frame(payload: bytes, *, binary: bool = False) -> bytes:
    """One unmasked, final websocket frame (RFC 6455 §5.2), as a server sends it."""
    first = 0x82 if binary else 0x81
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def text_frame(text: str) -> bytes:
    """One unmasked, final websocket text frame."""
    return websocket_frame(text.encode())


class FastEmit(socketio.AsyncManager):  # type: ignore[misc]
    """A client manager whose broadcasts write one shared frame to every local recipient."""

    slow_client_bytes = SLOW_CONSUMER_BYTES
    direct_deliveries = 0  # counters for tests and the benchmark
    queued_deliveries = 0
    dropped_slow = 0

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        eio = self.server.eio
        direct: dict[str, DirectWebSocket] | None = getattr(eio, "xieshang_direct", None)
        if callback is not None or direct is None or namespace not in self.rooms:
            await super().emit(
                event,
                data,
                namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        try:
            # binary=False spares python-socketio's walk of the whole payload looking for
            # bytes (a room snapshot is large); JSON refuses bytes, and then the stock path,
            # which knows how to send binary attachments, takes over.
            encoded = self.server.packet_class(
                sio_packet.EVENT, namespace=namespace, data=[event, *args], binary=False
            ).encode()
        except TypeError:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, to=to)
            return
        text = eio_packet.Packet(eio_packet.MESSAGE, encoded).encode()
        frame: bytes | None = None
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        queued: list[str] = []
        for sid, eio_sid in list(self.get_participants(namespace, to or room)):
            if sid in skip:
                continue
            ws = direct.get(eio_sid)
            socket = eio.sockets.get(eio_sid)
            transport = ws.transport if ws is not None else None
            if (
                ws is None
                or socket is None
                or transport is None
                or transport.is_closing()
                or ws.sending
                or not socket.upgraded
                or socket.upgrading
                or socket.closed
                or not socket.queue.empty()
            ):
                queued.append(eio_sid)
                continue
            if frame is None:
                frame = text_frame(text)
            if self.deliver(transport, frame, sid):
                self.direct_deliveries += 1
        if queued:
            pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
            for eio_sid in queued:
                self.queued_deliveries += 1
                await eio.send_packet(eio_sid, pkt)

    def deliver(self, transport: Any, frame: bytes, who: str) -> bool:
        """Write ``frame``, unless the peer has more than ``slow_client_bytes`` unsent already:
        then it is cut off (its client reconnects and resyncs) and False is returned."""
        if transport.get_write_buffer_size() > self.slow_client_bytes:
            log.warning("disconnecting %s: it is not reading its messages", who)
            self.dropped_slow += 1
            transport.abort()
            return False
        transport.write(frame)
        return True


class FastManager(FastEmit):
    """The single-process client manager."""


class FastRedisManager(socketio.AsyncRedisManager, FastEmit):  # type: ignore[misc]
    """Redis fan-out across processes; each process delivers with :class:`FastEmit`."""
