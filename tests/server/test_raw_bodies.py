"""Non-JSON request bodies (ICS busy time, working-day notices) are read whole, up to their limit.

aiohttp's ``StreamReader.read(n)`` hands back what is buffered, so a reader that calls it once
sees only the first few hundred KiB of a large body; these uploads put what matters at the end.
"""

from __future__ import annotations

import io
import json

from server.sessions.calendar_routes import MAX_ICS_BYTES
from tests.conftest import Cast

WEEK = {"from": "2026-11-30T00:00:00+08:00", "to": "2026-12-07T00:00:00+08:00"}


def _folded(name: str, value: str) -> str:
    """One content line folded at 75 octets (RFC 5545 §3.1); ``value`` is ASCII."""
    line = f"{name}:{value}"
    parts = [line[:75]] + [" " + line[i : i + 74] for i in range(75, len(line), 74)]
    return "\r\n".join(parts) + "\r\n"


def busy_export(size: int) -> bytes:
    """An export of about ``size`` bytes whose one busy event in WEEK comes last."""
    notes = "x" * size
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Outlook//EN\r\n"
        "BEGIN:VEVENT\r\nUID:old\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART:20250101T010000Z\r\nDTEND:20250101T020000Z\r\n"
        + _folded("DESCRIPTION", notes)
        + "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:x1\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART:20261203T010000Z\r\nDTEND:20261203T030000Z\r\n"
        "SUMMARY:私人安排\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


async def test_a_large_busy_export_is_read_to_its_end(cast: Cast) -> None:
    data = busy_export(MAX_ICS_BYTES - 128 * 1024)
    assert 1_800_000 < len(data) <= MAX_ICS_BYTES
    reply = await cast.member.post(
        f"/api/people/{cast.ids['member']}/busy",
        params=WEEK,
        data=io.BytesIO(data),
        headers={"Content-Type": "text/calendar"},
    )
    assert reply.status == 200, reply.text
    assert reply.body["blocks"] == 1


async def test_a_large_working_day_notice_is_read_to_its_end(cast: Cast) -> None:
    notice = {
        "format": "xieshang-workdays/1",
        "year": 2027,
        "days_off": [{"date": "2027-01-01", "name": "元旦"}],
        "extra_workdays": [{"date": "2027-01-09", "name": "调休上班"}],
    }
    # Whitespace is JSON too: the notice's content sits after 1.9 MB of indentation.
    data = b"{" + b" " * 1_900_000 + json.dumps(notice).encode()[1:]
    reply = await cast.staff.request(
        "PUT",
        "/api/workdays/2027",
        data=io.BytesIO(data),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 200, reply.text
    assert [d["date"] for d in reply.body["extra_workdays"]] == ["2027-01-09"]
