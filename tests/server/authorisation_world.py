"""The record the authorisation matrices run against, seeded through the API and the services.

Units a (lead), c (co-handling) and b (another unit). Proposal P (lead a, co c, proposed by
``member_in``) is being handled; its session S (host, ``member_in``, a person of a and one of c)
was held, so it has approved minutes, a follow-up for unit a, a counter-proposal and a recording.
P has a file and a progress report. The foreign record: proposal Q of unit b (proposed by
``member_out``) and its session T with only ``member_out`` and unit b, held the same way. A
public hall H has a guest waiting in its lobby and an admitted one.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp.test_utils import TestServer

from server.config import Config
from server.db import Database
from tests.conftest import PASSWORD, ApiClient, Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.rooms.conftest import RoomClient
from tests.server.sessions.test_sessions_api import create as create_session

# Every role of the HTTP matrix. The last three hold no account: two guest passes (as Bearer
# tokens) and nothing at all.
ACCOUNT_ROLES = (
    "staff",
    "host",
    "member_in",
    "member_out",
    "lead_unit",
    "co_unit",
    "other_unit",
    "leader",
    "guest_account",
)
PASS_ROLES = ("lobby_guest", "admitted_guest")
ROLES = (*ACCOUNT_ROLES, *PASS_ROLES, "anon")
# The cast's usernames behind the roles (``host`` and ``unit_c`` are added here).
USERNAMES = {
    "staff": "staff",
    "host": "host",
    "member_in": "member",
    "member_out": "member2",
    "lead_unit": "unit",
    "co_unit": "unit_c",
    "other_unit": "unit2",
    "leader": "leader",
    "guest_account": "guest",
}
MISSING = 2_147_483_000  # an id nothing has (ids are 32-bit)


@dataclass
class World:
    """Clients per role and the ids of what was seeded (``own``: P and S; ``foreign``: Q, T)."""

    server: TestServer
    cast: Cast
    config: Config
    database: Database
    clients: dict[str, ApiClient]
    people: dict[str, int]
    unit_ids: dict[str, int]
    own: dict[str, Any] = field(default_factory=dict)
    foreign: dict[str, Any] = field(default_factory=dict)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(7000))

    @property
    def url(self) -> str:
        return str(self.server.make_url(""))

    async def room(self, role: str, session_id: int) -> RoomClient:
        """A room connection of a signed-in role."""
        token = self.clients[role].token
        return await RoomClient(self.url, {"token": token, "session_id": session_id}).connect()

    async def fresh_token(self, role: str) -> str:
        """A second login of ``role`` (for logging out without ending the matrix's login)."""
        reply = await self.cast.anon.post(
            "/api/auth/login", {"username": USERNAMES[role], "password": PASSWORD}
        )
        assert reply.status == 200, reply.text
        return str(reply.body["token"])

    async def fresh_proposal(self, status: str) -> int:
        """A copy of P (same proposer and units) that is ``handling`` or ``replied``."""
        number = f"2026-{next(self.numbers)}"
        p = await create_proposal(self.cast, number, co_unit_ids=[self.unit_ids["c"]])
        await _to_handling(self, p["id"], "lead_unit")
        if status == "replied":
            reply = await self.clients["lead_unit"].post(
                f"/api/proposals/{p['id']}/reply", {"text": "已办理。", "attachment_ids": []}
            )
            assert reply.status == 201, reply.text
        return int(p["id"])


async def _add_account(
    world_cast: Cast, database: Database, config: Config, username: str, role: str, unit: int | None
) -> tuple[int, ApiClient]:
    from server.directory import service
    from server.directory.schemas import PersonCreate

    person = await service.add_person(
        database,
        config.passwords(),
        PersonCreate.model_validate(
            {
                "username": username,
                "name": username,
                "role": role,
                "password": PASSWORD,
                "unit_id": unit,
                "email": f"{username}@example.org",
            },
            strict=False,
        ),
    )
    reply = await world_cast.anon.post(
        "/api/auth/login", {"username": username, "password": PASSWORD}
    )
    assert reply.status == 200, reply.text
    return person.id, world_cast.anon.as_(reply.body["token"])


async def _to_handling(world: World, proposal_id: int, lead: str) -> None:
    for who, to in (("staff", "filed"), ("staff", "assigned"), (lead, "handling")):
        reply = await world.clients[who].post(
            f"/api/proposals/{proposal_id}/transitions", {"to": to}
        )
        assert reply.status == 200, reply.text


async def _hold(
    world: World, host: str, session_id: int, action: dict[str, Any], *, approve: bool = True
) -> None:
    """Run the session's room from start to end with one action item, then approve the minutes
    (or leave them a draft)."""
    room = await world.room(host, session_id)
    try:
        assert (await room.command("session.start"))["ok"]
        added = await room.command("minutes.edit", item_id=1, op="action.add", **action)
        assert added["ok"], added
        assert (await room.command("session.end"))["ok"]
    finally:
        await room.close()
    if not approve:
        return
    staff = world.clients["staff"]
    url = f"/api/sessions/{session_id}/minutes"
    version = (await staff.get(url)).body["version"]
    for to, base in (("in_review", version), ("approved", version + 1)):
        reply = await staff.post(f"{url}/transitions", {"to": to, "base_version": base})
        assert reply.status == 200, reply.text


async def _recording(world: World, session_id: int, who: int) -> int:
    """A recording row with its file, as the SFU writes it (recording real media is the SFU
    tests' job; the matrix needs a row to ask for)."""
    from server.media import recordings

    root = Path(world.config.recording_dir)
    path = root / f"s{session_id}" / "feed.webm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x1a\x45\xdf\xa3webm")
    now = dt.datetime.now(dt.UTC)
    feed = SimpleNamespace(feed_id=f"feed{session_id}", who=f"p:{who}", source="camera")
    done = {"path": str(path), "size": 8, "duration_ms": 1000, "started_at": now, "ended_at": now}
    await recordings.save(world.database, root, session_id, feed, "camera", done)
    listed = await world.clients["staff"].get(f"/api/sessions/{session_id}/recordings")
    return int(listed.body["items"][-1]["id"])


async def _file(world: World, role: str, proposal_id: int) -> int:
    reply = await world.clients[role].request(
        "POST",
        f"/api/proposals/{proposal_id}/attachments?name=note.txt",
        data="办理情况说明".encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert reply.status == 201, reply.text
    return int(reply.body["id"])


async def _progress(world: World, role: str, proposal_id: int) -> int:
    reply = await world.clients[role].post(
        f"/api/proposals/{proposal_id}/progress",
        {"milestone": "完成摸排", "percent": 40, "text": "已摸排 32 个小区"},
    )
    assert reply.status == 201, reply.text
    return int(reply.body["id"])


async def _counter(world: World, role: str, session_id: int) -> int:
    reply = await world.clients[role].post(
        f"/api/sessions/{session_id}/counters",
        {"starts_at": "2026-12-02T09:00:00+08:00", "ends_at": "2026-12-02T10:30:00+08:00"},
    )
    assert reply.status == 201, reply.text
    return int(reply.body["id"])


async def _follow_up(world: World, proposal_id: int) -> int:
    listed = await world.clients["staff"].get(f"/api/follow-ups?proposal_id={proposal_id}")
    assert listed.status == 200 and len(listed.body["items"]) == 1, listed.text
    return int(listed.body["items"][0]["id"])


async def _supervision_round(world: World, follow_up_id: int) -> dict[str, int]:
    """A supervision round holding the follow-up (owned by unit a): its id and the item's."""
    body = {"name": "年中督办", "year": 2026, "starts_on": "2026-06-01", "ends_on": "2026-06-30"}
    made = await world.clients["staff"].post("/api/supervision-rounds", body)
    assert made.status == 201, made.text
    item = next(i for i in made.body["items"] if i["ref_id"] == follow_up_id)
    return {"round_id": made.body["id"], "item_id": item["id"]}


async def guest_pass(world: World, session_id: int, name: str) -> dict[str, Any]:
    reply = await world.cast.anon.post(f"/api/sessions/{session_id}/guest-join", {"name": name})
    assert reply.status == 200, reply.text
    return reply.body  # type: ignore[no-any-return]


async def admit(
    world: World, host: RoomClient, session_id: int, name: str
) -> tuple[RoomClient, str]:
    """A guest who joined by link, was admitted by ``host`` and entered the room; and its key."""
    joined = await guest_pass(world, session_id, name)
    guest = await RoomClient(
        world.url, {"guest_token": joined["guest_token"], "session_id": session_id}
    ).connect()
    await guest.wait_for(lambda: guest.lobby)
    admitted = await host.command("lobby.admit", who=f"g:{joined['guest_id']}")
    assert admitted["ok"], admitted
    entered = await guest.call("join")
    assert entered["ok"], entered
    return guest, f"g:{joined['guest_id']}"


async def seed_people(server: TestServer, cast: Cast, database: Database, config: Config) -> World:
    """The cast plus a non-staff host and a person of the co-handling unit c."""
    from server.directory import service
    from server.directory.schemas import UnitCreate

    unit_c = (await service.add_unit(database, UnitCreate(name="市财政局"))).id
    host_id, host = await _add_account(cast, database, config, "host", "member", None)
    c_id, c_client = await _add_account(cast, database, config, "unit_c", "unit", unit_c)
    clients = {
        "staff": cast.staff,
        "host": host,
        "member_in": cast.member,
        "member_out": cast.member2,
        "lead_unit": cast.unit,
        "co_unit": c_client,
        "other_unit": cast.unit2,
        "leader": cast.leader,
        "guest_account": cast.guest,
        "anon": cast.anon,
    }
    people = {role: cast.ids[name] for role, name in USERNAMES.items() if name in cast.ids}
    people.update(host=host_id, co_unit=c_id)
    units = {**cast.unit_ids, "c": unit_c}
    return World(server, cast, config, database, clients, people, units)


def _participants(world: World, *pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"person_id": world.people[who], "role": role} for who, role in pairs]


async def seed_proposal_p(world: World) -> None:
    """P, being handled by unit a with unit c, with a file and a progress report."""
    p = await create_proposal(world.cast, "2026-0123", co_unit_ids=[world.unit_ids["c"]])
    await _to_handling(world, p["id"], "lead_unit")
    world.own.update(
        proposal_id=p["id"],
        attachment_id=await _file(world, "lead_unit", p["id"]),
        report_id=await _progress(world, "lead_unit", p["id"]),
    )


async def seed_draft(world: World) -> int:
    """Another held session of P, like S, whose minutes are still a draft."""
    pid = world.own["proposal_id"]
    s = await create_session(
        world.cast,
        proposal_ids=[pid],
        participants=_participants(
            world,
            ("host", "host"),
            ("member_in", "proposer"),
            ("lead_unit", "unit"),
            ("co_unit", "unit"),
        ),
        agenda=[{"title": "办理进展", "proposal_id": pid}],
    )
    await _hold(world, "host", s["id"], {"text": "起草方案"}, approve=False)
    return int(s["id"])


async def seed_record(world: World) -> None:
    """The whole record of the matrix: P and S, Q and T, the public hall H with its guests."""
    await seed_proposal_p(world)
    pid = world.own["proposal_id"]
    s = await create_session(
        world.cast,
        proposal_ids=[pid],
        participants=_participants(
            world,
            ("host", "host"),
            ("member_in", "proposer"),
            ("lead_unit", "unit"),
            ("co_unit", "unit"),
        ),
        agenda=[
            {"title": "办理进展", "proposal_id": pid, "presenter_id": world.people["lead_unit"]}
        ],
    )
    world.own.update(
        session_id=s["id"],
        uid=s["uid"],
        person_id=world.people["member_in"],
        email="member@example.org",
        counter_id=await _counter(world, "member_in", s["id"]),
    )
    await _hold(
        world,
        "host",
        s["id"],
        {
            "text": "制定补贴方案",
            "owner_unit_id": world.unit_ids["a"],
            "due": "2027-03-31",
            "proposal_id": pid,
        },
    )
    world.own.update(
        follow_up_id=await _follow_up(world, pid),
        recording_id=await _recording(world, s["id"], world.people["host"]),
    )
    world.own.update(await _supervision_round(world, world.own["follow_up_id"]))
    await seed_foreign(world)
    await seed_hall(world)


async def seed_foreign(world: World) -> None:
    """Q of unit b and its session T: only ``member_out`` and unit b take part."""
    q = await create_proposal(
        world.cast,
        "2026-0456",
        proposer_ids=[world.people["member_out"]],
        lead_unit_id=world.unit_ids["b"],
    )
    await _to_handling(world, q["id"], "other_unit")
    t = await create_session(
        world.cast,
        proposal_ids=[q["id"]],
        participants=_participants(
            world, ("staff", "host"), ("member_out", "proposer"), ("other_unit", "unit")
        ),
        agenda=[{"title": "办理进展", "proposal_id": q["id"]}],
    )
    world.foreign.update(
        proposal_id=q["id"],
        session_id=t["id"],
        uid=t["uid"],
        person_id=world.people["member_out"],
        email="member2@example.org",
        attachment_id=await _file(world, "other_unit", q["id"]),
        report_id=await _progress(world, "other_unit", q["id"]),
        counter_id=await _counter(world, "member_out", t["id"]),
    )
    await _hold(
        world,
        "staff",
        t["id"],
        {
            "text": "落实课后服务",
            "owner_unit_id": world.unit_ids["b"],
            "due": "2027-03-31",
            "proposal_id": q["id"],
        },
    )
    world.foreign.update(
        follow_up_id=await _follow_up(world, q["id"]),
        recording_id=await _recording(world, t["id"], world.people["member_out"]),
    )


async def seed_hall(world: World) -> None:
    """The public hall H, live, with one guest waiting and one admitted."""
    h = await create_session(
        world.cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        participants=_participants(world, ("host", "host")),
        agenda=[],
    )
    world.own["public_session_id"] = h["id"]
    host = await world.room("host", h["id"])
    try:
        assert (await host.command("session.start"))["ok"]
        waiting = await guest_pass(world, h["id"], "等候的市民")
        admitted_client, _key = await admit(world, host, h["id"], "入场的市民")
        await admitted_client.close()
    finally:
        await host.close()
    admitted_token = admitted_client.auth["guest_token"]
    world.clients["lobby_guest"] = world.cast.anon.as_(waiting["guest_token"])
    world.clients["admitted_guest"] = world.cast.anon.as_(admitted_token)
