"""What a room hands to the minutes when its session ends (pure: state in, plain data out)."""

from __future__ import annotations

from typing import Any

from server.rooms.apply import State


def _name(state: State, key: str) -> str:
    for part in ("attendance", "admitted", "presence"):
        entry = state.get(part, {}).get(key)
        if entry and entry.get("name"):
            return str(entry["name"])
    return key


def speaking(state: State, item_id: int | None = None, *, every: bool = False) -> list[Any]:
    """``[{who, name, seconds}]``: each person's time with the floor, on item ``item_id`` or
    (``every``) in total, in the order they first spoke. A turn still running has none yet."""
    totals: dict[str, int] = {}
    for turn in state.get("spoken", []):
        if every or turn["item_id"] == item_id:
            totals[turn["who"]] = totals.get(turn["who"], 0) + (turn.get("seconds") or 0)
    return [{"who": w, "name": _name(state, w), "seconds": n} for w, n in totals.items()]


def _poll(poll: dict[str, Any]) -> dict[str, Any]:
    """A closed poll for the minutes: its counts, quorum and threshold; a named ballot's
    ballots (who voted what); a secret ballot's none."""
    entry = {k: poll.get(k) for k in ("question", "options", "results")}
    outcome = poll.get("outcome")
    if outcome is not None:
        entry |= {**outcome, "threshold": poll.get("threshold", "none")}
        entry |= {"secret": bool(poll.get("secret"))}
        if not poll.get("secret"):
            entry["ballots"] = [
                {"name": b["name"], "choices": b["choices"]} for b in poll.get("ballots", [])
            ]
    return entry


def room_record(state: State, ended_at: str | None) -> dict[str, Any]:
    """Attendance, the agenda items with what the scribes wrote, who spoke and for how long,
    closed polls and questions: the room's part of the minutes draft."""
    spoken: dict[int | None, list[str]] = {}
    for turn in state.get("spoken", []):
        speakers = spoken.setdefault(turn["item_id"], [])
        if turn["who"] not in speakers:
            speakers.append(turn["who"])
    items = []
    for item in state.get("agenda", []):
        written = state.get("minutes", {}).get(str(item["id"]), {})
        items.append(
            {
                "title": item["title"],
                "proposal_id": item.get("proposal_id"),
                "notes": written.get("notes", {}).get("text", ""),
                "decisions": [e["text"] for e in written.get("decisions", {}).values()],
                "actions": [
                    {
                        "ref": entry_id,  # follows the item through corrections (follow-ups)
                        **{k: e.get(k) for k in ("text", "owner_unit_id", "due", "proposal_id")},
                    }
                    for entry_id, e in written.get("actions", {}).items()
                ],
                "speakers": spoken.get(item["id"], []),
                "speaking": speaking(state, item["id"]),
            }
        )
    return {
        "started_at": state.get("started_at"),
        "ended_at": ended_at,
        "attendance": state.get("attendance", {}),
        "items": items,
        "speaking": speaking(state, every=True),
        "polls": [_poll(p) for p in state.get("polls", {}).values() if not p.get("open")],
        # Who acknowledged (or declined) the recording notice, and when (their latest answer).
        "consent": [
            {"who": who, "name": c["name"], "answer": c["answer"], "at": c["at"]}
            for who, c in state.get("consent", {}).items()
        ],
        "questions": [
            {"name": m["name"], "text": m["text"], "answered": m["answered"]}
            for m in state.get("chat", [])
            if m["kind"] == "question" and not m["hidden"]
        ],
    }
