"""The fast broadcast path (server/fanout.py): direct frames, order, no deflate, slow clients.

These tests also pin the python-engineio internals the fast path reads: if an upgrade moves
them, the first test names what moved, and the others fail because broadcasts stop taking the
direct path (the counters stay at zero) rather than silently getting slow.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import os
import struct
from importlib.metadata import version

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from server.app import SIO
from server.config import Config
from server.fanout import ENVIRON_KEPT, DirectWebSocket, FastEmit, SocketQueue, text_frame
from tests.conftest import Cast


async def connect(server: TestServer, token: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        str(server.make_url("")), auth={"token": token}, transports=["websocket"], wait_timeout=5
    )
    return client


def manager(server: TestServer) -> FastEmit:
    sio: socketio.AsyncServer = server.app[SIO]
    assert isinstance(sio.manager, FastEmit)
    return sio.manager


async def test_the_engineio_internals_the_fast_path_reads_are_where_it_expects(
    server: TestServer, cast: Cast
) -> None:
    assert version("python-socketio").startswith("5.18."), "re-check server/fanout.py first"
    assert version("python-engineio").startswith("4."), "re-check server/fanout.py first"
    sio: socketio.AsyncServer = server.app[SIO]
    assert sio.eio._async["websocket"] is DirectWebSocket
    assert sio.eio.handlers["disconnect"].__qualname__ == "install.<locals>.disconnected"
    client = await connect(server, cast.member.token)
    try:
        (eio_sid,) = list(sio.eio.sockets)
        socket = sio.eio.sockets[eio_sid]
        assert isinstance(socket, AsyncSocket)
        assert socket.sid == eio_sid
        assert isinstance(socket.queue, SocketQueue)
        assert (socket.upgraded, socket.upgrading, socket.closed) == (True, False, False)
        direct = sio.eio.xieshang_direct[eio_sid]
        assert direct.handler.__self__ is socket
        # Of the environ python-socketio keeps, only what the connect handlers read is left.
        assert sio.environ[eio_sid] is direct.environ
        assert "aiohttp.request" in direct.environ and "QUERY_STRING" in direct.environ
        assert set(direct.environ) <= ENVIRON_KEPT
        assert "HTTP_SEC_WEBSOCKET_KEY" not in direct.environ
        assert direct.transport is not None and not direct.transport.is_closing()
    finally:
        await client.disconnect()
    for _ in range(50):
        if not sio.eio.xieshang_direct:
            break
        await asyncio.sleep(0.02)
    assert sio.eio.xieshang_direct == {}, "a closed websocket stayed registered"


async def test_the_socket_queue_keeps_order_loses_nothing_and_counts_a_packet_until_done() -> None:
    queue = SocketQueue()
    assert queue.empty()
    # The writer waits (as engine.io's does, through wait_for), and gives up once: the packet
    # put after that goes to the next wait, not to the one that timed out.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    waiting = asyncio.ensure_future(asyncio.wait_for(queue.get(), 5))
    await asyncio.sleep(0)
    await queue.put("a")
    queue.put_nowait("b")
    # Handed to the writer but not yet done: still counted, so no broadcast is written ahead.
    assert not queue.empty()
    assert await waiting == "a"
    assert not queue.empty()
    queue.task_done()
    assert queue.get_nowait() == "b" and queue.qsize() == 0
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    joined = asyncio.ensure_future(queue.join())
    await asyncio.sleep(0)
    assert not joined.done() and not queue.empty()
    queue.task_done()
    await asyncio.wait_for(joined, 1)
    assert queue.empty()
    with pytest.raises(ValueError):
        queue.task_done()


def test_a_frame_is_an_unmasked_final_text_frame_of_the_right_length() -> None:
    for size, header in ((5, b"\x81\x05"), (200, b"\x81\x7e\x00\xc8"), (70000, None)):
        frame = text_frame("x" * size)
        if header is not None:
            assert frame.startswith(header)
        else:
            assert frame[:2] == b"\x81\x7f" and struct.unpack("!Q", frame[2:10])[0] == 70000
        assert frame.endswith(b"x" * size)
    assert text_frame("协商") == b"\x81\x06" + "协商".encode()


async def test_a_broadcast_reaches_everyone_in_order_through_direct_writes(
    server: TestServer, cast: Cast
) -> None:
    sio: socketio.AsyncServer = server.app[SIO]
    clients = [await connect(server, p.token) for p in (cast.member, cast.member2, cast.unit)]
    got: list[list[int]] = [[] for _ in clients]
    for client, inbox in zip(clients, got, strict=True):
        client.on("tick", lambda data, inbox=inbox: inbox.append(data["n"]))
    before = manager(server).direct_deliveries
    try:
        for n in range(50):
            await sio.emit("tick", {"n": n, "text": "进度汇报"})
        for _ in range(100):
            if all(len(inbox) == 50 for inbox in got):
                break
            await asyncio.sleep(0.02)
        assert got == [list(range(50))] * 3
        assert manager(server).direct_deliveries - before == 150
    finally:
        for client in clients:
            await client.disconnect()


async def test_a_client_with_packets_still_queued_gets_the_broadcast_after_them(
    server: TestServer, cast: Cast
) -> None:
    """A connection that started on long-polling and upgraded keeps engine.io's queue and
    writer task: a broadcast waits behind what is queued for it."""
    sio: socketio.AsyncServer = server.app[SIO]
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        str(server.make_url("")),
        auth={"token": cast.member.token},
        transports=["polling", "websocket"],
        wait_timeout=5,
    )
    seen: list[str] = []
    client.on("first", lambda _data: seen.append("first"))
    client.on("tick", lambda _data: seen.append("tick"))
    queued_before = manager(server).queued_deliveries
    try:
        (eio_sid,) = list(sio.eio.sockets)
        for _ in range(100):  # the client upgrades to websocket right after connecting
            if sio.eio.sockets[eio_sid].upgraded and eio_sid in sio.eio.xieshang_direct:
                break
            await asyncio.sleep(0.02)
        assert client.transport() == "websocket"
        first = sio.packet_class(socketio.packet.EVENT, namespace="/", data=["first", {}])
        # Queued for engine.io's writer task, which has not run yet when the broadcast comes.
        await sio.eio.send_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, first.encode()))
        await sio.emit("tick", {})
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.02)
        assert seen == ["first", "tick"]
        assert manager(server).queued_deliveries == queued_before + 1
    finally:
        await client.disconnect()


async def test_a_websocket_connection_is_served_by_its_request_task_alone(
    server: TestServer,
) -> None:
    """engine.io would run three more tasks for each (a writer, a read and a sleeping ping)."""
    url = server.make_url("/socket.io/?EIO=4&transport=websocket")
    before = asyncio.all_tasks()
    async with aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(url) for _ in range(10)]
        for ws in sockets:
            assert (await ws.receive_str()).startswith("0{")
        grown = [task.get_coro() for task in asyncio.all_tasks() - before]
        # aiohttp's two for each: the connection's, and its request's.
        handlers = sorted(c.__qualname__ for c in grown if c.__qualname__.startswith("Request"))
        assert handlers == ["RequestHandler._handle_request"] * 10 + ["RequestHandler.start"] * 10
        # And none of engine.io's, Socket.IO's or ours but the server's own (the Pinger,
        # engine.io's monitor and its waits). Other work of the app may run meanwhile (a CI run
        # once saw SQLAlchemy's task closing an ORM session).
        server_wide = ("Pinger._run", "AsyncServer._service_task", "Event.wait")
        realtime = ("engineio", "socketio", "server.fanout", "server.realtime")
        ours = [
            c.__qualname__
            for c in grown
            if str(c.cr_frame.f_globals.get("__name__", "")).startswith(realtime)
            and c.__qualname__ not in server_wide
        ]
        assert ours == []
        for ws in sockets:
            await ws.close()


async def test_pings_are_sent_when_due_and_a_client_that_stops_answering_is_closed(
    server: TestServer,
) -> None:
    sio: socketio.AsyncServer = server.app[SIO]
    sio.eio.ping_interval = sio.eio.xieshang_pinger.interval = 0.2
    sio.eio.ping_timeout = 2.0  # the answering client's pongs are never that late, even on CI
    url = server.make_url("/socket.io/?EIO=4&transport=websocket")
    loop = asyncio.get_running_loop()
    started = loop.time()  # before the server schedules the first ping (the same clock)
    async with aiohttp.ClientSession() as http:
        answering, silent = await http.ws_connect(url), await http.ws_connect(url)
        for ws in (answering, silent):
            assert (await ws.receive_str()).startswith("0{")
        pings = []
        for _ in range(4):  # answered each time, so pinged again an interval later
            # Generous waits: only the order and the spacing are checked here, and a loaded CI
            # machine once stalled this test's loop past a 2 s wait (bench/ measures speed).
            assert await answering.receive_str(timeout=15) == "2"
            pings.append(loop.time() - started)
            await answering.send_str("3")
        assert pings[0] >= 0.19 and all(b - a >= 0.19 for a, b in itertools.pairwise(pings))
        assert await silent.receive_str(timeout=15) == "2"  # pinged once, never answers
        # Closed by the server once the ping goes unanswered (by the monitor, or at the latest
        # when nothing was read for the ping interval and timeout).
        closing = await silent.receive(timeout=15)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert not answering.closed
        await answering.close()
    for _ in range(100):
        if not sio.eio.sockets:
            break
        await asyncio.sleep(0.02)
    assert sio.eio.sockets == {}


async def test_binary_events_reach_a_websocket_client_in_order_with_text_ones(
    server: TestServer, cast: Cast
) -> None:
    sio: socketio.AsyncServer = server.app[SIO]
    client = await connect(server, cast.member.token)
    got: list[object] = []
    client.on("blob", lambda data: got.append(data))
    client.on("note", lambda data: got.append(data))
    try:
        await sio.emit("blob", b"\x00\x01\xff" * 100)
        await sio.emit("note", "协商")
        await sio.emit("blob", b"\x02")
        for _ in range(100):
            if len(got) == 3:
                break
            await asyncio.sleep(0.02)
        assert got == [b"\x00\x01\xff" * 100, "协商", b"\x02"]
    finally:
        await client.disconnect()


async def test_the_server_declines_permessage_deflate(server: TestServer) -> None:
    url = server.make_url("/socket.io/?EIO=4&transport=websocket")
    async with aiohttp.ClientSession() as http, http.ws_connect(url, compress=15) as ws:
        opening = await ws.receive_str()
        assert opening.startswith("0{")
        assert ws.compress == 0  # the client offered deflate; the server did not accept it


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, ws_slow_client_bytes=64 * 1024)


async def silent_client(server: TestServer, token: str) -> asyncio.StreamWriter:
    """A websocket Socket.IO client that connects, then never reads again."""
    assert server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    payload = ("40" + json.dumps({"token": token})).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    writer.write(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)
    await writer.drain()
    seen = b""
    while b'40{"sid"' not in seen:  # the namespace accepted us; from now on, read nothing
        seen += await asyncio.wait_for(reader.read(1024), 5)
    return writer


async def test_a_client_that_stops_reading_is_disconnected_and_others_are_not_held_up(
    server: TestServer, cast: Cast
) -> None:
    sio: socketio.AsyncServer = server.app[SIO]
    silent = await silent_client(server, cast.member2.token)
    reader = await connect(server, cast.member.token)
    received: list[int] = []
    reader.on("bulk", lambda data: received.append(data["n"]))
    filler = "会" * 8000  # 24 KB a message
    sent = 0
    try:
        while manager(server).dropped_slow == 0 and sent < 2000:
            await sio.emit("bulk", {"n": sent, "filler": filler})
            sent += 1
            await asyncio.sleep(0)
        assert manager(server).dropped_slow == 1, f"still connected after {sent} messages"
        for _ in range(250):
            if len(received) == sent:
                break
            await asyncio.sleep(0.02)
        assert received == list(range(sent))
        for _ in range(100):
            if len(sio.eio.sockets) == 1:
                break
            await asyncio.sleep(0.02)
        assert len(sio.eio.sockets) == 1  # only the reading client is left
    finally:
        silent.close()
        await reader.disconnect()


async def test_a_disconnect_runs_to_its_end_when_the_peer_is_gone_before_it_finishes(
    server: TestServer, cast: Cast
) -> None:
    """aiohttp cancels a request's task once its peer is gone (``handler_cancellation``, as in
    tests); the disconnect handlers (presence, media) still finish."""
    sio: socketio.AsyncServer = server.app[SIO]
    finished: list[str] = []

    async def slow_disconnect(sid: str, *_reason: object) -> None:
        await asyncio.sleep(0.3)  # e.g. a presence window, or an SFU that answers slowly
        finished.append(sid)

    sio.on("connect", lambda *_args: None, namespace="/probe")
    sio.on("disconnect", slow_disconnect, namespace="/probe")
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        str(server.make_url("")),
        auth={"token": cast.member.token},
        namespaces=["/probe"],
        transports=["websocket"],
        wait_timeout=5,
    )
    sid = client.get_sid("/probe")
    await client.eio.ws.close()  # the peer goes away at once, without a word
    for _ in range(100):
        if finished:
            break
        await asyncio.sleep(0.02)
    assert finished == [sid]
    await client.disconnect()


def awaiting(task: asyncio.Task[object]) -> list[str]:
    """The coroutines ``task`` is suspended in, outermost first."""
    names, coro = [], task.get_coro()
    while coro is not None and hasattr(coro, "cr_await"):
        names.append(coro.__qualname__)
        coro = coro.cr_await
    return names


async def test_a_websocket_request_waits_in_no_middleware_nor_engineio_but_the_realtime_lane(
    server: TestServer,
) -> None:
    """Every middleware it passed would keep a frame for the connection's whole life."""
    url = server.make_url("/socket.io/?EIO=4&transport=websocket")
    before = asyncio.all_tasks()
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        assert (await ws.receive_str()).startswith("0{")
        chains = [awaiting(task) for task in asyncio.all_tasks() - before]
        (chain,) = [chain for chain in chains if "DirectWebSocket.serve" in chain]
        assert "realtime_lane.<locals>.lane" in chain
        for middleware in ("request_ids", "measure", "security_headers", "origin", "limit"):
            assert not any(name.endswith(middleware) for name in chain), chain
        # Nor in engine.io's request handling: the lane serves the websocket once it returned.
        assert chain.index("realtime_lane.<locals>.lane") + 1 == chain.index(
            "DirectWebSocket.serve"
        )
        for step in ("handle_request", "_handle_connect", "handle_get_request", "__call__"):
            assert not any(name.endswith(f".{step}") for name in chain), chain
        # Long-polling requests, short ones, still take the usual way (security headers).
        polling = await http.get(server.make_url("/socket.io/?EIO=4&transport=polling"))
        assert polling.status == 200
        assert polling.headers["X-Content-Type-Options"] == "nosniff"
        assert "X-Request-Id" in polling.headers
