"""HTTP routes of scheduling: templates, conflicts, slots, busy time, invites, RSVP, feeds."""

from __future__ import annotations

import html
from typing import Literal

from aiohttp import web
from pydantic import Field

from scheduling.intervals import Interval
from server.api import DATABASE, Api, Req, read_raw
from server.errors import AppError, Invalid, NotFound, field_error
from server.i18n import _, negotiate, translate
from server.sessions import changes, planning, rsvp, workday_calendars
from server.sessions.changes import DeliveryList
from server.sessions.invites import Calendaring
from server.sessions.models import Rsvp
from server.sessions.planning import ConflictOut, SlotList
from server.sessions.schemas import (
    CancelIn,
    ConflictCheck,
    OccurrenceList,
    RescheduleIn,
    RsvpIn,
    SessionOut,
    SlotRequest,
)
from server.sessions.templates import TEMPLATES, TemplateOut
from server.sessions.workday_calendars import WorkdaysOut
from server.shapes import Instant, OutShape, QueryShape

api = Api(tag="scheduling")
CALENDARING = web.AppKey("calendaring", Calendaring)
ICS = "text/calendar"
MAX_ICS_BYTES = 2 * 2**20
MAX_ITIP_BYTES = 256 * 2**10  # one answer to one invitation: a few KB in practice


def _ctx(req: Req) -> Calendaring:
    return req.request.app[CALENDARING]


def _ics(data: bytes, filename: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=ICS,
        charset="utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


class TemplateList(OutShape):
    """Session templates, one per kind."""

    items: list[TemplateOut]


class ConflictList(OutShape):
    """A session's current conflicts."""

    items: list[ConflictOut]


class BusyQuery(QueryShape):
    """The window the uploaded calendar replaces busy time in."""

    from_: Instant = Field(alias="from")
    to: Instant


class BusyOut(OutShape):
    """How many busy blocks were stored."""

    blocks: int


class RsvpOut(OutShape):
    """The answer now recorded."""

    session_id: int
    rsvp: Rsvp


class ItipOut(OutShape):
    """What the message did: a REPLY's answer (and whether it was newer), or a COUNTER's id."""

    method: Literal["REPLY", "COUNTER"]
    session_id: int
    rsvp: Rsvp | None
    applied: bool
    counter_id: int | None


class FeedOut(OutShape):
    """A personal calendar subscription URL (also usable as webcal://)."""

    feed_url: str
    webcal_url: str


@api.get("/api/session-templates", response=TemplateList)
async def list_templates(req: Req) -> TemplateList:
    """Templates per session kind: duration, roles, visibility, lobby, recording, agenda."""
    req.actor  # noqa: B018 - signed-in people only
    return TemplateList(items=list(TEMPLATES.values()))


@api.get("/api/sessions/{session_id}/conflicts", response=ConflictList)
async def session_conflicts(req: Req, session_id: int) -> ConflictList:
    """Who or what the session double-books, and with which session."""
    return ConflictList(
        items=await planning.session_conflicts(req.database, _ctx(req), req.actor, session_id)
    )


@api.post("/api/schedule/check", body=ConflictCheck, response=ConflictList)
async def check_conflicts(req: Req, body: ConflictCheck) -> ConflictList:
    """Who or what a session at this time would double-book (staff; nothing is saved)."""
    return ConflictList(items=await planning.check(req.database, _ctx(req), req.actor, body))


@api.post("/api/schedule/find-slots", body=SlotRequest, response=SlotList)
async def find_slots(req: Req, body: SlotRequest) -> SlotList:
    """Ranked free slots on working days, within working hours (staff)."""
    return await planning.slots(req.database, _ctx(req), req.actor, body)


@api.post("/api/people/{person_id}/busy", query=BusyQuery, response=BusyOut, raw_body=ICS)
async def upload_busy(req: Req, person_id: int, query: BusyQuery) -> BusyOut:
    """Upload busy time as an ICS export; it replaces earlier uploads within from–to."""
    if query.to <= query.from_:
        raise Invalid(
            _("to must be after from."), errors=[field_error("to", _("must be after from"))]
        )
    data = await read_raw(req.request, ICS, MAX_ICS_BYTES)
    count = await planning.upload_busy(
        req.database, req.actor, person_id, data, Interval(query.from_, query.to)
    )
    return BusyOut(blocks=count)


@api.post("/api/sessions/{session_id}/reschedule", body=RescheduleIn, response=SessionOut)
async def reschedule(req: Req, session_id: int, body: RescheduleIn) -> SessionOut:
    """Move a session, or one occurrence (``occurrence``: its original start)."""
    return await changes.reschedule(req.database, _ctx(req), req.actor, session_id, body)


@api.post("/api/sessions/{session_id}/cancel", body=CancelIn, response=SessionOut)
async def cancel(req: Req, session_id: int, body: CancelIn) -> SessionOut:
    """Cancel a session, or one occurrence of a series; everyone gets a CANCEL."""
    return await changes.cancel_session(req.database, _ctx(req), req.actor, session_id, body)


@api.get("/api/sessions/{session_id}/occurrences", response=OccurrenceList)
async def list_occurrences(req: Req, session_id: int) -> OccurrenceList:
    """Every occurrence with start, end and status (scheduled, moved, cancelled)."""
    return await changes.list_occurrences(req.database, req.actor, session_id)


@api.get("/api/sessions/{session_id}/invite.ics", produces=ICS)
async def invite_ics(req: Req, session_id: int) -> web.Response:
    """The current invitation (REQUEST), or the CANCEL of a cancelled session."""
    data = await changes.invite_ics(req.database, _ctx(req), req.actor, session_id)
    return _ics(data, f"session-{session_id}.ics")


@api.get("/api/sessions/{session_id}/deliveries", response=DeliveryList)
async def deliveries(req: Req, session_id: int) -> DeliveryList:
    """Invitation emails of a session: pending, sent, or failed with the reason (staff)."""
    return await changes.deliveries(req.database, req.actor, session_id)


@api.post("/api/sessions/{session_id}/rsvp", body=RsvpIn, response=RsvpOut)
async def answer(req: Req, session_id: int, body: RsvpIn) -> RsvpOut:
    """Answer an invitation for yourself: accepted, declined or tentative."""
    value = await rsvp.answer(req.database, req.actor, session_id, body.answer, body.occurrence)
    return RsvpOut(session_id=session_id, rsvp=value)


@api.post("/api/itip", response=ItipOut, raw_body=ICS)
async def itip(req: Req) -> ItipOut:
    """Take an attendee's iTIP REPLY or COUNTER (text/calendar); people send only their own."""
    data = await read_raw(req.request, ICS, MAX_ITIP_BYTES)
    result = await rsvp.apply_itip(req.database, req.actor, data)
    return ItipOut(
        method=result.method,
        session_id=result.session_id,
        rsvp=result.rsvp,
        applied=result.applied,
        counter_id=result.counter_id,
    )


@api.get("/api/workdays/{year}", response=WorkdaysOut)
async def get_workdays(req: Req, year: int) -> WorkdaysOut:
    """One year's days off and 调休 working days, as the slot finder uses them."""
    req.actor  # noqa: B018 - signed-in people only
    return await workday_calendars.get_year(req.database, _ctx(req).workdays, _year(year))


@api.route("PUT", "/api/workdays/{year}", response=WorkdaysOut, raw_body=("application/json", ICS))
async def put_workdays(req: Req, year: int) -> WorkdaysOut:
    """Add a year's notice (staff): xieshang's JSON format, or text/calendar all-day events."""
    media = req.request.content_type
    data = await read_raw(
        req.request,
        media if media in (ICS, "application/json") else "application/json",
        MAX_ICS_BYTES,
    )
    return await workday_calendars.put_year(
        req.database, _ctx(req).workdays, req.actor, _year(year), data, media
    )


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise NotFound(_("No working-day calendar for {year}: years 2000 to 2100 only.", year=year))
    return year


@api.get("/api/me/calendar", response=FeedOut)
async def my_calendar(req: Req) -> FeedOut:
    """Your personal subscription URL: every session you are in."""
    return _feed(await rsvp.feed_url(req.database, _ctx(req), req.actor, rotate=False))


@api.post("/api/me/calendar/rotate", response=FeedOut)
async def rotate_calendar(req: Req) -> FeedOut:
    """Revoke your subscription URL and get a new one."""
    return _feed(await rsvp.feed_url(req.database, _ctx(req), req.actor, rotate=True))


def _feed(url: str) -> FeedOut:
    return FeedOut(feed_url=url, webcal_url="webcal://" + url.split("://", 1)[1])


# ---------------------------------------------------------------- outside /api: links in emails

Answer = Literal["accepted", "declined", "tentative"]
WORDS = {"accepted": _("accepted"), "declined": _("declined"), "tentative": _("tentative")}


PAGE_STYLE = "font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"


# The link pages are documents, not the app: no scripts at all, their own inline style only.
LINK_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _session_link(request: web.Request, session_id: int, language: str) -> str:
    url = html.escape(request.app[CALENDARING].join_url(session_id))
    label = html.escape(translate(_("See the session"), language))
    return f'<p><a href="{url}">{label}</a></p>'


def _page(status: int, language: str, title: str, text: str, form: str = "") -> web.Response:
    """A small page in ``language``; ``title`` and ``text`` (marked or plain) are translated."""
    title, text = translate(title, language), translate(text, language)
    body = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<title>{html.escape(title)}</title></head><body style="{PAGE_STYLE}">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>"
    )
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": LINK_PAGE_POLICY,
            "Cache-Control": "no-store",
            "Content-Language": language,
        },
    )


def _answer_of(request: web.Request) -> str | None:
    reply = request.query.get("answer", "")
    return reply if reply in WORDS else None


def _unknown_answer(language: str) -> web.Response:
    return _page(
        400,
        language,
        _("Unknown answer"),
        _("The link is incomplete: answer should be accepted, declined or tentative."),
    )


def _not_recorded(request: web.Request, err: AppError) -> web.Response:
    """The refusal of a link we cannot tie to a person: in the browser's language."""
    language = negotiate(request.headers.get("Accept-Language"))
    return _page(err.status, language, _("Answer not recorded"), err.message)


async def rsvp_link(request: web.Request) -> web.Response:
    """``GET /rsvp/{token}?answer=…``: show what the link answers, with a button that confirms.

    Opening the link records nothing: mail security scanners and link previews open every link
    in a message, and must not answer for the invitee. The page is in the invitee's chosen
    language, as their email was."""
    reply = _answer_of(request)
    if reply is None:
        return _unknown_answer(negotiate(request.headers.get("Accept-Language")))
    try:
        session, name, language = await rsvp.check_link(
            request.app[DATABASE], request.app[CALENDARING], request.match_info["token"]
        )
    except AppError as err:
        return _not_recorded(request, err)
    confirm = translate(_("Confirm: {answer}", answer=WORDS[reply]), language)
    button = (
        f'<form method="post"><button type="submit" style="font-size:1.2rem;padding:.5rem 1.5rem">'
        f"{html.escape(confirm)}</button></form>"
    )
    return _page(
        200,
        language,
        _("Confirm your answer"),
        _("{name}, “{title}”: {answer}?", name=name, title=session.title, answer=WORDS[reply]),
        button + _session_link(request, session.id, language),
    )


async def rsvp_confirm(request: web.Request) -> web.Response:
    """``POST /rsvp/{token}?answer=…``: record the answer and confirm it on a small page."""
    reply = _answer_of(request)
    if reply is None:
        return _unknown_answer(negotiate(request.headers.get("Accept-Language")))
    try:
        session, name, language = await rsvp.answer_by_link(
            request.app[DATABASE], request.app[CALENDARING], request.match_info["token"], reply
        )
    except AppError as err:
        return _not_recorded(request, err)
    return _page(
        200,
        language,
        _("Answer recorded: {answer}", answer=WORDS[reply]),
        _(
            "{name}, your answer to “{title}” is recorded: {answer}. You can change it at any "
            "time with the other buttons in the email.",
            name=name,
            title=session.title,
            answer=WORDS[reply],
        ),
        _session_link(request, session.id, language),
    )


async def feed(request: web.Request) -> web.Response:
    """``GET /cal/{token}.ics``: a personal subscription feed."""
    try:
        data = await rsvp.feed_ics(
            request.app[DATABASE], request.app[CALENDARING], request.match_info["token"]
        )
    except AppError as err:
        text = translate(err.message, negotiate(request.headers.get("Accept-Language")))
        return web.Response(status=err.status, text=text + "\n", content_type="text/plain")
    return _ics(data, "xieshang.ics")


def add_link_routes(app: web.Application) -> None:
    """The routes people reach from emails and calendar apps (no sign-in)."""
    app.router.add_get("/rsvp/{token}", rsvp_link)
    app.router.add_post("/rsvp/{token}", rsvp_confirm)
    app.router.add_get(r"/cal/{token:[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+}.ics", feed)
