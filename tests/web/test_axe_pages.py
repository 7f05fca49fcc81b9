"""axe-core over every page, opened as the role that uses it, at desktop and phone width: no
critical or serious violation anywhere (the counts per page are printed for the notes)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import Cast
from tests.server.proposals.test_proposals_api import create as create_proposal
from tests.server.sessions.test_sessions_api import create as create_session
from tests.web.conftest import Opener, axe

# Each role's pages; {s} is a public session, {p} a proposal.
PAGES: dict[str, list[str]] = {
    "staff": [
        "/#/",
        "/#/calendar?view=week&d=2026-12-01",
        "/#/calendar?view=month&d=2026-12-01",
        "/#/schedule",
        "/#/sessions/{s}",
        "/#/sessions/{s}/edit",
        "/#/rooms/{s}",
        "/#/minutes/{s}",
        "/#/proposals",
        "/#/proposals/{p}",
        "/#/proposals/new",
        "/#/proposals/{p}/edit",
        "/#/follow-ups",
        "/#/stats",
        "/#/admin/people",
        "/#/admin/units",
        "/#/admin/venues",
        "/#/admin/workdays",
        "/#/admin/evaluation",
        "/#/supervision",
        "/#/audit",
        "/#/my/calendar",
        "/#/selections",
        "/#/stats/units",
        "/#/proposals/import",
        "/#/review",
    ],
    "member": [
        "/#/",
        "/#/my/proposals",
        "/#/proposals/{p}",
        "/#/rooms/{s}",
        "/#/sessions/{s}",
        "/#/my/reviews",
        "/#/my/drafts",
        "/#/my/drafts/new",
    ],
    "unit": ["/#/my/handling", "/#/follow-ups", "/#/proposals/{p}", "/#/supervision"],
    "leader": [
        "/#/my/supervised",
        "/#/stats",
        "/#/supervision",
        "/#/stats/units",
        "/#/selections",
    ],
    "anyone": ["/#/login", "/join/{s}", "/hall/{s}"],  # the hall display asks for its pass
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize("role", sorted(PAGES))
async def test_no_page_has_a_serious_accessibility_violation(
    cast: Cast, open_as: Opener, role: str, phone: bool
) -> None:
    session = await create_session(cast, visibility="public")
    proposal = await create_proposal(cast, "2026-0100", co_unit_ids=[cast.unit_ids["b"]])
    who: Any = None if role == "anyone" else getattr(cast, role)
    page = await open_as(who, "/#/login" if who is None else "/#/", phone=phone)
    found: dict[str, int] = {}
    for template in PAGES[role]:
        path = template.format(s=session["id"], p=proposal["id"])
        await page.goto(page.url.split("/#")[0].split("/join")[0] + path)
        await expect(page.locator("main")).not_to_contain_text("加载中")
        await expect(page.locator("main h1, main h2").first).to_be_visible()
        violations = await axe(page)
        found[path] = sum(v["nodes"] for v in violations)
        if violations:
            print(role, path, violations)
    print(f"axe serious+critical nodes, {role}, {'phone' if phone else 'desktop'}:", found)
    assert {path: n for path, n in found.items() if n} == {}
