import asyncio
from aiohttp.test_utils import TestServer
from tests.conftest import Cast
from tests.server.media.test_media import RED, Colour, Tone
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener
from tests.web.test_weak_network import into_room, peer

BYTES = """async () => { const out = {}; for (const [id, f] of window.__m.received) { let v = 0, a = 0;
 (await f.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') { if (r.kind === 'video') v += r.bytesReceived; else a += r.bytesReceived; } }); out[id] = [v, a]; } return out; }"""

async def test_measure(cast: Cast, open_as: Opener, server: TestServer) -> None:
    sid = (await create_session(cast))["id"]
    host = await peer(server, cast.staff, sid)
    await host.client.command("session.start")
    await host.publish(Colour(RED), Tone())
    page = await open_as(cast.member, f"/#/rooms/{sid}")
    await into_room(page)
    verdicts = []
    for _ in range(15):
        await asyncio.sleep(2)
        verdicts.append(await page.evaluate("window.xieshang.linkVerdict()"))
    for v in verdicts: print(v)
    assert not any(v and v["weak"] for v in verdicts)
