"""A small demo data set for a first look, seeded only into an empty database."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from server.auth import Passwords, Principal, Role
from server.db import Database
from server.directory import service as directory
from server.directory.schemas import PersonCreate, UnitCreate, VenueCreate
from server.password_rules import password_problem
from server.proposals import service as proposals
from server.proposals.schemas import ProposalCreate
from server.sessions import service as sessions
from server.sessions.invites import Calendaring
from server.sessions.models import Kind, Mode, ParticipantRole, Stage, Visibility
from server.sessions.schemas import AgendaItemIn, ParticipantIn, RecurrenceIn, SessionCreate

SHANGHAI = ZoneInfo("Asia/Shanghai")

PEOPLE = [
    ("staff", "王秘书", Role.STAFF, None),
    ("leader", "李主席", Role.LEADER, None),
    ("member1", "张委员", Role.MEMBER, None),
    ("member2", "陈委员", Role.MEMBER, None),
    ("zhujian", "住建局 赵处长", Role.UNIT, "市住房和城乡建设局"),
    ("jiaoyu", "教育局 孙科长", Role.UNIT, "市教育局"),
    ("guest", "市民 刘先生", Role.GUEST, None),
]


def _password(username: str) -> str:
    """A random password the password rules accept (a random one could, rarely, hold the
    username)."""
    while password_problem(password := secrets.token_urlsafe(9), username) is not None:
        pass
    return password


def _at(today: dt.date, days: int, hour: int, minutes: int = 0) -> dt.datetime:
    day = today + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minutes, tzinfo=SHANGHAI)


async def seed(
    database: Database, passwords: Passwords, ctx: Calendaring, today: dt.date
) -> list[tuple[str, str, str]] | None:
    """Create the demo data unless the database has people; returns (username, name, password)."""
    if await directory.count_people(database):
        return None
    units = {}
    for name in ("市住房和城乡建设局", "市教育局", "市卫生健康委员会"):
        units[name] = (await directory.add_unit(database, UnitCreate(name=name))).id
    logins, ids = [], {}
    for username, name, role, unit in PEOPLE:
        password = _password(username)
        person = await directory.add_person(
            database,
            passwords,
            PersonCreate(
                username=username,
                name=name,
                role=role,
                unit_id=units.get(unit) if unit else None,
                email=f"{username}@example.org",
                password=password,
            ),
        )
        ids[username] = person.id
        logins.append((username, name, password))
    hall = await directory.add_venue(
        database, VenueCreate(name="政协第一会议室", address="人民路 1 号", capacity=40)
    )
    livelihood = await directory.add_venue(
        database, VenueCreate(name="民生议政厅", address="市民中心 2 楼", capacity=120)
    )
    p1 = await proposals.add_proposal(
        database,
        ProposalCreate(
            number=f"{today.year}-0001",
            title="关于加快老旧小区加装电梯的建议",
            summary="老旧小区居民上下楼困难，建议简化审批、加大补贴。",
            category="城乡建设",
            key=True,
            proposer_ids=[ids["member1"]],
            lead_unit_id=units["市住房和城乡建设局"],
        ),
        ids["staff"],
        sessions_of=sessions.sessions_of_proposals,
    )
    p2 = await proposals.add_proposal(
        database,
        ProposalCreate(
            number=f"{today.year}-0002",
            title="关于推进课后服务提质的建议",
            category="教育",
            proposer_ids=[ids["member2"]],
            lead_unit_id=units["市教育局"],
            co_unit_ids=[units["市卫生健康委员会"]],
        ),
        ids["staff"],
        sessions_of=sessions.sessions_of_proposals,
    )
    staff = Principal(id=ids["staff"], username="staff", name="王秘书", role=Role.STAFF)
    await sessions.add_session(
        database,
        ctx,
        staff,
        SessionCreate(
            kind=Kind.HANDLING,
            mode=Mode.HYBRID,
            stage=Stage.DURING,
            title="老旧小区加装电梯办理协商",
            starts_at=_at(today, 3, 9, 30),
            ends_at=_at(today, 3, 11),
            venue_id=hall.id,
            proposal_ids=[p1.id],
            participants=[
                ParticipantIn(person_id=ids["staff"], role=ParticipantRole.HOST),
                ParticipantIn(person_id=ids["member1"], role=ParticipantRole.PROPOSER),
                ParticipantIn(person_id=ids["zhujian"], role=ParticipantRole.UNIT),
                ParticipantIn(person_id=ids["leader"], role=ParticipantRole.LEADER),
            ],
            agenda=[
                AgendaItemIn(
                    title="承办单位介绍办理进展",
                    proposal_id=p1.id,
                    presenter_id=ids["zhujian"],
                    planned_minutes=20,
                ),
                AgendaItemIn(
                    title="提案人发表意见",
                    proposal_id=p1.id,
                    presenter_id=ids["member1"],
                    planned_minutes=20,
                ),
                AgendaItemIn(title="协商交流", planned_minutes=40),
            ],
        ),
    )
    await sessions.add_session(
        database,
        ctx,
        staff,
        SessionCreate(
            kind=Kind.LIVELIHOOD_HALL,
            mode=Mode.HYBRID,
            visibility=Visibility.PUBLIC,
            title="民生议政厅：课后服务怎么更好",
            topic="课后服务提质",
            starts_at=_at(today, 7, 14, 30),
            ends_at=_at(today, 7, 16, 30),
            venue_id=livelihood.id,
            proposal_ids=[p2.id],
            participants=[
                ParticipantIn(person_id=ids["staff"], role=ParticipantRole.HOST),
                ParticipantIn(person_id=ids["member2"], role=ParticipantRole.PROPOSER),
                ParticipantIn(person_id=ids["jiaoyu"], role=ParticipantRole.UNIT),
            ],
        ),
    )
    await sessions.add_session(
        database,
        ctx,
        staff,
        SessionCreate(
            kind=Kind.QUARTERLY_TALK,
            mode=Mode.HYBRID,
            title="季谈会：城市更新中的民生问题",
            starts_at=_at(today, 14, 14, 30),
            ends_at=_at(today, 14, 16, 30),
            venue_id=hall.id,
            recurrence=RecurrenceIn(rrule="FREQ=MONTHLY;INTERVAL=3;COUNT=4"),
            participants=[
                ParticipantIn(person_id=ids["staff"], role=ParticipantRole.HOST),
                ParticipantIn(person_id=ids["leader"], role=ParticipantRole.LEADER),
                ParticipantIn(person_id=ids["member1"], role=ParticipantRole.MEMBER),
                ParticipantIn(person_id=ids["member2"], role=ParticipantRole.MEMBER),
                ParticipantIn(person_id=ids["zhujian"], role=ParticipantRole.UNIT),
            ],
            agenda=[AgendaItemIn(title=t) for t in ("主题通报", "委员发言", "部门回应")],
        ),
    )
    return logins
