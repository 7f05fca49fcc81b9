"""HTTP routes of room media: a session's recordings, listed and downloaded."""

from __future__ import annotations

from aiohttp import web

from server.api import Api, Req
from server.audit import service as audit
from server.media import recordings
from server.media.base import MediaBackend
from server.media.embedded.sfu import Sfu
from server.media.models import COMPOSITE
from server.media.recordings import RecordingList

api = Api(tag="rooms")  # the tag they had beside the room routes: the API document is unchanged
# The rooms' media backend (built in app.py), and the embedded SFU when it is the one.
MEDIA = web.AppKey("media", MediaBackend)
SFU = web.AppKey("sfu", Sfu)


@api.get("/api/sessions/{session_id}/recordings", response=RecordingList)
async def session_recordings(req: Req, session_id: int) -> RecordingList:
    """The session's recorded feeds (staff and leaders)."""
    return await recordings.list_recordings(req.database, req.actor, session_id)


@api.get("/api/recordings/{recording_id}", produces=("video/webm", "video/mp4"), problems=("409",))
async def download_recording(req: Req, recording_id: int) -> web.FileResponse:
    """A recording's file (staff): a feed's WebM, or the session's composite MP4."""
    row, path = await recordings.file_of(
        req.database, req.actor, req.config.recording_dir, recording_id
    )
    await audit.record_now(
        req.database,
        "recording.download",
        actor=req.actor,
        object_type="recording",
        object_id=row.id,
        session_id=row.session_id,
    )
    kind, suffix = ("video/mp4", "mp4") if row.kind == COMPOSITE else ("video/webm", "webm")
    name = f"session-{row.session_id}-{row.id}.{suffix}"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": kind,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
