"""Schemathesis against a running server: every operation of /api/openapi.json, as each role.

Used by tests/server/test_fuzz.py (a bounded run in the suite) and bench/fuzz/run.py (a long
run). Synchronous on purpose: schemathesis and hypothesis drive ``requests``, so callers run
:func:`fuzz` in a worker thread while the server's event loop keeps serving.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from server import demo
from server.app import calendaring
from server.config import Config
from server.db import Database, utcnow
from server.record import draft
from server.sessions import service as sessions
from server.sessions.models import SessionStatus

log = logging.getLogger(__name__)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Tokens are revoked by logging out: that operation goes last for every role.
LAST = ("POST", "/api/auth/logout")


@dataclass
class Report:
    """What a run did: requests per operation and every failure, described for a person."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    by_role: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def summary(self) -> str:
        """One paragraph for the log."""
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"fuzzed {self.total} requests over {len(self.requests)} operation/role pairs "
            f"in {self.seconds:.1f} s ({codes}); {len(self.failures)} failures"
        )


@dataclass(frozen=True)
class Target:
    """The server under test and who calls it."""

    base_url: str
    tokens: dict[str, str | None]  # role name -> bearer token (None: anonymous)
    known_ids: dict[str, list[int]]  # path parameter name -> ids of seeded objects
    examples: int = 10  # hypothesis examples per operation and role
    coverage: int | None = None  # coverage cases per operation and role (None: all of them)
    seed: int = 20261125
    timeout: float = 10.0
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strict: bool = False  # also require invalid input to be refused (negative_data_rejection)
    rounds: int = 1  # passes over every role
    login_again: Callable[[], dict[str, str | None]] | None = None  # fresh tokens for a round


def load(base_url: str) -> Any:
    """The served OpenAPI document, as a schemathesis schema."""
    config = schemathesis.Config()
    return schemathesis.openapi.from_url(f"{base_url}/api/openapi.json", config=config, timeout=10)


def operations(schema: Any) -> list[Any]:
    """Every operation, with logging out last."""
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: (op.method.upper(), op.path) == LAST)


def _with_known_ids(target: Target, case: Any, data: st.DataObject) -> None:
    """Half of the time, aim each valid path parameter at an object that exists."""
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if path is not None and path.mode.is_negative:
        return  # keep the invalid id: it is what this case tests
    for name in list(case.path_parameters or {}):
        known = target.known_ids.get(name)
        if known and data.draw(st.booleans(), label=f"known {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)


def _describe(role: str, case: Any, error: BaseException) -> str:
    try:
        curl = case.as_curl_command()
    except Exception:  # a case schemathesis cannot render is still worth reporting
        curl = f"{case.method} {case.path}"
    return f"[{role}] {case.method} {case.path}: {error}\n    {curl}"


class _Caller:
    """Sends one role's cases to the server and records what came back."""

    def __init__(
        self, target: Target, role: str, session: requests.Session, report: Report
    ) -> None:
        token = target.tokens[role]
        self.target, self.role, self.session, self.report = target, role, session, report
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.failed: set[str] = set()

    def __call__(self, case: Any) -> None:
        self.report.requests[f"{self.role} {case.method.upper()} {case.operation.path}"] += 1
        headers = self.headers
        negated = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
        if self.target.strict and negated is not None and negated.mode.is_negative:
            # The case is about a missing or broken Authorization header: for judging whether
            # invalid input is refused, send it as generated (otherwise, keep the role's token).
            headers = {}
        try:
            response = case.call(
                base_url=self.target.base_url,
                session=self.session,
                headers=headers,
                timeout=self.target.timeout,
            )
        except requests.RequestException as error:  # a hang or a dropped connection
            self.report.failures.append(_describe(self.role, case, error))
            return
        self.report.statuses[response.status_code] += 1
        self.report.by_role[self.role, response.status_code] += 1
        try:
            checks = [*CHECKS, negative_data_rejection] if self.target.strict else CHECKS
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as error:
            titles = ", ".join(sorted(f.title for f in error.exceptions))
            kind = f"{case.method} {case.operation.path} {response.status_code} {titles}"
            if kind not in self.failed:  # one report per distinct failure and operation
                self.failed.add(kind)
                self.report.failures.append(_describe(self.role, case, error))


def _generate(target: Target, op: Any, send: _Caller) -> None:
    strategy = st.one_of(*(op.as_strategy(generation_mode=mode) for mode in target.modes))

    @hypothesis.seed(target.seed)
    @hypothesis.settings(
        max_examples=target.examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        _with_known_ids(target, case, data)
        send(case)

    run()


def _coverage(target: Target, op: Any, send: _Caller) -> None:
    """Schemathesis' coverage cases: boundaries, each required field missing, wrong types."""
    generator = CoverageGenerator(
        operation=op,
        generation_modes=list(target.modes),
        generation_config=op.schema.config.generation_for(operation=op, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=NO_FEEDBACK,
    )
    cases = list(generator)
    if target.coverage is not None and len(cases) > target.coverage:
        cases = random.Random(f"{target.seed} {op.label}").sample(cases, target.coverage)
    for case in cases:
        send(case)


def fuzz(target: Target) -> Report:
    """Fuzz every operation as every role; never raises for findings, returns them."""
    started = time.monotonic()
    schema = load(target.base_url)
    report = Report()
    with requests.Session() as session:
        for round_ in range(target.rounds):
            # Later rounds meet what earlier ones made (counters to accept, replies to rate).
            this = dataclasses.replace(target, seed=target.seed + round_)
            if round_:  # each round ended with every role logging out
                assert target.login_again is not None, "more rounds need login_again"
                this = dataclasses.replace(this, tokens=target.login_again())
            for role in this.tokens:
                send = _Caller(this, role, session, report)
                for op in operations(schema):
                    if target.coverage != 0:
                        _coverage(this, op, send)
                    _generate(this, op, send)
                report.seconds = time.monotonic() - started
                log.info("round %d, %s done: %s", round_ + 1, role, report.summary())
    report.seconds = time.monotonic() - started
    return report


# ---------------------------------------------------------------- seeding

# Every fuzzed request comes from 127.0.0.1: lift the per-address limits so that they do not
# answer in place of the routes under test (tests/server/test_abuse_limits.py tests them).
FUZZ_LIMITS = {
    "api_rate": 1_000_000,
    "api_burst": 10_000_000,
    "guest_joins_per_window": 1_000_000,
    "login_failures_per_address": 1_000_000,
}
# The demo's accounts that stand for each role (server/demo.py), and anonymous callers.
ROLES = {
    "anonymous": None,
    "guest": "guest",
    "member": "member1",
    "unit": "zhujian",
    "leader": "leader",
    "staff": "staff",
}
ID_LISTS = {
    "proposal_id": "/api/proposals",
    "session_id": "/api/sessions",
    "person_id": "/api/people",
    "follow_up_id": "/api/follow-ups",
}


async def seed_database(database: Database, config: Config) -> dict[str, str]:
    """The demo data, with its first session ended and drafted; returns username -> password."""
    logins = await demo.seed(
        database, config.passwords(), calendaring(config, lambda: None), dt.date.today()
    )
    assert logins is not None, "the database must be empty"
    async with database.transaction() as db:
        await sessions.set_room_status(db, 1, SessionStatus.ENDED)
        await draft.draft_minutes(db, 1, {}, utcnow())
    return {username: password for username, _name, password in logins}


def login(base_url: str, logins: dict[str, str]) -> dict[str, str | None]:
    """A bearer token per role, from the demo's (username, password) pairs."""
    tokens: dict[str, str | None] = {}
    for role, username in ROLES.items():
        if username is None:
            tokens[role] = None
            continue
        reply = requests.post(
            f"{base_url}/api/auth/login",
            json={"username": username, "password": logins[username]},
            timeout=10,
        )
        reply.raise_for_status()
        tokens[role] = reply.json()["token"]
    return tokens


class _Seeder:
    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        reply = requests.request(method, self.base_url + path, headers=headers, timeout=10, **kw)
        assert reply.status_code < 300, f"seeding {method} {path}: {reply.text}"
        return reply.json() if reply.content else None


def seed_more(base_url: str, tokens: dict[str, str | None]) -> dict[str, list[int]]:
    """Beyond the demo: a proposal in handling with a file and progress, draft minutes, a
    counter-proposal. Returns the ids of what exists, per path parameter name."""
    staff = _Seeder(base_url, tokens["staff"])
    unit = _Seeder(base_url, tokens["unit"])
    member = _Seeder(base_url, tokens["member"])
    proposal = staff("GET", "/api/proposals")["items"][0]["id"]
    for to in ("filed", "assigned"):
        staff("POST", f"/api/proposals/{proposal}/transitions", json={"to": to})
    unit("POST", f"/api/proposals/{proposal}/transitions", json={"to": "handling"})
    attachment = unit(
        "POST",
        f"/api/proposals/{proposal}/attachments",
        params={"name": "进展.pdf"},
        data=b"%PDF-1.4 progress",
        headers={"Content-Type": "application/pdf"},
    )["id"]
    unit(
        "POST",
        f"/api/proposals/{proposal}/progress",
        json={"milestone": "方案编制", "percent": 40, "text": "已完成调研"},
    )
    session = staff("GET", "/api/sessions/1")
    minutes = staff("GET", f"/api/sessions/{session['id']}/minutes")
    staff(
        "PUT",
        f"/api/sessions/{session['id']}/minutes",
        json={"base_version": minutes["version"], "content": minutes["content"], "note": "初稿"},
    )
    counter = member(
        "POST",
        f"/api/sessions/{session['id']}/counters",
        json={
            "starts_at": _later(session["starts_at"]),
            "ends_at": _later(session["ends_at"]),
            "comment": "上午另有安排",
        },
    )["id"]
    known = {name: _ids(staff("GET", path)) for name, path in ID_LISTS.items()}
    known["attachment_id"] = [attachment]
    known["counter_id"] = [counter]
    known["year"] = [2026, 2027]
    return known


def _later(instant: str) -> str:
    return (dt.datetime.fromisoformat(instant) + dt.timedelta(hours=1)).isoformat()


def _ids(listing: Any) -> list[int]:
    items = listing["items"] if isinstance(listing, dict) else listing
    return [item["id"] for item in items]
