"""Invitations by real SMTP, the durable outbox, RSVP links, iTIP REPLY, feeds and occurrences."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import socket
import urllib.parse
from collections.abc import Iterator
from email import policy
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text, update

from server.config import Config
from server.db import Database, utcnow
from server.mail import OutboxMessage
from tests.conftest import ApiClient, Cast
from tests.interop.parsers import icaljs_occurrences, vobject_occurrences
from tests.server.sessions.test_sessions_api import create, session_body


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


async def until(check: Any, seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.05)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def sent(cast: Cast, session_id: int, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        items = (await cast.staff.get(f"/api/sessions/{session_id}/deliveries")).body["items"]
        done = [d for d in items if d["state"] == "sent"]
        return items if len(done) >= count else None

    return await until(check)  # type: ignore[no-any-return]


def calendar_part(message: email.message.EmailMessage) -> tuple[str, bytes]:
    alternative = next(message.iter_parts())
    part = list(alternative.iter_parts())[2]
    return part.get_param("method"), part.get_payload(decode=True)  # type: ignore[return-value]


async def test_participants_receive_a_real_invite_over_smtp(cast: Cast, inbox: Inbox) -> None:
    session = await create(cast)
    deliveries = await sent(cast, session["id"], 3)
    assert {d["recipient"] for d in deliveries} == {
        "staff@example.org",
        "member@example.org",
        "unit@example.org",
    }
    message = (await until(lambda: asyncio.sleep(0, inbox.to("member@example.org"))))[0]
    assert message["Subject"] == f"邀请：{session['title']}"
    method, ics = calendar_part(message)
    assert method == "REQUEST"
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["UID"]) == session["uid"]
    assert str(event["ORGANIZER"]) == "mailto:tian@xieshang.example"
    assert {str(a) for a in event.get("ATTENDEE")} >= {"mailto:member@example.org"}
    assert str(event["LOCATION"]).startswith("政协第一会议室")
    assert "承办单位介绍进展" in str(event["DESCRIPTION"])
    html = list(next(message.iter_parts()).iter_parts())[1].get_content()
    assert "/rsvp/" in html and "answer=accepted" in html


async def test_an_smtp_outage_loses_nothing(cast: Cast, database: Database, smtp_port: int) -> None:
    session = await create(cast)  # no SMTP server listens yet: the inbox fixture is not used

    async def pending_with_error() -> list[dict[str, Any]] | None:
        items = (await cast.staff.get(f"/api/sessions/{session['id']}/deliveries")).body["items"]
        return (
            items
            if items and all(d["last_error"] and d["state"] == "pending" for d in items)
            else None
        )

    failing = await until(pending_with_error)
    assert len(failing) == 3
    assert all(d["attempts"] >= 1 for d in failing)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        async with database.transaction() as db:  # the clock: make the retry due now
            await db.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        await sent(cast, session["id"], 3)
        assert sorted(str(m["To"]).split("<")[1] for m in inbox.messages) == [
            "member@example.org>",
            "staff@example.org>",
            "unit@example.org>",
        ]
    finally:
        controller.stop()


def rsvp_links(message: email.message.EmailMessage) -> dict[str, str]:
    text = next(next(message.iter_parts()).iter_parts()).get_content()
    links = {}
    for line in text.splitlines():
        if "/rsvp/" in line:
            url = line.split(": ", 1)[1]
            links[urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["answer"][0]] = url
    return links


async def rsvps(cast: Cast, session_id: int) -> dict[int, str]:
    session = (await cast.staff.get(f"/api/sessions/{session_id}")).body
    return {p["person_id"]: p["rsvp"] for p in session["participants"]}


async def test_the_signed_link_records_an_answer_and_forgeries_are_refused(
    cast: Cast, inbox: Inbox
) -> None:
    session = await create(cast)
    await sent(cast, session["id"], 3)
    links = rsvp_links(inbox.to("member@example.org")[0])
    path = urllib.parse.urlsplit(links["accepted"])
    # Opening the link (as a mail scanner does) only asks for confirmation.
    page = await cast.anon.get(f"{path.path}?{path.query}")
    assert page.status == 200
    assert '<form method="post">' in page.text and "确认" in page.text
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert (await rsvps(cast, session["id"]))[cast.ids["member"]] == "needs_action"
    reply = await cast.anon.post(f"{path.path}?{path.query}")
    assert reply.status == 200
    assert "答复已记录：接受" in reply.text
    people = {
        p["person_id"]: p["rsvp"]
        for p in (await cast.staff.get(f"/api/sessions/{session['id']}")).body["participants"]
    }
    assert people[cast.ids["member"]] == "accepted"
    token = path.path.rsplit("/", 1)[1]
    forged = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    assert (await cast.anon.get(f"/rsvp/{forged}?answer=declined")).status == 403
    assert (await cast.anon.post(f"/rsvp/{forged}?answer=declined")).status == 403
    assert (await cast.anon.get(f"/rsvp/{token}?answer=maybe")).status == 400
    assert (await cast.anon.post(f"/rsvp/{token}?answer=maybe")).status == 400
    assert people == {
        p["person_id"]: p["rsvp"]
        for p in (await cast.staff.get(f"/api/sessions/{session['id']}")).body["participants"]
    }


async def test_an_expired_link_is_refused(cast: Cast, config: Config) -> None:
    import datetime as dt

    from server.signing import Signer

    session = await create(cast)
    assert config.secret_key is not None
    old = Signer(secret=config.secret_key).sign(
        "rsvp",
        {"s": session["id"], "p": cast.ids["member"]},
        expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    reply = await cast.anon.get(f"/rsvp/{old}?answer=accepted")
    assert reply.status == 403
    assert "过期" in reply.text or "expired" in reply.text


async def test_rsvp_by_api_is_for_participants_only(cast: Cast) -> None:
    session = await create(cast)
    url = f"/api/sessions/{session['id']}/rsvp"
    assert (await cast.member.post(url, {"answer": "tentative"})).body["rsvp"] == "tentative"
    assert (await cast.member2.post(url, {"answer": "accepted"})).status == 404
    assert (await cast.member.post(url, {"answer": "yes"})).status == 400


def reply_ics(
    uid: str, who: str, partstat: str, sequence: int, stamp: str = "20261126T010000Z"
) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mail//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:{stamp}\r\nSEQUENCE:{sequence}\r\n"
        f"ATTENDEE;PARTSTAT={partstat}:mailto:{who}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


async def post_ics(client: ApiClient, path: str, data: bytes) -> Any:
    import io

    return await client.post(path, data=io.BytesIO(data), headers={"Content-Type": "text/calendar"})


async def test_an_itip_reply_updates_partstat_only_when_newer_and_from_the_attendee(
    cast: Cast,
) -> None:
    session = await create(cast)
    uid = session["uid"]
    ok = await post_ics(
        cast.member, "/api/itip", reply_ics(uid, "member@example.org", "DECLINED", 0)
    )
    assert ok.status == 200, ok.text
    assert (ok.body["rsvp"], ok.body["applied"]) == ("declined", True)
    older = await post_ics(
        cast.staff,
        "/api/itip",
        reply_ics(uid, "member@example.org", "ACCEPTED", 0, "20261120T000000Z"),
    )
    assert older.body["applied"] is False
    people = {
        p["person_id"]: p["rsvp"]
        for p in (await cast.staff.get(f"/api/sessions/{session['id']}")).body["participants"]
    }
    assert people[cast.ids["member"]] == "declined"
    assert (
        await post_ics(cast.member, "/api/itip", reply_ics(uid, "unit@example.org", "ACCEPTED", 0))
    ).status == 403
    assert (
        await post_ics(
            cast.staff, "/api/itip", reply_ics(uid, "stranger@example.org", "ACCEPTED", 0)
        )
    ).status == 403
    assert (
        await post_ics(
            cast.staff, "/api/itip", reply_ics("nope@else", "member@example.org", "ACCEPTED", 0)
        )
    ).status == 404
    assert (await post_ics(cast.staff, "/api/itip", b"BEGIN:VCALENDAR\r\ngarbage")).status == 400


async def test_an_itip_message_larger_than_any_answer_is_refused_unread(cast: Cast) -> None:
    # One VEVENT answering an invitation is a few KB; 2 MiB took seconds to parse, twice.
    padded = reply_ics("x@else", "guest@example.org", "ACCEPTED", 0).replace(
        b"END:VEVENT", b"COMMENT:" + b"x" * (300 * 1024) + b"\r\nEND:VEVENT"
    )
    reply = await post_ics(cast.guest, "/api/itip", padded)
    assert reply.status == 413, reply.text
    assert "KiB" in reply.body["detail"]


async def test_a_personal_feed_lists_sessions_without_attendees_and_can_be_rotated(
    cast: Cast,
) -> None:
    live = await create(cast)
    gone = await create(
        cast, starts_at="2026-12-05T09:00:00+08:00", ends_at="2026-12-05T10:00:00+08:00"
    )
    assert (
        await cast.staff.post(f"/api/sessions/{gone['id']}/cancel", {"reason": "改期另行通知"})
    ).status == 200
    me = await cast.member.get("/api/me/calendar")
    assert me.body["webcal_url"].startswith("webcal://")
    path = urllib.parse.urlsplit(me.body["feed_url"]).path
    feed = await cast.anon.get(path)
    assert feed.status == 200
    assert feed.content_type == "text/calendar"
    text = feed.text.replace("\r\n ", "")
    assert "METHOD:" not in text and "ATTENDEE" not in text
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(feed.text).walk("VEVENT")}
    assert set(events) == {live["uid"], gone["uid"]}
    assert str(events[gone["uid"]]["STATUS"]) == "CANCELLED"
    assert events[gone["uid"]]["SEQUENCE"] == 1
    rotated = await cast.member.post("/api/me/calendar/rotate")
    assert rotated.body["feed_url"] != me.body["feed_url"]
    assert (await cast.anon.get(path)).status == 404
    assert (await cast.anon.get(urllib.parse.urlsplit(rotated.body["feed_url"]).path)).status == 200


QUARTERLY = {
    "kind": "quarterly_talk",
    "stage": None,
    "title": "季谈会：城市更新",
    "starts_at": "2026-01-15T14:30:00+08:00",
    "ends_at": "2026-01-15T16:30:00+08:00",
    "recurrence": {"rrule": "FREQ=MONTHLY;INTERVAL=3;COUNT=4"},
    "agenda": [],
}


async def test_a_quarterly_series_with_a_moved_and_a_cancelled_occurrence(
    cast: Cast, inbox: Inbox
) -> None:
    series = await create(cast, **QUARTERLY)
    url = f"/api/sessions/{series['id']}"
    listed = (await cast.member.get(f"{url}/occurrences")).body["items"]
    assert [o["start"] for o in listed] == [
        "2026-01-15T06:30:00Z",
        "2026-04-15T06:30:00Z",
        "2026-07-15T06:30:00Z",
        "2026-10-15T06:30:00Z",
    ]
    moved = await cast.staff.post(
        f"{url}/reschedule",
        {
            "occurrence": "2026-04-15T14:30:00+08:00",
            "allow_conflicts": True,
            "starts_at": "2026-04-16T09:00:00+08:00",
            "ends_at": "2026-04-16T11:00:00+08:00",
        },
    )
    assert moved.status == 200, moved.text
    assert moved.body["sequence"] == 1
    cancelled = await cast.staff.post(
        f"{url}/cancel", {"occurrence": "2026-07-15T06:30:00Z", "reason": "汛期"}
    )
    assert cancelled.status == 200
    assert cancelled.body["sequence"] == 2
    assert cancelled.body["status"] == "scheduled"
    listed = (await cast.member.get(f"{url}/occurrences")).body["items"]
    assert [(o["status"], o["start"]) for o in listed] == [
        ("scheduled", "2026-01-15T06:30:00Z"),
        ("moved", "2026-04-16T01:00:00Z"),
        ("cancelled", "2026-07-15T06:30:00Z"),
        ("scheduled", "2026-10-15T06:30:00Z"),
    ]
    ics = (await cast.member.get(f"{url}/invite.ics")).text.encode()
    shown = {(s, e) for _u, s, e in icaljs_occurrences(ics)}
    assert shown == {(o["start"], o["end"]) for o in listed if o["status"] != "cancelled"}
    assert {(s, e) for _u, s, e in vobject_occurrences(ics)} == shown
    assert b"SEQUENCE:2" in ics
    await sent(cast, series["id"], 9)  # 3 people: invite, update, cancel of one occurrence
    cancel_mail = next(m for m in inbox.to("member@example.org") if m["Subject"].startswith("取消"))
    method, body = calendar_part(cancel_mail)
    assert method == "CANCEL"
    assert b"RECURRENCE-ID;TZID=Asia/Shanghai:20260715T143000" in body
    wrong = await cast.staff.post(
        f"{url}/cancel", {"occurrence": "2026-08-15T06:30:00Z", "reason": "x"}
    )
    assert wrong.status == 400
    assert wrong.body["errors"][0]["field"] == "occurrence"


async def test_cancelling_a_session_sends_cancel_and_the_invite_becomes_a_cancel(
    cast: Cast, inbox: Inbox
) -> None:
    session = await create(cast)
    reply = await cast.staff.post(
        f"/api/sessions/{session['id']}/cancel", {"reason": "承办单位请求改期"}
    )
    assert reply.body["status"] == "cancelled"
    assert reply.body["cancel_reason"] == "承办单位请求改期"
    ics = (await cast.staff.get(f"/api/sessions/{session['id']}/invite.ics")).text
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics
    assert (
        await cast.staff.post(f"/api/sessions/{session['id']}/cancel", {"reason": "again"})
    ).status == 409
    assert (await cast.staff.patch(f"/api/sessions/{session['id']}", {"title": "x"})).status == 409
    await sent(cast, session["id"], 6)
    assert (
        "承办单位请求改期"
        in next(next(inbox.to("unit@example.org")[-1].iter_parts()).iter_parts()).get_content()
    )


async def test_unbounded_rules_are_refused(cast: Cast) -> None:
    body = {**QUARTERLY, "recurrence": {"rrule": "FREQ=MONTHLY;INTERVAL=3"}}
    reply = await cast.staff.post("/api/sessions", {**session_body(cast), **body})
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "recurrence.rrule"
    assert "COUNT or UNTIL" in reply.body["errors"][0]["message"]


async def test_a_rule_that_never_recurs_is_refused_not_stored(cast: Cast) -> None:
    # Every listing expands a stored series on the event loop: 30 February would walk to 9999.
    never = {**QUARTERLY, "recurrence": {"rrule": "FREQ=DAILY;COUNT=2;BYMONTH=2;BYMONTHDAY=30"}}
    reply = await cast.staff.post("/api/sessions", {**session_body(cast), **never})
    assert reply.status == 400, reply.text
    assert reply.body["errors"][0]["field"] == "recurrence.rrule"
    assert "9999" in reply.body["errors"][0]["message"]
    assert (await cast.staff.get("/api/sessions")).body["total"] == 0


async def test_this_and_following_becomes_a_new_series_and_the_first_part_ends(
    cast: Cast, inbox: Inbox
) -> None:
    series = await create(cast, **QUARTERLY)
    url = f"/api/sessions/{series['id']}"
    reply = await cast.staff.post(
        f"{url}/reschedule",
        {
            "occurrence": "2026-07-15T14:30:00+08:00",
            "following": True,
            "allow_conflicts": True,
            "starts_at": "2026-07-16T09:00:00+08:00",
            "ends_at": "2026-07-16T11:00:00+08:00",
        },
    )
    assert reply.status == 200, reply.text
    following = reply.body
    assert following["series_parent_id"] == series["id"]
    assert following["uid"] != series["uid"]
    assert following["sequence"] == 0
    assert [p["person_id"] for p in following["participants"]] == [
        p["person_id"] for p in series["participants"]
    ]
    first = (await cast.member.get(f"{url}/occurrences")).body["items"]
    assert [o["start"] for o in first] == ["2026-01-15T06:30:00Z", "2026-04-15T06:30:00Z"]
    rest = (await cast.member.get(f"/api/sessions/{following['id']}/occurrences")).body["items"]
    assert [o["start"] for o in rest] == ["2026-07-16T01:00:00Z", "2026-10-16T01:00:00Z"]
    head = await cast.member.get(f"{url}")
    assert head.body["sequence"] == 1
    assert "UNTIL=20260715T062959Z" in head.body["recurrence"]["rrule"]
    ics = (await cast.member.get(f"/api/sessions/{following['id']}/invite.ics")).text.encode()
    assert {s for _u, s, _e in icaljs_occurrences(ics)} == {
        "2026-07-16T01:00:00Z",
        "2026-10-16T01:00:00Z",
    }
    first_ics = (await cast.member.get(f"{url}/invite.ics")).text.encode()
    assert {s for _u, s, _e in vobject_occurrences(first_ics)} == {
        "2026-01-15T06:30:00Z",
        "2026-04-15T06:30:00Z",
    }
    refused = await cast.staff.post(
        f"{url}/reschedule",
        {
            "occurrence": "2026-01-15T14:30:00+08:00",
            "following": True,
            "starts_at": "2026-01-16T09:00:00+08:00",
            "ends_at": "2026-01-16T11:00:00+08:00",
        },
    )
    assert refused.status == 400
    assert "first occurrence" in refused.body["detail"]


def counter_ics(uid: str, who: str, start: str, end: str, sequence: int = 0) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mail//EN\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261126T010000Z\r\nSEQUENCE:{sequence}\r\n"
        f"DTSTART:{start}\r\nDTEND:{end}\r\nCOMMENT:上午要开会\r\n"
        f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:{who}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


async def test_a_counter_accepted_moves_the_session_with_a_new_request(
    cast: Cast, inbox: Inbox
) -> None:
    session = await create(cast)
    got = await post_ics(
        cast.member,
        "/api/itip",
        counter_ics(session["uid"], "member@example.org", "20261201T060000Z", "20261201T073000Z"),
    )
    assert got.status == 200, got.text
    assert got.body["method"] == "COUNTER"
    counters = (await cast.staff.get(f"/api/sessions/{session['id']}/counters")).body["items"]
    assert [(c["person_id"], c["state"], c["comment"]) for c in counters] == [
        (cast.ids["member"], "open", "上午要开会")
    ]
    assert (await cast.member.get(f"/api/sessions/{session['id']}/counters")).status == 403
    accepted = await cast.staff.post(
        f"/api/sessions/{session['id']}/counters/{got.body['counter_id']}/accept", {}
    )
    assert accepted.status == 200, accepted.text
    assert (accepted.body["starts_at"], accepted.body["sequence"]) == ("2026-12-01T06:00:00Z", 1)
    again = await cast.staff.post(
        f"/api/sessions/{session['id']}/counters/{got.body['counter_id']}/accept", {}
    )
    assert again.status == 409
    await sent(cast, session["id"], 6)
    update = next(m for m in inbox.to("unit@example.org") if m["Subject"].startswith("更新"))
    method, ics = calendar_part(update)
    assert method == "REQUEST"
    assert b"SEQUENCE:1" in ics and b"DTSTART;TZID=Asia/Shanghai:20261201T140000" in ics


async def test_a_counter_declined_keeps_the_time_and_tells_the_attendee(
    cast: Cast, inbox: Inbox
) -> None:
    session = await create(cast)
    proposed = await cast.member.post(
        f"/api/sessions/{session['id']}/counters",
        {
            "starts_at": "2026-12-02T09:00:00+08:00",
            "ends_at": "2026-12-02T10:30:00+08:00",
            "comment": "换个时间",
        },
    )
    assert proposed.status == 201
    assert (
        await cast.member2.post(
            f"/api/sessions/{session['id']}/counters",
            {"starts_at": "2026-12-02T09:00:00+08:00", "ends_at": "2026-12-02T10:30:00+08:00"},
        )
    ).status == 404
    declined = await cast.staff.post(
        f"/api/sessions/{session['id']}/counters/{proposed.body['id']}/decline",
        {"reason": "领导时间已定"},
    )
    assert declined.body["state"] == "declined"
    assert (await cast.staff.get(f"/api/sessions/{session['id']}")).body["starts_at"] == session[
        "starts_at"
    ]
    await sent(cast, session["id"], 4)
    note = next(
        m for m in inbox.to("member@example.org") if m["Subject"].startswith("时间保持不变")
    )
    method, ics = calendar_part(note)
    assert method == "DECLINECOUNTER"
    assert f"UID:{session['uid']}".encode() in ics


async def test_other_itip_methods_and_counters_from_strangers_are_refused(cast: Cast) -> None:
    session = await create(cast)
    stranger = counter_ics(
        session["uid"], "nobody@example.org", "20261201T060000Z", "20261201T073000Z"
    )
    assert (await post_ics(cast.staff, "/api/itip", stranger)).status == 403
    request = reply_ics(session["uid"], "member@example.org", "ACCEPTED", 0).replace(
        b"METHOD:REPLY", b"METHOD:REQUEST"
    )
    refused = await post_ics(cast.staff, "/api/itip", request)
    assert refused.status == 400
    assert "REPLY and COUNTER" in refused.body["detail"]


async def test_bad_calendar_input_changes_nothing(cast: Cast, database: Database) -> None:
    from tests.server.test_bad_input import snapshot

    session = await create(cast)
    await sent(cast, session["id"], 0)
    before = await snapshot(database)
    bad_upload = await cast.member.post(
        f"/api/people/{cast.ids['member']}/busy",
        params={"from": "2026-11-30T00:00:00Z", "to": "2026-12-07T00:00:00Z"},
        data=b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage",
        headers={"Content-Type": "text/calendar"},
    )
    unbounded = await cast.staff.post(
        "/api/sessions", {**session_body(cast), **QUARTERLY, "recurrence": {"rrule": "FREQ=DAILY"}}
    )
    unknown_uid = await post_ics(
        cast.staff, "/api/itip", reply_ics("missing@x", "member@example.org", "ACCEPTED", 0)
    )
    stranger = await post_ics(
        cast.staff, "/api/itip", reply_ics(session["uid"], "x@example.org", "ACCEPTED", 0)
    )
    forged = await cast.anon.get("/rsvp/eyJwIjozLCJzIjoxfQ.AAAA?answer=accepted")
    future = await post_ics(
        cast.member, "/api/itip", reply_ics(session["uid"], "member@example.org", "ACCEPTED", 9)
    )
    statuses = [r.status for r in (bad_upload, unbounded, unknown_uid, stranger, forged, future)]
    assert statuses == [400, 400, 404, 403, 403, 400]
    assert await snapshot(database) == before


async def test_only_participants_download_the_invitation_with_everyones_addresses(
    cast: Cast,
) -> None:
    public = await create(cast, kind="livelihood_hall", stage=None, visibility="public")
    url = f"/api/sessions/{public['id']}/invite.ics"
    assert (await cast.member.get(url)).status == 200  # a participant
    assert (await cast.staff.get(url)).status == 200
    for outsider in (cast.member2, cast.guest, cast.leader):
        assert (
            await outsider.get(f"/api/sessions/{public['id']}")
        ).status == 200  # may see the session
        assert (await outsider.get(url)).status == 404  # but not the attendee list


async def test_removing_an_invitee_revokes_their_rsvp_links(cast: Cast, inbox: Inbox) -> None:
    session = await create(cast)
    await sent(cast, session["id"], 3)
    link = urllib.parse.urlsplit(rsvp_links(inbox.to("member@example.org")[0])["declined"])
    keep = [
        {"person_id": cast.ids["staff"], "role": "host"},
        {"person_id": cast.ids["unit"], "role": "unit"},
    ]
    changed = await cast.staff.patch(f"/api/sessions/{session['id']}", {"participants": keep})
    assert changed.status == 200, changed.text
    for answer in (cast.anon.get, cast.anon.post):
        reply = await answer(f"{link.path}?{link.query}")
        assert reply.status == 404 and "not a participant" in reply.text


async def test_line_breaks_in_old_names_and_titles_still_give_an_invitation(
    cast: Cast, database: Database, inbox: Inbox
) -> None:
    # Rows written before names and titles had to be one line.
    async with database.transaction() as db:
        await db.execute(
            text("UPDATE people SET name = :name WHERE id = :id"),
            {"name": "张委员\r\nBcc: everyone@example.org", "id": cast.ids["member"]},
        )
        await db.execute(text("UPDATE venues SET name = :name"), {"name": "第一\n会议室\u202e"})
    session = await create(cast)
    async with database.transaction() as db:
        await db.execute(
            text("UPDATE sessions SET title = :title WHERE id = :id"),
            {"title": "老旧小区\r\n加装电梯\u0007", "id": session["id"]},
        )
    moved = await cast.staff.post(
        f"/api/sessions/{session['id']}/reschedule",
        {"starts_at": "2026-12-02T09:30:00+08:00", "ends_at": "2026-12-02T11:00:00+08:00"},
    )
    assert moved.status == 200, moved.text
    await sent(cast, session["id"], 6)
    invites = inbox.to("member@example.org")
    assert len(invites) == 2
    (to,) = invites[0]["To"].addresses
    assert (to.display_name, to.addr_spec) == (
        "张委员 Bcc: everyone@example.org",
        "member@example.org",
    )
    assert str(invites[1]["Subject"]) == "更新：老旧小区 加装电梯"
    assert all(m["Bcc"] is None for m in invites)
    method, ics = calendar_part(invites[1])
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert method == "REQUEST" and str(event["UID"]) == session["uid"]
