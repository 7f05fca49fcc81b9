"""HTTP routes of proposal handling: files, reply, progress, evaluations."""

from __future__ import annotations

from aiohttp import web

from server.api import Api, Req, attachment_disposition, read_raw_any
from server.audit import service as audit
from server.proposals import evaluation_settings, files, handling
from server.proposals.handling_schemas import (
    AttachmentOut,
    AttachmentQuery,
    AttachmentRulesOut,
    EvaluationIn,
    EvaluationOut,
    EvaluationSettingsIn,
    EvaluationSettingsOut,
    HandlingOut,
    OnReply,
    OpinionIn,
    OpinionOut,
    ProgressIn,
    ProgressOut,
    QualityIn,
    ReplyIn,
    ReplyOut,
)

api = Api(tag="handling")
# What runs when a unit replies, in the reply's transaction (the floors above hook in here):
# the record's follow-ups of class-B commitments, and the notices of a reply received. Set by
# the composition root.
REPLY_HOOKS = web.AppKey("proposal_reply_hooks", list[OnReply])
P = "/api/proposals/{proposal_id}"
FILE_TYPES = tuple(sorted(handling.ATTACHMENT_TYPES))


@api.get("/api/attachment-rules", response=AttachmentRulesOut)
async def attachment_rules(req: Req) -> AttachmentRulesOut:
    """What a proposal's file may be (types and the largest size), shown before an upload."""
    return handling.attachment_rules(req.config.max_attachment_bytes)


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
            "Content-Disposition": attachment_disposition(
                files.saved_name(row.name, row.media_type), f"attachment-{row.id}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@api.post(f"{P}/reply", body=ReplyIn, response=ReplyOut, status=201)
async def reply(req: Req, proposal_id: int, body: ReplyIn) -> ReplyOut:
    """The lead unit's formal reply (清单式答复): ``items`` answer each of the proposal's
    ``suggestions`` once (1-based ``suggestion``, ``class`` A/B/C/D; B with its commitment in
    ``text`` and its ``due`` date); the reply letter is an uploaded attachment. The proposal
    becomes ``replied``; class-B items become follow-ups."""
    hooks = req.request.app.get(REPLY_HOOKS, [])
    return await handling.reply(req.database, req.actor, proposal_id, body, on_reply=hooks)


@api.post(f"{P}/opinions", body=OpinionIn, response=OpinionOut, status=201)
async def add_opinion(req: Req, proposal_id: int, body: OpinionIn) -> OpinionOut:
    """A co-handling unit's opinion for the lead unit, before it replies."""
    return await handling.add_opinion(req.database, req.actor, proposal_id, body)


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


@api.get("/api/evaluation-settings", response=EvaluationSettingsOut)
async def get_evaluation_settings(req: Req) -> EvaluationSettingsOut:
    """The two-way evaluation's criteria (each with its weight and highest score) for the
    proposer's evaluation and the unit's quality rating, and whether co-signers evaluate."""
    return await evaluation_settings.get_settings(req.database, req.actor)


@api.route(
    "PUT", "/api/evaluation-settings", body=EvaluationSettingsIn, response=EvaluationSettingsOut
)
async def put_evaluation_settings(req: Req, body: EvaluationSettingsIn) -> EvaluationSettingsOut:
    """Replace the criteria and the co-signers setting (staff)."""
    return await evaluation_settings.put_settings(req.database, req.actor, body)
