"""Accounts, tokens, roles and permission checks shared by every feature.

A login token is 32 random bytes shown to the client once; only its SHA-256 is stored, so a
leaked database does not leak usable tokens. Passwords are hashed with argon2id.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import PERSON_LANGUAGE_KEY, Forbidden, Unauthorized
from server.i18n import DEFAULT, _


class Role(StrEnum):
    """What kind of account a person has."""

    STAFF = "staff"
    MEMBER = "member"
    UNIT = "unit"
    LEADER = "leader"
    GUEST = "guest"


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The person behind a request."""

    id: int
    username: str
    name: str
    role: Role
    unit_id: int | None = None
    language: str = DEFAULT  # the person's chosen language (server.i18n.LANGUAGES)

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def reads_everything(self) -> bool:
        """Staff run the work and leaders supervise it: both may read every record."""
        return self.role in (Role.STAFF, Role.LEADER)


# Each role in words, for messages (the web shows the same words).
ROLE_WORDS = {
    Role.STAFF: _("committee staff"),
    Role.MEMBER: _("member"),
    Role.UNIT: _("undertaking unit"),
    Role.LEADER: _("leader"),
    Role.GUEST: _("guest"),
}

MIN_PASSWORD_LENGTH = 8


class Passwords:
    """argon2id hashing with the configured cost, run off the event loop."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verified against when the username is unknown, so both paths cost the same time.
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    async def hash(self, password: str) -> str:
        """The argon2id hash of ``password``."""
        return await asyncio.to_thread(self._hasher.hash, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches; takes the same time when there is no stored hash."""
        return await asyncio.to_thread(self._verify, stored, password)


_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]{16,128}")


def new_token() -> str:
    """A fresh random bearer token."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def require_staff(actor: Principal) -> None:
    """Only staff may do this."""
    if not actor.is_staff:
        raise Forbidden(_("Only committee staff may do this."))


def require_not_guest(actor: Principal) -> None:
    """Guests see public sessions and nothing else."""
    if actor.role is Role.GUEST:
        raise Forbidden(_("Guest accounts can only see public sessions."))


def client_address(remote: str | None, forwarded_for: str | None, trusted: Collection[str]) -> str:
    """Who sent a request: the peer's address or, when the peer is one of our ``trusted`` reverse
    proxies, the last address in X-Forwarded-For that is not one of them (earlier entries are
    whatever the client chose to write)."""
    address = remote or "unknown"
    if forwarded_for and address in trusted:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        while hops and hops[-1] in trusted:
            hops.pop()
        if hops:
            address = hops[-1]
    return address[:64]


PRINCIPAL_KEY = web.RequestKey("principal", Principal)
STALE_TOKEN_KEY = web.RequestKey("stale_token", bool)
TokenResolver = Callable[[str], Awaitable[Principal | None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    # Anything that cannot be one of our tokens is treated as a stale one, never decoded further.
    return value if _TOKEN_TEXT.fullmatch(value) else "-"


def make_auth_middleware(
    resolve: TokenResolver,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware that puts the request's :class:`Principal` on the request when the token is live.

    A stale token does not block public routes (signing in again must work); routes that need
    a person answer 401 through :func:`principal_of`, which says why.
    """

    @web.middleware
    async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = bearer_token(request)
        if token:
            principal = await resolve(token)
            if principal is None:
                request[STALE_TOKEN_KEY] = True
            else:
                request[PRINCIPAL_KEY] = principal
                request[PERSON_LANGUAGE_KEY] = principal.language
        return await handler(request)

    return auth_middleware


def principal_of(request: web.Request) -> Principal:
    """The signed-in person, or 401."""
    principal: Principal | None = request.get(PRINCIPAL_KEY)
    if principal is None and request.get(STALE_TOKEN_KEY):
        raise Unauthorized(_("Your login token is invalid, expired or revoked; sign in again."))
    if principal is None:
        raise Unauthorized(
            _("Sign in first: send Authorization: Bearer <token> from POST /api/auth/login.")
        )
    return principal
