"""Who acts in a room, and what that lets them drive and see."""

from __future__ import annotations

from dataclasses import dataclass

HOST_ROLES = frozenset({"host"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sends a command: a person (``p:<id>``), a guest (``g:<id>``) or a hall device
    (``h:<venue id>``, role ``hall``)."""

    key: str
    name: str
    role: str  # the role in this session: host, proposer, unit, leader, member, guest
    staff: bool = False
    unit_id: int | None = None
    # Reads the minutes being written, as the minutes API shows drafts: staff, leaders and the
    # session's hosts (server/record/minutes.py).
    reads_drafts: bool = False

    @property
    def drives(self) -> bool:
        """Hosts and committee staff drive the agenda, floor, lobby and polls."""
        return self.staff or self.role in HOST_ROLES

    @property
    def is_guest(self) -> bool:
        return self.key.startswith("g:")

    @property
    def is_hall(self) -> bool:
        """The venue's own device (``h:<venue id>``): camera and microphone of the hall."""
        return self.role == "hall"
