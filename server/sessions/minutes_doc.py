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
        "polls": list(record.get("polls") or []),
        "questions": list(record.get("questions") or []),
    }
