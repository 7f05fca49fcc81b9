"""HTTP routes of the notices: a person reads and marks their own, and sets which kinds
come by email."""

from __future__ import annotations

from server.api import Api, Req
from server.errors import request_language
from server.notices import service
from server.notices.schemas import (
    EmailPreferencesIn,
    EmailPreferencesOut,
    NoticeList,
    NoticeQuery,
    ReadIn,
    ReadOut,
)

api = Api(tag="notifications")


@api.get("/api/me/notifications", query=NoticeQuery, response=NoticeList)
async def list_notifications(req: Req, query: NoticeQuery) -> NoticeList:
    """Your notifications, newest first, with the count of unread ones."""
    return await service.inbox(
        req.database,
        req.actor,
        unread_only=query.unread,
        before=query.before,
        limit=query.limit,
        language=request_language(req.request),
    )


@api.post("/api/me/notifications/read", body=ReadIn, response=ReadOut)
async def mark_read(req: Req, body: ReadIn) -> ReadOut:
    """Mark some of your notifications read (or all of them)."""
    unread = await service.mark_read(req.database, req.actor, body.ids, everything=body.all)
    return ReadOut(unread=unread)


@api.get("/api/me/notification-settings", response=EmailPreferencesOut)
async def email_preferences(req: Req) -> EmailPreferencesOut:
    """Which kinds of notification you get by email."""
    return await service.email_preferences(req.database, req.actor, request_language(req.request))


@api.patch("/api/me/notification-settings", body=EmailPreferencesIn, response=EmailPreferencesOut)
async def set_email_preferences(req: Req, body: EmailPreferencesIn) -> EmailPreferencesOut:
    """Turn the email of some kinds of notification on or off."""
    return await service.set_email_preferences(
        req.database, req.actor, body, request_language(req.request)
    )
