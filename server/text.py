"""What text may enter the record: the rules every entry point (HTTP, Socket.IO, uploads) shares.

Two families: *unstorable* text is refused everywhere (PostgreSQL cannot store NUL; a lone UTF-16
surrogate cannot be encoded as UTF-8, so JSON, the database and every export fail on it later,
far from the request that brought it in). *Line* text (names, titles, subjects) is one line of
what a person types: no control characters (CR/LF break mail headers) and no bidirectional
overrides (U+202E makes "gpj.exe" look like "exe.jpg").
"""

from __future__ import annotations

import re
from typing import Any

from server.i18n import _

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# C0 and C1 controls (tab, CR and LF included), the line and paragraph separators (Python's
# email package breaks lines there too), and the bidirectional embedding, override and isolate
# characters.
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, or ``None`` when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("contains a NUL character")
    return _("contains an unpaired UTF-16 surrogate (broken emoji or text encoding)")


def not_a_line(text: str) -> str | None:
    """Why ``text`` is not one line a person types (a name or title), or ``None``."""
    reason = unstorable(text)
    if reason is not None:
        return reason
    found = _NOT_IN_A_LINE.search(text)
    if found is None:
        return None
    code = f"U+{ord(found.group()):04X}"
    if _DIRECTION.match(found.group()):
        return _(
            "contains the text-direction control character {code}: remove it (it makes the "
            "text after it read in another order, so one name can pass for another)",
            code=code,
        )
    return _("contains the control character {code}; use one line of text", code=code)


def first_unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first ``(field path, reason)`` in a decoded JSON value whose text cannot be stored.

    Keys count as text too. Iterative, so a deeply nested value cannot exhaust the stack.
    """
    pending: list[tuple[str, Any]] = [(path, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            reason = unstorable(item)
            if reason is not None:
                return where or "(body)", reason
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and (reason := unstorable(key)) is not None:
                    return where or "(body)", _("a field name {reason}", reason=reason)
                pending.append((f"{where}.{key}" if where else str(key), child))
        elif isinstance(item, list):
            pending.extend((f"{where}.{i}" if where else str(i), c) for i, c in enumerate(item))
    return None
