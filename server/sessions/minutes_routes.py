"""HTTP routes of session minutes: read, edit, review, approve, correct, verify, export."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from server.api import Api, Req
from server.audit import service as audit
from server.sessions import minutes
from server.sessions.minutes_export import to_docx, to_html, to_markdown
from server.sessions.minutes_schemas import (
    MinutesCorrection,
    MinutesEdit,
    MinutesOut,
    MinutesQuery,
    MinutesTransition,
    MinutesVerifyOut,
    MinutesVersionList,
)

api = Api(tag="minutes")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BASE = "/api/sessions/{session_id}/minutes"


@api.get(BASE, query=MinutesQuery, response=MinutesOut)
async def get_minutes(req: Req, session_id: int, query: MinutesQuery) -> MinutesOut:
    """The minutes (newest version you may read, or ``?version=N``); drafts for staff, leaders
    and hosts, approved versions for everyone who can see the session."""
    return await minutes.get_minutes(req.database, req.actor, session_id, query.version)


@api.route("PUT", BASE, body=MinutesEdit, response=MinutesOut)
async def edit_minutes(req: Req, session_id: int, body: MinutesEdit) -> MinutesOut:
    """Save draft minutes as a new version (staff); ``base_version`` must be the newest."""
    return await minutes.edit(req.database, req.actor, session_id, body)


@api.post(f"{BASE}/transitions", body=MinutesTransition, response=MinutesOut)
async def minutes_transition(req: Req, session_id: int, body: MinutesTransition) -> MinutesOut:
    """draft → in_review → approved, or in_review → draft (staff)."""
    return await minutes.transition(req.database, req.actor, session_id, body)


@api.post(f"{BASE}/corrections", body=MinutesCorrection, response=MinutesOut, status=201)
async def correct_minutes(req: Req, session_id: int, body: MinutesCorrection) -> MinutesOut:
    """Correct approved minutes: a new draft version to approve again (staff)."""
    return await minutes.correct(req.database, req.actor, session_id, body)


@api.get(f"{BASE}/versions", response=MinutesVersionList)
async def minutes_versions(req: Req, session_id: int) -> MinutesVersionList:
    """Every version you may read, oldest first, with author, time and hash chain."""
    return await minutes.list_versions(req.database, req.actor, session_id)


@api.get(f"{BASE}/verify", response=MinutesVerifyOut)
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


@api.get("/api/sessions/{session_id}/minutes.docx", query=MinutesQuery, produces=DOCX)
async def minutes_docx(req: Req, session_id: int, query: MinutesQuery) -> web.Response:
    """The minutes as a Word document (the newest approved version unless ``?version=N``)."""
    out, titles = await minutes.export_content(req.database, req.actor, session_id, query.version)
    return await _download(req, to_docx(out, titles), DOCX, out, "docx")


@api.get("/api/sessions/{session_id}/minutes.md", query=MinutesQuery, produces="text/markdown")
async def minutes_markdown(req: Req, session_id: int, query: MinutesQuery) -> web.Response:
    """The minutes as Markdown (the newest approved version unless ``?version=N``)."""
    out, titles = await minutes.export_content(req.database, req.actor, session_id, query.version)
    return await _download(req, to_markdown(out, titles).encode(), "text/markdown", out, "md")


@api.get("/api/sessions/{session_id}/minutes.html", query=MinutesQuery, produces="text/html")
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
