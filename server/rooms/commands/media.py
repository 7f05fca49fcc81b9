"""Media in the room's state: feeds, mutes, the active speaker, recording.

``feed.add``, ``feed.remove`` and ``speaker.active`` are facts the server logs itself (from the
media backend); they have effects and no rule.
"""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.consent import refuse_start
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.rules import live, require


@effect("feed.add")
def feed_added(state: State, event: Event) -> None:
    data, who = event["data"], event["data"]["who"]
    person = int(who[2:]) if who.startswith("p:") else None
    state.setdefault("feeds", []).append(
        {"feed_id": data["feed_id"], "person_id": person, "who": who, "source": data["source"]}
    )


@effect("feed.remove")
def feed_removed(state: State, event: Event) -> None:
    feeds = state.setdefault("feeds", [])
    state["feeds"] = [f for f in feeds if f["feed_id"] != event["data"]["feed_id"]]


@effect("speaker.active")
def speaking(state: State, event: Event) -> None:
    state["speaker"] = event["data"]["who"]


@command("audio.mute", "audio.unmute")
def mute(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff mute or unmute people."))
    who = cmd.data.get("who")
    require(isinstance(who, str) and who in state["presence"], "invalid", _("Name someone here."))
    muted = who in state.get("muted", [])
    require(muted != (cmd.kind == "audio.mute"), "conflict", _("Nothing to change."))
    return {"who": who}


@effect("audio.mute", "audio.unmute")
def muted(state: State, event: Event) -> None:
    muted, who = state.setdefault("muted", []), event["data"]["who"]
    if event["type"] == "audio.mute" and who not in muted:
        muted.append(who)
    elif event["type"] == "audio.unmute" and who in muted:
        muted.remove(who)


@command("recording.start", "recording.stop")
def record(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff record the session."))
    live(state)
    on = state.get("recording") is not None
    require(on != (cmd.kind == "recording.start"), "conflict", _("Nothing to change."))
    if cmd.kind == "recording.start":
        names = {k: str(p.get("name") or k) for k, p in state["presence"].items()}
        refuse_start(state, names)
    return {"name": cmd.actor.name}


@effect("recording.start", "recording.stop")
def recording(state: State, event: Event) -> None:
    if event["type"] == "recording.start":
        by, name = event["by"], event["data"]["name"]
        state["recording"] = {"since": event["at"], "by": by, "name": name}
        state["consent_asked"] = True  # from now on the room asks (commands/consent.py)
    else:
        state["recording"] = None
