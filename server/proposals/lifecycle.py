"""The proposal lifecycle as pure rules: which transitions exist and who may make them.

draft → submitted → filed → assigned → handling → replied → evaluated → closed, and rejected
(不予立案) or converted (转为意见) from submitted or filed. A member's draft is submitted by its
author (``POST /api/proposals/{id}/submit``, not a transition); staff drive every later step;
the lead unit itself reports that handling has started and that it has replied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from scheduling.workdays import WorkCalendar
from server.auth import Role
from server.errors import Conflict, Forbidden, Invalid
from server.i18n import _


class Status(StrEnum):
    """Where a proposal is in its handling."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    FILED = "filed"
    ASSIGNED = "assigned"
    HANDLING = "handling"
    REPLIED = "replied"
    EVALUATED = "evaluated"
    CLOSED = "closed"
    REJECTED = "rejected"
    CONVERTED = "converted"


# Each status in words, for messages (the web shows the same words).
STATUS_WORDS = {
    Status.DRAFT: _("draft"),
    Status.SUBMITTED: _("submitted"),
    Status.FILED: _("filed"),
    Status.ASSIGNED: _("assigned"),
    Status.HANDLING: _("handling"),
    Status.REPLIED: _("replied"),
    Status.EVALUATED: _("evaluated"),
    Status.CLOSED: _("closed"),
    Status.REJECTED: _("rejected"),
    Status.CONVERTED: _("converted to an opinion"),
}


NEXT: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED}),
    Status.SUBMITTED: frozenset({Status.FILED, Status.REJECTED, Status.CONVERTED}),
    Status.FILED: frozenset({Status.ASSIGNED, Status.REJECTED, Status.CONVERTED}),
    Status.ASSIGNED: frozenset({Status.HANDLING}),
    Status.HANDLING: frozenset({Status.REPLIED}),
    Status.REPLIED: frozenset({Status.EVALUATED}),
    Status.EVALUATED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CONVERTED: frozenset(),
}
# Not yet in the committee's hands, or never to be handled: no units, no reply, no deadline.
UNHANDLED = frozenset(
    {Status.DRAFT, Status.SUBMITTED, Status.FILED, Status.REJECTED, Status.CONVERTED}
)
# Only the author moves a draft on, by submitting it (service.submit), never by a transition.
AUTHOR_STEPS = frozenset({(Status.DRAFT, Status.SUBMITTED)})

LEAD_UNIT_STEPS = frozenset({(Status.ASSIGNED, Status.HANDLING), (Status.HANDLING, Status.REPLIED)})


def may_step(current: Status, to: Status, *, role: Role, is_lead_unit: bool) -> bool:
    """Whether ``role`` may ever make the step ``current`` → ``to`` (staff any, the lead unit
    its own two)."""
    if (current, to) in AUTHOR_STEPS:
        return False
    return role is Role.STAFF or (
        role is Role.UNIT and is_lead_unit and (current, to) in LEAD_UNIT_STEPS
    )


def steps_for(current: Status, *, role: Role, is_lead_unit: bool) -> list[Status]:
    """The next statuses ``role`` may move a proposal to from ``current``, in lifecycle order."""
    return [
        to
        for to in Status
        if to in NEXT[current] and may_step(current, to, role=role, is_lead_unit=is_lead_unit)
    ]


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
        options = tuple(STATUS_WORDS[s] for s in sorted(allowed)) or _("none: it is final")
        raise Conflict(
            _(
                "A proposal that is {current} cannot become {to}; the next steps are: {options}.",
                current=STATUS_WORDS[current],
                to=STATUS_WORDS[to],
                options=options,
            ),
            current=current.value,
            allowed=sorted(allowed),
        )
    if not may_step(current, to, role=role, is_lead_unit=is_lead_unit):
        raise Forbidden(
            _(
                "You may not move this proposal from {current} to {to}.",
                current=STATUS_WORDS[current],
                to=STATUS_WORDS[to],
            )
        )
    if to is Status.ASSIGNED and not has_lead_unit:
        raise Conflict(_("Set the lead unit (lead_unit_id) before assigning the proposal."))
    if to is Status.REJECTED and not (note and note.strip()):
        raise Invalid(
            _("Say why the proposal is rejected in `note`."),
            errors=[{"field": "note", "message": "required when rejecting", "type": "missing"}],
        )
    if to is Status.CONVERTED and not (note and note.strip()):
        raise Invalid(
            _("Say why the proposal is turned into an opinion in `note`."),
            errors=[{"field": "note", "message": "required when converting", "type": "missing"}],
        )


# The committee's days (a reply's due day, "today" for overdue): the default sessions' zone.
COMMITTEE_ZONE = ZoneInfo("Asia/Shanghai")
REPLY_MONTHS = 3  # units reply within three months of the assignment (交办之日起三个月内答复)
AWAITING_REPLY = frozenset({Status.ASSIGNED, Status.HANDLING})


def reply_due(assigned_on: dt.date) -> dt.date:
    """The day a reply is due: ``REPLY_MONTHS`` after the assignment (the month's last day when
    that month is shorter, e.g. 11-30 → 02-28)."""
    months = assigned_on.month - 1 + REPLY_MONTHS
    year, month = assigned_on.year + months // 12, months % 12 + 1
    for day in range(assigned_on.day, 27, -1):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return dt.date(year, month, assigned_on.day)


@dataclass(frozen=True)
class ReplyTerm:
    """How long a unit has to reply from the assignment: ``working_days`` (counted on the
    working-day calendar) or ``days`` (calendar days), else ``REPLY_MONTHS`` months."""

    days: int | None = None
    working_days: int | None = None


def reply_due_by(assigned_on: dt.date, term: ReplyTerm, calendar: WorkCalendar) -> dt.date:
    """The day a reply is due for a proposal assigned on ``assigned_on`` under ``term``."""
    if term.working_days:
        day, left = assigned_on, term.working_days
        while left:
            day += dt.timedelta(days=1)
            left -= calendar.is_workday(day)
        return day
    if term.days:
        return assigned_on + dt.timedelta(days=term.days)
    return reply_due(assigned_on)


class RejectReason(StrEnum):
    """Why a proposal is not filed (不予立案), from the committee's rules."""

    OUT_OF_SCOPE = "out_of_scope"
    LEGAL_PROCESS = "legal_process"
    PERSONAL = "personal"
    NO_SUGGESTION = "no_suggestion"
    DUPLICATE = "duplicate"
    SECRET = "secret"  # noqa: S105 - a reason's code, not a password
    OTHER = "other"


REJECT_REASON_WORDS = {
    RejectReason.OUT_OF_SCOPE: _("not within the committee's remit or the scope of proposals"),
    RejectReason.LEGAL_PROCESS: _("a matter for litigation, arbitration or another legal process"),
    RejectReason.PERSONAL: _("a personal matter or one of a few people"),
    RejectReason.NO_SUGGESTION: _("no concrete or workable suggestion"),
    RejectReason.DUPLICATE: _("repeats a proposal already filed"),
    RejectReason.SECRET: _("touches state secrets"),
    RejectReason.OTHER: _("another reason (see the note)"),
}


def reply_overdue(status: Status, due: dt.date | None, today: dt.date) -> bool:
    """Whether a proposal still awaiting its reply is past the day it was due."""
    return status in AWAITING_REPLY and due is not None and today > due
