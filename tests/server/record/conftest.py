"""The record's tests run real rooms to draft minutes: the room fixtures, shared."""

from tests.server.rooms.conftest import clients, room_session

__all__ = ["clients", "room_session"]
