"""HTTP routes of the record: minutes (read, edit, review, approve, correct, verify, export),
follow-ups and their reminders, the proposal dossier and the statistics."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from aiohttp import web

from server.api import MAILER, Api, Req, attachment_disposition
from server.audit import service as audit
from server.record import (
    dossier,
    followups,
    instructions,
    minutes,
    reminders,
    stats,
    supervision,
    unit_stats,
)
from server.record.dossier import DossierOut
from server.record.exports import to_docx, to_html, to_markdown
from server.record.schemas import (
    FollowUpList,
    FollowUpOut,
    FollowUpPatch,
    FollowUpQuery,
    InstructionIn,
    InstructionList,
    InstructionOut,
    MinutesCorrection,
    MinutesEdit,
    MinutesOut,
    MinutesQuery,
    MinutesTransition,
    MinutesVerifyOut,
    MinutesVersionList,
    RemindOut,
    SupervisionItemOut,
    SupervisionReportIn,
    SupervisionRoundIn,
    SupervisionRoundList,
    SupervisionRoundOut,
    SupervisionRoundPatch,
    SupervisionRoundQuery,
)
from server.record.stats import StatsOut, StatsQuery
from server.record.unit_stats import UnitStatsOut, UnitStatsQuery

minutes_api = Api(tag="minutes")
# Follow-ups, the dossier and the statistics are documented under the proposals' handling tag.
api = Api(tag="handling")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BASE = "/api/sessions/{session_id}/minutes"
P = "/api/proposals/{proposal_id}"


@minutes_api.get(BASE, query=MinutesQuery, response=MinutesOut)
async def get_minutes(req: Req, session_id: int, query: MinutesQuery) -> MinutesOut:
    """The minutes (newest version you may read, or ``?version=N``); drafts for staff, leaders
    and hosts, approved versions for everyone who can see the session."""
    return await minutes.get_minutes(req.database, req.actor, session_id, query.version)


@minutes_api.route("PUT", BASE, body=MinutesEdit, response=MinutesOut)
async def edit_minutes(req: Req, session_id: int, body: MinutesEdit) -> MinutesOut:
    """Save draft minutes as a new version (staff); ``base_version`` must be the newest."""
    return await minutes.edit(req.database, req.actor, session_id, body)


@minutes_api.post(f"{BASE}/transitions", body=MinutesTransition, response=MinutesOut)
async def minutes_transition(req: Req, session_id: int, body: MinutesTransition) -> MinutesOut:
    """draft → in_review → approved, or in_review → draft (staff)."""
    return await minutes.transition(req.database, req.actor, session_id, body)


@minutes_api.post(f"{BASE}/corrections", body=MinutesCorrection, response=MinutesOut, status=201)
async def correct_minutes(req: Req, session_id: int, body: MinutesCorrection) -> MinutesOut:
    """Correct approved minutes: a new draft version to approve again (staff)."""
    return await minutes.correct(req.database, req.actor, session_id, body)


@minutes_api.get(f"{BASE}/versions", response=MinutesVersionList)
async def minutes_versions(req: Req, session_id: int) -> MinutesVersionList:
    """Every version you may read, oldest first, with author, time and hash chain."""
    return await minutes.list_versions(req.database, req.actor, session_id)


@minutes_api.get(f"{BASE}/verify", response=MinutesVerifyOut)
async def verify_minutes(req: Req, session_id: int) -> MinutesVerifyOut:
    """Check that no stored version was changed or removed (staff and leaders)."""
    return await minutes.verify(req.database, req.actor, session_id)


async def _download(
    req: Req, body: bytes, media_type: str, out: MinutesOut, suffix: str
) -> web.Response:
    await audit.record_now(
        req.database,
        "minutes.export",
        actor=req.actor,
        object_type="minutes",
        object_id=out.session_id,
        session_id=out.session_id,
        version=out.version,
        format=suffix,
    )
    name = f"{out.content.title}会议纪要-第{out.version}版.{suffix}"
    ascii_name = f"minutes-{out.session_id}-v{out.version}.{suffix}"
    return web.Response(
        body=body,
        content_type=media_type,
        charset="utf-8" if not media_type.startswith("application/") else None,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "no-store",
            "X-Minutes-Version": str(out.version),
            "X-Minutes-Status": out.status.value,
        },
    )


@minutes_api.get("/api/sessions/{session_id}/minutes.docx", query=MinutesQuery, produces=DOCX)
async def minutes_docx(req: Req, session_id: int, query: MinutesQuery) -> web.Response:
    """The minutes as a Word document (the newest approved version unless ``?version=N``)."""
    out, titles = await minutes.export_content(req.database, req.actor, session_id, query.version)
    return await _download(req, to_docx(out, titles), DOCX, out, "docx")


@minutes_api.get(
    "/api/sessions/{session_id}/minutes.md", query=MinutesQuery, produces="text/markdown"
)
async def minutes_markdown(req: Req, session_id: int, query: MinutesQuery) -> web.Response:
    """The minutes as Markdown (the newest approved version unless ``?version=N``)."""
    out, titles = await minutes.export_content(req.database, req.actor, session_id, query.version)
    return await _download(req, to_markdown(out, titles).encode(), "text/markdown", out, "md")


@minutes_api.get(
    "/api/sessions/{session_id}/minutes.html", query=MinutesQuery, produces="text/html"
)
async def minutes_html(req: Req, session_id: int, query: MinutesQuery) -> web.Response:
    """The minutes as a print-friendly web page (newest approved unless ``?version=N``)."""
    out, titles = await minutes.export_content(req.database, req.actor, session_id, query.version)
    response = await _download(req, to_html(out, titles).encode(), "text/html", out, "html")
    response.headers["Content-Disposition"] = "inline"
    # A document, not an app: no scripts at all; its own <style> block only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
    )
    return response


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
    mailer = req.request.app[MAILER]
    out = await reminders.remind_overdue(
        req.database, req.actor, zone=req.config.timezone, sender=mailer.sender
    )
    mailer.wake()
    return out


@api.get(f"{P}/dossier", response=DossierOut)
async def get_dossier(req: Req, proposal_id: int) -> DossierOut:
    """The proposal's whole handling file: bundle, sessions with approved minutes, replies,
    progress, evaluations, follow-ups and a timeline."""
    return await dossier.dossier(
        req.database,
        req.actor,
        proposal_id,
        req.config.timezone,
        frozenset(req.config.during_modes),
    )


@api.get(f"{P}/dossier.docx", produces=DOCX)
async def dossier_docx(req: Req, proposal_id: int) -> web.Response:
    """The dossier as a Word document."""
    found = await dossier.dossier(
        req.database,
        req.actor,
        proposal_id,
        req.config.timezone,
        frozenset(req.config.during_modes),
    )
    await audit.record_now(
        req.database,
        "proposal.dossier_export",
        actor=req.actor,
        object_type="proposal",
        object_id=proposal_id,
        proposal_id=proposal_id,
    )
    name = f"提案办理档案-{found.proposal.number or found.proposal.id}.docx"
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
    return await stats.stats(
        req.database, req.actor, query, req.config.timezone, frozenset(req.config.during_modes)
    )


# ---------------------------------------------------------------- leaders: instructions (批示)


@api.post(f"{P}/instructions", body=InstructionIn, response=InstructionOut, status=201)
async def issue_instruction(req: Req, proposal_id: int, body: InstructionIn) -> InstructionOut:
    """A leader's instruction on a proposal (staff may record one for a leader, naming
    ``leader_id``); with ``owner_unit_id`` it becomes that unit's follow-up, due by ``due``."""
    return await instructions.issue(req.database, req.actor, proposal_id, body, req.config.timezone)


@api.get(f"{P}/instructions", response=InstructionList)
async def list_instructions(req: Req, proposal_id: int) -> InstructionList:
    """A proposal's instructions, oldest first."""
    return await instructions.list_instructions(req.database, req.actor, proposal_id)


# ---------------------------------------------------------------- supervision rounds (两轮督办)

ROUND = "/api/supervision-rounds/{round_id}"


@api.post(
    "/api/supervision-rounds", body=SupervisionRoundIn, response=SupervisionRoundOut, status=201
)
async def create_supervision_round(req: Req, body: SupervisionRoundIn) -> SupervisionRoundOut:
    """Open a supervision round (staff): it lists every open follow-up and every overdue reply
    as they are now."""
    return await supervision.create_round(req.database, req.actor, body)


@api.get("/api/supervision-rounds", query=SupervisionRoundQuery, response=SupervisionRoundList)
async def list_supervision_rounds(req: Req, query: SupervisionRoundQuery) -> SupervisionRoundList:
    """Rounds, newest first, with their progress (a unit's: of its own items)."""
    return await supervision.list_rounds(req.database, req.actor, query)


@api.get(ROUND, response=SupervisionRoundOut)
async def get_supervision_round(req: Req, round_id: int) -> SupervisionRoundOut:
    """A round and its items (a unit sees its own items)."""
    return await supervision.get_round(req.database, req.actor, round_id)


@api.patch(ROUND, body=SupervisionRoundPatch, response=SupervisionRoundOut)
async def update_supervision_round(
    req: Req, round_id: int, body: SupervisionRoundPatch
) -> SupervisionRoundOut:
    """Close a round to reports, or open it again (staff)."""
    return await supervision.update_round(req.database, req.actor, round_id, body)


@api.post(
    f"{ROUND}/items/{{item_id}}/report", body=SupervisionReportIn, response=SupervisionItemOut
)
async def report_supervision_item(
    req: Req, round_id: int, item_id: int, body: SupervisionReportIn
) -> SupervisionItemOut:
    """The owner unit's report on one item (staff may report for it); replaces an earlier one
    while the round is open."""
    return await supervision.report(req.database, req.actor, round_id, item_id, body)


@api.get(f"{ROUND}/report.docx", produces=DOCX)
async def supervision_round_docx(req: Req, round_id: int) -> web.Response:
    """The round's report as a Word document (staff and leaders)."""
    name, body = await supervision.export_round(
        req.database, req.actor, round_id, req.config.timezone
    )
    return web.Response(
        body=body,
        content_type=DOCX,
        headers={
            "Content-Disposition": attachment_disposition(name, f"supervision-{round_id}"),
            "Cache-Control": "no-store",
        },
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@api.get("/api/stats/units", query=UnitStatsQuery, response=UnitStatsOut)
async def get_unit_stats(req: Req, query: UnitStatsQuery) -> UnitStatsOut:
    """Per undertaking unit: proposals as lead and co-handling unit, on-time replies,
    satisfaction, reply classes and open follow-ups; most proposals first (staff and leaders)."""
    return await unit_stats.unit_stats(req.database, req.actor, query, req.config.timezone)


@api.get("/api/stats/units.xlsx", query=UnitStatsQuery, produces=XLSX)
async def unit_stats_xlsx(req: Req, query: UnitStatsQuery) -> web.Response:
    """The per-unit table as a spreadsheet."""
    out = await unit_stats.unit_stats(req.database, req.actor, query, req.config.timezone)
    body = await asyncio.to_thread(unit_stats.to_xlsx, out)
    name = f"承办单位办理情况-{out.year or '全部'}.xlsx"
    return web.Response(
        body=body,
        content_type=XLSX,
        headers={
            "Content-Disposition": attachment_disposition(name, "unit-stats"),
            "Cache-Control": "no-store",
        },
    )
