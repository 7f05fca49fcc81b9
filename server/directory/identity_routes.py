"""HTTP routes of sign-in with the organisation's identity (OpenID Connect; LDAP rides on
``POST /api/auth/login``).

The browser starts at ``POST /api/auth/oidc/start``, which answers the provider's URL and keeps
the flow (state, nonce, PKCE verifier) in a signed, HttpOnly cookie scoped to these routes, so
any server process can finish it. The provider sends the browser back to ``/login/oidc``; the
sign-in page posts what came back to ``POST /api/auth/oidc/finish``, which answers a login token
exactly as password sign-in does.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from server.api import SIGNER, Api, Req
from server.db import utcnow
from server.directory import identity
from server.directory.ldap import Directory
from server.directory.oidc import FLOW_MINUTES, Flow, OidcClient, SignInRefused, check_state
from server.directory.schemas import (
    LoginOut,
    OidcButton,
    OidcFinishIn,
    OidcStartOut,
    SignInMethods,
)
from server.errors import NotFound
from server.i18n import _
from server.signing import BadSignature

api = Api(tag="directory")
OIDC = web.AppKey("oidc", OidcClient)
LDAP = web.AppKey("ldap", Directory)
COOKIE, COOKIE_PATH, PURPOSE = "xs_oidc", "/api/auth/oidc/", "oidc-flow"
RETURN_PATH = "/login/oidc"  # the page the provider sends the browser back to


def _client(req: Req) -> OidcClient:
    client = req.request.app.get(OIDC)
    if client is None:
        raise NotFound(_("Sign-in with the organisation's account is not set up on this server."))
    return client


def _redirect_uri(req: Req) -> str:
    return req.config.public_url + RETURN_PATH


def _flow(req: Req) -> Flow | None:
    raw = req.request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return Flow.from_payload(req.request.app[SIGNER].verify(PURPOSE, raw, utcnow()))
    except (BadSignature, KeyError):
        return None


def _json(model: LoginOut | OidcStartOut) -> web.Response:
    return web.Response(text=model.model_dump_json(), content_type="application/json")


@api.get("/api/auth/methods", response=SignInMethods, public=True)
async def methods(req: Req) -> SignInMethods:
    """How one may sign in here: the organisation's provider (if set up) besides a password."""
    client = req.request.app.get(OIDC)
    button = OidcButton(name=client.settings.display_name) if client is not None else None
    return SignInMethods(oidc=button, ldap=req.request.app.get(LDAP) is not None)


# 404: no provider is set up here.
@api.post("/api/auth/oidc/start", response=OidcStartOut, public=True, problems=("404",))
async def oidc_start(req: Req) -> web.Response:
    """Start signing in with the organisation's provider: answers the URL to send the browser
    to, and keeps this sign-in's state in a cookie."""
    url, flow = await identity.oidc_start(_client(req), _redirect_uri(req))
    expires = utcnow() + dt.timedelta(minutes=FLOW_MINUTES)
    response = _json(OidcStartOut(url=url))
    response.set_cookie(
        COOKIE,
        req.request.app[SIGNER].sign(PURPOSE, flow.as_payload(), expires),
        max_age=FLOW_MINUTES * 60,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=req.config.public_url.startswith("https://"),
    )
    return response


# 403: nobody here matches the provider's person (or their account is disabled).
@api.post(
    "/api/auth/oidc/finish", body=OidcFinishIn, response=LoginOut, public=True, problems=("403",)
)
async def oidc_finish(req: Req, body: OidcFinishIn) -> web.Response:
    """Finish signing in with the organisation's provider: checks what it sent back and
    answers a login token, as ``POST /api/auth/login`` does."""
    client = _client(req)
    flow = check_state(_flow(req), body.state)
    if body.error or not body.code:
        raise SignInRefused(
            _(
                "The organisation's sign-in service did not sign you in ({error}); start again "
                "from the sign-in page.",
                error=body.error_description or body.error or "no code",
            )
        )
    ttl = dt.timedelta(hours=req.config.token_ttl_hours)
    out = await identity.oidc_finish(req.database, client, flow, body.code, _redirect_uri(req), ttl)
    response = _json(out)
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response
