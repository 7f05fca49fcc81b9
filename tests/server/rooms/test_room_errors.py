"""A room refusal's HTTP status follows its code; Socket.IO acks carry only the code."""

from __future__ import annotations

import pytest

from server.errors import _error_ack
from server.rooms.rules import RoomError


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("invalid", 400),
        ("forbidden", 403),
        ("not_found", 404),
        ("rate_limited", 429),
        ("unavailable", 503),
        ("conflict", 409),
        ("in_lobby", 409),
        ("busy", 409),
    ],
)
def test_a_room_errors_status_comes_from_its_code(code: str, status: int) -> None:
    err = RoomError(code, "refused")
    assert err.status == status
    assert _error_ack(err, "en") == {"ok": False, "error": {"code": code, "message": "refused"}}
