"""Builds the aiohttp application: config, database, Socket.IO, routes and static files."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import socketio
from aiohttp import web

from scheduling import workdays
from server import __version__
from server.api import CONFIG, DATABASE, PASSWORDS, Api, add_routes
from server.audit import service as audit
from server.audit.routes import api as audit_api
from server.auth import Handler, Principal, client_address, make_auth_middleware
from server.config import Config
from server.db import Database
from server.directory import service as directory_service
from server.directory.routes import api as directory_api
from server.errors import error_middleware
from server.limits import AddressLimiter, RateLimiter, make_limit_middleware
from server.mail import OutboxWorker, Transport
from server.migrate import check_schema
from server.openapi import build_openapi
from server.proposals.followups import ReminderLoop, remind_overdue
from server.proposals.handling_routes import api as handling_api
from server.proposals.routes import api as proposals_api
from server.realtime import close_socketio, make_socketio
from server.rooms import recordings
from server.rooms.backend import MEDIA, make_media
from server.rooms.emitters import make_emitter, make_restarter
from server.rooms.events import RoomNamespace, follow_room
from server.rooms.media import SFU, Sfu
from server.rooms.routes import api as rooms_api
from server.rooms.service import HUB, RoomHub
from server.sessions.calendar_routes import CALENDARING, add_link_routes
from server.sessions.calendar_routes import api as calendar_api
from server.sessions.counter_routes import api as counter_api
from server.sessions.invites import Calendaring
from server.sessions.minutes_routes import api as minutes_api
from server.sessions.routes import api as sessions_api
from server.signing import Signer, load_or_create_secret
from server.system_routes import api as system_api

REMIND_SECONDS = 3600.0  # overdue follow-ups are checked hourly (each reminded once a day)
APIS: tuple[Api, ...] = (
    system_api,
    directory_api,
    proposals_api,
    handling_api,
    sessions_api,
    calendar_api,
    counter_api,
    minutes_api,
    rooms_api,
    audit_api,
)
OUTBOX = web.AppKey("outbox", OutboxWorker)
SIO = web.AppKey("sio", socketio.AsyncServer)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every route."""
    return build_openapi(APIS, title="xieshang API", version=__version__)


def _database_ctx(config: Config) -> Any:
    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        database = Database.from_url(config.db_url)
        try:
            await check_schema(database.engine, f" --db {config.db_url}")
            app[DATABASE] = database
            worker = OutboxWorker(
                database=database,
                transport=Transport(smtp_url=config.smtp_url, mail_dir=config.mail_dir),
                sender=config.mail_from,
            )
            app[OUTBOX] = worker
            worker.start()
            sender = app[CALENDARING].sender

            async def remind() -> None:
                if (
                    await remind_overdue(database, None, zone=config.timezone, sender=sender)
                ).reminded:
                    worker.wake()

            reminders = ReminderLoop(remind, REMIND_SECONDS)
            reminders.start()
            hub = RoomHub(
                database=database,
                emit=make_emitter(app[SIO]),
                single_process=config.redis_url is None,
                idle_seconds=float(config.room_idle_seconds),
            )
            app[HUB] = hub

            async def feed_changed(session_id: int, kind: str, data: dict[str, Any]) -> None:
                await hub.record(session_id, kind, data, data["who"])

            async def recorded(session_id: int, feed: Any, done: dict[str, Any]) -> None:
                room = await hub.room(session_id)
                who = room.state.get("attendance", {}).get(feed.who, {}).get("name") or feed.who
                await recordings.save(database, config.recording_dir, session_id, feed, who, done)

            sfu = await make_media(
                config,
                database,
                on_feed=feed_changed,
                on_recorded=recorded,
                on_restart=make_restarter(app[SIO]),
                refresh=hub.snapshot,
            )
            app[MEDIA] = sfu
            if isinstance(sfu, Sfu):
                app[SFU] = sfu
            namespace = RoomNamespace(
                hub=hub,
                database=database,
                limiter=RateLimiter(
                    rate=float(config.room_command_rate), burst=config.room_command_burst
                ),
                resolve=lambda token: directory_service.principal_for_token(database, token),
                signer=app[CALENDARING].signer,
                sfu=sfu,
                trusted_proxies=config.trusted_proxies,
            )
            hub.observers.append(follow_room(sfu, hub, namespace))
            app[SIO].register_namespace(namespace)
            yield
            await hub.close()
            await sfu.close()
            await reminders.stop()
            await worker.stop()
        finally:
            await database.close()

    return database_ctx


def calendaring(config: Config, wake: Callable[[], None]) -> Calendaring:
    """Scheduling settings of a running server (the CLI builds one too)."""
    secret = config.secret_key or load_or_create_secret(config.secret_file)
    return Calendaring(
        public_url=config.public_url,
        sender=config.mail_from,
        sender_name="政协提案委员会 xieshang",
        signer=Signer(secret=secret, previous=config.previous_secret_keys),
        buffer=dt.timedelta(minutes=config.conflict_buffer_minutes),
        default_timezone=config.timezone,
        workdays=workdays.shipped(),
        wake=wake,
    )


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    # Every response, pages or not, may only run this origin's scripts (routes that serve
    # documents of their own set a stricter policy first).
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _origin(config: Config) -> Any:
    @web.middleware
    async def origin(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded = request.headers.get("X-Forwarded-For")
        audit.set_origin(client_address(request.remote, forwarded, config.trusted_proxies))
        return await handler(request)

    return origin


def _api_only(middleware: Any) -> Any:
    @web.middleware
    async def only_api(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        result: web.StreamResponse = await middleware(request, handler)
        return result

    return only_api


# Browser libraries, from web/node_modules (installed by `make` from web/package-lock.json).
VENDOR = {
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
    "uqr.mjs": "uqr/dist/index.mjs",
}
# Paths people open directly (links in emails, QR codes): the single-page app handles them.
APP_PATHS = ("/join/{session_id}", "/checkin/{session_id}")
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _static_routes(app: web.Application, config: Config) -> None:
    index = config.web_dir / "index.html"
    if not index.is_file():
        return

    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def vendor(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        path = config.web_dir / "node_modules" / VENDOR.get(name, "-missing-")
        if name not in VENDOR or not path.is_file():
            raise web.HTTPNotFound(text=f"{name}: run `make` to install the web libraries")
        return web.FileResponse(path, headers={"Content-Type": "text/javascript"})

    app.router.add_get("/", page)
    for path in APP_PATHS:
        app.router.add_get(path, page)
    app.router.add_get("/vendor/{name}", vendor)
    app.router.add_static("/web/", config.web_dir, follow_symlinks=False)


def create_app(config: Config) -> web.Application:
    """The whole server as an aiohttp application (not yet listening)."""

    async def resolve(token: str) -> Principal | None:
        return await directory_service.principal_for_token(app[DATABASE], token)

    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            _security_headers,
            _origin(config),
            _api_only(error_middleware),
            make_limit_middleware(AddressLimiter(float(config.api_rate), config.api_burst)),
            _api_only(make_auth_middleware(resolve)),
        ],
    )
    app[CONFIG] = config
    app[PASSWORDS] = config.passwords()
    app.cleanup_ctx.append(_database_ctx(config))
    sio = make_socketio(config, resolve)
    sio.attach(app)
    app[SIO] = sio

    def wake_outbox() -> None:
        if OUTBOX in app:
            app[OUTBOX].wake()

    app[CALENDARING] = calendaring(config, wake_outbox)

    async def stop_socketio(_app: web.Application) -> None:
        await close_socketio(sio)

    app.on_shutdown.append(stop_socketio)
    add_routes(app, APIS)
    document = openapi_document()

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/openapi.json", openapi)
    add_link_routes(app)
    _static_routes(app, config)
    return app
