"""Rules for names people give: a person's, a guest's, a unit's or a venue's."""

from __future__ import annotations

import re

from pydantic import AfterValidator

_DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _plain(value: str) -> str:
    if _DIRECTION_CONTROLS.search(value):
        raise ValueError(
            "remove the text-direction control characters (U+202A–U+202E, U+2066–U+2069): "
            "names are shown as typed, and these would make one look like another"
        )
    return value


# A person's, guest's, unit's or venue's name: no text-direction overrides (they let a name
# reverse the text after it, e.g. to pass as someone else); right-to-left scripts are fine.
plain_name = AfterValidator(_plain)
