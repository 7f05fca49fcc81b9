"""Small checks shared by the room reducer: errors, limits, poll and minutes validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.errors import AppError

MAX_CHAT = 500  # messages kept in the state; older ones stay in the event log


class RoomError(AppError):
    """A command the room refuses; ``code`` is stable, ``message`` is for people."""

    status = 409

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


def require(condition: bool, code: str, message: str, **details: Any) -> None:
    if not condition:
        raise RoomError(code, message, **details)


def chat_text(value: Any, limit: int, field: str) -> str:
    """Non-empty text of at most ``limit`` characters, without NUL."""
    require(isinstance(value, str), "invalid", f"{field} must be text.")
    text = str(value).strip()
    require(0 < len(text) <= limit, "invalid", f"{field} must be 1 to {limit} characters.")
    require("\x00" not in text, "invalid", f"{field} contains a NUL character.")
    return text


def seconds(value: Any, limit: int) -> int:
    require(
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limit,
        "invalid",
        f"seconds must be a whole number from 1 to {limit}.",
    )
    return int(value)


def poll_spec(data: dict[str, Any]) -> dict[str, Any]:
    question = chat_text(data.get("question"), 300, "question")
    options = data.get("options")
    require(
        isinstance(options, list) and 2 <= len(options) <= 10,
        "invalid",
        "A poll has 2 to 10 options.",
    )
    assert isinstance(options, list)
    texts = [chat_text(o, 100, "option") for o in options]
    require(len(set(texts)) == len(texts), "invalid", "The options must differ.")
    multiple, guests = data.get("multiple", False), data.get("guests", False)
    require(
        isinstance(multiple, bool) and isinstance(guests, bool),
        "invalid",
        "multiple and guests are true or false.",
    )
    return {"question": question, "options": texts, "multiple": multiple, "guests": guests}


def _date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise RoomError("invalid", "due must be a date like 2027-03-31.") from None


def _entry(state: dict[str, Any], item_id: int, group: str, entry_id: Any) -> dict[str, Any]:
    entries = state["minutes"].get(str(item_id), {}).get(group, {})
    require(str(entry_id) in entries, "invalid", f"There is no such {group[:-1]}.")
    return dict(entries[str(entry_id)])


def _version(current: dict[str, Any], data: dict[str, Any]) -> None:
    base = data.get("base_version")
    require(
        base == current.get("version", 0),
        "edit_conflict",
        "Someone changed this in the meantime; here is their version: merge and try again.",
        current=current,
    )


def _action_fields(data: dict[str, Any]) -> dict[str, Any]:
    unit = data.get("owner_unit_id")
    proposal = data.get("proposal_id")
    require(
        unit is None or (isinstance(unit, int) and unit > 0),
        "invalid",
        "owner_unit_id must be a unit id.",
    )
    require(
        proposal is None or (isinstance(proposal, int) and proposal > 0),
        "invalid",
        "proposal_id must be a proposal id.",
    )
    return {"owner_unit_id": unit, "due": _date(data.get("due")), "proposal_id": proposal}


def check_minutes_edit(
    state: dict[str, Any], drives: bool, unit_id: int | None, data: dict[str, Any], seq: int
) -> dict[str, Any]:
    """Validate one minutes operation; edits carry the version they were based on.

    Notes and each decision or action item are versioned separately, so scribes working on
    different entries never collide, and two edits of the same entry cannot silently
    overwrite each other: the later one is refused with the current text to merge.
    """
    item_id: Any = data.get("item_id")
    require(
        item_id in [i["id"] for i in state["agenda"]], "invalid", "There is no such agenda item."
    )
    op = data.get("op")
    out: dict[str, Any] = {"item_id": item_id, "op": op}
    if op == "notes":
        require(drives, "forbidden", "Only scribes (hosts and staff) write the notes.")
        _version(state["minutes"].get(str(item_id), {}).get("notes", {}), data)
        return {
            **out,
            "text": chat_text(data.get("text"), 20_000, "text") if data.get("text") else "",
        }
    group = {"decision": "decisions", "action": "actions"}.get(str(op).split(".", 1)[0])
    verb = str(op).split(".", 1)[-1]
    require(
        group is not None and verb in ("add", "update", "remove"),
        "invalid",
        "op must be notes, decision.add|update|remove or action.add|update|remove.",
    )
    assert group is not None
    if verb == "add":
        require(
            drives, "forbidden", "Only scribes (hosts and staff) add decisions and action items."
        )
        out.update(entry_id=str(seq), text=chat_text(data.get("text"), 2000, "text"))
        return {**out, **_action_fields(data)} if group == "actions" else out
    current = _entry(state, item_id, group, data.get("entry_id"))
    own_action = (
        group == "actions" and unit_id is not None and current.get("owner_unit_id") == unit_id
    )
    require(
        drives or (own_action and verb == "update"),
        "forbidden",
        "You may update only the action items owned by your unit.",
    )
    _version(current, data)
    out["entry_id"] = str(data.get("entry_id"))
    if verb == "update":
        out["text"] = chat_text(data.get("text"), 2000, "text")
        if group == "actions":
            out.update(
                _action_fields({**current, **data})
                if drives
                else {k: current.get(k) for k in ("owner_unit_id", "due", "proposal_id")}
            )
    return out
