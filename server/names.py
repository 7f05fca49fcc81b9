"""One line a person types: a name (a person's, a guest's, a unit's, a venue's) or a title.

The rule itself is :func:`server.text.not_a_line`: no control characters (a CR or LF in a name
ends up in a mail header, which the mail library refuses: the request that caused the mail
would fail) and no text-direction overrides (they let a name reverse the text after it, e.g. to
pass as someone else). Right-to-left scripts themselves are fine. Multi-line text (summaries,
notes, comments) keeps its newlines; the request shapes refuse only what cannot be stored.
"""

from __future__ import annotations

from pydantic import AfterValidator

from server.text import not_a_line


def _one_line(value: str) -> str:
    reason = not_a_line(value)
    if reason is not None:
        raise ValueError(reason)
    return value


# Use it after the length limits, ``Annotated[str, StringConstraints(...), one_line]``: placed
# before them, pydantic would check the limits as a generic length ("items", not "characters")
# and strip whitespace only after this check.
one_line = AfterValidator(_one_line)
plain_name = one_line  # the name the rooms' guest-join shape imports
