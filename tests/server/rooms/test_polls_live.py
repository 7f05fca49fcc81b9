"""Polls with quorum over real Socket.IO clients and a real database (issue 19): a secret
ballot's choices are nowhere in the stored log, the sync snapshot, the minutes or their export;
a named one lists who voted what; refusals come in the reader's language; points of order and
speaking time reach the minutes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from server.db import Database
from server.rooms.models import PollTally, RoomEvent
from tests.conftest import Cast


def closed(client: Any) -> Any:
    return lambda: next((e for e in client.events if e["type"] == "poll.close"), None)


async def test_a_secret_poll_leaves_no_voter_next_to_a_choice(
    cast: Cast, room_session: dict[str, Any], clients: Any, database: Database
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(token=cast.member.token, session_id=sid)
    unit = await clients(token=cast.unit.token, session_id=sid)
    await host.command("session.start")
    opened = await host.command(
        "poll.open",
        question="是否同意该办理方案？",
        options=["赞成方案", "反对方案"],
        voters={"roles": ["proposer", "unit"], "guests": False},
        threshold="two_thirds",
        secret=True,
        roster=[{"who": "p:999", "role": "unit"}],  # the client's roster is ignored
    )
    assert opened["ok"], opened
    poll = opened["seq"]  # a poll's id is the seq of its opening
    event = await host.wait_for(
        lambda: next((e for e in host.events if e["type"] == "poll.open"), None)
    )
    assert event["data"]["eligible"] == sorted([f"p:{cast.ids['member']}", f"p:{cast.ids['unit']}"])
    refused = await host.command("poll.vote", poll_id=poll, choices=[0])
    assert refused["error"]["code"] == "forbidden"
    assert "not among this poll's voters" in refused["error"]["message"]
    assert (await member.command("poll.vote", poll_id=poll, choices=[1]))["ok"]
    assert (await unit.command("poll.vote", poll_id=poll, choices=[0]))["ok"]
    # Live: everyone (the host too) hears who voted, never what.
    await host.wait_for(lambda: sum(e["type"] == "poll.vote" for e in host.events) == 2)
    assert all("choices" not in e["data"] for e in host.events)
    assert (await host.command("poll.close", poll_id=poll, tally=[9, 9]))["ok"]
    result = (await host.wait_for(closed(host)))["data"]
    assert result["results"] == [1, 1]  # from the ballot box, not the client's tally
    assert (result["eligible"], result["present"], result["voted"]) == (2, 2, 2)
    assert result["quorum_met"] is True and result["passed"] is False
    assert "ballots" not in result

    snapshot = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert (
        "votes" not in json.dumps(snapshot["polls"])
        and "ballots" not in snapshot["polls"][str(poll)]
    )
    assert (await host.command("session.end"))["ok"]
    async with database.read() as db:
        rows = (await db.execute(select(RoomEvent).where(RoomEvent.session_id == sid))).scalars()
        stored = [(r.type, r.data) for r in rows]
        boxes = (await db.execute(select(PollTally))).scalars().all()
    votes = [data for kind, data in stored if kind == "poll.vote"]
    assert votes == [
        {"poll_id": poll, "who": f"p:{cast.ids['member']}"},
        {"poll_id": poll, "who": f"p:{cast.ids['unit']}"},
    ]
    assert all("choices" not in data and "ballot" not in data for _k, data in stored)
    assert [(b.poll_id, b.counts) for b in boxes] == [(poll, [1, 1])]  # counts, no voter

    minutes = (await cast.staff.get(f"/api/sessions/{sid}/minutes")).body["content"]
    [entry] = minutes["polls"]
    assert entry["secret"] is True and entry["ballots"] == []
    assert (entry["eligible"], entry["present"], entry["voted"]) == (2, 2, 2)
    export = (await cast.staff.get(f"/api/sessions/{sid}/minutes.md")).text
    assert "无记名投票" in export and "达到法定人数" in export and "未通过" in export
    assert "张委员" not in export.split("现场表决")[1].split("\n\n")[0]


async def test_a_named_poll_lists_who_voted_what_and_refuses_in_chinese(
    cast: Cast, room_session: dict[str, Any], clients: Any
) -> None:
    sid = room_session["id"]
    host = await clients(token=cast.staff.token, session_id=sid)
    member = await clients(language="zh-CN", token=cast.member.token, session_id=sid)
    await host.command("session.start")
    opened = await host.command(
        "poll.open",
        question="是否同意？",
        options=["同意", "不同意"],
        voters={"roles": ["unit"], "guests": False},
        threshold="majority_of_votes",
    )
    poll = opened["seq"]
    refused = await member.command("poll.vote", poll_id=poll, choices=[0])
    assert refused["error"]["message"] == "您不在本次表决的投票人范围内。"
    unit = await clients(token=cast.unit.token, session_id=sid)
    assert (await unit.command("poll.vote", poll_id=poll, choices=[0]))["ok"]
    await host.command("poll.close", poll_id=poll)
    result = (await host.wait_for(closed(host)))["data"]
    assert result["ballots"] == [
        {"who": f"p:{cast.ids['unit']}", "name": "住建局 赵处长", "choices": [0]}
    ]
    assert result["quorum_met"] is True and result["passed"] is True  # 1 of 1 unit present

    # A point of order goes ahead of a raised hand; speaking time reaches the minutes.
    await unit.command("hand.raise")
    assert (await member.command("point_of_order.request"))["ok"]
    snapshot = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    member_key, unit_key = f"p:{cast.ids['member']}", f"p:{cast.ids['unit']}"
    assert snapshot["queue"] == [member_key, unit_key]
    assert snapshot["points_of_order"] == [member_key]
    await host.command("floor.grant", who=member_key, seconds=60)
    await host.command("floor.revoke")
    await host.command("session.end")
    minutes = (await cast.staff.get(f"/api/sessions/{sid}/minutes")).body["content"]
    assert [s["who"] for s in minutes["items"][0]["speaking"]] == [member_key]
    assert minutes["speaking"][0]["name"] == "张委员"
    assert minutes["polls"][0]["ballots"] == [{"name": "住建局 赵处长", "choices": [0]}]
    export = (await cast.staff.get(f"/api/sessions/{sid}/minutes.md")).text
    assert "发言时长" in export and "记名表决：住建局 赵处长：同意" in export
    assert "赞成票超过投票人数的一半，已通过" in export
