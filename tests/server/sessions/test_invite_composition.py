"""A session with a hall of invitees: its emails are composed off the event loop.

Each invitation is an iCalendar REQUEST inside a MIME message, several milliseconds of pure
Python apiece; composed on the loop, scheduling a few hundred invitees stopped every room,
request and heartbeat of the process for seconds.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from scheduling import imip
from server.config import Config
from server.db import Database
from server.directory import service
from server.directory.schemas import PersonCreate
from server.mail import OutboxMessage
from tests.conftest import Cast, watch_inside
from tests.server.sessions.test_sessions_api import session_body

INVITEES = 150


async def test_inviting_a_hall_leaves_the_loop_free_and_queues_every_email(
    cast: Cast, database: Database, config: Config
) -> None:
    passwords = config.passwords()
    ids = []
    for n in range(INVITEES):
        person = await service.add_person(
            database,
            passwords,
            PersonCreate.model_validate(
                {
                    "username": f"hall{n}",
                    "name": f"市民代表{n}",
                    "role": "member",
                    "email": f"hall{n}@example.org",
                },
                strict=False,
            ),
        )
        ids.append(person.id)
    body = session_body(cast, allow_conflicts=True)
    body["participants"] += [{"person_id": i, "role": "member"} for i in ids]
    with watch_inside(imip.message.__code__) as composing:
        work = asyncio.create_task(cast.staff.post("/api/sessions", body))
        while not work.done():
            reply = await cast.anon.get("/api/health")
            assert reply.status == 200, reply.text
        created = await work
    assert created.status == 201, created.text
    # Composed in another thread, never on the loop's. (A CI run once answered no health check
    # in the moments another thread was seen composing; the sampler does not depend on that.)
    assert composing.on_loop == 0 and composing.elsewhere >= 1, composing
    async with database.read() as db:
        queued = await db.scalar(
            select(func.count()).where(OutboxMessage.session_id == created.body["id"])
        )
    assert queued == INVITEES + 3  # the hall and the three of the cast with an address
