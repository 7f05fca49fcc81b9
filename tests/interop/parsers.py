"""Independent parsers that read our iCalendar output the way real clients do.

Each returns the set of (uid, start, end) in UTC of the occurrences a client would show, and
the cancelled ones apart. ``ical.js`` is Thunderbird's parser (run with Node from the lockfile
beside this file); ``vobject`` is a second Python implementation that does not apply
overrides by itself, so the override step here follows RFC 5545 §3.8.4.4.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import vobject

HERE = Path(__file__).resolve().parent
Occ = tuple[str, str, str]  # uid, start, end (ISO UTC with Z)


def _z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def icaljs(ics: bytes) -> dict[str, object]:
    """What Thunderbird's parser sees: occurrences (EXDATEs dropped), floating events, METHOD."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the ical.js interop tests (the machine image has it)"
    assert (HERE / "node_modules" / "ical.js").is_dir(), (
        "run `make test` (it runs npm ci in tests/interop)"
    )
    result = subprocess.run(
        [node, str(HERE / "expand.mjs")], input=ics, capture_output=True, check=True, timeout=30
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def icaljs_occurrences(ics: bytes) -> set[Occ]:
    data = icaljs(ics)
    assert data["floating"] == [], f"ical.js read floating times for {data['floating']}"
    return {
        (o["uid"], o["start"], o["end"]) for o in data["occurrences"] if o["status"] != "CANCELLED"
    }  # type: ignore[index, union-attr]


def vobject_occurrences(ics: bytes) -> set[Occ]:
    calendar = vobject.readOne(ics.decode("utf-8"))
    found: set[Occ] = set()
    events = list(getattr(calendar, "vevent_list", []))
    overrides = {
        (str(e.uid.value), _z(e.recurrence_id.value)): e
        for e in events
        if hasattr(e, "recurrence_id")
    }
    for event in events:
        if hasattr(event, "recurrence_id"):
            continue
        uid = str(event.uid.value)
        status = str(getattr(getattr(event, "status", None), "value", "")).upper()
        if status == "CANCELLED":
            continue
        duration = event.dtend.value - event.dtstart.value
        starts = (
            list(event.getrruleset(addRDate=True))
            if hasattr(event, "rrule") or hasattr(event, "rdate")
            else [event.dtstart.value]
        )
        for start in starts:
            moved = overrides.get((uid, _z(start)))
            if moved is not None:
                found.add((uid, _z(moved.dtstart.value), _z(moved.dtend.value)))
            else:
                found.add((uid, _z(start), _z(start + duration)))
    return found
