"""iMIP (RFC 6047) email messages built with the standard ``email`` package.

The shape Outlook needs: ``multipart/mixed`` whose first child is ``multipart/alternative``
with text/plain, text/html and ``text/calendar; method=…; charset=UTF-8``; then the same bytes
as an ``invite.ics`` attachment. Chinese names and subjects are RFC 2047/2231 encoded by the
``email`` package's SMTP policy.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid


@dataclass(frozen=True)
class Mail:
    """Who and what, apart from the calendar bytes."""

    sender_email: str
    sender_name: str
    to_email: str
    to_name: str
    subject: str
    text: str
    links: tuple[tuple[str, str], ...] = ()  # (label, url): RSVP buttons and the join link
    language: str = "zh-CN"  # the text's language (BCP 47), for the HTML part


BUTTON = (
    "display:inline-block;padding:6px 14px;margin:4px;border:1px solid #b71c1c;"
    "border-radius:4px;color:#b71c1c;text-decoration:none"
)


# The characters ``server.text.not_a_line`` refuses in a name or title (C0 and C1 controls, the
# line and paragraph separators, text-direction embeddings, overrides and isolates); a test
# checks that the two agree.
_NOT_IN_A_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def header_text(value: str) -> str:
    """``value`` fit for a header: each run of control characters becomes one space.

    Names and titles are one line when typed, but older records may hold a CR or LF, on which
    the ``email`` package refuses the whole message (and the change that sends it would fail).
    """
    return _NOT_IN_A_HEADER.sub(" ", value).strip()


def _address(name: str, email: str) -> Address:
    user, _, domain = email.partition("@")
    return Address(display_name=header_text(name), username=user, domain=domain)


def _html(mail: Mail) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in mail.text.split("\n\n"))
    buttons = " ".join(
        f'<a href="{html.escape(url, quote=True)}" style="{BUTTON}">{html.escape(label)}</a>'
        for label, url in mail.links
    )
    return (
        f'<!doctype html><html lang="{html.escape(mail.language, quote=True)}">'
        '<head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif">{paragraphs}<p>{buttons}</p></body></html>'
    )


def _plain(mail: Mail) -> str:
    links = "\n".join(f"{label}: {url}" for label, url in mail.links)
    return f"{mail.text}\n\n{links}\n" if links else f"{mail.text}\n"


def message(
    mail: Mail, ics: bytes, method: str, now: dt.datetime, domain: str = "xieshang.local"
) -> EmailMessage:
    """An email whose calendar part carries ``ics`` (METHOD ``method``)."""
    if f"METHOD:{method}".encode() not in ics:
        raise ValueError(f"the calendar data is not METHOD:{method}")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(mail.sender_name, mail.sender_email)
    msg["To"] = _address(mail.to_name, mail.to_email)
    msg["Subject"] = header_text(mail.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_plain(mail), subtype="plain", charset="utf-8")
    msg.add_alternative(_html(mail), subtype="html", charset="utf-8")
    msg.add_alternative(
        ics, maintype="text", subtype="calendar", cte="base64", params={"method": method}
    )
    *_texts, calendar = msg.iter_parts()
    calendar.set_param("charset", "UTF-8")
    # Turns the message into multipart/mixed with the alternative part first, as Outlook needs.
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return msg
