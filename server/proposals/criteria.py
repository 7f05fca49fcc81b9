"""Scoring an evaluation against the staff's weighted criteria (双向评议), pure.

Each criterion has a weight and a highest score; an evaluation gives each criterion a score from
0 to its highest. The total is the weighted mean of the fractions, out of 100. Scores are
optional for an evaluation (a client that sends only a verdict keeps working), but when they are
given they must cover every criterion exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.errors import Invalid, field_error
from server.i18n import _


@dataclass(frozen=True)
class Criterion:
    """One criterion as it stands now."""

    id: int
    name: str
    weight: int
    max: int


@dataclass(frozen=True)
class Given:
    """A score given for one criterion."""

    criterion_id: int
    score: int


def problems(criteria: Sequence[Criterion], given: Sequence[Given]) -> list[dict[str, Any]]:
    """What is wrong with ``given`` as scores for ``criteria`` (field errors; empty when fine)."""
    if not criteria:
        return [field_error("scores", _("staff have defined no criteria for this evaluation"))]
    by_id = {c.id: c for c in criteria}
    errors: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, g in enumerate(given):
        c = by_id.get(g.criterion_id)
        if c is None:
            errors.append(
                field_error(
                    f"scores.{i}.criterion_id",
                    _("there is no criterion {id} (reload the form)", id=g.criterion_id),
                )
            )
        elif g.criterion_id in seen:
            errors.append(field_error(f"scores.{i}.criterion_id", _("scored twice")))
        elif not 0 <= g.score <= c.max:
            errors.append(
                field_error(
                    f"scores.{i}.score",
                    _("“{name}” is scored from 0 to {max}", name=c.name, max=c.max),
                )
            )
        seen.add(g.criterion_id)
    missing = [c.name for c in criteria if c.id not in seen]
    if missing:
        errors.append(field_error("scores", _("no score for: {names}", names="、".join(missing))))
    return errors


def check(criteria: Sequence[Criterion], given: Sequence[Given]) -> None:
    """Raise a 400 naming each problem of ``given`` (see :func:`problems`)."""
    errors = problems(criteria, given)
    if errors:
        raise Invalid(
            _(
                "The scores do not fit the evaluation criteria: {summary}.",
                summary="; ".join(e["message"] for e in errors),
            ),
            errors=errors,
        )


def total(criteria: Sequence[Criterion], given: Sequence[Given]) -> float:
    """The weighted total out of 100, rounded to one decimal (``given`` already checked)."""
    scores = {g.criterion_id: g.score for g in given}
    weights = sum(c.weight for c in criteria)
    value = sum(c.weight * scores[c.id] / c.max for c in criteria) / weights * 100
    return round(value, 1)


def snapshot(criteria: Sequence[Criterion], given: Sequence[Given]) -> list[dict[str, Any]]:
    """The scores with their criteria as they are now (kept with the evaluation)."""
    scores = {g.criterion_id: g.score for g in given}
    return [
        {
            "criterion_id": c.id,
            "name": c.name,
            "weight": c.weight,
            "max": c.max,
            "score": scores[c.id],
        }
        for c in criteria
    ]
