"""The proposal lifecycle as pure rules: which transitions exist and who may make them.

submitted → filed → assigned → handling → replied → evaluated → closed, and rejected from
submitted or filed. Staff drive every step; the lead unit itself reports that handling has
started and that it has replied.
"""

from __future__ import annotations

from enum import StrEnum

from server.auth import Role
from server.errors import Conflict, Forbidden, Invalid


class Status(StrEnum):
    """Where a proposal is in its handling."""

    SUBMITTED = "submitted"
    FILED = "filed"
    ASSIGNED = "assigned"
    HANDLING = "handling"
    REPLIED = "replied"
    EVALUATED = "evaluated"
    CLOSED = "closed"
    REJECTED = "rejected"


NEXT: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.FILED, Status.REJECTED}),
    Status.FILED: frozenset({Status.ASSIGNED, Status.REJECTED}),
    Status.ASSIGNED: frozenset({Status.HANDLING}),
    Status.HANDLING: frozenset({Status.REPLIED}),
    Status.REPLIED: frozenset({Status.EVALUATED}),
    Status.EVALUATED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
}

LEAD_UNIT_STEPS = frozenset({(Status.ASSIGNED, Status.HANDLING), (Status.HANDLING, Status.REPLIED)})


def check_transition(
    current: Status,
    to: Status,
    *,
    role: Role,
    is_lead_unit: bool,
    has_lead_unit: bool,
    note: str | None,
) -> None:
    """Raise unless ``role`` may move a proposal from ``current`` to ``to`` now."""
    allowed = NEXT[current]
    if to not in allowed:
        options = ", ".join(sorted(allowed)) or "none: it is final"
        raise Conflict(
            f"A proposal that is {current} cannot become {to}; the next steps are: {options}.",
            current=current.value,
            allowed=sorted(allowed),
        )
    may = role is Role.STAFF or (
        role is Role.UNIT and is_lead_unit and (current, to) in LEAD_UNIT_STEPS
    )
    if not may:
        raise Forbidden(f"You may not move this proposal from {current} to {to}.")
    if to is Status.ASSIGNED and not has_lead_unit:
        raise Conflict("Set the lead unit (lead_unit_id) before assigning the proposal.")
    if to is Status.REJECTED and not (note and note.strip()):
        raise Invalid(
            "Say why the proposal is rejected in `note`.",
            errors=[{"field": "note", "message": "required when rejecting", "type": "missing"}],
        )
