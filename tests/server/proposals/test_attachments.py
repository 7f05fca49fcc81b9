"""Files on a proposal: they arrive whole or are refused, their names are safe to show and save,
and their content is what their Content-Type says."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import os
import re
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import text as sql

from server.app import create_app
from server.config import Config
from server.db import Database
from server.proposals import files
from tests.conftest import ApiClient, Cast
from tests.server.proposals.test_proposals_api import create as create_proposal

MB = 1_000_000
PDF = "application/pdf"


def pdf_of(size: int) -> bytes:
    """A PDF-looking file of exactly ``size`` bytes that no two tests share."""
    head = b"%PDF-1.7\n"
    return head + os.urandom(size - len(head))


async def upload(
    client: ApiClient, proposal_id: int, data: Any, media_type: str = PDF, name: str = "答复函.pdf"
) -> Any:
    return await client.request(
        "POST",
        f"/api/proposals/{proposal_id}/attachments",
        params={"name": name},
        # A file object, as aiohttp asks for large bodies (it still sends a Content-Length).
        data=io.BytesIO(data) if isinstance(data, bytes) else data,
        headers={"Content-Type": media_type},
    )


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``data`` as a chunked request body (no Content-Length)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
async def proposal_id(cast: Cast) -> int:
    return int((await create_proposal(cast))["id"])


@pytest.mark.parametrize("size", [1 * MB + 9, 5 * MB + 9, 20 * 2**20], ids=["1MB", "5MB", "20MiB"])
async def test_a_file_comes_back_byte_for_byte(cast: Cast, proposal_id: int, size: int) -> None:
    data = pdf_of(size)
    stored = await upload(cast.unit, proposal_id, data)
    assert stored.status == 201, stored.text
    assert (stored.body["size"], stored.body["sha256"]) == (size, hashlib.sha256(data).hexdigest())
    status, back, _ = await cast.member.download(f"/api/attachments/{stored.body['id']}")
    assert status == 200
    assert len(back) == size and hashlib.sha256(back).hexdigest() == stored.body["sha256"]
    assert back == data


async def test_a_chunked_file_comes_back_byte_for_byte(cast: Cast, proposal_id: int) -> None:
    data = pdf_of(5 * MB + 9)
    stored = await upload(cast.unit, proposal_id, chunks(data))
    assert stored.status == 201, stored.text
    status, back, _ = await cast.staff.download(f"/api/attachments/{stored.body['id']}")
    assert status == 200 and back == data


async def test_a_file_one_byte_over_the_limit_is_refused(
    cast: Cast, proposal_id: int, config: Config
) -> None:
    data = pdf_of(config.max_attachment_bytes + 1)
    declared = await upload(cast.unit, proposal_id, data)
    assert declared.status == 413 and declared.body["code"] == "payload_too_large"
    streamed = await upload(cast.unit, proposal_id, chunks(data))
    assert streamed.status == 413, streamed.text
    files = (await cast.staff.get(f"/api/proposals/{proposal_id}/handling")).body["attachments"]
    assert files == []


async def test_a_file_exactly_at_the_limit_is_kept_when_sent_chunked(
    cast: Cast, proposal_id: int, config: Config
) -> None:
    data = pdf_of(config.max_attachment_bytes)
    stored = await upload(cast.unit, proposal_id, chunks(data))
    assert stored.status == 201, stored.text
    assert stored.body["size"] == config.max_attachment_bytes


async def _raw_request(server: TestServer, head: str, body: bytes) -> tuple[bytes, Any]:
    """Send a request by hand and return the start of the answer, leaving the socket open."""
    assert server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head.encode() + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    return answer, writer


@pytest.fixture
async def small_server(config: Config, cast: Cast) -> AsyncIterator[TestServer]:
    """A second server on the same database that takes files of at most 64 KiB."""
    small = dataclasses.replace(config, max_attachment_bytes=64 * 1024)
    srv = TestServer(create_app(small), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def test_a_chunked_file_is_refused_as_soon_as_it_passes_the_limit(
    cast: Cast, proposal_id: int, small_server: TestServer
) -> None:
    # The client never ends its body: the answer must come from the bytes already over the limit.
    head = (
        f"POST /api/proposals/{proposal_id}/attachments?name=a.pdf HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {cast.unit.token}\r\n"
        "Content-Type: application/pdf\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = pdf_of(16 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(5))  # 80 KiB
    answer, writer = await _raw_request(small_server, head, body)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer


async def test_an_upload_that_stops_before_its_content_length_stores_nothing(
    cast: Cast, proposal_id: int, small_server: TestServer
) -> None:
    head = (
        f"POST /api/proposals/{proposal_id}/attachments?name=a.pdf HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {cast.unit.token}\r\n"
        "Content-Type: application/pdf\r\nContent-Length: 50000\r\n\r\n"
    )
    assert small_server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", small_server.port)
    writer.write(head.encode() + pdf_of(20_000))
    await writer.drain()
    await asyncio.sleep(0.5)  # let the server read what came (a one-shot reader keeps it)
    writer.write_eof()  # the client gives up after 20,000 of the 50,000 bytes it announced
    await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    files = (await cast.staff.get(f"/api/proposals/{proposal_id}/handling")).body["attachments"]
    assert files == []


async def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(
    cast: Cast, proposal_id: int, small_server: TestServer
) -> None:
    head = (
        f"POST /api/proposals/{proposal_id}/attachments?name=a.pdf HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {cast.unit.token}\r\n"
        f"Content-Type: application/pdf\r\nContent-Length: {64 * 1024 + 1}\r\n\r\n"
    )
    answer, writer = await _raw_request(small_server, head, b"%PDF-")
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("答复函\u202efdp.exe", "U+202E"),
        ("答复函\r\nContent-Type: text/html.pdf", "U+000D"),
        ("../../etc/passwd.pdf", "path separator"),
        ("..\\答复函.pdf", "path separator"),
        ("..", "only dots"),
        ("答复函\u200f.pdf", "U+200F"),
        ("第一段\u2028第二段.pdf", "U+2028"),
        ("答" * 90 + ".pdf", "255 bytes"),
    ],
    ids=["bidi-override", "crlf", "slash-path", "backslash-path", "dots", "rlm", "ls", "long"],
)
async def test_a_name_that_hides_what_the_file_is_or_is_a_path_is_refused(
    cast: Cast, proposal_id: int, name: str, why: str
) -> None:
    reply = await upload(cast.unit, proposal_id, pdf_of(100), name=name)
    assert reply.status == 400, reply.text
    assert reply.body["errors"][0]["field"] == "name"
    assert why in reply.body["errors"][0]["message"]
    files = (await cast.staff.get(f"/api/proposals/{proposal_id}/handling")).body["attachments"]
    assert files == []


def saved_as(headers: dict[str, str]) -> tuple[str, str]:
    """The ``filename`` and the decoded ``filename*`` of a Content-Disposition."""
    disposition = headers["Content-Disposition"]
    ascii_name = re.search(r'filename="([^"]*)"', disposition)
    encoded = re.search(r"filename\*=UTF-8''([^;\s]*)", disposition)
    assert ascii_name is not None and encoded is not None, disposition
    return ascii_name.group(1), unquote(encoded.group(1))


async def test_a_chinese_name_is_kept_and_the_download_is_saved_under_it(
    cast: Cast, proposal_id: int
) -> None:
    name = "关于加装电梯的答复函（第2版）; 签章 “正式” #1.pdf"
    stored = await upload(cast.unit, proposal_id, pdf_of(100), name=name)
    assert stored.status == 201, stored.text
    assert stored.body["name"] == name
    _, _, headers = await cast.member.download(f"/api/attachments/{stored.body['id']}")
    assert saved_as(headers) == (f"attachment-{stored.body['id']}.pdf", name)


async def test_a_name_stored_before_names_were_checked_is_made_safe_to_save(
    cast: Cast, proposal_id: int, database: Database
) -> None:
    stored = await upload(cast.unit, proposal_id, pdf_of(100))
    async with database.transaction() as db:
        await db.execute(
            sql("UPDATE attachments SET name = :name WHERE id = :id"),
            {"name": "答复\u202efdp.exe\r\n../x", "id": stored.body["id"]},
        )
    status, _, headers = await cast.member.download(f"/api/attachments/{stored.body['id']}")
    assert status == 200
    assert "\r" not in headers["Content-Disposition"]
    ascii_name, name = saved_as(headers)
    assert (ascii_name, name) == (f"attachment-{stored.body['id']}.pdf", "答复_fdp.exe__.._x.pdf")


# ---------------------------------------------------------------- content


def zip_of(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


OLE2_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + os.urandom(1024)
DOCX_FILE = zip_of("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX_FILE = zip_of("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")
PPTX_FILE = zip_of("[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml")
OFD_FILE = zip_of("OFD.xml", "Doc_0/Document.xml")
PNG_FILE = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
JPEG_FILE = b"\xff\xd8\xff\xe0" + os.urandom(200)
EXE_FILE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + b"PE\x00\x00" + os.urandom(200)
DOC, XLS = "application/msword", "application/vnd.ms-excel"
DOCX, XLSX = files.DOCX, files.XLSX


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        (PDF, pdf_of(2000)),
        (PDF, b"\r\n%%junk before the header\r\n" + pdf_of(2000)),
        ("image/png", PNG_FILE),
        ("image/jpeg", JPEG_FILE),
        (DOC, OLE2_FILE),
        (XLS, OLE2_FILE),
        ("application/vnd.ms-powerpoint", OLE2_FILE),
        (DOCX, DOCX_FILE),
        (DOCX, OLE2_FILE),  # a password-protected .docx is an OLE2 container
        (XLSX, XLSX_FILE),
        (files.PPTX, PPTX_FILE),
        ("application/ofd", OFD_FILE),
        ("text/plain", "关于加装电梯的答复：\r\n\t已办理。".encode()),
        ("text/plain", "关于加装电梯的答复：已办理。".encode("gb18030")),
        ("text/plain", "MZ 公司的答复".encode("utf-16")),
    ],
    ids=[
        "pdf",
        "pdf-after-junk",
        "png",
        "jpeg",
        "doc",
        "xls",
        "ppt",
        "docx",
        "encrypted-docx",
        "xlsx",
        "pptx",
        "ofd",
        "utf8-text",
        "gb18030-text",
        "utf16-text",
    ],
)
async def test_a_file_whose_content_is_its_type_is_stored(
    cast: Cast, proposal_id: int, media_type: str, data: bytes
) -> None:
    stored = await upload(cast.unit, proposal_id, data, media_type)
    assert stored.status == 201, stored.text
    status, back, headers = await cast.member.download(f"/api/attachments/{stored.body['id']}")
    assert (status, back, headers["Content-Type"].split(";")[0]) == (200, data, media_type)


@pytest.mark.parametrize(
    ("declared", "data", "detected"),
    [
        (PDF, PNG_FILE, "image/png"),
        ("image/png", JPEG_FILE, "image/jpeg"),
        (PDF, EXE_FILE, "application/x-msdownload"),
        ("text/plain", EXE_FILE, "application/x-msdownload"),
        (DOCX, XLSX_FILE, XLSX),
        (DOCX, zip_of("payload.exe"), "application/zip"),
        (DOCX, pdf_of(100)[:5] + b"PK\x03\x04", "application/pdf"),
        (XLSX, b"PK\x03\x04 a damaged archive", "application/zip"),
        (DOC, DOCX_FILE, DOCX),
        ("application/ofd", DOCX_FILE, DOCX),
        ("text/plain", pdf_of(500), "application/pdf"),
        ("text/plain", b"line\x00\x01\x02", "application/octet-stream"),
        ("image/jpeg", b"<!DOCTYPE html><script>alert(1)</script>", "text/html"),
    ],
    ids=[
        "png-as-pdf",
        "jpeg-as-png",
        "exe-as-pdf",
        "exe-as-text",
        "xlsx-as-docx",
        "zip-as-docx",
        "pdf-as-docx",
        "damaged-zip",
        "docx-as-doc",
        "docx-as-ofd",
        "pdf-as-text",
        "binary-as-text",
        "html-as-jpeg",
    ],
)
async def test_a_file_whose_content_is_not_its_declared_type_is_refused(
    cast: Cast, proposal_id: int, declared: str, data: bytes, detected: str
) -> None:
    reply = await upload(cast.unit, proposal_id, data, declared)
    assert reply.status == 400, reply.text
    assert reply.content_type == "application/problem+json"
    assert (reply.body["declared"], reply.body["detected"]) == (declared, detected)
    assert declared in reply.body["detail"] and detected in reply.body["detail"]
    assert reply.body["errors"][0]["type"] == "content_mismatch"
    files_now = await cast.staff.get(f"/api/proposals/{proposal_id}/handling")
    assert files_now.body["attachments"] == []


async def test_the_rules_shown_before_an_upload_are_the_ones_it_checks(
    cast: Cast, proposal_id: int, small_server: TestServer
) -> None:
    async with ClientSession() as http:
        small = ApiClient(http, str(small_server.make_url("")).rstrip("/"), cast.unit.token)
        rules = await small.get("/api/attachment-rules")
        assert rules.status == 200, rules.text
        assert rules.body["max_bytes"] == 64 * 1024
        assert rules.body["max_name_bytes"] == files.MAX_NAME_BYTES
        kinds = {t["media_type"]: t["extensions"] for t in rules.body["types"]}
        assert kinds[PDF] == [".pdf"] and set(kinds) == set(files.TYPES)
        at_limit = await upload(small, proposal_id, pdf_of(rules.body["max_bytes"]))
        assert at_limit.status == 201, at_limit.text
        over = await upload(small, proposal_id, pdf_of(rules.body["max_bytes"] + 1))
        assert over.status == 413
    gif = await upload(cast.unit, proposal_id, b"GIF89a" + bytes(20), "image/gif", "a.gif")
    assert "image/gif" not in kinds and gif.status in (400, 415)
    assert (await cast.anon.get("/api/attachment-rules")).status == 401
