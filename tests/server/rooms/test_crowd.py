"""Crowd rooms (``server/rooms/crowd.py``): in a public or large session's room, those who
neither host nor keep the record see the people taking part by their role and the others as
counts, in snapshots, live events and ``sync``; hosts see everyone; the counts stay exact
whatever the devices (issue 19, "Crowds")."""

from __future__ import annotations

from typing import Any

from server.rooms.crowd import CROWD_PARTICIPANTS, is_crowd
from tests.conftest import Cast
from tests.server.rooms.conftest import RoomClient
from tests.server.rooms.test_room_state_js import (
    GUEST,
    HOST,
    MEMBER,
    OTHER_GUEST,
    PROPOSER,
    STAFF_HOST,
    Room,
)
from tests.server.sessions.test_sessions_api import create

PRESENCE = ("presence.join", "presence.leave", "presence.batch")


async def hall(cast: Cast) -> int:
    """A public hall guests enter without waiting: staff host, a proposer, a plain member."""
    made = await create(
        cast,
        kind="livelihood_hall",
        stage=None,
        visibility="public",
        lobby="none",
        participants=[
            {"person_id": cast.ids["staff"], "role": "host"},
            {"person_id": cast.ids["member"], "role": "proposer"},
            {"person_id": cast.ids["member2"], "role": "member"},
        ],
        agenda=[{"title": "群众提问"}],
    )
    return int(made["id"])


async def guest(cast: Cast, clients: Any, sid: int, name: str) -> tuple[RoomClient, str]:
    made = await cast.anon.post(f"/api/sessions/{sid}/guest-join", {"name": name})
    assert made.status == 200, made.text
    client = await clients(guest_token=made.body["guest_token"], session_id=sid)
    await client.wait_for(lambda: client.snapshots, seconds=10)
    return client, f"g:{made.body['guest_id']}"


def counts_after(client: RoomClient) -> dict[str, int]:
    """The counts a crowd viewer holds: its snapshot's, changed by each presence event since."""
    counts = dict(client.snapshots[-1]["state"]["crowd"])
    since = client.snapshots[-1]["seq"]
    for event in client.events:
        if event["seq"] > since and "crowd" in event["data"]:
            for role, n in event["data"]["crowd"].items():
                counts[role] = counts.get(role, 0) + n
    return {role: n for role, n in counts.items() if n}


async def test_a_halls_crowd_sees_who_takes_part_and_the_others_as_counts(
    cast: Cast, clients: Any
) -> None:
    sid = await hall(cast)
    host = await clients(token=cast.staff.token, session_id=sid)
    proposer = await clients(token=cast.member.token, session_id=sid)
    member = await clients(token=cast.member2.token, session_id=sid)
    first, first_key = await guest(cast, clients, sid, "市民 刘先生")
    second, second_key = await guest(cast, clients, sid, "市民 周女士")
    staff, proposer_key = f"p:{cast.ids['staff']}", f"p:{cast.ids['member']}"
    member_key = f"p:{cast.ids['member2']}"
    everyone = {staff, proposer_key, member_key, first_key, second_key}

    # The host sees everyone, each by name; the crowd sees the host and the proposer, and the
    # others as counts (itself among them), with no attendance record.
    await host.call("sync", {"since": -1})
    full = (await host.call("sync", {"since": -1}))["snapshot"]["state"]
    assert set(full["presence"]) == everyone and "crowd" not in full
    assert full["presence"][first_key]["name"] == "市民 刘先生"
    view = second.snapshots[0]["state"]
    assert set(view["presence"]) == {staff, proposer_key}
    assert view["crowd"] == {"guest": 2, "member": 1}
    assert "attendance" not in view and view["names"] == {}

    # Live: the proposer, following since before the crowd came, received the guests' joins as
    # counts without their names or keys, and holds the counts a fresh snapshot shows.
    joins = [e for e in proposer.events if e["type"] in PRESENCE]
    assert joins and all("市民" not in str(e) and "g:" not in str(e) for e in joins), joins
    fresh = (await proposer.call("sync", {"since": -1}))["snapshot"]["state"]
    assert counts_after(proposer) == fresh["crowd"] == {"guest": 2, "member": 1}
    # The host got the same events in full.
    hosts = {e["seq"]: e for e in host.events}
    assert any("市民 刘先生" in str(hosts[e["seq"]]) for e in joins)

    # Someone of the crowd comes into view: their hand and their turn carry their name, and a
    # later snapshot names them.
    await host.command("session.start")
    assert (await first.command("hand.raise"))["ok"]
    await second.wait_for(lambda: "hand.raise" in second.types())
    raised = next(e for e in second.events if e["type"] == "hand.raise")
    assert raised["data"] == {"who": first_key, "name": "市民 刘先生"}
    assert (await host.command("floor.grant", who=first_key, seconds=60))["ok"]
    await member.wait_for(lambda: "floor.grant" in member.types())
    granted = next(e for e in member.events if e["type"] == "floor.grant")
    assert granted["data"]["name"] == "市民 刘先生"
    late = (await member.call("sync", {"since": -1}))["snapshot"]["state"]
    assert late["floor"]["holder"] == first_key
    assert late["names"] == {first_key: "市民 刘先生"}

    # The guest leaves: the counts fall by one for those following; sync from before the crowd
    # came gives the same events as the crowd receives them live.
    await first.close()
    await proposer.wait_for(lambda: counts_after(proposer) == {"guest": 1, "member": 1})
    synced = (await proposer.call("sync", {"since": proposer.snapshots[-1]["seq"]}))["events"]
    live = {e["seq"]: e for e in proposer.events}
    assert [e for e in synced if e["type"] in PRESENCE] == [
        live[e["seq"]] for e in synced if e["type"] in PRESENCE
    ]


async def test_a_session_with_few_participants_keeps_everyone_listed(
    cast: Cast, clients: Any, room_session: dict[str, Any]
) -> None:
    """A handling session (not public, a few people): the proposer sees the unit by name."""
    sid = room_session["id"]
    await clients(token=cast.unit.token, session_id=sid)
    proposer = await clients(token=cast.member.token, session_id=sid)
    view = proposer.snapshots[0]["state"]
    assert f"p:{cast.ids['unit']}" in view["presence"] and "crowd" not in view
    assert not is_crowd({"visibility": "internal", "participants": CROWD_PARTICIPANTS - 1})
    assert is_crowd({"visibility": "internal", "participants": CROWD_PARTICIPANTS})
    assert is_crowd({"visibility": "public", "participants": 3})


def test_a_second_device_or_a_removal_changes_the_counts_exactly() -> None:
    """The change each presence event makes to the counts, from the room's state when logged:
    a second device changes nothing, its leaving neither, the last device's leaving does; hosts
    are listed, not counted; a reset and a removal take people out at once."""
    room = Room(crowd=True)
    room.join(STAFF_HOST)
    room.join(MEMBER)
    room.join(MEMBER)  # a phone and a laptop
    room.log("presence.leave", {"who": MEMBER.key}, MEMBER.key)
    room.log("presence.leave", {"who": MEMBER.key}, MEMBER.key)
    changes = [{"op": "join", "who": k.key, "name": k.name, "role": k.role} for k in (GUEST, HOST)]
    room.log("presence.batch", {"changes": [*changes, {"op": "leave", "who": "p:404"}]})
    room.log("presence.join", {"who": OTHER_GUEST.key, "name": "周女士", "role": "guest"})
    room.log("presence.reset", {"who": [GUEST.key, HOST.key]})
    room.send(STAFF_HOST, "participant.remove", {"who": OTHER_GUEST.key})
    room.join(PROPOSER)
    counts = [e["data"].get("crowd") for e in room.events if "crowd" in e["data"]]
    assert counts == [
        {},  # the host: listed
        {"member": 1},
        {},  # the member's second device
        {},  # one of two devices leaves
        {"member": -1},
        {"guest": 1},  # a host listed, someone never here leaving: nothing
        {"guest": 1},
        {"guest": -1},  # the reset: the guest counted, the host listed
        {"guest": -1},  # the removal
        {},  # the proposer: listed
    ]
    leaves = [e["data"] for e in room.events if e["type"] == "presence.leave"]
    assert leaves[0]["role"] == "member"  # so that a crowd viewer's copy can leave it out
    plain = Room()
    plain.join(MEMBER)
    assert "crowd" not in plain.events[-1]["data"]
