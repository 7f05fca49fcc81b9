"""No route left behind: every operation of the OpenAPI document is called by the web front end,
or is named below as API-only with the reason. A new operation without its page fails here."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ApiClient

WEB = Path(__file__).resolve().parents[1] / "web" / "js"

# Operations people never perform from a page, each with why.
API_ONLY: dict[tuple[str, str], str] = {
    ("get", "/api/health"): "for load balancers and monitoring",
    ("post", "/api/itip"): "mail clients send iTIP replies and counters; people use the page",
    ("get", "/api/proposals/{proposal_id}/instructions"): (
        "the proposal page reads the instructions in its dossier; this list is for other clients"
    ),
}

# A call in web/js: get(`/api/x/${id}`), post("/api/y", …), api("DELETE", `…`), download(…),
# or an upload's xhr.open("POST", `…`).
CALL = re.compile(
    r"""\b(?:(?P<helper>get|post|put|patch|del|remove|download)\s*\(\s*
        |(?:api|open|send|request)\s*\(\s*["'](?P<method>[A-Z]+)["']\s*,\s*)
        [`"'](?P<path>/api/[^`"'?#]*)""",
    re.VERBOSE,
)
# Any other string that names an API path (a URL built elsewhere): counts for every method.
LITERAL = re.compile(r"""[`"'](/api/[^`"'?#]*)""")
HELPERS = {"get": "get", "download": "get", "post": "post", "put": "put", "patch": "patch"}
HELPERS |= {"del": "delete", "remove": "delete"}


def _segment_matches(js: str, spec: str) -> bool:
    if spec.startswith("{") and spec.endswith("}"):
        return True
    pattern = "".join(
        ".+" if part.startswith("${") else re.escape(part)
        for part in re.split(r"(\$\{[^}]*\})", js)
        if part
    )
    concrete = re.sub(r"\{[^}]+\}", "X", spec)
    return re.fullmatch(pattern or "", concrete) is not None


def _path_matches(js: str, spec: str) -> bool:
    js_parts = re.sub(r"\$\{[^}]*\}", lambda m: m.group(0).replace("/", ""), js).split("/")
    spec_parts = spec.split("/")
    return len(js_parts) == len(spec_parts) and all(
        _segment_matches(a, b) for a, b in zip(js_parts, spec_parts, strict=True)
    )


def _calls() -> list[tuple[str | None, str]]:
    """(method or None for any, path with ${…} left in) for every API path in web/js."""
    found: list[tuple[str | None, str]] = []
    for source in sorted(WEB.rglob("*.js")):
        text = source.read_text(encoding="utf-8")
        typed = set()
        for match in CALL.finditer(text):
            helper, method = match.group("helper"), match.group("method")
            verb = HELPERS[helper] if helper else method.lower()
            # `/api/stats${year ? `?year=…` : ""}`: an expression left open is the query's
            found.append((verb, re.sub(r"\$\{[^}]*$", "", match.group("path"))))
            typed.add(match.start("path") - 1)
        found += [(None, m.group(1)) for m in LITERAL.finditer(text) if m.start() not in typed]
    return found


async def test_every_api_operation_has_a_page_or_a_reason(anon: ApiClient) -> None:
    doc = (await anon.get("/api/openapi.json")).body
    operations = {(m, p) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}
    calls = _calls()
    missing = sorted(
        (method, path)
        for method, path in operations - set(API_ONLY)
        if not any((verb in (None, method)) and _path_matches(js, path) for verb, js in calls)
    )
    assert missing == [], f"no page calls (add the page, or a reason to API_ONLY): {missing}"
    assert set(API_ONLY) <= operations, "API_ONLY names an operation the API no longer has"


def test_the_matcher_tells_paths_and_methods_apart() -> None:
    assert _path_matches("/api/sessions/${where.id}/minutes", "/api/sessions/{session_id}/minutes")
    assert _path_matches("/api/sessions/${sid}/minutes.${ext}", "/api/sessions/{id}/minutes.docx")
    assert not _path_matches("/api/sessions/${sid}", "/api/sessions/{id}/minutes")
    assert not _path_matches("/api/sessions", "/api/proposals")
    assert _path_matches("/api/proposals/${p.id}/dossier.docx", "/api/proposals/{id}/dossier.docx")
