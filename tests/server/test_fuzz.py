"""Schemathesis against the real server: every operation, as every role, answers as documented.

A bounded, seeded run (about a minute on two cores); `make fuzz` runs the same harness for longer.
Findings it made once are pinned in test_fuzz_regressions.py.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiohttp.test_utils import TestServer

from server.app import create_app, openapi_document
from server.config import Config
from server.db import Database
from tests.server.fuzzing import FUZZ_LIMITS, Target, fuzz, login, seed_database, seed_more

EXAMPLES = 6  # generated cases per operation and role (positive and negative data)
COVERAGE = 12  # of schemathesis' coverage cases (boundaries, missing fields, wrong types)
SEED = 20261125


@pytest.fixture
def config(config: Config) -> Config:
    """The test server, with the per-address limits lifted so the fuzzer reaches the routes."""
    return dataclasses.replace(config, **FUZZ_LIMITS)


@pytest.mark.timeout(400)
async def test_every_operation_as_every_role_answers_as_documented(
    server: TestServer, database: Database, config: Config, record_property: pytest.RecordProperty
) -> None:
    logins = await seed_database(database, config)
    base = str(server.make_url("")).rstrip("/")
    tokens = await asyncio.to_thread(login, base, logins)
    known = await asyncio.to_thread(seed_more, base, tokens)

    report = await asyncio.to_thread(
        fuzz,
        Target(base, tokens, known, examples=EXAMPLES, coverage=COVERAGE, seed=SEED, timeout=15.0),
    )

    print(report.summary())  # the request count goes in the release notes
    record_property("fuzzed_requests", report.total)
    operations = {
        f"{method.upper()} {path}"
        for path, methods in openapi_document()["paths"].items()
        for method in methods
    }
    # (coverage cases also try undeclared methods, which the server answers with 405)
    assert {f"{role} {op}" for role in tokens for op in operations} <= set(report.requests)
    assert report.failures == [], "\n\n".join(report.failures)


def test_the_fuzzed_document_lists_every_api_route(config: Config) -> None:
    served = {
        f"{route.method} {route.resource.canonical}"
        for route in create_app(config).router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    documented = {
        f"{method.upper()} {path}"
        for path, methods in openapi_document()["paths"].items()
        for method in methods
    }
    assert served - documented == {"GET /api/openapi.json"}
    assert documented <= served
