"""Builds the aiohttp application: config, database, Socket.IO, routes and static files."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import workdays
from server import __version__, logs
from server import metrics as metrics_http
from server.api import (
    CONFIG,
    DATABASE,
    MAILER,
    PASSWORDS,
    SIGNED_OUT,
    SIGNER,
    Api,
    SignedOut,
    add_routes,
)
from server.audit import service as audit
from server.audit.routes import api as audit_api
from server.auth import (
    Handler,
    Principal,
    Role,
    client_address,
    make_auth_middleware,
    token_digest,
)
from server.config import Config
from server.db import Database
from server.directory import service as directory_service
from server.directory.identity_routes import LDAP, OIDC, RETURN_PATH
from server.directory.identity_routes import api as identity_api
from server.directory.ldap import Directory, LdapSettings
from server.directory.oidc import OidcClient, OidcSettings
from server.directory.routes import api as directory_api
from server.errors import error_middleware
from server.jobs import Leadership, job_lock
from server.limits import AddressLimiter, RateLimiter, make_limit_middleware
from server.mail import Mailer, OutboxWorker, Transport, outbox_state
from server.media import recordings
from server.media.backends import make_media, media_stats
from server.media.base import MediaBackend
from server.media.compositing import Compositor
from server.media.embedded.sfu import Sfu
from server.media.routes import MEDIA, SFU
from server.media.routes import api as media_api
from server.metrics import Metrics
from server.migrate import check_schema
from server.notices.delivery import EVENT as NOTICE_EVENT
from server.notices.delivery import NoticeDelivery
from server.notices.routes import api as notices_api
from server.notices.service import MailSettings
from server.openapi import build_openapi
from server.packets import Packet as DecodingPacket
from server.proposals.drafts_routes import api as drafts_api
from server.proposals.handling_routes import REPLY_HOOKS
from server.proposals.handling_routes import api as handling_api
from server.proposals.lifecycle import ReplyTerm
from server.proposals.routes import DEADLINES, SESSIONS_OF
from server.proposals.routes import api as proposals_api
from server.proposals.service import CountedSessions, Deadlines
from server.read_batch import ReadBatch
from server.realtime import (
    ORIGINS,
    SIO,
    OriginWatch,
    close_redis,
    close_socketio,
    make_socketio,
    notify_person,
    realtime_lane,
    start_socketio,
)
from server.record.followups import follow_reply_commitments
from server.record.reminders import ReminderLoop, remind_evaluations, remind_overdue
from server.record.routes import api as record_api
from server.record.routes import minutes_api
from server.rooms import store as room_store
from server.rooms.emitters import RoomDelivery, make_emitter, make_restarter
from server.rooms.events import NAMESPACE, RoomNamespace
from server.rooms.media_policy import follow_room
from server.rooms.routes import HUB
from server.rooms.routes import api as rooms_api
from server.rooms.service import RoomHub
from server.rooms.token_watch import TokenWatch
from server.selection.routes import api as selection_api
from server.sessions import workday_calendars
from server.sessions.calendar_routes import CALENDARING, add_link_routes
from server.sessions.calendar_routes import api as calendar_api
from server.sessions.counter_routes import api as counter_api
from server.sessions.invites import Calendaring
from server.sessions.routes import api as sessions_api
from server.sessions.service import sessions_of_proposals
from server.signing import Signer, load_or_create_secret
from server.system_routes import api as system_api
from server.tasks import to_the_end

log = logging.getLogger(__name__)
SENDER_NAME = "政协提案委员会 xieshang"  # shown beside the sender address of every mail
APIS: tuple[Api, ...] = (
    system_api,
    directory_api,
    identity_api,
    proposals_api,
    drafts_api,
    handling_api,
    record_api,
    sessions_api,
    calendar_api,
    counter_api,
    minutes_api,
    rooms_api,
    media_api,
    audit_api,
    notices_api,
    selection_api,
)
OUTBOX = web.AppKey("outbox", OutboxWorker)
SIGNED_IN = web.AppKey("signed_in", ReadBatch)  # who each token signs in: a crowd's in one query
METRICS = web.AppKey("metrics", Metrics)
RECENT_FAILURES = dt.timedelta(hours=1)  # mail given up on this recently counts as failing


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every route."""
    return build_openapi(APIS, title="xieshang API", version=__version__)


# ---------------------------------------------------------------- the composition root
# Every long-lived object of a running server is built here, and handed what it needs by its
# constructor. The shared infrastructure that lives as long as the app (config, passwords, the
# signer, the mail sender, Socket.IO) is built in create_app; what needs the database is built
# when the app starts (build_services) and closed, in reverse order, when it stops.


def signer_of(config: Config) -> Signer:
    """The one signer of links and tokens, with the previous keys it still accepts."""
    secret = config.secret_key or load_or_create_secret(config.secret_file)
    return Signer(secret=secret, previous=config.previous_secret_keys)


def mailer_of(config: Config, wake: Callable[[], None]) -> Mailer:
    """Who the server's mail comes from; ``wake`` sends what was queued now."""
    return Mailer(sender=config.mail_from, sender_name=SENDER_NAME, wake=wake)


def calendaring(
    config: Config, wake: Callable[[], None], *, signer: Signer | None = None
) -> Calendaring:
    """Scheduling settings of a running server (the CLI builds one too)."""
    mailer = mailer_of(config, wake)
    return Calendaring(
        public_url=config.public_url,
        sender=mailer.sender,
        sender_name=mailer.sender_name,
        signer=signer or signer_of(config),
        buffer=dt.timedelta(minutes=config.conflict_buffer_minutes),
        default_timezone=config.timezone,
        workdays=workdays.shipped(),
        wake=mailer.wake,
    )


def deadlines_of(config: Config) -> Deadlines:
    """How assigning sets a reply's due day: the configured term on the working-day calendar
    staff keep (the sessions feature's; the proposals read it from here)."""
    shipped = workdays.shipped()

    async def calendar(db: AsyncSession) -> workdays.WorkCalendar:
        return await workday_calendars.effective(db, shipped)

    term = ReplyTerm(days=config.reply_days, working_days=config.reply_working_days)
    return Deadlines(term=term, calendar=calendar)


@dataclass
class Services:
    """The long-lived objects that need the database, in the order they start."""

    database: Database
    signed_in: ReadBatch[str, Principal]
    outbox: OutboxWorker
    leadership: Leadership
    reminders: ReminderLoop
    compositor: Compositor
    hub: RoomHub
    media: MediaBackend
    delivery: RoomDelivery
    tokens: TokenWatch
    namespace: RoomNamespace
    notices: NoticeDelivery


def _outbox(config: Config, database: Database) -> OutboxWorker:
    transport = Transport(
        smtp_url=config.smtp_url, mail_dir=config.mail_dir, timeout=config.smtp_timeout_seconds
    )
    return OutboxWorker(
        database=database,
        transport=transport,
        sender=config.mail_from,
        concurrency=config.mail_concurrency,
    )


def _leadership(config: Config) -> Leadership:
    """Which process runs the once-only jobs (see :mod:`server.jobs`)."""
    ttl = float(config.job_lock_seconds)
    lock = job_lock(config.db_url, config.redis_url, prefix=config.redis_channel, ttl=ttl)
    return Leadership(lock, ttl=ttl)


def _reminders(
    config: Config, database: Database, mailer: Mailer, leadership: Leadership
) -> ReminderLoop:
    async def remind() -> None:
        zone, sender = config.timezone, mailer.sender
        reminded = (await remind_overdue(database, None, zone=zone, sender=sender)).reminded
        if reminded:
            log.info("reminders: %d overdue follow-ups reminded", reminded)
            mailer.wake()
        evaluations = await remind_evaluations(database)
        if evaluations:
            log.info("reminders: %d proposers reminded to evaluate a reply", evaluations)

    loop = ReminderLoop(remind, float(config.remind_seconds), may_run=lambda: leadership.held)
    leadership.on_gain.append(loop.wake)
    return loop


def _notices(config: Config, database: Database, mailer: Mailer, sio: Any) -> NoticeDelivery:
    """Pushes notices live after each commit and mails them through the outbox."""

    async def emit(person_id: int, data: dict[str, Any]) -> None:
        await notify_person(sio, person_id, NOTICE_EVENT, data)

    delivery = NoticeDelivery(
        database=database,
        emit=emit,
        settings=MailSettings(sender=mailer.sender, public_url=config.public_url),
        wake_outbox=mailer.wake,
    )
    database.on_commit.append(delivery.committed)
    return delivery


def _compositor(config: Config, database: Database, leadership: Leadership) -> Compositor:
    """Makes each recorded session's composite file, in the process that holds the job lock."""
    compositor = Compositor(
        database,
        config.recording_dir,
        room_store.timeline,
        budget=float(config.composite_budget_seconds),
        may_run=lambda: leadership.held,
    )
    leadership.on_gain.append(compositor.wake)
    return compositor


async def _media(
    config: Config, database: Database, hub: RoomHub, sio: Any, recorded_hook: Callable[[], None]
) -> MediaBackend:
    """The rooms' media backend, which tells the hub about feeds and stores recordings."""

    # The backends call these from tasks they cancel when a room or the server stops (the
    # speaker watch, feed tasks): the database work runs to its end all the same.
    async def feed_changed(session_id: int, kind: str, data: dict[str, Any]) -> None:
        await to_the_end(hub.record(session_id, kind, data, data["who"]))

    async def save(session_id: int, feed: Any, done: dict[str, Any]) -> None:
        room = await hub.room(session_id)
        who = room.state.get("attendance", {}).get(feed.who, {}).get("name") or feed.who
        await recordings.save(database, config.recording_dir, session_id, feed, who, done)

    async def recorded(session_id: int, feed: Any, done: dict[str, Any]) -> None:
        await to_the_end(save(session_id, feed, done))
        recorded_hook()

    return await make_media(
        config,
        database,
        on_feed=feed_changed,
        on_recorded=recorded,
        on_restart=make_restarter(sio),
        refresh=hub.snapshot,
    )


async def build_services(
    config: Config,
    database: Database,
    *,
    sio: Any,
    signer: Signer,
    mailer: Mailer,
    metrics: Metrics | None = None,
) -> Services:
    """Every long-lived service over ``database``, wired to each other; none started yet."""
    signed_in = directory_service.token_lookup(database)
    hub = RoomHub(
        database=database,
        emit=make_emitter(sio),
        single_process=config.redis_url is None,
        idle_seconds=float(config.room_idle_seconds),
    )
    outbox, leadership = _outbox(config, database), _leadership(config)
    compositor = _compositor(config, database, leadership)
    media = await _media(config, database, hub, sio, compositor.wake)
    delivery = RoomDelivery(sio=sio, hub=hub)
    tokens = TokenWatch(
        live=lambda digests: directory_service.live_token_digests(database, digests),
        end=lambda sid: namespace.disconnect(sid),
        interval=float(config.room_token_check_seconds),
    )
    namespace = RoomNamespace(
        hub=hub,
        tokens=tokens,
        database=database,
        limiter=RateLimiter(rate=float(config.room_command_rate), burst=config.room_command_burst),
        resolve=lambda token: signed_in.get(token_digest(token)),
        signer=signer,
        sfu=media,
        trusted_proxies=config.trusted_proxies,
        on_snapshot=delivery.baseline,
        count_command=metrics.command if metrics is not None else lambda _kind, _outcome: None,
    )
    hub.observers.append(follow_room(media, hub, namespace))
    reminders = _reminders(config, database, mailer, leadership)
    notices = _notices(config, database, mailer, sio)
    return Services(
        database,
        signed_in,
        outbox,
        leadership,
        reminders,
        compositor,
        hub,
        media,
        delivery,
        tokens,
        namespace,
        notices,
    )


def _publish(app: web.Application, services: Services) -> None:
    """Hand the services to the routes and to the app's own hooks."""
    app[DATABASE] = services.database
    app[SIGNED_IN] = services.signed_in
    app[OUTBOX] = services.outbox
    app[HUB] = services.hub
    app[MEDIA] = services.media
    if isinstance(services.media, Sfu):
        app[SFU] = services.media
    signed_out: list[SignedOut] = [services.tokens.revoked]
    app[SIGNED_OUT] = signed_out


def _start(services: Services, sio: Any) -> None:
    services.outbox.start()
    services.notices.start()
    services.leadership.start()
    services.reminders.start()
    services.compositor.start()
    services.delivery.start()
    sio.register_namespace(services.namespace)
    start_socketio(sio)
    services.tokens.start()


async def _stop(services: Services) -> None:
    await services.tokens.close()
    await services.delivery.close()
    await services.hub.close()
    await services.media.close()
    await services.reminders.stop()
    await services.compositor.stop()
    await services.leadership.stop()
    await services.notices.stop()
    await services.outbox.stop()


def _services_ctx(config: Config) -> Any:
    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        database = Database.from_url(config.db_url)
        try:
            await check_schema(database.engine, f" --db {config.db_url}")
            services = await build_services(
                config,
                database,
                sio=app[SIO],
                signer=app[SIGNER],
                mailer=app[MAILER],
                metrics=app[METRICS],
            )
            _publish(app, services)
            _start(services, app[SIO])
            yield
            await _stop(services)
        finally:
            await close_redis(app[SIO])
            await database.close()

    return services_ctx


def oidc_client(config: Config) -> OidcClient | None:
    """The relying party of the organisation's OpenID Connect provider, when one is set up."""
    if not config.oidc_issuer:
        return None
    role = Role(config.oidc_create_role) if config.oidc_create_role else None
    return OidcClient(
        OidcSettings(
            issuer=config.oidc_issuer,
            client_id=config.oidc_client_id,
            client_secret=config.oidc_client_secret,
            claim=config.oidc_claim,
            display_name=config.oidc_name,
            create_role=role,
        )
    )


def ldap_directory(config: Config) -> Directory | None:
    """The organisation's LDAP directory for password sign-in, when one is set up."""
    if not config.ldap_url:
        return None
    default = Role(config.ldap_default_role) if config.ldap_default_role else None
    return Directory(
        LdapSettings(
            url=config.ldap_url,
            user_dn=config.ldap_user_dn,
            search_base=config.ldap_search_base,
            search_filter=config.ldap_search_filter,
            bind_dn=config.ldap_bind_dn,
            bind_password=config.ldap_bind_password,
            role_groups=tuple((dn, Role(role)) for dn, role in config.ldap_role_groups),
            default_role=default,
            timeout=config.ldap_timeout_seconds,
        )
    )


def _security_headers(config: Config) -> Any:
    # Browsers heed HSTS only over HTTPS; sent only when people reach the server by https (TLS
    # ends at the reverse proxy), so a plain-HTTP test or dev server never pins a host to HTTPS.
    hsts = config.public_url.startswith("https://")

    @web.middleware
    async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        # Every response, pages or not, may only run this origin's scripts (routes that serve
        # documents of their own set a stricter policy first).
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return security_headers


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


# Browser libraries vendored in web/vendor/ by `make vendor` (see its MANIFEST.json): they ship
# in the wheel, so running the server needs no Node.js.
VENDOR = ("socket.io.esm.min.js", "uqr.mjs")
# The folders of web/ that pages load files from; the rest of web/ (npm's package files and
# node_modules, the vendor manifest) is not served.
WEB_FOLDERS = ("css", "img", "js")
HSTS = "max-age=31536000; includeSubDomains"  # a year; the README's proxy example sends it too
# Paths people open directly (links in emails, QR codes): the single-page app handles them.
APP_PATHS = ("/join/{session_id}", "/checkin/{session_id}", "/hall/{session_id}", RETURN_PATH)
# Links written into emails and calendar feeds whose page lives at a hash route of the app;
# the URLs stay as written (they sit in people's mailboxes), the server sends the browser on.
HASH_PATHS = {"/sessions/{session_id:[0-9]+}": "#/sessions/{session_id}"}
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _static_routes(app: web.Application, config: Config) -> None:
    index = config.web_dir / "index.html"
    if not index.is_file():
        return

    async def page(request: web.Request) -> web.FileResponse:
        app[ORIGINS].seen(f"{request.scheme}://{request.host}")
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    def to_hash(target: str) -> Handler:
        async def send_on(request: web.Request) -> web.StreamResponse:
            raise web.HTTPFound("/" + target.format(**request.match_info))

        return send_on

    async def vendor(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        path = config.web_dir / "vendor" / name
        if name not in VENDOR or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "text/javascript"})

    app.router.add_get("/", page)
    for path in APP_PATHS:
        app.router.add_get(path, page)
    for path, target in HASH_PATHS.items():
        app.router.add_get(path, to_hash(target))
    app.router.add_get("/vendor/{name}", vendor)
    for folder in WEB_FOLDERS:
        if (config.web_dir / folder).is_dir():
            app.router.add_static(f"/web/{folder}/", config.web_dir / folder, follow_symlinks=False)


def _metrics_reader(app: web.Application) -> Callable[[], Any]:
    """Refreshes the numbers read at scrape time (server/metrics.py Readings)."""

    async def read() -> None:
        readings = app[METRICS].readings
        manager = app[SIO].manager
        readings.connections = len(manager.rooms.get(NAMESPACE, {}).get(None, {}))
        readings.direct_deliveries = getattr(manager, "direct_deliveries", 0)
        readings.queued_deliveries = getattr(manager, "queued_deliveries", 0)
        readings.slow_client_drops = getattr(manager, "dropped_slow", 0)
        now = dt.datetime.now(dt.UTC)
        try:
            async with app[DATABASE].read() as db:
                outbox = await outbox_state(db, since=now - RECENT_FAILURES)
        except Exception:  # the database is away: the other numbers still help
            log.warning("metrics: could not read the outbox", exc_info=True)
            readings.outbox, readings.oldest_pending_seconds = {}, 0.0
        else:
            readings.outbox = outbox.counts
            oldest = outbox.oldest_pending_at
            readings.oldest_pending_seconds = (
                max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
            )
        stats = media_stats(app[MEDIA])
        readings.media_backend, readings.feeds = stats.backend, stats.feeds
        readings.subscriptions, readings.janus = stats.subscriptions, dict(stats.janus)

    return read


def create_app(config: Config) -> web.Application:
    """The whole server as an aiohttp application (not yet listening)."""

    async def resolve(token: str) -> Principal | None:
        signed_in: ReadBatch[str, Principal] = app[SIGNED_IN]
        return await signed_in.get(token_digest(token))

    metrics = Metrics()
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            realtime_lane(),  # first: a websocket lasts hours, and each middleware's frame with it
            logs.request_ids,
            metrics_http.middleware(metrics),
            _security_headers(config),
            _origin(config),
            _api_only(error_middleware),
            make_limit_middleware(AddressLimiter(float(config.api_rate), config.api_burst)),
            _api_only(make_auth_middleware(resolve)),
        ],
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    app[PASSWORDS] = config.passwords()
    if (client := oidc_client(config)) is not None:
        app[OIDC] = client
    if (directory := ldap_directory(config)) is not None:
        app[LDAP] = directory
    app.cleanup_ctx.append(_services_ctx(config))
    app[ORIGINS] = OriginWatch(config.public_url)
    sio = make_socketio(config, resolve, app[ORIGINS])
    sio.packet_class = DecodingPacket  # a message nested too deeply still gets its error ack
    sio.attach(app)
    app[SIO] = sio

    def wake_outbox() -> None:
        if OUTBOX in app:
            app[OUTBOX].wake()

    app[SIGNER] = signer_of(config)
    app[MAILER] = mailer_of(config, wake_outbox)
    app[CALENDARING] = calendaring(config, wake_outbox, signer=app[SIGNER])
    # The proposals read their sessions from above, with the modes that count for `during`.
    app[SESSIONS_OF] = CountedSessions(sessions_of_proposals, frozenset(config.during_modes))
    # Run in a unit's reply's transaction; the notices' "reply received" hooks in here too.
    app[REPLY_HOOKS] = [follow_reply_commitments]
    app[DEADLINES] = deadlines_of(config)

    async def stop_socketio(_app: web.Application) -> None:
        await close_socketio(sio)

    app.on_shutdown.append(stop_socketio)
    add_routes(app, APIS)
    document = openapi_document()

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/openapi.json", openapi)
    add_link_routes(app)
    metrics_http.add_route(app, metrics, config.metrics_token, _metrics_reader(app))
    _static_routes(app, config)
    return app
