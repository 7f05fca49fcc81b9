"""What the schemathesis runs (tests/server/test_fuzz.py, `make fuzz`) found, pinned one by one."""

from __future__ import annotations

from typing import Any

from server.app import openapi_document
from tests.conftest import Cast
from tests.server.sessions.test_sessions_api import session_body


def _responses(method: str, path: str) -> dict[str, Any]:
    return openapi_document()["paths"][path][method]["responses"]  # type: ignore[no-any-return]


async def test_digits_only_times_are_refused_not_read_as_unix_times(cast: Cast) -> None:
    listed = await cast.staff.get("/api/sessions", params={"to": "0.5"})
    assert listed.status == 400, listed.text
    assert listed.body["errors"][0]["field"] == "to"
    created = await cast.staff.post(
        "/api/sessions", session_body(cast, starts_at="1764000000", ends_at="1764003600")
    )
    assert created.status == 400, created.text
    assert {e["field"] for e in created.body["errors"]} == {"starts_at", "ends_at"}


def test_a_wrong_password_and_rate_limits_are_documented_on_public_writes() -> None:
    assert {"401", "429"} <= set(_responses("post", "/api/auth/login"))
    assert {"409", "429"} <= set(_responses("post", "/api/sessions/{session_id}/guest-join"))


def test_raw_bodies_document_their_400_and_413() -> None:
    assert {"400", "413"} <= set(_responses("post", "/api/itip"))
    assert "413" in _responses("post", "/api/proposals")


def test_raw_bodies_and_files_document_their_real_media_types() -> None:
    paths = openapi_document()["paths"]
    upload = paths["/api/proposals/{proposal_id}/attachments"]["post"]["requestBody"]["content"]
    assert "application/pdf" in upload
    assert "application/octet-stream" not in upload  # the server refuses untyped files
    download = paths["/api/attachments/{attachment_id}"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in download
    notice = paths["/api/workdays/{year}"]["put"]["requestBody"]["content"]
    assert set(notice) == {"application/json", "text/calendar"}
    assert notice["application/json"]["schema"] == {}  # a JSON object, not a JSON string


def test_writes_document_conflicts() -> None:
    assert "409" in _responses("put", "/api/sessions/{session_id}/minutes")
