"""A long schemathesis run against the whole server on a fresh, demo-seeded database.

    make fuzz                                        # the defaults below, about 10 minutes
    .venv/bin/python bench/fuzz/run.py --examples 300 --seed 7
    FUZZ_EXAMPLES=20 FUZZ_COVERAGE=0 FUZZ_STRICT=1 .venv/bin/python bench/fuzz/run.py
    .venv/bin/python bench/fuzz/run.py --db postgresql+asyncpg://…/an_empty_database
    .venv/bin/python bench/fuzz/run.py --smoke       # one case per operation and role

Every operation of /api/openapi.json, as staff, leader, member, unit, guest and anonymous:
all of schemathesis' coverage cases, then FUZZ_EXAMPLES generated ones (positive and negative).
Prints each failure with a curl command that reproduces it, requests per role and status, and a
summary; exits 1 on findings.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import sys
import tempfile
from pathlib import Path

from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.config import Config  # noqa: E402
from server.db import Database, make_engine  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from tests.server import fuzzing  # noqa: E402


async def _prepare(config: Config) -> dict[str, str]:
    engine = make_engine(config.db_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    database = Database.from_url(config.db_url)
    try:
        return await fuzzing.seed_database(database, config)
    finally:
        await database.close()


async def run(
    db_url: str,
    workdir: Path,
    examples: int,
    seed: int,
    *,
    coverage: int | None,
    strict: bool,
    rounds: int,
) -> fuzzing.Report:
    """Serve the app on 127.0.0.1 and fuzz it from a worker thread."""
    config = Config(
        db_url=db_url,
        secret_key="fuzz-" + "k" * 40,
        mail_dir=workdir / "mail",
        secret_file=workdir / "secret.key",
        recording_dir=workdir / "recordings",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        **fuzzing.FUZZ_LIMITS,
    )
    logins = await _prepare(config)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        tokens = await asyncio.to_thread(fuzzing.login, base, logins)
        known = await asyncio.to_thread(fuzzing.seed_more, base, tokens)
        target = fuzzing.Target(
            base,
            tokens,
            known,
            examples=examples,
            seed=seed,
            coverage=coverage,
            strict=strict,
            rounds=rounds,
            login_again=functools.partial(fuzzing.login, base, logins),
        )
        return await asyncio.to_thread(fuzzing.fuzz, target)
    finally:
        await server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 100)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 20261125)))
    parser.add_argument(
        "--coverage",
        type=int,
        default=int(os.environ.get("FUZZ_COVERAGE", -1)),
        help="coverage cases per operation and role (default: all; 0: none)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=os.environ.get("FUZZ_STRICT") == "1",
        help="also check that invalid input is refused (schemathesis negative_data_rejection)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("FUZZ_ROUNDS", 1)),
        help="passes over every role; later ones meet what earlier ones made",
    )
    parser.add_argument("--db", help="an empty database URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one generated case per operation and role, no coverage cases: the harness works",
    )
    args = parser.parse_args()
    if args.smoke:
        args.examples, args.coverage, args.rounds = 1, 0, 1
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tests.server.fuzzing").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="xieshang-fuzz-") as tmp:
        workdir = Path(tmp)
        db_url = args.db or f"sqlite+aiosqlite:///{workdir / 'fuzz.db'}"
        coverage = None if args.coverage < 0 else args.coverage
        report = asyncio.run(
            run(
                db_url,
                workdir,
                args.examples,
                args.seed,
                coverage=coverage,
                strict=args.strict,
                rounds=args.rounds,
            )
        )
    for failure in report.failures:
        print(failure, end="\n\n")
    for (role, status), n in sorted(report.by_role.items()):
        print(f"{role:>10} {status}: {n}")
    print(report.summary())
    return 1 if report.failures or not report.total else 0


if __name__ == "__main__":
    sys.exit(main())
