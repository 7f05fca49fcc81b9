"""The consultation rule for handling a proposal, as a pure function.

"Talk once before handling, meet face to face at least once during (in person or hybrid, or the
modes the setting ``XIESHANG_DURING_MODES`` names), give feedback once after": per proposal,
count the *held* (ended) handling sessions of each stage linked to it or to any proposal of its
1+N bundle. A stage is required once the proposal has reached the point where it should have
happened: ``before`` from ``handling`` on, ``during`` from ``replied`` on, ``after`` from
``evaluated`` on. ``missing`` lists the required stages without a held session, so
``compliance=missing`` shows what is overdue, not what is merely still to come.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from server.proposals.lifecycle import Status

STAGES = ("before", "during", "after")
FACE_TO_FACE = frozenset({"in_person", "hybrid"})
REQUIRED: dict[Status, tuple[str, ...]] = {
    Status.HANDLING: ("before",),
    Status.REPLIED: ("before", "during"),
    Status.EVALUATED: STAGES,
    Status.CLOSED: STAGES,
}


def compliance(
    status: Status,
    sessions: Iterable[Mapping[str, Any]],
    during_modes: Collection[str] = FACE_TO_FACE,
) -> dict[str, Any]:
    """``{"before": n, "during": n, "after": n, "required": [...], "missing": [...]}`` from the
    proposal's sessions (each with ``stage``, ``mode``, ``status``); a ``during`` session counts
    when its mode is one of ``during_modes``."""
    counts = dict.fromkeys(STAGES, 0)
    for s in sessions:
        if s["status"] != "ended" or s["stage"] not in counts:
            continue
        if s["stage"] == "during" and s["mode"] not in during_modes:
            continue
        counts[s["stage"]] += 1
    required = list(REQUIRED.get(status, ()))
    return {**counts, "required": required, "missing": [st for st in required if not counts[st]]}
