"""What a room hands to the minutes when its session ends (pure: state in, plain data out)."""

from __future__ import annotations

from typing import Any

from server.rooms.apply import State


def room_record(state: State, ended_at: str | None) -> dict[str, Any]:
    """Attendance, the agenda items with what the scribes wrote and who spoke, closed polls
    and questions: the room's part of the minutes draft."""
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
            }
        )
    return {
        "started_at": state.get("started_at"),
        "ended_at": ended_at,
        "attendance": state.get("attendance", {}),
        "items": items,
        "polls": [
            {"question": p["question"], "options": p["options"], "results": p.get("results")}
            for p in state.get("polls", {}).values()
            if not p.get("open")
        ],
        "questions": [
            {"name": m["name"], "text": m["text"], "answered": m["answered"]}
            for m in state.get("chat", [])
            if m["kind"] == "question" and not m["hidden"]
        ],
    }
