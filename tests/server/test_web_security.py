"""Web security of what the server sends browsers: policy headers, no cookies, no HTML sinks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.config import Config
from tests.conftest import Cast

WEB = Path(__file__).resolve().parents[2] / "web"
# Ways a string becomes markup or code in a browser; the front end uses textContent only.
SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc"
    r"|setAttribute\(\s*[\"']on|\.on\w+\s*=\s*[\"'`]"
)


def _policy(header: str) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
        if part
    }


@pytest.mark.parametrize("path", ["/", "/join/1", "/checkin/1", "/web/js/app.js", "/api/me"])
async def test_every_response_carries_a_strict_policy(cast: Cast, path: str) -> None:
    reply = await cast.anon.get(path)
    policy = _policy(reply.headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert "unsafe" not in policy.get("style-src", "") and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("https://xieshang.example.org", "max-age=31536000; includeSubDomains"),
        ("http://127.0.0.1:8080", None),  # HSTS on a plain-HTTP host would lock people out
    ],
)
async def test_hsts_is_sent_only_when_people_reach_the_server_by_https(
    config: Config, public_url: str, expected: str | None
) -> None:
    app = create_app(dataclasses.replace(config, public_url=public_url))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as http:
            for path in ("/", "/web/js/app.js", "/api/health"):
                async with http.get(server.make_url(path)) as reply:
                    assert reply.status == 200
                    assert reply.headers.get("Strict-Transport-Security") == expected, path
    finally:
        await server.close()


async def test_nothing_sets_a_cookie_so_there_is_no_cookie_to_forge_requests_with(
    cast: Cast,
) -> None:
    """Sign-in gives a bearer token that the page keeps and sends itself; with no cookie, a
    cross-site form cannot act as the user (CSRF), and the one form (the RSVP confirmation)
    carries its own signed token."""
    replies = [
        await cast.anon.get("/"),
        await cast.anon.post("/api/auth/login", {"username": "staff", "password": "x" * 10}),
        await cast.member.get("/api/me"),
        await cast.anon.get("/socket.io/?EIO=4&transport=polling"),
        await cast.anon.get("/rsvp/not-a-token?answer=accepted"),
    ]
    for reply in replies:
        assert "Set-Cookie" not in reply.headers, reply.text[:200]


def test_the_front_end_has_no_inline_scripts_and_no_html_sinks() -> None:
    pages = list(WEB.glob("*.html"))
    scripts = [p for p in (WEB / "js").rglob("*.js")]
    assert pages and len(scripts) > 10
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script in {page}"
        assert not re.search(r"\son\w+\s*=", html), f"inline event handler in {page}"
    found = [
        f"{path.relative_to(WEB)}:{n}: {line.strip()}"
        for path in scripts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SINKS.search(line)
    ]
    assert found == []
