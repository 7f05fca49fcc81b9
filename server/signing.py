"""Signed links (RSVP answers, calendar feeds): HMAC-SHA256 over a small payload.

A token is ``base64url(json payload) "." base64url(mac)``; the MAC covers the purpose too,
so a feed token never works as an RSVP token. Expiry is in the payload; revocation works
through a version number in the payload that the caller compares with what it stores.

Key rotation: new tokens are signed with the current key; tokens signed with any of the
``previous`` keys are still accepted, so links already sent keep working until the old key is
dropped from the list (which revokes every link it signed).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from server.errors import AppError


class BadSignature(AppError):
    """A link that was forged, damaged, or has expired."""

    status = 403
    code = "bad_link"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs tokens with the current secret key; checks them against it and earlier keys."""

    def __init__(self, *, secret: str, previous: Sequence[str] = ()) -> None:
        self._keys = [hashlib.sha256(key.encode()).digest() for key in (secret, *previous)]

    def _mac(self, purpose: str, body: str, key: bytes | None = None) -> bytes:
        message = f"{purpose}\n{body}".encode()
        return hmac.new(key or self._keys[0], message, hashlib.sha256).digest()

    def _genuine(self, purpose: str, body: str, mac: bytes) -> bool:
        # Every key is tried (no early exit), so timing does not tell which one matched.
        matches = [hmac.compare_digest(mac, self._mac(purpose, body, key)) for key in self._keys]
        return any(matches)

    def sign(
        self, purpose: str, payload: dict[str, Any], expires_at: dt.datetime | None = None
    ) -> str:
        """A token for ``payload``; with ``expires_at``, it stops working then."""
        data = dict(payload)
        if expires_at is not None:
            data["exp"] = int(expires_at.timestamp())
        body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._mac(purpose, body))}"

    def verify(self, purpose: str, token: str, now: dt.datetime) -> dict[str, Any]:
        """The payload of a genuine, unexpired token, or :class:`BadSignature`."""
        body, _, mac = token.partition(".")
        try:
            genuine = self._genuine(purpose, body, _unb64(mac))
            payload = json.loads(_unb64(body)) if genuine else None
        except (ValueError, UnicodeDecodeError):
            genuine, payload = False, None
        if not genuine or not isinstance(payload, dict):
            raise BadSignature("This link is not valid: it may be incomplete or altered.")
        if "exp" in payload and now.timestamp() > payload["exp"]:
            raise BadSignature("This link has expired; use the newest invitation or sign in.")
        return payload


def load_or_create_secret(path: Path) -> str:
    """The secret kept in ``path``, created (readable by the owner only) when missing."""
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)
    return secret
