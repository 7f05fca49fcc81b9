"""Socket.IO packets' JSON (server/packets.py): text as UTF-8, escaped only when it cannot be."""

from __future__ import annotations

import json

from server.packets import Encoded, Packet, dumps


def test_text_is_utf8_and_a_lone_surrogate_is_escaped_so_the_frame_can_be_sent() -> None:
    packet = Packet(data=["event", {"name": "王秘书", "state": Encoded('{"t":"议题"}')}])
    text = packet.encode()
    assert '"name":"王秘书"' in text and '"t":"议题"' in text
    # UTF-8 cannot carry half an emoji: such a packet is escaped as a whole, and can be sent.
    for value in ("\ud83d", {"\udc00": "王"}):
        text = Packet(data=["event", value]).encode()
        text.encode("utf-8")  # would raise UnicodeEncodeError
        assert json.loads(text[1:])[1] == value
        once = dumps(value)
        once.encode("utf-8")
        assert json.loads(once) == value
    assert dumps({"name": "王秘书"}) == '{"name":"王秘书"}'
