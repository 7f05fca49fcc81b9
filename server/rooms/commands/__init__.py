"""Room commands by family, each command's rule next to its event's effect (``registry``)."""

from server.rooms.commands import (  # noqa: F401  (importing a family fills the table)
    agenda,
    chat,
    consent,
    floor,
    lobby,
    media,
    minutes,
    polls,
    progress,
)
from server.rooms.commands.registry import EFFECTS, RULES, Command, Event, State

__all__ = ["EFFECTS", "RULES", "Command", "Event", "State"]
