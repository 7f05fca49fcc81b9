"""The comparison: aiortc's stock ``MediaRelay`` behind the same rtc.* Socket.IO events.

Each subscriber gets ``relay.subscribe(track)``: the publisher's track is decoded once and every
subscriber's sender encodes it again. No rooms, no auth: only the media path is compared.
Run: python bench/sfu/stock_server.py PORT
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
relay = MediaRelay()
feeds: dict[str, Any] = {}
subscriptions: dict[tuple[str, str], RTCPeerConnection] = {}


@sio.on("connect", namespace="/room")
async def connect(sid: str, _environ: Any, _auth: Any = None) -> None:
    await sio.emit(
        "snapshot", {"seq": 0, "state": {}, "ice_servers": []}, to=sid, namespace="/room"
    )


@sio.on("rtc.publish", namespace="/room")
async def publish(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    pc = RTCPeerConnection()
    tracks: list[Any] = []
    pc.on("track", tracks.append)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    feed_id = f"f{len(feeds) + 1}"
    feeds[feed_id] = (pc, tracks)
    return {"ok": True, "feed_id": feed_id, "sdp": pc.localDescription.sdp}


@sio.on("rtc.subscribe", namespace="/room")
async def subscribe(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    _pub, tracks = feeds[data["feed_id"]]
    pc = RTCPeerConnection()
    for track in tracks:
        pc.addTrack(relay.subscribe(track))
    await pc.setLocalDescription(await pc.createOffer())
    subscriptions[(sid, data["feed_id"])] = pc
    return {"ok": True, "sdp": pc.localDescription.sdp}


@sio.on("rtc.answer", namespace="/room")
async def answer(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    pc = subscriptions[(sid, data["feed_id"])]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
    return {"ok": True}


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


app = web.Application()
sio.attach(app)
app.router.add_get("/api/health", health)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
