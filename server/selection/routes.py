"""HTTP routes of the selection rounds (优秀提案评选)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from server.api import Api, Req, attachment_disposition
from server.selection import exports, service
from server.selection.schemas import (
    PublishIn,
    RankingOut,
    ScoreOut,
    ScoresIn,
    SelectionCreate,
    SelectionList,
    SelectionOut,
    SelectionQuery,
)

api = Api(tag="selection")
S = "/api/selections/{selection_id}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@api.post("/api/selections", body=SelectionCreate, response=SelectionOut, status=201)
async def create_selection(req: Req, body: SelectionCreate) -> SelectionOut:
    """Open a selection round for a year: criteria, reviewers, candidates (staff)."""
    return await service.create(req.database, req.actor, body)


@api.get("/api/selections", query=SelectionQuery, response=SelectionList)
async def list_selections(req: Req, query: SelectionQuery) -> SelectionList:
    """The rounds you may see: all for staff and leaders, yours and published ones otherwise."""
    return await service.list_rounds(req.database, req.actor, query)


@api.get(S, response=SelectionOut)
async def get_selection(req: Req, selection_id: int) -> SelectionOut:
    """One round with its criteria, reviewers' progress and candidates (with your scores)."""
    return await service.get(req.database, req.actor, selection_id)


@api.post(f"{S}/scores", body=ScoresIn, response=ScoreOut)
async def score_proposal(req: Req, selection_id: int, body: ScoresIn) -> ScoreOut:
    """A reviewer's scores of one candidate, one per criterion; sending again revises them."""
    return await service.score(req.database, req.actor, selection_id, body)


@api.get(f"{S}/ranking", response=RankingOut)
async def get_ranking(req: Req, selection_id: int) -> RankingOut:
    """Candidates by mean weighted score; ties share a rank; who has not scored yet."""
    return await service.ranking(req.database, req.actor, selection_id)


@api.post(f"{S}/publish", body=PublishIn, response=RankingOut)
async def publish_selection(req: Req, selection_id: int, body: PublishIn) -> RankingOut:
    """Publish the chosen proposals (staff); the scores are final from then on."""
    return await service.publish(req.database, req.actor, selection_id, body)


def _file(body: bytes, media_type: str, name: str, ascii_stem: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=media_type,
        headers={
            "Content-Disposition": attachment_disposition(name, ascii_stem),
            "Cache-Control": "no-store",
        },
    )


@api.get(f"{S}/ranking.xlsx", produces=XLSX)
async def selection_xlsx(req: Req, selection_id: int) -> web.Response:
    """The ranking and every reviewer's scores as a spreadsheet."""
    out, sheets = await service.export(req.database, req.actor, selection_id)
    body = await asyncio.to_thread(exports.to_xlsx, out, sheets)
    return _file(body, XLSX, f"{out.title}.xlsx", f"selection-{selection_id}")


@api.get(f"{S}/ranking.docx", produces=DOCX)
async def selection_docx(req: Req, selection_id: int) -> web.Response:
    """The chosen list and the ranking as a Word document."""
    out, _sheets = await service.export(req.database, req.actor, selection_id)
    body = await asyncio.to_thread(exports.to_docx, out)
    return _file(body, DOCX, f"{out.title}.docx", f"selection-{selection_id}")
