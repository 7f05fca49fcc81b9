"""Polls: opening one, voting, closing it with its results, its quorum and its threshold.

Who may vote (``voters``): the session's participants of the given roles (the server puts the
session's list in the command as ``roster``; the client cannot), and the admitted guests when
``guests`` is true. The hall device never votes.

- 应到 (``eligible``): the participants of those roles on the session's list, plus the admitted
  guests when guests vote.
- 实到 (``present``): the eligible who are in the room, or who voted and left since.
- 投票 (``voted``): the ballots cast.
- **Quorum**: met when more than half of the eligible are present (``present * 2 > eligible``);
  never met with nobody eligible.
- **Threshold**, on the poll's first option (赞成, the motion): ``majority_of_votes`` more than
  half of the votes cast; ``majority_of_present`` more than half of those present;
  ``two_thirds`` at least two thirds of the votes cast; ``none`` no threshold (``passed`` is
  None: the poll only counts). A poll passes only when its quorum is met too. A tie is not a
  majority; with no votes nothing passes.

A **secret** ballot never puts a voter next to a choice: its ``poll.vote`` event says only who
voted (``ballot``, the choices, is taken out by the server before the event is logged and counted
in the ballot box, ``PollTally``, which holds per poll the counts and nothing else); its
``poll.close`` takes the counts from the box (``tally``, filled in by the server). A named
ballot's close lists who voted what (``ballots``).
"""

from __future__ import annotations

from typing import Any

from server.i18n import _
from server.rooms.commands.registry import Command, Event, State, command, effect
from server.rooms.crowd import name_of
from server.rooms.rules import chat_text, in_room, live, require

ROLES = ("host", "proposer", "unit", "leader", "member")
THRESHOLDS = ("none", "majority_of_votes", "majority_of_present", "two_thirds")


def _electorate(data: dict[str, Any]) -> dict[str, Any]:
    voters = data.get("voters")
    if voters is None:  # before voters: every participant, and guests if ``guests``
        guests = data.get("guests", False)
        require(isinstance(guests, bool), "invalid", _("multiple and guests are true or false."))
        return {"roles": list(ROLES), "guests": guests}
    require(
        isinstance(voters, dict)
        and set(voters) <= {"roles", "guests"}
        and isinstance(voters.get("roles", []), list)
        and all(r in ROLES for r in voters.get("roles", []))
        and isinstance(voters.get("guests", False), bool),
        "invalid",
        _("voters has roles (host, proposer, unit, leader, member) and guests (true or false)."),
    )
    roles = [r for r in ROLES if r in voters.get("roles", [])]
    guests = bool(voters.get("guests", False))
    require(bool(roles) or guests, "invalid", _("Say who may vote: some roles, or guests."))
    return {"roles": roles, "guests": guests}


def poll_spec(data: dict[str, Any]) -> dict[str, Any]:
    question = chat_text(data.get("question"), 300, "question")
    options = data.get("options")
    require(
        isinstance(options, list) and 2 <= len(options) <= 10,
        "invalid",
        _("A poll has 2 to 10 options."),
    )
    assert isinstance(options, list)
    texts = [chat_text(o, 100, "option") for o in options]
    require(len(set(texts)) == len(texts), "invalid", _("The options must differ."))
    multiple = data.get("multiple", False)
    require(isinstance(multiple, bool), "invalid", _("multiple and guests are true or false."))
    electorate = _electorate(data)
    threshold = data.get("threshold", "none")
    require(
        threshold in THRESHOLDS,
        "invalid",
        _("threshold is none, majority_of_votes, majority_of_present or two_thirds."),
    )
    secret = data.get("secret", False)
    require(isinstance(secret, bool), "invalid", _("secret is true or false."))
    return {
        "question": question,
        "options": texts,
        "multiple": multiple,
        "guests": electorate["guests"],
        "voters": electorate,
        "threshold": threshold,
        "secret": secret,
    }


def _roster(data: dict[str, Any], roles: list[str]) -> list[str]:
    """The participants of ``roles`` on the session's list (given by the server)."""
    roster = data.get("roster")
    if not isinstance(roster, list):
        return []
    return sorted({str(p["who"]) for p in roster if isinstance(p, dict) and p.get("role") in roles})


@command("poll.open")
def open_poll(state: State, cmd: Command) -> dict[str, Any]:
    live(state)
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff open polls."))
    spec = poll_spec(cmd.data)
    return {"poll_id": cmd.seq, **spec, "eligible": _roster(cmd.data, spec["voters"]["roles"])}


@effect("poll.open")
def opened(state: State, event: Event) -> None:
    data = event["data"]
    voters = data.get("voters") or {"roles": list(ROLES), "guests": data["guests"]}
    state["polls"][str(data["poll_id"])] = {
        **{k: data[k] for k in ("question", "options", "multiple", "guests")},
        "electorate": voters,
        "threshold": data.get("threshold", "none"),
        "secret": data.get("secret", False),
        "eligible": list(data.get("eligible", [])),
        "open": True,
        "votes": {},
        "opened_at": event["at"],
    }


def eligible_keys(state: State, poll: dict[str, Any]) -> set[str]:
    """Who may vote in ``poll`` now (应到)."""
    keys = set(poll.get("eligible", []))
    if poll["guests"]:
        keys |= set(state.get("admitted", {}))
    return keys


def may_vote(state: State, poll: dict[str, Any], key: str) -> bool:
    return key in eligible_keys(state, poll)


def counts(state: State, poll: dict[str, Any]) -> dict[str, int]:
    """应到 / 实到 / 投票 of ``poll`` now."""
    eligible = eligible_keys(state, poll)
    voted = set(poll["votes"])
    present = {k for k in eligible if k in state["presence"]} | (voted & eligible)
    return {"eligible": len(eligible), "present": len(present), "voted": len(voted)}


def outcome(
    threshold: str, results: list[int], eligible: int, present: int, voted: int
) -> tuple[bool, bool | None]:
    """(quorum met, passed) as the module's docstring defines them."""
    quorum = eligible > 0 and present * 2 > eligible
    ayes = results[0] if results else 0
    if threshold == "none":
        return quorum, None
    if threshold == "majority_of_votes":
        met = ayes * 2 > voted
    elif threshold == "majority_of_present":
        met = ayes * 2 > present
    else:  # two_thirds of the votes cast
        met = voted > 0 and ayes * 3 >= voted * 2
    return quorum, quorum and met


def _open_poll(state: State, cmd: Command) -> dict[str, Any]:
    live(state)
    poll: dict[str, Any] | None = state["polls"].get(str(cmd.data.get("poll_id")))
    require(poll is not None, "invalid", _("There is no such poll."))
    assert poll is not None
    require(poll["open"], "conflict", _("The poll is closed."))
    return poll


def _tally(poll: dict[str, Any], given: Any) -> list[int]:
    if poll.get("secret"):  # from the ballot box (the server gives it)
        size = len(poll["options"])
        valid = (
            isinstance(given, list)
            and len(given) == size
            and all(isinstance(n, int) and n >= 0 for n in given)
        )
        return list(given) if valid else [0] * size
    results = [0] * len(poll["options"])
    for ballot in poll["votes"].values():
        for choice in ballot:
            results[choice] += 1
    return results


@command("poll.close")
def close(state: State, cmd: Command) -> dict[str, Any]:
    poll = _open_poll(state, cmd)
    require(cmd.actor.drives, "forbidden", _("Only hosts and staff close polls."))
    results = _tally(poll, cmd.data.get("tally"))
    numbers = counts(state, poll)
    quorum, passed = outcome(poll["threshold"], results, **numbers)
    data: dict[str, Any] = {
        "poll_id": cmd.data["poll_id"],
        "results": results,
        "voters": len(poll["votes"]),
        **numbers,
        "quorum_met": quorum,
        "passed": passed,
    }
    if not poll.get("secret"):
        data["ballots"] = [
            {"who": who, "name": name_of(state, who) or who, "choices": choices}
            for who, choices in sorted(poll["votes"].items())
        ]
    return data


@effect("poll.close")
def closed(state: State, event: Event) -> None:
    data = event["data"]
    poll = state["polls"][str(data["poll_id"])]
    poll["open"], poll["closed_at"] = False, event["at"]
    poll["results"] = data.get("results")
    if "quorum_met" in data:
        poll["outcome"] = {
            k: data[k] for k in ("eligible", "present", "voted", "quorum_met", "passed")
        }
    if "ballots" in data:
        poll["ballots"] = data["ballots"]


@command("poll.vote")
def vote(state: State, cmd: Command) -> dict[str, Any]:
    poll, actor = _open_poll(state, cmd), cmd.actor
    in_room(state, actor)
    require(
        not actor.is_guest or poll["guests"], "forbidden", _("Guests do not vote in this poll.")
    )
    require(
        may_vote(state, poll, actor.key), "forbidden", _("You are not among this poll's voters.")
    )
    require(actor.key not in poll["votes"], "conflict", _("You have already voted."))
    choices: Any = cmd.data.get("choices")
    valid = (
        isinstance(choices, list)
        and len(choices) > 0
        and all(isinstance(c, int) and 0 <= c < len(poll["options"]) for c in choices)
    )
    require(
        valid and len(set(choices)) == len(choices) and (poll["multiple"] or len(choices) == 1),
        "invalid",
        _("Choose from the poll's options."),
    )
    if poll.get("secret"):  # the server takes ``ballot`` out before logging (see above)
        return {"poll_id": cmd.data["poll_id"], "who": actor.key, "ballot": choices}
    return {"poll_id": cmd.data["poll_id"], "who": actor.key, "choices": choices}


@effect("poll.vote")
def voted(state: State, event: Event) -> None:
    data = event["data"]
    # A secret ballot's vote is logged without its choices: the voter is marked as having voted.
    state["polls"][str(data["poll_id"])]["votes"][data["who"]] = data.get("choices", [])
