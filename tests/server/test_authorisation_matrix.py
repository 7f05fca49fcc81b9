"""The authorisation matrix over HTTP: every route against every role, with the expected answer.

Each row names a declared route, the roles whose permission check passes (``ok``: 2xx, or a 409
state conflict that only comes after the check) and the answer of everyone else: ``403`` for an
action they may not take on something they see (or a staff-only route, which answers 403 before
looking anything up), ``404`` for an object they may not see, ``401`` without a login. A route
without a row fails :func:`test_every_route_has_a_row`. Requests are valid, so a 400 never hides
the permission check; rows that change what other roles are allowed to do work on a fresh copy
of P per role (``fresh``) or with their own login (logout).

The expected answers come from the README's "Who sees what" and the API table: staff and
leaders read everything (staff write); a member sees their own proposals and the sessions they
are in; a unit sees its proposals (lead or co-handling) and their sessions; a guest account
sees public sessions; a guest pass is not a login at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.app import APIS
from server.config import Config
from server.db import Database
from server.signing import Signer
from tests.conftest import Cast
from tests.server.authorisation_world import (
    ACCOUNT_ROLES,
    MISSING,
    ROLES,
    World,
    seed_draft,
    seed_people,
    seed_proposal_p,
    seed_record,
)
from tests.server.sessions.test_conflicts_and_slots import NOTICE_2027, WEEK
from tests.server.sessions.test_invites_and_rsvp import reply_ics

# Who passes which kind of check (README, "Who sees what").
EVERYONE = " ".join(ACCOUNT_ROLES)
NOT_GUESTS = " ".join(r for r in ACCOUNT_ROLES if r != "guest_account")
P_READERS = "staff leader member_in lead_unit co_unit"  # P: readers, proposer, its two units
S_READERS = "staff leader host member_in lead_unit co_unit"  # S: readers and its participants
S_PARTICIPANTS = "host member_in lead_unit co_unit"
READERS = "staff leader"
DRAFTERS = "staff host member_in member_out leader"  # members and leaders draft; staff register
ROLES_ALL = " ".join(ROLES)  # public routes: every role, with a login or not
# Outsiders of the foreign record (Q, T): they must not learn that it exists.
OUTSIDERS = ("host", "member_in", "lead_unit", "co_unit", "guest_account")
TENANT_PARAMS = frozenset(
    {
        "proposal_id",
        "session_id",
        "attachment_id",
        "follow_up_id",
        "counter_id",
        "recording_id",
        "person_id",
    }
)

Build = Callable[[World, str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Row:
    """One route and the answer each role gets."""

    method: str
    route: str
    ok: str  # roles whose permission check passes (space-separated)
    rest: str  # the answer of every other account role
    forbidden: str = ""  # roles answered 403 where ``rest`` is 404
    hidden: str = ""  # roles answered 404 where ``rest`` is 403
    public: bool = False  # no login needed: guest passes and anonymous callers pass too
    build: Build | None = None  # request keyword arguments (json, data, params, path, token)
    json: Any = None
    fresh: str | None = None  # "handling" or "replied": a fresh copy of P for each role
    by_uid: bool = False  # the object is named in the body (iTIP), not in the path
    everyone: str | None = None  # one answer for every caller: a feature this world has not set up

    def expected(self, role: str) -> str:
        if self.everyone is not None:
            return self.everyone
        if role not in ACCOUNT_ROLES:
            return "ok" if self.public else "401"
        if role in self.ok.split():
            return "ok"
        if role in self.forbidden.split():
            return "403"
        if role in self.hidden.split():
            return "404"
        return self.rest

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.route


def row(method: str, route: str, ok: str, rest: str = "403", **kw: Any) -> Row:
    return Row(method, route, ok, rest, **kw)


# ---------------------------------------------------------------- request builders


def _ics(data: bytes, **kw: Any) -> dict[str, Any]:
    return {"data": io.BytesIO(data), "headers": {"Content-Type": "text/calendar"}, **kw}


async def _logout(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    # Its own login, so the matrix's token of the role lives on.
    return {"token": await w.fresh_token(role)} if role in ACCOUNT_ROLES else {}


async def _new_person(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"json": {"username": f"new_{role}", "name": "新账号", "role": "member"}}


async def _new_unit(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"json": {"name": f"新单位 {role}"}}


async def _new_venue(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"json": {"name": f"新会场 {role}"}}


async def _unit_patch(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"path": f"/api/units/{w.unit_ids['c']}", "json": {"contact_ids": []}}


async def _venue_patch(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"path": f"/api/venues/{w.cast.venue_id}", "json": {"capacity": 40}}


async def _new_proposal(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    body = {
        "number": f"2026-{next(w.numbers)}",
        "title": "关于增加社区养老服务的建议",
        "proposer_ids": [w.people["member_in"]],
        "lead_unit_id": w.unit_ids["a"],
    }
    return {"json": body}


async def _new_proposal_or_draft(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    """Staff register a proposal; members and leaders start a draft (no number, no proposers)."""
    if role == "staff":
        return await _new_proposal(w, role, ids)
    return {"json": {"title": "关于增加社区养老服务的建议", "suggestions": ["增加日间照料中心"]}}


async def _new_session(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    from tests.server.sessions.test_sessions_api import session_body

    return {"json": session_body(w.cast, allow_conflicts=True)}


async def _check(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    body = {
        "starts_at": "2026-12-01T10:00:00+08:00",
        "ends_at": "2026-12-01T10:30:00+08:00",
        "person_ids": [w.people["member_in"]],
    }
    return {"json": body}


async def _slots(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    body = {
        "required_ids": [w.people["member_in"]],
        "duration_minutes": 60,
        "window_start": "2026-09-30T00:00:00+08:00",
        "window_end": "2026-10-10T00:00:00+08:00",
    }
    return {"json": body}


BUSY = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:busy-1\r\n"
    "DTSTAMP:20261120T000000Z\r\nDTSTART:20261201T010000Z\r\nDTEND:20261201T020000Z\r\n"
    "SUMMARY:忙\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


async def _busy(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return _ics(BUSY, params=WEEK)


async def _itip(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    return _ics(reply_ics(ids["uid"], ids["email"], "ACCEPTED", 0))


async def _upload(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "params": {"name": "说明.txt"},
        "data": "补充材料".encode(),
        "headers": {"Content-Type": "text/plain"},
    }


async def _minutes(w: World, ids: dict[str, Any]) -> dict[str, Any]:
    got = await w.clients["staff"].get(f"/api/sessions/{w.own['session_id']}/minutes")
    assert got.status == 200, got.text
    return got.body  # type: ignore[no-any-return]


async def _edit(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    m = await _minutes(w, ids)
    return {"json": {"base_version": m["version"], "content": m["content"], "note": "补充"}}


async def _correct(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    m = await _minutes(w, ids)
    body = {"base_version": m["latest_version"], "content": m["content"], "reason": "更正错字"}
    return {"json": body}


async def _minutes_step(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    # The minutes are approved: a step back is a conflict, reached only after the staff check.
    m = await _minutes(w, ids)
    return {"json": {"to": "in_review", "base_version": m["latest_version"]}}


async def _checkin(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    # The hall's QR code, signed as GET …/checkin-link signs it (also for an id nothing has).
    until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    token = _signer(w).sign("checkin", {"s": ids["session_id"]}, expires_at=until)
    return {"json": {"token": token}}


def _signer(w: World) -> Signer:
    assert w.config.secret_key is not None
    return Signer(secret=w.config.secret_key)


async def _rsvp_link(w: World, role: str, ids: dict[str, Any]) -> dict[str, Any]:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    token = _signer(w).sign("rsvp", {"s": ids["session_id"], "p": ids["person_id"]}, until)
    return {"path": f"/rsvp/{token}", "params": {"answer": "accepted"}}


async def _feed_link(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    feed = await w.clients["member_in"].get("/api/me/calendar")
    assert feed.status == 200, feed.text
    return {"path": "/cal/" + feed.body["feed_url"].rsplit("/cal/", 1)[1]}


async def _login(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    from tests.conftest import PASSWORD

    return {"json": {"username": "member", "password": PASSWORD}}


async def _workdays(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"json": NOTICE_2027}


async def _instruction(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    return {"json": {"text": "请加快办理", "leader_id": w.people["leader"]}}


async def _round(w: World) -> int:
    """A selection round scoring P, with member_in its reviewer (made once, by staff)."""
    if "selection_id" not in w.own:
        made = await w.clients["staff"].post(
            "/api/selections",
            {
                "year": 2026,
                "criteria": [{"name": "选题价值", "weight": 1, "max": 10}],
                "reviewer_ids": [w.people["member_in"]],
                "proposal_ids": [w.own["proposal_id"]],
            },
        )
        assert made.status == 201, made.text
        w.own["selection_id"] = made.body["id"]
    return int(w.own["selection_id"])


def _in_round(tail: str = "", body: Callable[[World], Any] | None = None) -> Build:
    async def build(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
        kw: dict[str, Any] = {"path": f"/api/selections/{await _round(w)}{tail}"}
        if body is not None:
            kw["json"] = body(w)
        return kw

    return build


async def _new_round(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    body = {
        "year": 2026,
        "criteria": [{"name": "选题价值", "weight": 1, "max": 10}],
        "reviewer_ids": [w.people["member_in"]],
        "proposal_ids": [w.own["proposal_id"]],
    }
    return {"json": body}


async def _import(w: World, role: str, _ids: dict[str, Any]) -> dict[str, Any]:
    from tests.server.proposals.test_import import XLSX, workbook

    data = workbook([["2026-0999", "导入的提案", "张委员"]])
    return {
        "params": {"dry_run": "true"},
        "data": io.BytesIO(data),
        "headers": {"Content-Type": XLSX},
    }


P = "/api/proposals/{proposal_id}"
S = "/api/sessions/{session_id}"
R = "/api/supervision-rounds/{round_id}"
ROUND_READERS = "staff leader lead_unit co_unit other_unit"
ROUND_BODY = {"name": "年底督办", "year": 2026, "starts_on": "2026-12-01", "ends_on": "2026-12-31"}
SETTINGS = {"handling": [{"name": "答复及时", "weight": 1, "max": 5}], "quality": []}
SLOT = {"starts_at": "2026-12-03T09:30:00+08:00", "ends_at": "2026-12-03T11:00:00+08:00"}
# Roles that cannot see P (or S): they get 404 for P's (S's) routes, whatever they attempt.
P_HIDDEN = "host member_out other_unit guest_account"

ROWS: tuple[Row, ...] = (
    # ---- system and sign-in
    row("GET", "/api/health", ROLES_ALL, public=True),
    row("GET", "/api/openapi.json", ROLES_ALL, public=True),
    row("POST", "/api/auth/login", ROLES_ALL, public=True, build=_login),
    row("POST", "/api/auth/logout", EVERYONE, build=_logout),
    row("GET", "/api/auth/methods", ROLES_ALL, public=True),
    # The world has no OpenID Connect provider: its routes are 404 for everyone, asked by anyone.
    row("POST", "/api/auth/oidc/start", "", everyone="404"),
    row("POST", "/api/auth/oidc/finish", "", everyone="404", json={"state": "s", "code": "c"}),
    row("GET", "/api/me", EVERYONE),
    row("PATCH", "/api/me", EVERYONE, json={"language": "en"}),
    # ---- directory
    row("POST", "/api/people", "staff", build=_new_person),
    row("GET", "/api/people", "staff"),
    row("PATCH", "/api/people/{person_id}", "staff", json={"phone": "+86 10 1234 5678"}),
    row("POST", "/api/units", "staff", build=_new_unit),
    row("GET", "/api/units", NOT_GUESTS),
    row("PATCH", "/api/units/{unit_id}", "staff", build=_unit_patch),
    row("POST", "/api/venues", "staff", build=_new_venue),
    row("GET", "/api/venues", EVERYONE),
    row("PATCH", "/api/venues/{venue_id}", "staff", build=_venue_patch),
    # ---- proposals
    row("POST", "/api/proposals", DRAFTERS, build=_new_proposal_or_draft),
    row("GET", "/api/proposals", NOT_GUESTS),
    row("GET", "/api/proposals.xlsx", NOT_GUESTS),
    row("GET", P, P_READERS, "404"),
    # Authors change their drafts here too: who cannot see P gets 404, who sees it 403 (not
    # its author; P was registered by staff).
    row("PATCH", P, "staff", json={"summary": "简化审批流程"}, hidden=P_HIDDEN),
    # ---- drafts (P is no draft and has no author: the author's and invitees' routes refuse)
    row("POST", f"{P}/cosigners", "", hidden=P_HIDDEN, json={"person_ids": []}),
    row("POST", f"{P}/cosign", "", hidden=P_HIDDEN, json={"answer": "accepted"}),
    row("POST", f"{P}/submit", "", hidden=P_HIDDEN),
    row("GET", "/api/submission-windows", NOT_GUESTS),
    row(
        "PUT",
        "/api/submission-windows/{year}",
        "staff",
        json={"opens": "2026-03-01", "closes": "2026-03-10"},
    ),
    row("GET", "/api/members", DRAFTERS),
    row(
        "POST",
        f"{P}/transitions",
        "staff lead_unit",
        "404",
        forbidden="member_in co_unit leader",
        json={"to": "replied"},
        fresh="handling",
    ),
    # ---- handling
    row(
        "POST",
        f"{P}/attachments",
        "staff lead_unit co_unit",
        "404",
        forbidden="member_in leader",
        build=_upload,
    ),
    row("GET", "/api/attachments/{attachment_id}", P_READERS, "404"),
    row("GET", "/api/attachment-rules", EVERYONE),  # no secret: what an upload may be
    row(
        "POST",
        f"{P}/reply",
        "staff lead_unit",
        "404",
        forbidden="member_in co_unit leader",
        json={"text": "已制定方案。", "attachment_ids": []},
        fresh="handling",
    ),
    row(
        "POST",
        f"{P}/opinions",
        "co_unit",
        "404",
        forbidden="staff leader lead_unit member_in",
        json={"text": "建议统筹推进。", "attachment_ids": []},
        fresh="handling",
    ),
    row(
        "POST",
        f"{P}/progress",
        "staff lead_unit co_unit",
        "404",
        forbidden="member_in leader",
        json={"milestone": "试点", "percent": 50, "text": "进行中"},
    ),
    row(
        "POST",
        f"{P}/evaluation",
        "member_in",
        "404",
        forbidden="staff leader lead_unit co_unit",
        json={"verdict": "satisfied", "comment": "满意"},
        fresh="replied",
    ),
    row(
        "POST",
        f"{P}/quality-rating",
        "lead_unit",
        "404",
        forbidden="staff leader member_in co_unit",
        json={"verdict": "high"},
        fresh="replied",
    ),
    row("GET", f"{P}/handling", P_READERS, "404"),
    # Leaders write instructions; staff record one for a leader, naming them.
    row(
        "POST",
        f"{P}/instructions",
        "staff leader",
        "404",
        forbidden="member_in lead_unit co_unit",
        build=_instruction,
    ),
    row("GET", f"{P}/instructions", P_READERS, "404"),
    row("GET", "/api/evaluation-settings", NOT_GUESTS),  # the evaluation forms show criteria
    row("PUT", "/api/evaluation-settings", "staff", json=SETTINGS),
    # Rounds: staff and leaders all, each unit its own items; the report for staff and leaders.
    row("POST", "/api/supervision-rounds", "staff", json=ROUND_BODY),
    row("GET", "/api/supervision-rounds", ROUND_READERS),
    row("GET", R, ROUND_READERS),
    row("PATCH", R, "staff", json={"closed": False}),
    # The item is unit a's (lead_unit): other units and members do not see it.
    row(
        "POST",
        f"{R}/items/{{item_id}}/report",
        "staff lead_unit",
        "404",
        forbidden="leader",
        json={"status": "in_progress", "text": "正在推进"},
    ),
    row("GET", f"{R}/report.docx", READERS),
    row("GET", f"{P}/dossier", P_READERS, "404"),
    row("GET", f"{P}/dossier.docx", P_READERS, "404"),
    # Members see the follow-ups of their proposals, units their own; guests none.
    row("GET", "/api/follow-ups", NOT_GUESTS),
    row(
        "PATCH",
        "/api/follow-ups/{follow_up_id}",
        "staff lead_unit",
        "404",
        forbidden="leader member_in",
        json={"status": "done", "note": "已完成"},
    ),
    row("POST", "/api/follow-ups/reminders", "staff"),
    row("GET", "/api/stats", READERS),
    row("GET", "/api/stats/units", READERS),
    row("GET", "/api/stats/units.xlsx", READERS),
    row("POST", "/api/proposals/import", "staff", build=_import),
    # ---- selection rounds (优秀提案评选): R scores P, member_in its reviewer
    row("POST", "/api/selections", "staff", build=_new_round),
    row("GET", "/api/selections", NOT_GUESTS),
    row(
        "GET",
        "/api/selections/{selection_id}",
        "staff leader member_in",
        "404",
        forbidden="guest_account",
        build=_in_round(),
    ),
    row(
        "POST",
        "/api/selections/{selection_id}/scores",
        "member_in",
        "404",
        forbidden="staff leader guest_account",
        build=_in_round("/scores", lambda w: {"proposal_id": w.own["proposal_id"], "scores": [7]}),
    ),
    # The ranking is for readers until published (the publish row comes after these).
    *(
        row(
            "GET",
            f"/api/selections/{{selection_id}}/{name}",
            READERS,
            "404",
            forbidden="member_in guest_account",
            build=_in_round(f"/{name}"),
        )
        for name in ("ranking", "ranking.xlsx", "ranking.docx")
    ),
    row(
        "POST",
        "/api/selections/{selection_id}/publish",
        "staff",
        build=_in_round("/publish", lambda w: {"proposal_ids": [w.own["proposal_id"]]}),
    ),
    # ---- sessions
    row("POST", "/api/sessions", "staff", build=_new_session),
    row("GET", "/api/sessions", EVERYONE),
    row("GET", S, S_READERS, "404"),
    row("PATCH", S, "staff", json={"topic": "补贴标准"}),  # S ended: 409 after the check
    row("GET", "/api/session-templates", EVERYONE),
    row("GET", f"{S}/conflicts", "staff"),
    row("POST", "/api/schedule/check", "staff", build=_check),
    row("POST", "/api/schedule/find-slots", "staff", build=_slots),
    row("POST", "/api/people/{person_id}/busy", "staff member_in", build=_busy),
    row("POST", f"{S}/reschedule", "staff", json=SLOT),
    row("POST", f"{S}/cancel", "staff", json={"reason": "改期"}),
    row("GET", f"{S}/occurrences", S_READERS, "404"),
    # The invitation lists every attendee's address: staff and participants only.
    row("GET", f"{S}/invite.ics", f"staff {S_PARTICIPANTS}", "404"),
    row("GET", f"{S}/deliveries", "staff"),
    row("POST", f"{S}/rsvp", S_PARTICIPANTS, "404", json={"answer": "tentative"}),
    # A REPLY for member_in's address: member_in, or staff forwarding it. Those who see S
    # but are someone else are refused; those who do not see S must not learn its UID exists.
    row(
        "POST",
        "/api/itip",
        "staff member_in",
        "404",
        forbidden="leader host lead_unit co_unit",
        build=_itip,
        by_uid=True,
    ),
    row("POST", f"{S}/counters", S_PARTICIPANTS, "404", json=SLOT),
    row("GET", f"{S}/counters", "staff"),
    row("POST", f"{S}/counters/{{counter_id}}/accept", "staff", json={}),
    row("POST", f"{S}/counters/{{counter_id}}/decline", "staff", json={"reason": "时间已定"}),
    row("GET", "/api/workdays/{year}", EVERYONE),
    row("PUT", "/api/workdays/{year}", "staff", build=_workdays),
    row("GET", "/api/me/calendar", EVERYONE),
    row("POST", "/api/me/calendar/rotate", EVERYONE),
    # Notifications: everyone reads and marks their own (others' ids are ignored, not refused).
    row("GET", "/api/me/notifications", EVERYONE),
    row("POST", "/api/me/notifications/read", EVERYONE, json={"all": True}),
    row("GET", "/api/me/notification-settings", EVERYONE),
    row(
        "PATCH",
        "/api/me/notification-settings",
        EVERYONE,
        json={"items": [{"kind": "assigned", "email": False}]},
    ),
    # ---- rooms over HTTP
    row(
        "POST",
        f"{S}/guest-join",
        ROLES_ALL,
        public=True,
        json={"name": "市民"},
    ),
    row("GET", f"{S}/public", ROLES_ALL, public=True),  # which meeting a join link is for
    row("GET", f"{S}/checkin-link", "staff host", "404"),
    row("POST", f"{S}/checkin", S_PARTICIPANTS, "404", build=_checkin),
    row("POST", f"{S}/hall-device", "staff host", "404"),  # S ended: 409 after the check
    row("GET", f"{S}/recordings", READERS),
    row("GET", "/api/recordings/{recording_id}", "staff"),
    # ---- minutes (approved: everyone who sees S reads them)
    row("GET", f"{S}/minutes", S_READERS, "404"),
    row("PUT", f"{S}/minutes", "staff", build=_edit),  # approved: 409 after the check
    row("POST", f"{S}/minutes/transitions", "staff", build=_minutes_step),
    row("POST", f"{S}/minutes/corrections", "staff", build=_correct),
    row("GET", f"{S}/minutes/versions", S_READERS, "404"),
    row("GET", f"{S}/minutes/verify", READERS, "404"),
    row("GET", f"{S}/minutes.docx", S_READERS, "404"),
    row("GET", f"{S}/minutes.md", S_READERS, "404"),
    row("GET", f"{S}/minutes.html", S_READERS, "404"),
    # ---- audit
    row("GET", "/api/audit", "staff"),
    # ---- links from emails and calendar apps: the signed token is the credential
    row("GET", "/rsvp/{token}", ROLES_ALL, public=True, build=_rsvp_link),
    row("POST", "/rsvp/{token}", ROLES_ALL, public=True, build=_rsvp_link),
    row("GET", "/cal/{token}.ics", ROLES_ALL, public=True, build=_feed_link),
)
# guest-join and the public summary are for public sessions only: their rows run against the
# public hall H.
PUBLIC_SESSION_ROUTES = frozenset({f"{S}/guest-join", f"{S}/public"})
LINK_ROUTES = frozenset(
    {("GET", "/rsvp/{token}"), ("POST", "/rsvp/{token}"), ("GET", "/cal/{token}.ics")}
)


def declared_routes() -> set[tuple[str, str]]:
    """Every HTTP route the server answers (besides static files)."""
    routes = {(e.method, e.path) for api in APIS for e in api.endpoints}
    return routes | LINK_ROUTES | {("GET", "/api/openapi.json")}


def test_every_route_has_a_row() -> None:
    table = [r.key for r in ROWS]
    assert len(table) == len(set(table)), "a route has two rows"
    missing = declared_routes() - set(table)
    assert not missing, f"routes without a row in the authorisation matrix: {sorted(missing)}"
    stale = set(table) - declared_routes()
    assert not stale, f"rows for routes the server does not declare: {sorted(stale)}"


def test_every_row_names_an_answer_for_every_role() -> None:
    for r in ROWS:
        named = set((r.ok + " " + r.forbidden + " " + r.hidden).split())
        assert named <= set(ROLES), (r.key, named - set(ROLES))
        assert {r.expected(role) for role in ROLES} <= {"ok", "401", "403", "404"}


# ---------------------------------------------------------------- running the matrix


@pytest.fixture
def config(config: Config) -> Config:
    """Room commands and guest joins well above what the matrix sends in a few seconds."""
    return dataclasses.replace(
        config, room_command_rate=1000, room_command_burst=1000, guest_joins_per_window=1000
    )


@pytest.fixture
async def world(server: TestServer, cast: Cast, database: Database, config: Config) -> World:
    world = await seed_people(server, cast, database, config)
    await seed_record(world)
    return world


def _ids(w: World, target: str) -> dict[str, Any]:
    if target == "own":
        return {**w.own, "year": 2026}
    if target == "foreign":
        return {**w.foreign, "year": 2026}
    missing: dict[str, Any] = dict.fromkeys(TENANT_PARAMS, MISSING)
    return {**missing, "year": 2026, "uid": "no-such-uid@xieshang", "email": w.foreign["email"]}


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


async def send(w: World, r: Row, role: str, target: str = "own") -> Answer:
    """The row's request as ``role`` against the own record, the foreign one, or nothing."""
    ids = _ids(w, target)
    if r.route in PUBLIC_SESSION_ROUTES and target == "own":
        ids["session_id"] = w.own["public_session_id"]
    if r.fresh and target == "own":
        ids["proposal_id"] = await w.fresh_proposal(r.fresh)
    if r.method == "PUT" and r.route.startswith("/api/workdays"):
        ids["year"] = 2027
    kw: dict[str, Any] = {} if r.json is None else {"json": r.json}
    if r.build is not None:
        kw.update(await r.build(w, role, ids))
    path = kw.pop("path", None) or r.route.format(**ids)
    client = w.clients[role]
    token = kw.pop("token", client.token)
    headers = dict(kw.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with client.http.request(r.method, client.base + path, headers=headers, **kw) as resp:
        # Exports are binary: only the status and the start of a problem's text matter here.
        return Answer(resp.status, (await resp.read()).decode(errors="replace"))


def outcome(reply: Answer) -> str:
    """``ok`` when the permission check passed (2xx, or a state conflict after it)."""
    if 200 <= reply.status < 300 or reply.status == 409:
        return "ok"
    if reply.status in (401, 403, 404):
        return str(reply.status)
    return f"{reply.status}: {reply.text[:200]}"


async def test_every_route_answers_every_role_as_the_matrix_says(world: World) -> None:
    started = time.monotonic()
    wrong = []
    for r in ROWS:
        for role in ROLES:
            got = outcome(await send(world, r, role))
            if got != r.expected(role):
                wrong.append(f"{r.method} {r.route} as {role}: want {r.expected(role)}, got {got}")
    size = f"{len(ROWS)} routes x {len(ROLES)} roles = {len(ROWS) * len(ROLES)} answers"
    print(f"\nHTTP authorisation matrix: {size} in {time.monotonic() - started:.1f}s")
    assert not wrong, "\n".join(wrong)


DRAFT_READERS = "staff leader host"


async def test_draft_minutes_are_read_by_staff_leaders_and_hosts_only(
    server: TestServer, cast: Cast, database: Database, config: Config
) -> None:
    """The same routes against a held session whose minutes are a draft: its proposer and units
    see the session, but not the draft."""
    world = await seed_people(server, cast, database, config)
    await seed_proposal_p(world)
    world.own["session_id"] = await seed_draft(world)
    reads = [r for r in ROWS if r.method == "GET" and r.route.startswith(f"{S}/minutes")]
    assert len(reads) == 6
    wrong = []
    for r in reads:
        for role in (*ACCOUNT_ROLES, "anon"):  # guest passes: see the main matrix
            want = r.expected(role)
            if want == "ok" and not r.route.endswith("/verify"):
                want = "ok" if role in DRAFT_READERS.split() else "404"
            got = outcome(await send(world, r, role))
            if got != want:
                wrong.append(f"{r.method} {r.route} as {role}: want {want}, got {got}")
    assert not wrong, "\n".join(wrong)


def _names_an_object(r: Row) -> bool:
    params = set(r.route.replace("}", "{").split("{")[1::2])
    return r.by_uid or bool(params & TENANT_PARAMS)


async def test_objects_of_another_unit_and_session_answer_as_if_they_did_not_exist(
    world: World,
) -> None:
    """Q (unit b) and T (member_out, unit b) against everyone outside them: the same answer
    as for an id nothing has, and never a success."""
    wrong, checked = [], 0
    for r in ROWS:
        if not _names_an_object(r):
            continue
        for role in OUTSIDERS:
            foreign = outcome(await send(world, r, role, "foreign"))
            missing = outcome(await send(world, r, role, "missing"))
            checked += 1
            if foreign != missing or foreign == "ok":
                wrong.append(f"{r.method} {r.route} as {role}: {foreign}, for no object {missing}")
    print(f"\nforeign objects: {checked} answers compared with those for missing ids")
    assert not wrong, "\n".join(wrong)
