"""Chat and questions: messages, hiding them, marking questions answered."""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.rules import chat_text, in_room, require

MAX_CHAT = 500  # messages kept in the state; older ones stay in the event log


@command("chat.send")
def send(state: State, cmd: Command) -> dict[str, Any]:
    in_room(state, cmd.actor)
    kind_of = cmd.data.get("kind", "chat")
    require(kind_of in ("chat", "question"), "invalid", _("kind must be chat or question."))
    return {
        "who": cmd.actor.key,
        "name": cmd.actor.name,
        "text": chat_text(cmd.data.get("text"), 2000, "text"),
        "kind": kind_of,
    }


@effect("chat.send")
def sent(state: State, event: Event) -> None:
    data = event["data"]
    state["chat"].append(
        {
            "id": event["seq"],
            "who": data["who"],
            "name": data["name"],
            "text": data["text"],
            "kind": data["kind"],
            "at": event["at"],
            "hidden": False,
            "answered": False,
        }
    )
    del state["chat"][:-MAX_CHAT]


@command("chat.hide", "question.answer")
def moderate(state: State, cmd: Command) -> dict[str, Any]:
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff moderate the chat."))
    message_id = cmd.data.get("message_id")
    require(
        any(m["id"] == message_id for m in state["chat"]), "invalid", _("There is no such message.")
    )
    return {"message_id": message_id}


@effect("chat.hide", "question.answer")
def moderated(state: State, event: Event) -> None:
    flag = "hidden" if event["type"] == "chat.hide" else "answered"
    for message in state["chat"]:
        if message["id"] == event["data"]["message_id"]:
            message[flag] = True
