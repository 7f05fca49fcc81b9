"""Sign-in with the organisation's identity: OpenID Connect and the LDAP directory.

Both end where password sign-in ends: a login token for an account of ours, and an entry in
the audit log (``auth.login`` with ``method`` ``oidc`` or ``ldap``; refusals as
``auth.login_failed``).

Who is who:
- OpenID Connect: the ID token's configured claim (``preferred_username`` by default, or
  ``email``) is matched to an account's username (or email). Nobody matches: the sign-in is
  refused, or, with a role to create accounts with, an account is created.
- LDAP: the directory vouches for a username and password; the account with that username is
  used, or created on the first sign-in with the role the person's groups map to (or the
  default role; neither: refused). A mapped group sets the role at every sign-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from server.audit import service as audit
from server.auth import Passwords, Role
from server.db import Database, utcnow
from server.directory import service, store
from server.directory.ldap import Directory, DirectoryPerson
from server.directory.models import Person
from server.directory.oidc import Flow, OidcClient, SignInRefused
from server.directory.schemas import LoginOut
from server.errors import Forbidden
from server.i18n import _

_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{2,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _subject(kind: str, value: str) -> str:
    # As for password sign-ins: the audit log keeps a digest, never the identity's text.
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:40]


def _email(value: Any) -> str | None:
    text = str(value).strip() if value else ""
    return text if _EMAIL.fullmatch(text) and len(text) <= 254 else None


def _name(value: Any, fallback: str) -> str:
    text = " ".join(str(value or "").split())[:100]
    return text or fallback


# ---------------------------------------------------------------- OpenID Connect


async def oidc_start(client: OidcClient, redirect_uri: str) -> tuple[str, Flow]:
    """A new sign-in: the provider's URL to send the browser to, and the flow to keep."""
    flow = Flow.new()
    return await client.authorization_url(redirect_uri, flow), flow


async def _oidc_person(database: Database, claim: str, value: str) -> Person | None:
    async with database.read() as db:
        if claim == "email":
            found = await store.people_by_email(db, value)
            return found[0] if len(found) == 1 else None
        return await store.person_by_username(db, value.strip().lower())


def _new_username(claims: dict[str, Any], claim: str, value: str) -> str | None:
    candidate = value if claim != "email" else str(claims.get("preferred_username") or "")
    if not candidate and claim == "email":
        candidate = value.partition("@")[0]
    candidate = candidate.strip().lower()
    return candidate if _USERNAME.fullmatch(candidate) else None


async def _create(
    database: Database, username: str, name: str, email: str | None, role: Role, how: str
) -> Person:
    async with database.transaction() as db:
        if await store.person_by_username(db, username) is not None:
            raise Forbidden(
                _(
                    "An account named {username} exists but does not match your organisation "
                    "account; ask committee staff to link them.",
                    username=username,
                )
            )
        person = Person(
            username=username,
            name=name,
            email=email,
            role=role,
            password_hash=None,
            active=True,
            created_at=utcnow(),
        )
        await store.add(db, person)
        await audit.record(
            db,
            "person.create",
            actor=None,
            object_type="person",
            object_id=person.id,
            username=username,
            role=role.value,
            source=how,
        )
    return person


async def _oidc_create(
    database: Database, claims: dict[str, Any], claim: str, value: str, role: Role
) -> Person | None:
    username = _new_username(claims, claim, value)
    if username is None:
        return None
    name = _name(claims.get("name"), username)
    return await _create(database, username, name, _email(claims.get("email")), role, "oidc")


class UnknownPerson(Forbidden):
    """Nobody here matches the organisation's identity (and accounts are not created)."""

    code = "unknown_person"


def _unknown_person(claim: str, value: str) -> UnknownPerson:
    return UnknownPerson(
        _(
            "No account here belongs to your organisation account ({claim}: {value}); ask "
            "committee staff to create one for you.",
            claim=claim,
            value=value[:100],
        )
    )


async def oidc_finish(
    database: Database,
    client: OidcClient,
    flow: Flow,
    code: str,
    redirect_uri: str,
    ttl: dt.timedelta,
) -> LoginOut:
    """Redeem the provider's code, verify its ID token and sign the matching person in."""
    try:
        claims = await client.identity(code, flow, redirect_uri, utcnow())
    except SignInRefused as refused:
        await service.login_failed(database, _subject("oidc", flow.state), None, refused.code)
        raise
    settings = client.settings
    value = claims.get(settings.claim)
    verified = settings.claim != "email" or claims.get("email_verified") is not False
    if not isinstance(value, str) or not value.strip() or not verified:
        await service.login_failed(database, _subject("oidc", flow.state), None, "no_claim")
        raise SignInRefused(
            _(
                "The organisation's sign-in service did not say who you are ({claim} is "
                "missing or unverified); ask its administrators to release it.",
                claim=settings.claim,
            )
        )
    subject = _subject("oidc", value.strip().lower())
    person = await _oidc_person(database, settings.claim, value)
    if person is None and settings.create_role is not None:
        person = await _oidc_create(database, claims, settings.claim, value, settings.create_role)
    if person is None:
        await service.login_failed(database, subject, None, "unknown")
        raise _unknown_person(settings.claim, value)
    return await service.issue_token(database, person, subject, ttl, method="oidc")


# ---------------------------------------------------------------- LDAP


async def _link(database: Database, username: str, found: DirectoryPerson) -> Person | None:
    async with database.transaction() as db:
        person = await store.person_by_username(db, username)
        if person is not None:
            mappable = found.role is not Role.UNIT or person.unit_id is not None
            if found.role is not None and found.role != person.role and mappable:
                await audit.record(
                    db,
                    "person.update",
                    actor=None,
                    object_type="person",
                    object_id=person.id,
                    role=found.role.value,
                    source="ldap",
                )
                person.role = found.role
            return person
    if found.role is None or found.role is Role.UNIT or not _USERNAME.fullmatch(username):
        # No mapped group (and a unit account also needs its unit: staff create those).
        raise UnknownPerson(
            _(
                "The organisation's directory knows you, but you are in none of the groups "
                "that may use this server and there is no account named {username} here; "
                "ask committee staff.",
                username=username,
            )
        )
    name = _name(found.name, username)
    return await _create(database, username, name, _email(found.email), found.role, "ldap")


def directory_check(
    database: Database, directory: Directory
) -> Callable[[str, str], Awaitable[Person | None]]:
    """Password sign-in's second opinion: the directory's, linked to (or creating) an account."""

    async def check(username: str, password: str) -> Person | None:
        found = await directory.check(username, password)
        return await _link(database, username, found) if found is not None else None

    return check


async def login(
    database: Database,
    passwords: Passwords,
    directory: Directory | None,
    username: str,
    password: str,
    ttl: dt.timedelta,
    limits: audit.LoginLimits,
) -> LoginOut:
    """Password sign-in, with the directory (when configured) for people without a local
    password."""
    check = directory_check(database, directory) if directory is not None else None
    return await service.login(database, passwords, username, password, ttl, limits, check)
