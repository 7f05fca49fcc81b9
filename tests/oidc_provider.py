"""A real OpenID Connect provider for tests: the ``oidc-provider-mock`` package (authlib's
authorization server) run as its own process on a free loopback port, with its own signing key,
discovery document and JWKS. Any client id and secret are accepted; people are added with
:func:`add_user` and chosen on its authorization form by their ``sub``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Provider:
    """A running provider: its issuer URL and its process (tests stop it to make it vanish)."""

    def __init__(self, issuer: str, process: subprocess.Popen[bytes]) -> None:
        self.issuer, self.process = issuer, process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextmanager
def run_provider(folder: Path, *, token_max_age: int = 3600) -> Iterator[Provider]:
    """Start a provider whose tokens live ``token_max_age`` seconds (negative: born expired)."""
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    with (folder / "provider.log").open("wb") as log:
        process = subprocess.Popen(
            # The package imports authlib's deprecated jose module: its warnings are not ours.
            [
                *(sys.executable, "-W", "ignore", "-m", "oidc_provider_mock"),
                *("--host", "127.0.0.1", "--port", str(port)),
                f"--token-max-age={token_max_age}",
            ],
            stdout=log,
            stderr=log,
        )
    provider = Provider(issuer, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"{issuer}/.well-known/openid-configuration", timeout=1
                ):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "provider.log").read_text()) from None
                time.sleep(0.1)
        yield provider
    finally:
        provider.stop()


def add_user(issuer: str, sub: str, claims: dict[str, object]) -> None:
    """Give the provider a person with these claims."""
    request = urllib.request.Request(
        f"{issuer}/users/{sub}",
        data=json.dumps(claims).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 204
