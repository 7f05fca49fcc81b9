"""A public 民生议政厅 with ``lobby: host_admits``: twenty guests join from the phone page, the
host sees them waiting and admits them all with one command, and every phone shows the room,
the citizens as a count."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from server.config import Config
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe, shot

GUESTS = 20


@pytest.fixture
def config(config: Config) -> Config:
    # Every phone here is 127.0.0.1; the per-address limit on guest joins (10 by default) is
    # tested in tests/server/test_abuse_limits.py.
    return config.with_changes(guest_joins_per_window=GUESTS + 5)


async def _join(open_as: Opener, session_id: int, name: str) -> Page:
    guest = await open_as(None, f"/join/{session_id}", phone=True)
    await guest.get_by_label("您的姓名").fill(name)
    await guest.get_by_role("button", name="以来宾身份加入").click()
    await expect(guest.get_by_text("主持人准入后即可进入会议")).to_be_visible(timeout=20_000)
    return guest


@pytest.mark.timeout(240)
async def test_twenty_guests_join_from_their_phones_and_are_admitted_at_once(
    cast: Cast, open_as: Opener
) -> None:
    s = await create_session(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        title="民生议政厅：背街小巷改造",
        agenda=[{"title": "群众代表提问", "planned_minutes": 30}],
    )
    assert s["lobby"] == "host_admits"  # the livelihood hall's template
    host = await open_as(cast.staff, f"/#/rooms/{s['id']}")
    await host.get_by_role("button", name="开始会议").click()
    await expect(host.locator(".agenda li.current")).to_contain_text("群众代表提问")

    guests = await asyncio.gather(
        *(_join(open_as, s["id"], f"市民{i:02d}") for i in range(1, GUESTS + 1))
    )
    waiting = host.get_by_role("status").filter(has_text=f"等候 {GUESTS} 人")
    await expect(waiting).to_be_visible(timeout=20_000)
    await shot(host, "hall-crowd-01-host-waiting")
    await host.get_by_role("button", name="全部准入").click()
    for guest in guests:
        await expect(guest.locator(".agenda li.current")).to_contain_text("群众代表提问")
    await expect(host.get_by_text(f"等候 {GUESTS} 人")).to_have_count(0)
    await shot(guests[-1], "hall-crowd-02-guest-phone-inside")
    # A public hall is a crowd room (server/rooms/crowd.py): a phone lists the host and counts
    # the citizens, itself among them, without their names; the host lists everyone.
    people = guests[0].locator("section[aria-labelledby=people-h]")
    await expect(people.locator(".crowd")).to_have_text(f"另有来宾 {GUESTS} 人在场", timeout=20_000)
    await expect(guests[0].locator("#people-h")).to_have_text(f"在场人员（{GUESTS + 1}）")
    await expect(people).not_to_contain_text("市民02")
    await expect(host.locator("#people-h + ul")).to_contain_text("市民02")
    await shot(guests[0], "hall-crowd-03-guest-phone-people")
    assert await axe(guests[0]) == []

    # A poll of the guests: a phone counts 应到 from the admitted and 实到 from the crowd's count.
    form = host.locator("form.poll-form")
    await form.get_by_label("表决事项").fill("是否赞成改造方案？")
    await form.get_by_label("选项（每行一个）").fill("赞成\n反对")
    for box in await form.locator("fieldset.voters input[type=checkbox]").all():
        await box.set_checked(False)
    await form.get_by_label("来宾可参加表决").check()
    await form.get_by_role("button", name="发起表决").click()
    poll = guests[0].locator(".poll").first
    await expect(poll.locator("[data-count=eligible] b")).to_have_text(str(GUESTS))
    await expect(poll.locator("[data-count=present] b")).to_have_text(str(GUESTS))
    await poll.get_by_label("赞成", exact=True).check()
    await poll.get_by_role("button", name="投票").click()
    await expect(guests[1].locator(".poll [data-count=voted] b").first).to_have_text("1")

    audit = await cast.staff.get(f"/api/audit?session_id={s['id']}&action=room.lobby.")
    log = audit.body["items"]
    admits = [row for row in log if row["action"] == "room.lobby.admit_all"]
    assert len(admits) == 1, [row["action"] for row in log]
