"""What the room fuzzer (tests/server/rooms/test_room_fuzz.py, `make fuzz`) found, pinned one by
one: each over a real connection, each answered with a refusal and nothing logged at ERROR."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import Cast


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_command_type_that_is_an_object_or_a_list_is_refused_not_dropped(
    cast: Cast, room_session: dict[str, Any], clients: Any, errors: pytest.LogCaptureFixture
) -> None:
    # The command counter (metrics) looked the type up in a dict: unhashable, so the handler
    # raised after answering and python-socketio sent no acknowledgement at all.
    host = await clients(token=cast.staff.token, session_id=room_session["id"])
    for kind in ({"a": 1}, ["chat.send"], [], {}):
        reply = await host.call("command", {"type": kind, "data": {}})
        assert reply["ok"] is False, kind
        assert reply["error"]["code"] == "invalid", reply
        assert reply["error"]["message"], reply
    assert logged_errors(errors) == []
