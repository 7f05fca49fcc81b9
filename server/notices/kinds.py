"""The kinds of notice, and how each reads in a person's language.

A notice stores its kind and plain parameters (a proposal's number and title, a session's
title, a reason); its title is rendered when it is read, from the kind's message in the
reader's language, so a reader who switches language sees every notice in the new one.
"""

from __future__ import annotations

import string
from enum import StrEnum
from typing import Any

from server.i18n import ENGLISH, Msg, _, catalog


class Kind(StrEnum):
    """What happened, for whom a notice is (the words of issue 18's "everyone is told")."""

    PROPOSAL_FILED = "proposal_filed"  # proposer, co-signers: 立案
    PROPOSAL_REJECTED = "proposal_rejected"  # proposer, co-signers: 不予立案, with the reason
    PROPOSAL_MERGED = "proposal_merged"  # proposer, co-signers: merged into a 1+N bundle
    PROPOSAL_CONVERTED = "proposal_converted"  # proposer, co-signers: 转为社情民意/意见
    COSIGN_INVITATION = "cosign_invitation"  # the invited member: 联名邀请
    COSIGNERS_DROPPED = "cosigners_dropped"  # the author: unconfirmed co-signers were dropped
    ASSIGNED = "assigned"  # the units' people: 交办
    OPINION_RECEIVED = "opinion_received"  # the lead unit: a co-handling unit's opinion
    REPLY_RECEIVED = "reply_received"  # proposer, co-signers: the unit's reply (答复)
    PROGRESS_REPORTED = "progress_reported"  # proposer: a progress report
    EVALUATION_REQUESTED = "evaluation_requested"  # proposer: please evaluate the reply
    EVALUATION_REMINDER = "evaluation_reminder"  # proposer: the evaluation is still missing
    REPLY_OVERDUE = "reply_overdue"  # the lead unit, staff: the reply is past ``reply_due``
    FOLLOW_UP_OVERDUE = "follow_up_overdue"  # the owner unit, supervising leader: 督办 overdue
    INSTRUCTION_ISSUED = "instruction_issued"  # the owner unit: a leader's 批示
    SESSION_INVITATIONS_CHANGED = "invitation_changed"  # the participants
    MINUTES_APPROVED = "minutes_approved"  # the participants: 会议纪要 approved


# Each kind's title, a marked message with named parameters; a parameter a caller leaves out
# reads as empty. Parameters: ``proposal`` ("2026-0123 title"), ``session`` (a title),
# ``reason``, ``names``, ``unit``, ``text``, ``due`` (a date), ``bundle`` ("2026-0100 title").
TITLES: dict[Kind, Msg] = {
    Kind.PROPOSAL_FILED: _("Your proposal {proposal} was filed."),
    Kind.PROPOSAL_REJECTED: _("Your proposal {proposal} was not filed: {reason}"),
    Kind.PROPOSAL_MERGED: _("Your proposal {proposal} was merged into the bundle of {bundle}."),
    Kind.PROPOSAL_CONVERTED: _("Your proposal {proposal} was turned into an opinion: {reason}"),
    Kind.COSIGN_INVITATION: _("You are invited to co-sign the proposal {proposal}."),
    Kind.COSIGNERS_DROPPED: _(
        "Co-signers who had not confirmed were dropped from {proposal}: {names}"
    ),
    Kind.ASSIGNED: _("The proposal {proposal} was assigned to your unit."),
    Kind.OPINION_RECEIVED: _("{unit} sent its opinion on the proposal {proposal}."),
    Kind.REPLY_RECEIVED: _("Your proposal {proposal} has its reply."),
    Kind.PROGRESS_REPORTED: _("{unit} reported progress on your proposal {proposal}."),
    Kind.EVALUATION_REQUESTED: _("Please evaluate the handling of your proposal {proposal}."),
    Kind.EVALUATION_REMINDER: _(
        "Reminder: the handling of your proposal {proposal} still awaits your evaluation."
    ),
    Kind.REPLY_OVERDUE: _("The reply to the proposal {proposal} was due on {due}."),
    Kind.FOLLOW_UP_OVERDUE: _("An action item is overdue (due {due}): {text}"),
    Kind.INSTRUCTION_ISSUED: _("A leader wrote an instruction on the proposal {proposal}."),
    Kind.SESSION_INVITATIONS_CHANGED: _("Your invitation to the session {session} changed."),
    Kind.MINUTES_APPROVED: _("The minutes of the session {session} were approved."),
}

# How a kind reads in the preferences page and the centre's filter.
KIND_NAMES: dict[Kind, Msg] = {
    Kind.PROPOSAL_FILED: _("Proposal filed"),
    Kind.PROPOSAL_REJECTED: _("Proposal not filed"),
    Kind.PROPOSAL_MERGED: _("Proposal merged into a bundle"),
    Kind.PROPOSAL_CONVERTED: _("Proposal turned into an opinion"),
    Kind.COSIGN_INVITATION: _("Co-signing invitation"),
    Kind.COSIGNERS_DROPPED: _("Unconfirmed co-signers dropped"),
    Kind.ASSIGNED: _("Proposal assigned"),
    Kind.OPINION_RECEIVED: _("Co-handling unit's opinion"),
    Kind.REPLY_RECEIVED: _("Reply received"),
    Kind.PROGRESS_REPORTED: _("Progress reported"),
    Kind.EVALUATION_REQUESTED: _("Evaluation requested"),
    Kind.EVALUATION_REMINDER: _("Evaluation reminder"),
    Kind.REPLY_OVERDUE: _("Reply overdue"),
    Kind.FOLLOW_UP_OVERDUE: _("Follow-up overdue"),
    Kind.INSTRUCTION_ISSUED: _("Leader's instruction"),
    Kind.SESSION_INVITATIONS_CHANGED: _("Session invitation changed"),
    Kind.MINUTES_APPROVED: _("Minutes approved"),
}

# Kinds whose email is another message already: the calendar invitation (iMIP) carries a
# session's change, so no second email is sent for it and its email cannot be turned off here.
MAILED_ELSEWHERE = frozenset({Kind.SESSION_INVITATIONS_CHANGED})


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _formatted(text: str, params: dict[str, Any]) -> str:
    try:
        return string.Formatter().vformat(text, (), _Blank(params))
    except (IndexError, ValueError, AttributeError):  # a broken translation is not a 500
        return text


def title(kind: Kind, params: dict[str, Any], language: str) -> str:
    """A notice's title in ``language``."""
    msgid = TITLES[kind].msgid
    text = msgid if language == ENGLISH else catalog(language).get(msgid, msgid)
    return _formatted(text, params).strip()


def kind_name(kind: Kind, language: str) -> str:
    """A kind in words, in ``language``."""
    msgid = KIND_NAMES[kind].msgid
    return msgid if language == ENGLISH else catalog(language).get(msgid, msgid)
