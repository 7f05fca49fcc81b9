"""Templates per session kind: what staff start from when they schedule a session."""

from __future__ import annotations

import datetime as dt

from server.sessions.models import (
    Kind,
    LobbyPolicy,
    Mode,
    ParticipantRole,
    RecordingPolicy,
    Visibility,
)
from server.shapes import OutShape


class TemplateOut(OutShape):
    """Defaults for one kind of session; every value can be changed when scheduling."""

    kind: Kind
    name: str
    name_en: str
    duration_minutes: int
    mode: Mode
    visibility: Visibility
    roles: list[ParticipantRole]
    lobby: LobbyPolicy
    recording: RecordingPolicy
    agenda: list[str]
    rrule: str | None = None


TEMPLATES: dict[Kind, TemplateOut] = {
    Kind.HANDLING: TemplateOut(
        kind=Kind.HANDLING,
        name="办理协商",
        name_en="Proposal-handling consultation",
        duration_minutes=90,
        mode=Mode.HYBRID,
        visibility=Visibility.PRIVATE,
        roles=[
            ParticipantRole.HOST,
            ParticipantRole.PROPOSER,
            ParticipantRole.UNIT,
            ParticipantRole.LEADER,
        ],
        lobby="none",
        recording="ask",
        agenda=["承办单位介绍办理进展", "提案人发表意见", "协商交流", "形成办理意见"],
    ),
    Kind.QUARTERLY_TALK: TemplateOut(
        kind=Kind.QUARTERLY_TALK,
        name="季谈会",
        name_en="Quarterly talk",
        duration_minutes=120,
        mode=Mode.HYBRID,
        visibility=Visibility.PRIVATE,
        roles=[
            ParticipantRole.HOST,
            ParticipantRole.LEADER,
            ParticipantRole.MEMBER,
            ParticipantRole.UNIT,
        ],
        lobby="none",
        recording="on",
        agenda=["主题通报", "委员发言", "部门回应", "领导讲话"],
        rrule="FREQ=MONTHLY;INTERVAL=3;COUNT=4",
    ),
    Kind.LIVELIHOOD_HALL: TemplateOut(
        kind=Kind.LIVELIHOOD_HALL,
        name="民生议政厅",
        name_en="Livelihood hall",
        duration_minutes=120,
        mode=Mode.HYBRID,
        visibility=Visibility.PUBLIC,
        roles=[
            ParticipantRole.HOST,
            ParticipantRole.MEMBER,
            ParticipantRole.UNIT,
            ParticipantRole.GUEST,
        ],
        lobby="host_admits",
        recording="on",
        agenda=["议题介绍", "群众代表提问", "部门现场回应", "委员点评"],
    ),
    Kind.MICRO: TemplateOut(
        kind=Kind.MICRO,
        name="微协商",
        name_en="Micro-consultation",
        duration_minutes=45,
        mode=Mode.IN_PERSON,
        visibility=Visibility.PRIVATE,
        roles=[ParticipantRole.HOST, ParticipantRole.PROPOSER, ParticipantRole.UNIT],
        lobby="none",
        recording="off",
        agenda=["情况说明", "面对面协商"],
    ),
}


def default_end(kind: Kind, start: dt.datetime) -> dt.datetime:
    """When a session of ``kind`` starting at ``start`` ends by default."""
    return start + dt.timedelta(minutes=TEMPLATES[kind].duration_minutes)
