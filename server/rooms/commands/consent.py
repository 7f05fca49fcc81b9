"""Consent to recording: the notice everyone acknowledges (or declines) before their camera or
microphone is sent in a session that is, or may be, recorded.

The room asks when the session's ``recording`` setting is ``ask`` or ``on`` (from ``room.open``),
or once a host asks (``recording.ask``) or starts recording; it then keeps asking for the rest
of the session. ``recording.consent`` records each person's latest answer and when they gave
it; a recording starts only when everyone publishing has accepted (``recording.start``), and the
server refuses to take media from anyone who has not (``rtc.publish``).
"""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.rules import RoomError, in_room, require

ANSWERS = ("accepted", "declined")


def asking(state: State) -> bool:
    """Whether the room asks for consent before taking anyone's camera or microphone."""
    return bool(state.get("consent_asked")) or state.get("recording") is not None


def may_publish(state: State, who: str) -> bool:
    return not asking(state) or state.get("consent", {}).get(who, {}).get("answer") == "accepted"


def refuse_publish(state: State, who: str) -> None:
    """Refuse to take media from ``who`` while they have not accepted the recording notice."""
    require(
        may_publish(state, who),
        "consent_needed",
        _(
            "This session may be recorded: acknowledge the notice before your camera or "
            "microphone is sent."
        ),
    )


def unconsented_publishers(state: State) -> list[str]:
    """Who publishes a feed without having accepted the notice, in the order of their feeds."""
    answers = state.get("consent", {})
    out: list[str] = []
    for feed in state.get("feeds", []):
        who = feed["who"]
        if answers.get(who, {}).get("answer") != "accepted" and who not in out:
            out.append(who)
    return out


def refuse_start(state: State, names: dict[str, str]) -> None:
    """``recording.start`` is refused while someone publishing has not accepted, naming them."""
    missing = unconsented_publishers(state)
    if missing:
        raise RoomError(
            "consent_missing",
            _(
                "Recording cannot start: {names} publish without having acknowledged the "
                "recording notice.",
                names="、".join(names.get(w, w) for w in missing),
            ),
            who=missing,
        )


@command("recording.ask")
def ask(state: State, cmd: Command) -> dict[str, Any] | None:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff record the session."))
    if asking(state):
        return None  # asked already
    return {"name": cmd.actor.name}


@effect("recording.ask")
def asked(state: State, _event: Event) -> None:
    state["consent_asked"] = True


@command("recording.consent")
def consent(state: State, cmd: Command) -> dict[str, Any] | None:
    in_room(state, cmd.actor)
    answer = cmd.data.get("answer")
    require(
        answer in ANSWERS,
        "invalid",
        _("answer must be accepted or declined."),
    )
    if state.get("consent", {}).get(cmd.actor.key, {}).get("answer") == answer:
        return None  # the same answer again
    return {"who": cmd.actor.key, "name": cmd.actor.name, "answer": answer}


@effect("recording.consent")
def consented(state: State, event: Event) -> None:
    data = event["data"]
    state.setdefault("consent", {})[data["who"]] = {
        "name": data["name"],
        "answer": data["answer"],
        "at": event["at"],
    }
