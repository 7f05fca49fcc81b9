"""The floor of the fan-out benchmark: the least a Python aiohttp server can do per delivery.

Clients connect a plain WebSocket to ``/ws`` (no compression, no protocol on top); the runner
POSTs one JSON message to ``/broadcast``, which is encoded once and sent with ``send_str`` to
every open socket, one after another. ``GET /health`` answers 200 with the number of sockets.

    .venv/bin/python bench/fanout/floor_server.py --port 8099
"""

from __future__ import annotations

import argparse
import json
import logging

from aiohttp import WSMsgType, web

SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])


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
    sockets: set[web.WebSocketResponse] = request.app[SOCKETS]
    sent = 0
    for ws in list(sockets):
        if not ws.closed:
            await ws.send_str(text)
            sent += 1
    return web.json_response({"sent": sent})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"sockets": len(request.app[SOCKETS])})


def make_app() -> web.Application:
    app = web.Application()
    app[SOCKETS] = set()
    app.router.add_get("/ws", ws_handler)
    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(make_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
