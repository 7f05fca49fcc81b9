"""Parsing what attendees send (REPLY, COUNTER, busy time) and the iMIP email shape."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.ical_parse import parse_busy, parse_counter, parse_reply
from scheduling.imip import Mail, header_text, message
from scheduling.intervals import Interval
from scheduling.itip import ItipError, request
from server.text import not_a_line
from tests.scheduling.test_itip import NOW, SERIES, invite

SH = ZoneInfo("Asia/Shanghai")


def vcal(method: str | None, *events: str) -> str:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Client//EN\r\n"
    if method:
        head += f"METHOD:{method}\r\n"
    body = "".join(
        f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n".replace("\n", "\r\n").replace("\r\r", "\r")
        for e in events
    )
    return head + body + "END:VCALENDAR\r\n"


REPLY = """UID:session-7@xieshang.example
DTSTAMP:20261126T010000Z
SEQUENCE:2
ATTENDEE;PARTSTAT=ACCEPTED;CN=张委员:mailto:Zhang@Example.org
COMMENT:准时参加"""


def test_a_reply_gives_uid_attendee_answer_and_sequence() -> None:
    reply = parse_reply(vcal("REPLY", REPLY))
    assert (reply.uid, reply.email, reply.partstat, reply.sequence) == (
        "session-7@xieshang.example",
        "zhang@example.org",
        "ACCEPTED",
        2,
    )
    assert reply.dtstamp == dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
    assert reply.recurrence_id is None
    assert reply.comment == "准时参加"
    one = parse_reply(vcal("REPLY", REPLY + "\nRECURRENCE-ID;TZID=Asia/Shanghai:20260415T143000"))
    assert one.recurrence_id == dt.datetime(2026, 4, 15, 6, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("garbage", "not a readable"),
        (vcal("REQUEST", REPLY), "METHOD:REPLY"),
        (vcal("REPLY"), "exactly one VEVENT"),
        (vcal("REPLY", REPLY.replace("ATTENDEE", "X-NOBODY")), "exactly one ATTENDEE"),
        (
            vcal("REPLY", REPLY + "\nATTENDEE;PARTSTAT=DECLINED:mailto:b@example.org"),
            "exactly one ATTENDEE",
        ),
        (vcal("REPLY", REPLY.replace("ACCEPTED", "MAYBE")), "PARTSTAT"),
        (vcal("REPLY", REPLY.replace("mailto:", "tel:")), "mailto"),
        (vcal("REPLY", REPLY.replace("UID:session-7@xieshang.example\n", "")), "UID"),
        (vcal("REPLY", REPLY.replace("DTSTAMP:20261126T010000Z\n", "")), "DTSTAMP"),
        (vcal("REPLY", REPLY.replace("SEQUENCE:2", "SEQUENCE:two")), "bad value"),
    ],
)
def test_bad_replies_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ItipError, match=message):
        parse_reply(text)


def test_a_counter_proposes_a_new_time() -> None:
    counter = parse_counter(
        vcal(
            "COUNTER",
            """UID:session-7@xieshang.example
DTSTAMP:20261126T010000Z
SEQUENCE:2
DTSTART;TZID=Asia/Shanghai:20261202T140000
DTEND;TZID=Asia/Shanghai:20261202T153000
ATTENDEE;PARTSTAT=TENTATIVE:mailto:zhang@example.org
COMMENT:上午有会，改到下午可以吗""",
        )
    )
    assert counter.start == dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)
    assert counter.end == dt.datetime(2026, 12, 2, 7, 30, tzinfo=dt.UTC)
    assert counter.comment == "上午有会，改到下午可以吗"
    with pytest.raises(ItipError, match="not after"):
        parse_counter(
            vcal(
                "COUNTER",
                """UID:u
DTSTAMP:20261126T010000Z
DTSTART:20261202T060000Z
DTEND:20261202T050000Z
ATTENDEE:mailto:zhang@example.org""",
            )
        )


WINDOW = Interval(dt.datetime(2026, 12, 1, tzinfo=SH), dt.datetime(2026, 12, 8, tzinfo=SH))


def test_busy_time_expands_recurrences_and_drops_free_and_cancelled_events() -> None:
    ics = vcal(
        None,
        """UID:weekly
DTSTAMP:20261101T000000Z
DTSTART;TZID=Asia/Shanghai:20261102T090000
DTEND;TZID=Asia/Shanghai:20261102T100000
RRULE:FREQ=WEEKLY""",
        """UID:free
DTSTAMP:20261101T000000Z
DTSTART:20261203T010000Z
DTEND:20261203T020000Z
TRANSP:TRANSPARENT""",
        """UID:gone
DTSTAMP:20261101T000000Z
DTSTART:20261204T010000Z
DTEND:20261204T020000Z
STATUS:CANCELLED""",
        """UID:floating
DTSTAMP:20261101T000000Z
DTSTART:20261205T140000
DTEND:20261205T150000""",
    )
    busy = parse_busy(ics, WINDOW, SH)
    assert (
        busy
        == [
            Interval(
                dt.datetime(2026, 12, 7, 9, tzinfo=SH), dt.datetime(2026, 12, 7, 10, tzinfo=SH)
            ),
            Interval(
                dt.datetime(2026, 12, 5, 14, tzinfo=SH), dt.datetime(2026, 12, 5, 15, tzinfo=SH)
            ),
        ][::-1]
    )


def test_busy_time_reads_windows_zone_names_and_google_x_wr_timezone() -> None:
    outlook = vcal(
        None,
        """UID:o
DTSTAMP:20261101T000000Z
DTSTART;TZID=China Standard Time:20261203T090000
DTEND;TZID=China Standard Time:20261203T100000""",
    )
    assert parse_busy(outlook, WINDOW, ZoneInfo("UTC")) == [
        Interval(
            dt.datetime(2026, 12, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 3, 2, tzinfo=dt.UTC)
        )
    ]
    google = vcal(
        None,
        """UID:g
DTSTAMP:20261101T000000Z
DTSTART:20261203T010000Z
DTEND:20261203T020000Z""",
    ).replace("PRODID:-//Client//EN\r\n", "PRODID:-//Google//EN\r\nX-WR-TIMEZONE:Asia/Shanghai\r\n")
    assert parse_busy(google, WINDOW, ZoneInfo("UTC")) == [
        Interval(
            dt.datetime(2026, 12, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 3, 2, tzinfo=dt.UTC)
        )
    ]


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN:VCALENDAR\r\nthis is not ical",
        vcal(None, "UID:1\nDTSTART:20261203T010000Z\nDTEND:20261203T020000Z").replace(
            "PRODID:-//Client//EN\r\n", "PRODID:x\r\nX-WR-TIMEZONE:Mars/Base\r\n"
        ),
        vcal(None, "UID:1\nDTSTART:garbage"),
        vcal(
            None, "UID:1\nDTSTAMP:20261101T000000Z\nDTSTART:20261203T010000Z\nRRULE:FREQ=SECONDLY"
        ),
    ],
)
def test_an_unusable_upload_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ItipError):
        parse_busy(text, WINDOW, SH)


def test_the_email_puts_the_invite_where_outlook_looks_and_encodes_chinese() -> None:
    ics = request(invite(SERIES["quarterly"]), NOW)
    mail = Mail(
        "staff@xieshang.example",
        "王秘书",
        "zhang@example.org",
        "张委员",
        "邀请：季谈会——城市更新中的民生问题",
        "张委员您好：\n\n请参加季谈会。",
        (("接受", "https://x.example/rsvp/t?answer=accepted"),),
    )
    raw = message(mail, ics, "REQUEST", NOW).as_bytes()
    assert all(b < 128 for b in raw.split(b"\r\n\r\n", 1)[0])  # headers are 7-bit
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "邀请：季谈会——城市更新中的民生问题"
    assert parsed["To"].addresses[0].display_name == "张委员"
    assert parsed.get_content_type() == "multipart/mixed"
    first, attachment = parsed.iter_parts()
    assert first.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in first.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    calendar = list(first.iter_parts())[2]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_param("charset") == "UTF-8"
    assert calendar["Content-Transfer-Encoding"] == "base64"
    assert calendar.get_payload(decode=True) == ics
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == ics
    html = list(first.iter_parts())[1].get_content()
    assert "https://x.example/rsvp/t?answer=accepted" in html
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        message(mail, ics, "CANCEL", NOW)


@given(st.text(st.characters(codec="utf-8")) | st.sampled_from(["a\u2028b", "\u2029", "\x85x"]))
def test_header_text_clears_exactly_what_the_one_line_rule_refuses(value: str) -> None:
    cleaned = header_text(value)
    assert not_a_line(cleaned) is None  # the server's rule accepts every header value
    email.message.EmailMessage(policy=policy.SMTP)["Subject"] = cleaned  # and so does email
    if not_a_line(value) is None:
        assert cleaned == value.strip()  # and a value it accepts goes out as it is


def test_a_line_break_in_a_name_or_subject_cannot_add_a_header() -> None:
    ics = request(invite(SERIES["quarterly"]), NOW)
    mail = Mail(
        "staff@xieshang.example",
        "王秘书\u202e",
        "zhang@example.org",
        "张委员\r\nBcc: all@example.org",
        "邀请：季谈会\r\n\u2028正文",
        "张委员您好",
    )
    parsed = email.message_from_bytes(
        message(mail, ics, "REQUEST", NOW).as_bytes(), policy=policy.default
    )
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "邀请：季谈会 正文"
    assert parsed["To"].addresses[0].display_name == "张委员 Bcc: all@example.org"
    assert parsed["From"].addresses[0].display_name == "王秘书"
