"""Notifications leave the server: by email through the outbox to a real SMTP server (aiosmtpd),
in the person's language (Chinese by default), one message per person, unless the person turned
that kind off; and live, to the person's open pages over Socket.IO, only once the change is
committed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest
import socketio
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller

from server.config import Config
from server.notices.delivery import EVENT
from tests.conftest import Cast
from tests.server.notices.test_notifications import inbox_of, step, until
from tests.server.proposals.test_proposals_api import create
from tests.server.sessions.test_invites_and_rsvp import Inbox, _free_port


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def config(config: Config, smtp_port: int) -> Config:
    return dataclasses.replace(config, smtp_url=f"smtp://127.0.0.1:{smtp_port}")


async def test_a_notice_is_mailed_in_chinese_unless_its_kind_is_turned_off(
    cast: Cast, inbox: Inbox
) -> None:
    off = {"items": [{"kind": "proposal_filed", "email": False}]}
    assert (await cast.member.patch("/api/me/notification-settings", off)).status == 200
    both = [cast.ids["member"], cast.ids["member2"]]
    proposal = await create(cast, "2026-0221", proposer_ids=both)
    await step(cast.staff, proposal["id"], "filed")

    async def mailed() -> bool:
        return bool(inbox.to("member2@example.org"))

    await until(mailed)
    [message] = inbox.to("member2@example.org")
    assert message["Subject"] == "您的提案2026-0221 关于加快老旧小区加装电梯的建议已立案。"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert f"/#/proposals/{proposal['id']}" in body
    assert "/#/notifications/settings" in body  # where to turn it off
    # Assigning next tells the unit; by the time its mail arrives the member's would have too.
    await step(cast.staff, proposal["id"], "assigned")

    async def unit_mailed() -> bool:
        return bool(inbox.to("unit@example.org"))

    await until(unit_mailed)
    assert inbox.to("member@example.org") == []  # turned off
    assert (await inbox_of(cast.member))["unread"] == 1  # told in the app all the same


async def test_several_waiting_notices_go_out_as_one_digest(
    cast: Cast, inbox: Inbox, server: TestServer
) -> None:
    from server.api import DATABASE
    from server.notices.kinds import Kind
    from server.notices.service import notify

    async with server.app[DATABASE].transaction() as db:
        for number in ("2026-0231", "2026-0232", "2026-0233"):
            await notify(
                db,
                person_ids=[cast.ids["member"]],
                kind=Kind.PROPOSAL_FILED,
                link="#/proposals",
                params={"proposal": number},
            )

    async def mailed() -> bool:
        return bool(inbox.to("member@example.org"))

    await until(mailed)
    await asyncio.sleep(0.5)
    [digest] = inbox.to("member@example.org")
    assert digest["Subject"].startswith("您有 3 条新通知")
    body = digest.get_body().get_content()  # type: ignore[union-attr]
    assert all(number in body for number in ("2026-0231", "2026-0232", "2026-0233"))


async def test_a_person_who_chose_english_is_mailed_in_english(
    cast: Cast, inbox: Inbox, server: TestServer
) -> None:
    from server.api import DATABASE
    from server.notices.kinds import Kind
    from server.notices.service import notify

    assert (await cast.member.patch("/api/me", {"language": "en"})).status == 200
    async with server.app[DATABASE].transaction() as db:
        for number in ("2026-0241", "2026-0242"):
            await notify(
                db,
                person_ids=[cast.ids["member"], cast.ids["member2"]],
                kind=Kind.PROPOSAL_FILED,
                link="#/proposals",
                params={"proposal": number},
            )

    async def mailed() -> bool:
        return bool(inbox.to("member@example.org")) and bool(inbox.to("member2@example.org"))

    await until(mailed)
    [english] = inbox.to("member@example.org")
    assert english["Subject"].startswith("You have 2 new notices"), english["Subject"]
    assert english["Content-Language"] == "en"
    body = english.get_body().get_content()  # type: ignore[union-attr]
    assert "您" not in body and "2026-0241" in body and "2026-0242" in body
    [chinese] = inbox.to("member2@example.org")  # the other kept the default
    assert chinese["Subject"].startswith("您有 2 条新通知")


async def connect(server: TestServer, token: str | None) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        str(server.make_url("")), auth={"token": token}, transports=["websocket"], wait_timeout=5
    )
    return client


async def test_the_unread_count_is_pushed_live_to_that_person_only(
    cast: Cast, server: TestServer
) -> None:
    member = await connect(server, cast.member.token)
    other = await connect(server, cast.member2.token)
    got: asyncio.Queue[object] = asyncio.Queue()
    leaked: list[object] = []
    member.on(EVENT, got.put_nowait)
    other.on(EVENT, leaked.append)
    try:
        proposal = await create(cast, "2026-0241")
        await step(cast.staff, proposal["id"], "filed")
        assert await asyncio.wait_for(got.get(), 5) == {"unread": 1}
        [item] = (await inbox_of(cast.member))["items"]
        # Marking read on one page updates the count on the person's other pages.
        assert (
            await cast.member.post("/api/me/notifications/read", {"ids": [item["id"]]})
        ).status == 200
        assert await asyncio.wait_for(got.get(), 5) == {"unread": 0}
        await asyncio.sleep(0.2)
        assert leaked == []
    finally:
        await member.disconnect()
        await other.disconnect()


async def test_stopping_lets_a_push_in_hand_finish_rather_than_cut_it_off(
    cast: Cast, server: TestServer
) -> None:
    """A push is a database read then a Socket.IO emit; cancelling it mid-read can leave the
    connection open for the garbage collector to find (an unclosed asyncpg connection). Stop
    waits for it instead."""
    from server.api import DATABASE
    from server.notices import service
    from server.notices.delivery import NoticeDelivery

    entered, release = asyncio.Event(), asyncio.Event()
    outcome: list[str] = []

    async def emit(person_id: int, data: dict[str, object]) -> None:
        entered.set()
        try:
            await release.wait()  # the emit is in hand when the server stops
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append(f"pushed {person_id} {data}")

    delivery = NoticeDelivery(
        database=server.app[DATABASE],
        emit=emit,
        settings=service.MailSettings(public_url="http://x", sender="x@example.org"),
        wake_outbox=lambda: None,
    )
    delivery.committed({service.TOLD: {cast.ids["member"]}})
    await asyncio.wait_for(entered.wait(), 10)
    stopping = asyncio.create_task(delivery.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waiting for the push, not cancelling it
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert outcome == [f"pushed {cast.ids['member']} {{'unread': 0}}"]
    delivery.committed({service.TOLD: {cast.ids["member"]}})  # after stop: nothing starts
    await asyncio.sleep(0.1)
    assert outcome == [f"pushed {cast.ids['member']} {{'unread': 0}}"]
