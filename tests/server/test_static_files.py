"""The server serves the files the pages load, and nothing else of web/.

The server runs on a copy of web/ that has a real node_modules folder (in a checkout it may be a
symlink, which static serving refuses anyway), so the test sees what a deployment would serve.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from yarl import URL

from server.app import create_app
from server.config import Config

WEB = Path(__file__).resolve().parents[2] / "web"
# What a browser fetches: attributes in HTML, module specifiers (static and dynamic), url() in
# CSS, and absolute paths of ours written as strings in scripts (image sources).
REFERENCES = (
    re.compile(r"""\b(?:src|href)\s*=\s*["']([^"'#]+)["']"""),
    re.compile(r"""(?m)^\s*import\s*(?:[\w*{}\s,]+\bfrom\s*)?["']([^"']+)["']"""),
    re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)"""),
    re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)"""),
    re.compile(r"""["'](/(?:web|vendor)/[^"']+)["']"""),
)
NOT_SERVED = (
    "/web/package.json",
    "/web/package-lock.json",
    "/web/node_modules/uqr/package.json",
    "/web/node_modules/uqr/dist/index.mjs",
    "/web/vendor/MANIFEST.json",
    "/web/vendor/uqr.mjs",
    "/web/vendor/licenses/uqr.txt",
    "/vendor/MANIFEST.json",
    "/vendor/licenses/uqr.txt",
    "/vendor/index.mjs",
    "/web/index.html",
    "/web/",
    "/web/js/%2e%2e/package.json",
    "/web/css/..%2fpackage.json",
    "/vendor/..%2fpackage.json",
)


@pytest.fixture
async def base(config: Config, tmp_path: Path) -> AsyncIterator[str]:
    web = tmp_path / "web"
    shutil.copytree(WEB, web, ignore=shutil.ignore_patterns("node_modules"))
    (web / "node_modules" / "uqr" / "dist").mkdir(parents=True)
    (web / "node_modules" / "uqr" / "package.json").write_text('{"name": "uqr"}')
    (web / "node_modules" / "uqr" / "dist" / "index.mjs").write_text("export {};")
    server = TestServer(create_app(dataclasses.replace(config, web_dir=web)), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/"))
    await server.close()


def _references(url: str, text: str) -> set[str]:
    found = {urljoin(url, ref) for pattern in REFERENCES for ref in pattern.findall(text)}
    return {ref for ref in found if urlsplit(ref).netloc == urlsplit(url).netloc}


async def _crawl(http: ClientSession, start: str) -> dict[str, int]:
    """Every URL of ours that the page at ``start`` loads, transitively, with its status."""
    seen: dict[str, int] = {}
    todo = [start]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        async with http.get(url) as reply:
            seen[url] = reply.status
            if reply.status == 200 and reply.content_type != "image/svg+xml":
                todo.extend(_references(url, await reply.text()))
    return seen


async def test_every_file_the_pages_load_is_served(base: str) -> None:
    async with ClientSession() as http:
        loaded = await _crawl(http, base)
    assert {url: status for url, status in loaded.items() if status != 200} == {}
    paths = {urlsplit(url).path for url in loaded}
    on_disk = {f"/web/{p.relative_to(WEB).as_posix()}" for p in (WEB / "js").rglob("*.js")}
    assert on_disk <= paths  # the crawl followed every module the app has
    assert {"/vendor/socket.io.esm.min.js", "/vendor/uqr.mjs", "/web/css/app.css"} <= paths


@pytest.mark.parametrize("path", NOT_SERVED)
async def test_npm_files_the_vendor_manifest_and_licences_are_not_served(
    base: str, path: str
) -> None:
    url = URL(base.rstrip("/") + path, encoded=True)  # sent as written, dots and all
    async with ClientSession() as http, http.get(url) as reply:
        assert reply.status == 404, await reply.text()


@pytest.mark.parametrize("path", ["/web/js/", "/web/js/pages/", "/web/css/", "/vendor/"])
async def test_folders_are_not_listed(base: str, path: str) -> None:
    async with ClientSession() as http, http.get(base.rstrip("/") + path) as reply:
        assert reply.status in {403, 404}  # aiohttp refuses a folder of a static route with 403
        assert "app.js" not in await reply.text()
