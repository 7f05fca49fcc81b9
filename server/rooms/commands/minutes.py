"""Minutes: notes, decisions and action items per agenda item, each versioned on its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.i18n import _
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.rules import RoomError, chat_text, in_room, require


def _date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise RoomError("invalid", _("due must be a date like 2027-03-31.")) from None


def _entry(state: dict[str, Any], item_id: int, group: str, entry_id: Any) -> dict[str, Any]:
    entries = state["minutes"].get(str(item_id), {}).get(group, {})
    require(
        str(entry_id) in entries,
        "invalid",
        (
            _("There is no such decision.")
            if group == "decisions"
            else _("There is no such action item.")
        ),
    )
    return dict(entries[str(entry_id)])


def _version(current: dict[str, Any], data: dict[str, Any]) -> None:
    base = data.get("base_version")
    require(
        base == current.get("version", 0),
        "edit_conflict",
        _("Someone changed this in the meantime; here is their version: merge and try again."),
        current=current,
    )


def _action_fields(data: dict[str, Any]) -> dict[str, Any]:
    unit = data.get("owner_unit_id")
    proposal = data.get("proposal_id")
    require(
        unit is None or (isinstance(unit, int) and unit > 0),
        "invalid",
        _("owner_unit_id must be a unit id."),
    )
    require(
        proposal is None or (isinstance(proposal, int) and proposal > 0),
        "invalid",
        _("proposal_id must be a proposal id."),
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
        item_id in [i["id"] for i in state["agenda"]], "invalid", _("There is no such agenda item.")
    )
    op = data.get("op")
    out: dict[str, Any] = {"item_id": item_id, "op": op}
    if op == "notes":
        require(drives, "forbidden", _("Only scribes (hosts and staff) write the notes."))
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
        _("op must be notes, decision.add|update|remove or action.add|update|remove."),
    )
    assert group is not None
    if verb == "add":
        require(
            drives, "forbidden", _("Only scribes (hosts and staff) add decisions and action items.")
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
        _("You may update only the action items owned by your unit."),
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


@command("minutes.edit")
def edit(state: State, cmd: Command) -> dict[str, Any]:
    in_room(state, cmd.actor)
    return check_minutes_edit(state, cmd.actor.drives, cmd.actor.unit_id, cmd.data, cmd.seq)


@effect("minutes.edit")
def edited(state: State, event: Event) -> None:
    data, by, at = event["data"], event["by"], event["at"]
    item = state["minutes"].setdefault(
        str(data["item_id"]), {"notes": {}, "decisions": {}, "actions": {}}
    )
    op = data["op"]
    if op == "notes":
        version = item["notes"].get("version", 0) + 1
        item["notes"] = {"text": data["text"], "version": version, "by": by, "at": at}
        return
    group = "decisions" if op.startswith("decision") else "actions"
    entries, entry_id = item[group], data["entry_id"]
    if op.endswith(".remove"):
        entries.pop(entry_id, None)
        return
    fields = {k: data[k] for k in ("text", "owner_unit_id", "due", "proposal_id") if k in data}
    version = entries.get(entry_id, {}).get("version", 0) + 1
    entries[entry_id] = {
        **entries.get(entry_id, {}),
        **fields,
        "version": version,
        "by": by,
        "at": at,
    }
