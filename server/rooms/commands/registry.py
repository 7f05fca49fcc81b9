"""The one table of room commands: each command's rule and each event's effect, by kind.

A family module (``agenda``, ``floor``, ``chat``, …) registers a command's rule with
``@command(kind)`` and an event's effect with ``@effect(kind, …)``, side by side;
``server.rooms.reducer`` only looks them up. Rules check a command against the state and the
sender and return the event's data (None: in effect already) or raise ``RoomError``; effects
fold an accepted event into the state in place. Neither reads a clock or does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from server.rooms.actors import Actor

State = dict[str, Any]
Event = dict[str, Any]


@dataclass(frozen=True)
class Command:
    """One command as a rule sees it: who sent what, and the time and seq its event would get."""

    kind: str
    data: dict[str, Any]
    actor: Actor
    now: dt.datetime
    seq: int


Rule = Callable[[State, Command], dict[str, Any] | None]
Effect = Callable[[State, Event], None]

T = TypeVar("T")

RULES: dict[str, Rule] = {}
EFFECTS: dict[str, Effect] = {}


def _register(table: dict[str, T], kinds: tuple[str, ...]) -> Callable[[T], T]:
    def register(handler: T) -> T:
        for kind in kinds:
            assert kind not in table, f"{kind} is registered twice"
            table[kind] = handler
        return handler

    return register


def command(*kinds: str) -> Callable[[Rule], Rule]:
    """Register the rule of the client commands ``kinds``."""
    return _register(RULES, kinds)


def effect(*kinds: str) -> Callable[[Effect], Effect]:
    """Register how events of ``kinds`` change the state (commands' and the server's own)."""
    return _register(EFFECTS, kinds)
