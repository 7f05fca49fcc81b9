"""The pure lifecycle rules, table-driven and property-based."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.auth import Role
from server.errors import Conflict, Forbidden, Invalid
from server.proposals.lifecycle import NEXT, Status, check_transition

HAPPY_PATH = ["submitted", "filed", "assigned", "handling", "replied", "evaluated", "closed"]


def _check(current: str, to: str, role: Role = Role.STAFF, **kw: object) -> None:
    args = {"is_lead_unit": False, "has_lead_unit": True, "note": "why", **kw}
    check_transition(Status(current), Status(to), role=role, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "to"), list(itertools.pairwise(HAPPY_PATH)))
def test_staff_walk_the_whole_path(current: str, to: str) -> None:
    _check(current, to)


@pytest.mark.parametrize(
    ("current", "to"),
    [
        ("submitted", "assigned"),
        ("filed", "handling"),
        ("closed", "submitted"),
        ("rejected", "filed"),
        ("handling", "rejected"),
        ("replied", "handling"),
        ("submitted", "submitted"),
    ],
)
def test_skipping_or_going_back_is_a_conflict(current: str, to: str) -> None:
    with pytest.raises(Conflict):
        _check(current, to)


def test_the_lead_unit_reports_start_and_reply_but_nothing_else() -> None:
    _check("assigned", "handling", Role.UNIT, is_lead_unit=True)
    _check("handling", "replied", Role.UNIT, is_lead_unit=True)
    with pytest.raises(Forbidden):
        _check("assigned", "handling", Role.UNIT, is_lead_unit=False)
    with pytest.raises(Forbidden):
        _check("replied", "evaluated", Role.UNIT, is_lead_unit=True)
    for role in (Role.MEMBER, Role.LEADER, Role.GUEST):
        with pytest.raises(Forbidden):
            _check("submitted", "filed", role)


def test_assigning_needs_a_lead_unit_and_rejecting_needs_a_reason() -> None:
    with pytest.raises(Conflict):
        _check("filed", "assigned", has_lead_unit=False)
    with pytest.raises(Invalid):
        _check("filed", "rejected", note="  ")
    _check("submitted", "rejected", note="不属于提案受理范围")


@given(st.lists(st.sampled_from(list(Status)), max_size=30))
def test_any_sequence_of_requests_only_ever_follows_the_graph(requests: list[Status]) -> None:
    current = Status.SUBMITTED
    visited = [current]
    for to in requests:
        try:
            check_transition(
                current, to, role=Role.STAFF, is_lead_unit=False, has_lead_unit=True, note="n"
            )
        except Conflict:
            assert to not in NEXT[current]
            continue
        assert to in NEXT[current]
        current = to
        visited.append(current)
    assert len(visited) == len(set(visited)), "the lifecycle never revisits a status"
    assert (
        visited == HAPPY_PATH[: len(visited)]
        or Status.REJECTED in visited
        or Status.CONVERTED in visited
    )
