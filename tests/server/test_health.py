"""Health, OpenAPI and the basics every client relies on."""

from __future__ import annotations

from tests.conftest import ApiClient

REQUIRED_ROUTES = {
    ("get", "/api/health"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("post", "/api/units"),
    ("get", "/api/units"),
    ("post", "/api/people"),
    ("get", "/api/people"),
    ("post", "/api/venues"),
    ("get", "/api/venues"),
    ("post", "/api/proposals"),
    ("get", "/api/proposals"),
    ("get", "/api/proposals/{proposal_id}"),
    ("patch", "/api/proposals/{proposal_id}"),
    ("post", "/api/proposals/{proposal_id}/transitions"),
    ("post", "/api/sessions"),
    ("get", "/api/sessions"),
    ("get", "/api/sessions/{session_id}"),
    ("patch", "/api/sessions/{session_id}"),
}


async def test_health_reports_ok_with_the_database_reachable(anon: ApiClient) -> None:
    reply = await anon.get("/api/health")
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert reply.body["database"] == "ok"
    assert reply.body["redis"] == "not_configured"


async def test_openapi_lists_every_contract_route_with_schemas(anon: ApiClient) -> None:
    reply = await anon.get("/api/openapi.json")
    assert reply.status == 200
    doc = reply.body
    assert doc["openapi"].startswith("3.")
    served = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served >= REQUIRED_ROUTES
    create = doc["paths"]["/api/sessions"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"kind", "mode", "starts_at", "participants", "agenda"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    params = {p["name"] for p in doc["paths"]["/api/sessions"]["get"]["parameters"]}
    assert {"from", "to", "person_id", "proposal_id", "kind"} <= params


async def test_unknown_api_route_is_a_problem_document(anon: ApiClient) -> None:
    reply = await anon.get("/api/nothing-here")
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"
    assert reply.body["code"] == "not_found"


async def test_wrong_method_is_405_with_allow_header(anon: ApiClient) -> None:
    reply = await anon.request("DELETE", "/api/health")
    assert reply.status == 405
    assert reply.content_type == "application/problem+json"
    assert "GET" in reply.headers.get("Allow", "")


async def test_home_page_is_served_in_chinese(anon: ApiClient) -> None:
    reply = await anon.get("/")
    assert reply.status == 200
    assert 'lang="zh-CN"' in reply.text
