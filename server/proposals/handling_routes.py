"""HTTP routes of proposal handling: files, reply, progress, evaluations, follow-ups."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from server.api import Api, Req, read_raw_any
from server.audit import service as audit
from server.proposals import dossier, followups, handling, stats
from server.proposals.dossier import DossierOut
from server.proposals.handling_schemas import (
    AttachmentOut,
    AttachmentQuery,
    EvaluationIn,
    EvaluationOut,
    FollowUpList,
    FollowUpOut,
    FollowUpPatch,
    FollowUpQuery,
    HandlingOut,
    ProgressIn,
    ProgressOut,
    QualityIn,
    RemindOut,
    ReplyIn,
    ReplyOut,
)
from server.proposals.stats import StatsOut, StatsQuery
from server.sessions.calendar_routes import CALENDARING
from server.sessions.minutes_routes import DOCX

api = Api(tag="handling")
P = "/api/proposals/{proposal_id}"
FILE_TYPES = tuple(sorted(handling.ATTACHMENT_TYPES))


@api.post(
    f"{P}/attachments",
    query=AttachmentQuery,
    response=AttachmentOut,
    status=201,
    raw_body=FILE_TYPES,
)
async def upload_attachment(req: Req, proposal_id: int, query: AttachmentQuery) -> AttachmentOut:
    """Upload a file to a proposal (its units and staff): the body is the file, sent with its
    own Content-Type (PDF, OFD, Word, Excel, PowerPoint, PNG, JPEG or text); ``?name=`` names it."""
    media_type, data = await read_raw_any(req.request, req.config.max_attachment_bytes)
    return await handling.add_attachment(
        req.database, req.actor, proposal_id, name=query.name, media_type=media_type, data=data
    )


@api.get("/api/attachments/{attachment_id}", produces=FILE_TYPES)
async def download_attachment(req: Req, attachment_id: int) -> web.Response:
    """A file, for whoever may see its proposal."""
    row = await handling.attachment(req.database, req.actor, attachment_id)
    await audit.record_now(
        req.database,
        "proposal.attachment_download",
        actor=req.actor,
        object_type="attachment",
        object_id=row.id,
        proposal_id=row.proposal_id,
    )
    return web.Response(
        body=row.data,
        content_type=row.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@api.post(f"{P}/reply", body=ReplyIn, response=ReplyOut, status=201)
async def reply(req: Req, proposal_id: int, body: ReplyIn) -> ReplyOut:
    """The lead unit's formal reply; the proposal becomes ``replied``."""
    return await handling.reply(req.database, req.actor, proposal_id, body)


@api.post(f"{P}/progress", body=ProgressIn, response=ProgressOut, status=201)
async def add_progress(req: Req, proposal_id: int, body: ProgressIn) -> ProgressOut:
    """A progress report by one of the proposal's units (milestone, percent done, text)."""
    return await handling.add_progress(req.database, req.actor, proposal_id, body)


@api.post(f"{P}/evaluation", body=EvaluationIn, response=EvaluationOut, status=201)
async def evaluate(req: Req, proposal_id: int, body: EvaluationIn) -> EvaluationOut:
    """The proposer's verdict on the handling; ``unsatisfied`` starts another round."""
    return await handling.evaluate(req.database, req.actor, proposal_id, body)


@api.post(f"{P}/quality-rating", body=QualityIn, response=EvaluationOut, status=201)
async def rate_quality(req: Req, proposal_id: int, body: QualityIn) -> EvaluationOut:
    """The lead unit's rating of the proposal's quality (two-way evaluation)."""
    return await handling.rate_quality(req.database, req.actor, proposal_id, body)


@api.get(f"{P}/handling", response=HandlingOut)
async def get_handling(req: Req, proposal_id: int) -> HandlingOut:
    """Replies, progress reports, evaluations and files of a proposal."""
    return await handling.handling(req.database, req.actor, proposal_id)


@api.get("/api/follow-ups", query=FollowUpQuery, response=FollowUpList)
async def list_follow_ups(req: Req, query: FollowUpQuery) -> FollowUpList:
    """Action items being followed up; ``overdue=true`` for open ones past their due date."""
    return await followups.list_follow_ups(req.database, req.actor, query, req.config.timezone)


@api.patch("/api/follow-ups/{follow_up_id}", body=FollowUpPatch, response=FollowUpOut)
async def update_follow_up(req: Req, follow_up_id: int, body: FollowUpPatch) -> FollowUpOut:
    """The owner unit reports an item done; staff cancel or reopen."""
    return await followups.update_follow_up(
        req.database, req.actor, follow_up_id, body, req.config.timezone
    )


@api.post("/api/follow-ups/reminders", response=RemindOut)
async def remind(req: Req) -> RemindOut:
    """Email the owner units of overdue items now (staff; the server also does it hourly)."""
    ctx = req.request.app[CALENDARING]
    out = await followups.remind_overdue(
        req.database, req.actor, zone=req.config.timezone, sender=ctx.sender
    )
    ctx.wake()
    return out


@api.get(f"{P}/dossier", response=DossierOut)
async def get_dossier(req: Req, proposal_id: int) -> DossierOut:
    """The proposal's whole handling file: bundle, sessions with approved minutes, replies,
    progress, evaluations, follow-ups and a timeline."""
    return await dossier.dossier(req.database, req.actor, proposal_id, req.config.timezone)


@api.get(f"{P}/dossier.docx", produces=DOCX)
async def dossier_docx(req: Req, proposal_id: int) -> web.Response:
    """The dossier as a Word document."""
    found = await dossier.dossier(req.database, req.actor, proposal_id, req.config.timezone)
    await audit.record_now(
        req.database,
        "proposal.dossier_export",
        actor=req.actor,
        object_type="proposal",
        object_id=proposal_id,
        proposal_id=proposal_id,
    )
    name = f"提案办理档案-{found.proposal.number}.docx"
    return web.Response(
        body=dossier.to_docx(found, req.config.timezone),
        content_type=DOCX,
        headers={
            "Content-Disposition": (
                f'attachment; filename="dossier-{proposal_id}.docx"; '
                f"filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
        },
    )


@api.get("/api/stats", query=StatsQuery, response=StatsOut)
async def get_stats(req: Req, query: StatsQuery) -> StatsOut:
    """Sessions by kind and month, proposals by status, compliance, satisfaction, follow-ups
    (staff and leaders)."""
    return await stats.stats(req.database, req.actor, query, req.config.timezone)
