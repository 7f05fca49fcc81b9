"""Minutes without I/O: the draft assembled from what a room recorded, and the hash chain.

The room hands over a *record* (``server/rooms/record.py``): who was there and when, the
agenda items with the notes, decisions and action items the scribes wrote, who was given the
floor, closed polls and questions. :func:`assemble` joins it with what the session knows
(participants and their roles, venue, scheduled times) into the minutes content staff edit.

Every stored version carries ``hash = sha256(canonical JSON of the version and the previous
hash)``. Changing any stored field of any version, or removing one, breaks the chain from there
on; :func:`chain_problems` says where.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from server.text import unstorable

GENESIS = "0" * 64
LISTED_AS_ATTENDING = frozenset({"unit"})  # 列席: the undertaking unit's people, not members


def version_hash(
    *,
    session_id: int,
    number: int,
    status: str,
    content: Mapping[str, Any],
    note: str | None,
    author_id: int | None,
    created_at: dt.datetime,
    prev_hash: str,
) -> str:
    """The hash of one version, chained to the one before it."""
    body = {
        "session_id": session_id,
        "number": number,
        "status": status,
        "content": content,
        "note": note,
        "author_id": author_id,
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def chain_problems(session_id: int, versions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Where a session's stored versions (oldest first) stop being what was written."""
    problems: list[dict[str, Any]] = []
    prev, expected_number = GENESIS, 1
    for v in versions:
        if v["number"] != expected_number:
            problems.append({"version": v["number"], "problem": "number_gap"})
        if v["prev_hash"] != prev:
            problems.append({"version": v["number"], "problem": "link_broken"})
        fields = {k: v[k] for k in ("number", "status", "content", "note", "author_id")}
        computed = version_hash(
            session_id=session_id, created_at=v["created_at"], prev_hash=v["prev_hash"], **fields
        )
        if computed != v["hash"]:
            problems.append({"version": v["number"], "problem": "content_changed"})
        prev, expected_number = v["hash"], v["number"] + 1
    return problems


def _attendee(entry: Mapping[str, Any], ended_at: str | None, **extra: Any) -> dict[str, Any]:
    joined, left = entry.get("joined") or [], entry.get("left") or []
    attendance = "in_person" if entry.get("checked_in") else entry.get("attendance")
    return {
        "name": str(entry.get("name") or "")[:100] or "?",
        "role": entry.get("role"),
        "attendance": attendance if attendance in ("in_person", "remote") else None,
        "since": joined[0] if joined else None,
        "until": (left[-1] if left and len(left) >= len(joined) else ended_at) if joined else None,
        **extra,
    }


def assemble(
    session: Mapping[str, Any],
    participants: Iterable[Mapping[str, Any]],
    record: Mapping[str, Any],
    units: Mapping[int, str],
) -> dict[str, Any]:
    """The first draft of a session's minutes.

    ``session``: title, kind, mode, starts_at, ends_at, timezone, place and agenda (each item's
    title and proposal_id), times as ISO text. ``participants``: person_id, name, role and unit
    (name). ``record``: what the room recorded (may be empty when no room was held). ``units``:
    unit names by id, for action items.
    """
    attendance: Mapping[str, Any] = record.get("attendance") or {}
    ended_at = record.get("ended_at")
    hosts: list[str] = []
    present: list[dict[str, Any]] = []
    attending: list[dict[str, Any]] = []
    absent: list[dict[str, Any]] = []
    known: set[str] = set()
    for p in participants:
        key = f"p:{p['person_id']}"
        known.add(key)
        if p["role"] == "host":
            hosts.append(p["name"])
            continue
        if key not in attendance or not attendance[key].get("joined"):
            absent.append({"name": p["name"], "role": p["role"], "unit": p.get("unit")})
            continue
        person = _attendee(attendance[key], ended_at, unit=p.get("unit"))
        person["role"] = p["role"]
        (attending if p["role"] in LISTED_AS_ATTENDING else present).append(person)
    guests = []
    for key, entry in attendance.items():
        if key in known or not entry.get("joined"):
            continue
        if key.startswith("g:"):
            guests.append(_attendee(entry, ended_at))
        elif key.startswith("p:"):  # staff who joined without being on the list
            attending.append(_attendee(entry, ended_at))
    names = {key: str(entry.get("name") or "") for key, entry in attendance.items()}
    items = [
        {
            "title": item["title"],
            "proposal_ids": [item["proposal_id"]] if item.get("proposal_id") else [],
            "notes": item.get("notes") or "",
            "decisions": list(item.get("decisions") or []),
            "actions": [
                {
                    **action,
                    "owner_unit": units.get(action["owner_unit_id"])
                    if action.get("owner_unit_id")
                    else None,
                }
                for action in item.get("actions") or []
            ],
            "speakers": [names[k] for k in item.get("speakers") or [] if names.get(k)],
            "speaking": list(item.get("speaking") or []),
        }
        for item in record.get("items") or session.get("agenda") or []
    ]
    return {
        "title": session["title"],
        "kind": session["kind"],
        "mode": session["mode"],
        "starts_at": record.get("started_at") or session["starts_at"],
        "ends_at": ended_at or session["ends_at"],
        "timezone": session["timezone"],
        "place": session.get("place"),
        "hosts": hosts,
        "present": present,
        "attending": attending,
        "absent": absent,
        "guests": guests,
        "summary": "",
        "items": items,
        "speaking": list(record.get("speaking") or []),
        "polls": list(record.get("polls") or []),
        "questions": list(record.get("questions") or []),
        "consent": list(record.get("consent") or []),
    }


MAX_ID = 2**31 - 1


def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def storable(text: str) -> str:
    """``text`` repaired where it cannot be stored (``server/text.py``): NUL left out, each lone
    surrogate (half an emoji) shown as U+FFFD."""
    if unstorable(text) is None:
        return text
    return "".join(
        "" if c == "\x00" else "\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text
    )


def _cut(value: Any, limit: int) -> str:
    return storable(str(value or ""))[:limit]


def speaking(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Speaking times cut to the minutes' shape."""
    return [
        {**e, "who": _cut(e.get("who"), 40) or "?", "name": _cut(e.get("name"), 100) or "?"}
        for e in entries
    ][:5000]


def bounded(content: dict[str, Any]) -> dict[str, Any]:
    """The draft cut to what the minutes' shape accepts (a room may hold more: 300 decisions,
    a unit name of 200 characters), so that ending a session never fails on its draft."""

    def person(p: dict[str, Any]) -> dict[str, Any]:
        return {
            **p,
            "name": _cut(p.get("name"), 100) or "?",
            "role": _cut(p.get("role"), 20) or None,
            "unit": _cut(p.get("unit"), 100) or None,
        }

    def action(a: dict[str, Any]) -> dict[str, Any]:
        return {
            **a,
            "text": _cut(a.get("text"), 2000) or "?",
            "ref": _cut(a.get("ref"), 32) or None,
            "owner_unit_id": _id(a.get("owner_unit_id")),
            "owner_unit": _cut(a.get("owner_unit"), 100) or None,
            "proposal_id": _id(a.get("proposal_id")),
        }

    items = [
        {
            **item,
            "title": _cut(item.get("title"), 200) or "?",
            "proposal_ids": [i for i in map(_id, item.get("proposal_ids", [])) if i][:50],
            "notes": _cut(item.get("notes"), 20_000),
            "decisions": [_cut(d, 2000) for d in item.get("decisions", []) if d][:100],
            "actions": [action(a) for a in item.get("actions", [])][:100],
            "speakers": [_cut(n, 100) for n in item.get("speakers", []) if n][:500],
            "speaking": speaking(item.get("speaking", [])),
        }
        for item in content.get("items", [])[:100]
    ]
    return {
        **content,
        "title": _cut(content.get("title"), 200) or "?",
        "place": _cut(content.get("place"), 300) or None,
        "hosts": [_cut(n, 100) for n in content.get("hosts", []) if n][:50],
        **{
            key: [person(p) for p in content.get(key, [])][:5000]
            for key in ("present", "attending", "absent", "guests")
        },
        "items": items,
        "speaking": speaking(content.get("speaking", [])),
        "polls": [
            {
                **p,
                "question": _cut(p.get("question"), 500) or "?",
                "options": [_cut(o, 2000) or "?" for o in p.get("options", [])][:20],
                "results": p.get("results"),
                **(
                    {
                        "ballots": [
                            {**b, "name": _cut(b.get("name"), 100) or "?"} for b in p["ballots"]
                        ][:5000]
                    }
                    if "ballots" in p
                    else {}
                ),
            }
            for p in content.get("polls", [])
        ][:100],
        "questions": [
            {**q, "name": _cut(q.get("name"), 100) or "?", "text": _cut(q.get("text"), 2000) or "?"}
            for q in content.get("questions", [])
        ][:2000],
        "consent": [
            {**c, "who": _cut(c.get("who"), 40) or "?", "name": _cut(c.get("name"), 100) or "?"}
            for c in content.get("consent", [])
        ][:5000],
    }
