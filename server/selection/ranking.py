"""The ranking of a selection round, as pure arithmetic.

One reviewer's sheet for a proposal scores each criterion from 0 to its ``max``; the sheet's
weighted score is ``100 × Σ weight·score/max ÷ Σ weight`` (a percentage, whatever the scales).
A proposal's score is the mean of the sheets of the reviewers who scored it. Proposals rank by
that score, highest first; equal scores (compared exactly, as fractions) share a rank and the
next rank skips (1, 1, 3: standard competition ranking). Proposals nobody scored yet come last,
without a rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Criterion:
    """One thing reviewers score: its name, its weight and the highest score."""

    name: str
    weight: int
    max: int


@dataclass(frozen=True)
class Ranked:
    """A candidate's place: rank (None before anyone scored), mean score, per-criterion means,
    who scored it, and whether its score equals another's."""

    proposal_id: int
    rank: int | None
    score: Fraction | None
    criteria: tuple[Fraction | None, ...]
    scored_by: tuple[int, ...]
    tied: bool


def sheet_score(criteria: Sequence[Criterion], scores: Sequence[int]) -> Fraction:
    """One reviewer's weighted score of one proposal, 0–100."""
    total = sum(c.weight for c in criteria)
    weighted = sum(
        (Fraction(c.weight * s, c.max) for c, s in zip(criteria, scores, strict=True)),
        Fraction(0),
    )
    return Fraction(100) * weighted / total


def _mean(values: Sequence[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


def rank(
    criteria: Sequence[Criterion],
    candidates: Sequence[int],
    sheets: Mapping[int, Mapping[int, Sequence[int]]],
) -> list[Ranked]:
    """Rank ``candidates`` (proposal ids, in the round's order) from ``sheets``:
    ``{proposal_id: {reviewer_id: [score per criterion]}}``."""
    unranked: list[tuple[int, Fraction | None, tuple[Fraction | None, ...], tuple[int, ...]]] = []
    for pid in candidates:
        by_reviewer = sheets.get(pid, {})
        reviewers = tuple(sorted(by_reviewer))
        score = _mean([sheet_score(criteria, by_reviewer[r]) for r in reviewers])
        means = tuple(
            _mean([Fraction(by_reviewer[r][i]) for r in reviewers]) for i in range(len(criteria))
        )
        unranked.append((pid, score, means, reviewers))
    order = sorted(
        range(len(unranked)),
        key=lambda i: (unranked[i][1] is None, -(unranked[i][1] or 0), i),
    )
    counts: dict[Fraction, int] = {}
    for _pid, score, _m, _r in unranked:
        if score is not None:
            counts[score] = counts.get(score, 0) + 1
    result: list[Ranked] = []
    place = 0
    previous: Fraction | None = None
    for position, i in enumerate(order, start=1):
        pid, score, means, reviewers = unranked[i]
        if score is not None and score != previous:
            place, previous = position, score
        result.append(
            Ranked(
                proposal_id=pid,
                rank=place if score is not None else None,
                score=score,
                criteria=means,
                scored_by=reviewers,
                tied=score is not None and counts[score] > 1,
            )
        )
    return result
