"""Request and response shapes of the notices."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from server.notices.kinds import Kind
from server.shapes import MAX_ID, Instant, OutShape, QueryShape, Shape

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class NoticeQuery(QueryShape):
    """``unread=true``: only unread ones. Pages go back from ``before`` (the previous page's
    ``next_before``), ``limit`` at a time."""

    unread: bool = False
    before: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 30


class NoticeOut(OutShape):
    id: int
    kind: Kind
    at: Instant
    read: bool
    title: str  # in the reader's language
    link: str  # an address in the web app, e.g. "#/proposals/12"


class NoticeList(OutShape):
    items: list[NoticeOut]
    unread: int  # every unread notice of the reader, not only this page's
    next_before: int | None  # ask for the next (older) page with ?before=


class ReadIn(Shape):
    """The reader's notices to mark read (others' ids are ignored), or ``all``."""

    ids: Annotated[list[Id], Field(max_length=500)] = []
    all: bool = False


class ReadOut(OutShape):
    unread: int


class EmailPreferenceOut(OutShape):
    kind: Kind
    name: str  # the kind in the reader's language
    email: bool
    switchable: bool  # False: mailed another way (a calendar invitation), always sent


class EmailPreferencesOut(OutShape):
    items: list[EmailPreferenceOut]
    address: str | None  # where the mail goes; None: the account has no email address


class EmailPreferenceIn(Shape):
    kind: Kind
    email: bool


class EmailPreferencesIn(Shape):
    items: Annotated[list[EmailPreferenceIn], Field(min_length=1, max_length=len(Kind))]
