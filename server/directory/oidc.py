"""Sign-in with the organisation's OpenID Connect provider: the relying party's side.

The authorization code flow with PKCE (S256), a ``state`` that ties the answer to the browser
that asked, and a ``nonce`` that ties the ID token to this sign-in. The provider is found by
discovery (``ISSUER/.well-known/openid-configuration``); the ID token is verified against the
keys it publishes (JWKS, fetched again once when a token names a key we do not have), and its
issuer, audience, expiry and nonce are checked. authlib builds the protocol's requests,
joserfc verifies the token; the HTTP calls are aiohttp's, so nothing blocks the event loop.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from server.auth import Role
from server.errors import AppError, Unauthorized, Unavailable
from server.i18n import _

log = logging.getLogger(__name__)
DISCOVERY = "/.well-known/openid-configuration"
METADATA_SECONDS = 3600  # discovery and keys are fetched again after this
LEEWAY_SECONDS = 60  # clock difference tolerated between us and the provider
FLOW_MINUTES = 10  # a sign-in must come back within this
RETRY_SECONDS = 30
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


@dataclass(frozen=True, kw_only=True)
class OidcSettings:
    """The provider, this server's registration with it, and how people are matched."""

    issuer: str
    client_id: str
    client_secret: str | None
    claim: str = "preferred_username"
    display_name: str = ""
    create_role: Role | None = None
    scopes: str = "openid profile email"
    timeout: int = 10


@dataclass(frozen=True, kw_only=True)
class Flow:
    """What one sign-in must find again when the browser comes back (kept in a signed cookie)."""

    state: str
    nonce: str
    verifier: str

    def as_payload(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Flow:
        return cls(
            state=str(payload["state"]),
            nonce=str(payload["nonce"]),
            verifier=str(payload["verifier"]),
        )

    @classmethod
    def new(cls) -> Flow:
        return cls(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64))


class ProviderUnreachable(Unavailable):
    """The provider did not answer (or answered nonsense): password sign-in still works."""

    code = "oidc_unreachable"

    def __init__(self) -> None:
        super().__init__(
            _(
                "The organisation's sign-in service cannot be reached just now; try again "
                "later, or sign in with a username and password."
            ),
            retry_after=RETRY_SECONDS,
        )


class SignInRefused(Unauthorized):
    """The provider's answer was not good enough to sign anyone in."""

    code = "oidc_refused"


class WrongNonce(SignInRefused):
    code = "oidc_nonce"


class ExpiredToken(SignInRefused):
    code = "oidc_expired"


class BadState(AppError):
    status = 400
    code = "oidc_state"


def _wrong_nonce() -> WrongNonce:
    return WrongNonce(
        _(
            "The sign-in answer was issued for another sign-in (its nonce does not match), "
            "so it was refused. Start again from the sign-in page."
        )
    )


def _expired() -> ExpiredToken:
    return ExpiredToken(
        _(
            "The sign-in answer from the organisation's sign-in service has expired, so it was "
            "refused. Start again; if it keeps happening, the clocks of this server and the "
            "sign-in service differ."
        )
    )


def _unverifiable(reason: str) -> SignInRefused:
    log.warning("oidc: ID token refused: %s", reason)
    return SignInRefused(
        _(
            "The sign-in answer could not be verified (signature, issuer or audience), so it "
            "was refused. Start again from the sign-in page."
        )
    )


def check_state(flow: Flow | None, state: str) -> Flow:
    """The flow this answer belongs to, or 400 when it was not started in this browser."""
    if flow is None or not hmac.compare_digest(flow.state.encode(), state.encode()):
        raise BadState(
            _(
                "This sign-in was not started in this browser or took longer than {minutes} "
                "minutes; start again from the sign-in page.",
                minutes=FLOW_MINUTES,
            )
        )
    return flow


class OidcClient:
    """The relying party: builds the authorization URL, redeems the code, verifies the token."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    async def _get_json(self, http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
        async with http.get(url, headers={"Accept": "application/json"}) as resp:
            resp.raise_for_status()
            body = await resp.json(content_type=None)
        if not isinstance(body, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return body

    def _http(self) -> aiohttp.ClientSession:
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
        return aiohttp.ClientSession(timeout=timeout, trust_env=False)

    async def _load(self, *, keys_only: bool = False) -> None:
        issuer = self.settings.issuer.rstrip("/")
        try:
            async with self._http() as http:
                if not keys_only or self._metadata is None:
                    metadata = await self._get_json(http, issuer + DISCOVERY)
                    if metadata.get("issuer", "").rstrip("/") != issuer:
                        raise ValueError(f"discovery names issuer {metadata.get('issuer')!r}")
                    self._metadata = metadata
                jwks = await self._get_json(http, str(self._metadata["jwks_uri"]))
                self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, JoseError) as exc:
            log.warning("oidc: %s unreachable or unusable: %r", issuer, exc)
            raise ProviderUnreachable() from None
        self._fetched_at = time.monotonic()

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour)."""
        if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_SECONDS:
            await self._load()
        assert self._metadata is not None
        return self._metadata

    async def authorization_url(self, redirect_uri: str, flow: Flow) -> str:
        """Where to send the browser to start ``flow``."""
        metadata = await self.metadata()
        url: str = prepare_grant_uri(
            str(metadata["authorization_endpoint"]),
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=self.settings.scopes,
            state=flow.state,
            nonce=flow.nonce,
            code_challenge=create_s256_code_challenge(flow.verifier),
            code_challenge_method="S256",
        )
        return url

    async def _redeem(self, code: str, flow: Flow, redirect_uri: str) -> str:
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": flow.verifier,
        }
        headers = {"Accept": "application/json"}
        if self.settings.client_secret:  # client_secret_basic: each part form-encoded first
            pair = f"{quote(self.settings.client_id)}:{quote(self.settings.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        try:
            async with self._http() as http:
                endpoint = str(metadata["token_endpoint"])
                async with http.post(endpoint, data=form, headers=headers) as resp:
                    body = await resp.json(content_type=None)
                    status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            log.warning("oidc: token endpoint unreachable: %r", exc)
            raise ProviderUnreachable() from None
        if status != 200 or not isinstance(body, dict) or not body.get("id_token"):
            error = body.get("error") if isinstance(body, dict) else None
            log.warning("oidc: token endpoint answered %s (%s)", status, error)
            raise SignInRefused(
                _(
                    "The organisation's sign-in service did not accept this sign-in "
                    "({error}); start again from the sign-in page.",
                    error=error or status,
                )
            )
        return str(body["id_token"])

    async def _decode(self, id_token: str) -> dict[str, Any]:
        if self._keys is None:
            await self._load(keys_only=True)
        for attempt in (1, 2):
            try:
                assert self._keys is not None
                claims: dict[str, Any] = jwt.decode(id_token, self._keys, ALGORITHMS).claims
                return claims
            except (JoseError, ValueError) as exc:
                if attempt == 2 or not isinstance(exc, InvalidKeyIdError):
                    raise _unverifiable(repr(exc)) from None
                await self._load(keys_only=True)  # the provider may have rotated its keys
        raise AssertionError("unreachable")

    def _validate(self, claims: dict[str, Any], flow: Flow, now: dt.datetime) -> None:
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(
            nonce.encode(), flow.nonce.encode()
        ):
            raise _wrong_nonce()
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.settings.issuer.rstrip("/")},
            aud={"essential": True, "value": self.settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise _expired() from None
        except JoseError as exc:
            raise _unverifiable(repr(exc)) from None

    async def identity(
        self, code: str, flow: Flow, redirect_uri: str, now: dt.datetime
    ) -> dict[str, Any]:
        """The verified claims of the ID token the provider gives for ``code``."""
        id_token = await self._redeem(code, flow, redirect_uri)
        claims = await self._decode(id_token)
        self._validate(claims, flow, now)
        return claims
