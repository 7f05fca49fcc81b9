"""Instants and days as clients send them: ISO 8601 text, within years the calendar code handles.

Request shapes use them through :mod:`server.shapes`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Strict

from server.i18n import _

FIRST_YEAR, LAST_YEAR = 1970, 2200  # of any instant or day a client sends
_ISO_DATE = re.compile(r"[0-9]{4}-")


def _iso_text(value: object) -> object:
    # Pydantic would read digits ("0.5", "1764000000") as a Unix time: only ISO 8601 text passes.
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError(
        _("give the time as ISO 8601 text with an offset, like 2026-12-01T09:30:00+08:00")
    )


def _day_text(value: object) -> object:
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError(_("give the day as ISO 8601 text, like 2026-12-31"))


def _year_in_range(value: dt.date) -> dt.date:
    # Calendar arithmetic (margins, recurrences, time zones) overflows near years 1 and 9999.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            _("must be between the years {first} and {last}", first=FIRST_YEAR, last=LAST_YEAR)
        )
    return value


def _to_utc(value: dt.datetime) -> dt.datetime:
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(_("the time is out of range")) from None
    _year_in_range(utc)
    return utc


# An instant from a client: ISO 8601 text with an offset (naive times are refused), kept in UTC.
Instant = Annotated[
    AwareDatetime, Strict(False), BeforeValidator(_iso_text), AfterValidator(_to_utc)
]

# A calendar day from a client: ISO 8601 text like 2026-12-31.
Day = Annotated[dt.date, Strict(False), BeforeValidator(_day_text), AfterValidator(_year_in_range)]
