"""Progress: a unit's progress report on everyone's screen."""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.rules import in_room, live, require


@command("progress.show")
def show(state: State, cmd: Command) -> dict[str, Any]:
    """Show a report (hosts, or the unit that wrote it).

    ``data["report"]`` is filled in by the server from the proposal's records (never by the
    client): the report itself, or None when there is no such report of that proposal.
    """
    actor = cmd.actor
    live(state)
    in_room(state, actor)
    report: dict[str, Any] = cmd.data.get("report") or {}
    require(bool(report), "invalid", _("There is no such progress report."))
    on_agenda = {item.get("proposal_id") for item in state["agenda"]} - {None}
    require(
        report["proposal_id"] in on_agenda,
        "invalid",
        _("Show reports of the proposals on this session's agenda."),
    )
    require(
        actor.drives or (actor.unit_id is not None and actor.unit_id == report["unit_id"]),
        "forbidden",
        _("Only hosts or the unit that wrote the report show it."),
    )
    return {"report": report, "shown_by": actor.key, "name": actor.name}


@command("progress.hide")
def hide(state: State, cmd: Command) -> dict[str, Any]:
    live(state)
    in_room(state, cmd.actor)
    require(state.get("showing") is not None, "conflict", _("No report is being shown."))
    require(
        cmd.actor.drives or state["showing"]["shown_by"] == cmd.actor.key,
        "forbidden",
        _("Only hosts or whoever showed the report take it down."),
    )
    return {}


@effect("progress.show", "progress.hide")
def showing(state: State, event: Event) -> None:
    if event["type"] == "progress.show":
        state["showing"] = {**event["data"]["report"], "shown_by": event["data"]["shown_by"]}
    else:
        state["showing"] = None
