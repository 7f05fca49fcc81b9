"""The reply's due day follows the configured term: XIESHANG_REPLY_WORKING_DAYS counts working
days on the working-day calendar (staff-added years included) from the assignment."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scheduling.workdays import shipped
from server.config import Config
from server.proposals.lifecycle import COMMITTEE_ZONE, ReplyTerm, reply_due_by
from tests.conftest import Cast


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, reply_working_days=15)


def test_the_setting_is_read_from_the_environment() -> None:
    assert Config.from_env({"XIESHANG_REPLY_WORKING_DAYS": "15"}).reply_working_days == 15
    assert Config.from_env({"XIESHANG_REPLY_DAYS": "60"}).reply_days == 60
    assert Config.from_env({}).reply_days is None


async def test_assigning_sets_the_due_day_fifteen_working_days_on(cast: Cast) -> None:
    created = await cast.staff.post(
        "/api/proposals",
        {
            "number": "2026-0031",
            "title": "答复期限",
            "proposer_ids": [cast.ids["member"]],
            "lead_unit_id": cast.unit_ids["a"],
        },
    )
    url = f"/api/proposals/{created.body['id']}/transitions"
    assert (await cast.staff.post(url, {"to": "filed"})).status == 200
    assigned = await cast.staff.post(url, {"to": "assigned"})
    assert assigned.status == 200, assigned.text
    today = dt.datetime.now(COMMITTEE_ZONE).date()
    due = dt.date.fromisoformat(assigned.body["reply_due"])
    # The server may hold a staff-added calendar; none was added here, so the shipped one rules.
    assert due == reply_due_by(today, ReplyTerm(working_days=15), shipped())
    assert len(shipped().workdays(today + dt.timedelta(days=1), due)) == 15


async def test_days_off_staff_add_push_the_due_day_later(cast: Cast) -> None:
    today = dt.datetime.now(COMMITTEE_ZONE).date()
    days = [today + dt.timedelta(days=i) for i in range(1, 8)]  # a week off after today
    year_days = [d for d in days if d.year == today.year]
    notice = {
        "format": "xieshang-workdays/1",
        "year": today.year,
        "days_off": [{"date": d.isoformat(), "name": "调休"} for d in year_days],
        "extra_workdays": [],
    }
    put = await cast.staff.put(f"/api/workdays/{today.year}", notice)
    assert put.status == 200, put.text
    created = await cast.staff.post(
        "/api/proposals",
        {
            "number": "2026-0032",
            "title": "答复期限",
            "proposer_ids": [cast.ids["member"]],
            "lead_unit_id": cast.unit_ids["a"],
        },
    )
    url = f"/api/proposals/{created.body['id']}/transitions"
    assert (await cast.staff.post(url, {"to": "filed"})).status == 200
    due = dt.date.fromisoformat((await cast.staff.post(url, {"to": "assigned"})).body["reply_due"])
    plain = reply_due_by(today, ReplyTerm(working_days=15), shipped())
    assert due > plain  # the staff-added days off are not working days
