"""The floor of the fan-out benchmark: the least a Python aiohttp server can do per delivery.

Clients connect a plain WebSocket to ``/ws`` (no compression, no protocol on top); the runner
POSTs one JSON message to ``/broadcast``, which is encoded once and sent with ``send_str`` to
every open socket, one after another. ``GET /health`` answers 200 with the number of sockets.

With ``--durable PATH`` it is the floor of a room command instead: each message is first
INSERTed into an SQLite table and committed (WAL, ``synchronous=NORMAL``, as xieshang's SQLite
runs), one transaction per message, then broadcast.

    .venv/bin/python bench/fanout/floor_server.py --port 8099
    .venv/bin/python bench/fanout/floor_server.py --port 8099 --durable /tmp/floor.db
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3

from aiohttp import WSMsgType, web

SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
LOG = web.AppKey("log", sqlite3.Connection)


async def ws_handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=False, heartbeat=None)
    await ws.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
    finally:
        sockets.discard(ws)
    return ws


async def broadcast(request: web.Request) -> web.Response:
    text = json.dumps(await request.json(), ensure_ascii=False)  # encoded once
    if LOG in request.app:  # durable first: one INSERT and one commit per message
        log = request.app[LOG]
        log.execute("INSERT INTO events (data) VALUES (?)", (text,))
        log.commit()
    sockets: set[web.WebSocketResponse] = request.app[SOCKETS]
    sent = 0
    for ws in list(sockets):
        if not ws.closed:
            await ws.send_str(text)
            sent += 1
    return web.json_response({"sent": sent})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"sockets": len(request.app[SOCKETS])})


def make_app(durable: str | None = None) -> web.Application:
    app = web.Application()
    app[SOCKETS] = set()
    if durable:
        log = sqlite3.connect(durable)
        log.execute("PRAGMA journal_mode=WAL")
        log.execute("PRAGMA synchronous=NORMAL")
        log.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, data TEXT)")
        app[LOG] = log
    app.router.add_get("/ws", ws_handler)
    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--durable", metavar="PATH", help="log each message to SQLite first")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(make_app(args.durable), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
