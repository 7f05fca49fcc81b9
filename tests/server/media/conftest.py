"""Media tests connect real room clients, with the fixtures of tests/server/rooms."""

from tests.server.rooms.conftest import clients, room_session

__all__ = ["clients", "room_session"]
