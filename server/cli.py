"""Command line: ``xieshang serve | migrate | user add | user passwd | demo | backup | restore``."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import datetime as dt
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from server import logs
from server.auth import Role
from server.backup import BackupError
from server.config import Config, ConfigError, settings_table
from server.db import Database
from server.errors import AppError
from server.i18n import _
from server.migrate import SchemaMismatch, check_schema, upgrade
from server.shapes import validation_problem

EXIT_USAGE = 2
M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)


def _parser() -> argparse.ArgumentParser:
    table = "\n".join(
        f"  {var:<26} {meaning} (default: {default})" for var, default, meaning in settings_table()
    )
    parser = argparse.ArgumentParser(
        prog="xieshang",
        description="Realtime server for proposal consultation sessions (政协提案办理协商).",
        epilog=f"Settings from the environment:\n{table}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--db", help="database URL (XIESHANG_DB)")
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--db")
    demo = commands.add_parser("demo", help="seed demo data into an empty database")
    demo.add_argument("--db")
    user = commands.add_parser("user", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    add = user.add_parser("add", help="add an account; the password is read from standard input")
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--unit", type=int, help="unit id (required for --role unit)")
    add.add_argument("--email")
    add.add_argument("--phone")
    add.add_argument("--db")
    passwd = user.add_parser("passwd", help="set a password (read from standard input)")
    passwd.add_argument("--username", required=True)
    passwd.add_argument("--db")
    backup = commands.add_parser(
        "backup",
        help="copy the database and recordings into a new folder while the server runs",
    )
    backup.add_argument("path", type=Path, help="a new (or empty) folder for the backup")
    backup.add_argument("--db")
    restore = commands.add_parser(
        "restore", help="put a backup back (checks every file's sha256 first)"
    )
    restore.add_argument("path", type=Path, help="the backup's folder")
    restore.add_argument(
        "--force",
        action="store_true",
        help="overwrite a database that holds data or is in use, and differing recordings",
    )
    restore.add_argument("--db")
    return parser


def _backup(config: Config, path: Path) -> None:
    from server import backup

    print(backup.describe(backup.backup(config, path)))


def _restore(config: Config, path: Path, force: bool) -> None:
    from server import backup

    backup.restore(config, path, force)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise SystemExit("The passwords differ; nothing was changed.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def _with_database(config: Config, check: bool = True) -> Database:
    database = Database.from_url(config.db_url)
    if check:
        try:
            await check_schema(database.engine, f" --db {config.db_url}")
        except BaseException:
            await database.close()
            raise
    return database


async def _migrate(config: Config) -> None:
    database = await _with_database(config, check=False)
    try:
        before, after = await upgrade(database.engine)
    finally:
        await database.close()
    change = "up to date" if before == after else f"upgraded from {before or 'empty'}"
    print(f"Database {config.db_url}: {change} (schema revision {after}).")


def _print_logins(logins: list[tuple[str, str, str]] | None) -> None:
    if logins is None:
        print("The database already has accounts; no demo data was added.")
        return
    print("Demo data added. These logins are shown only once:")
    for username, name, password in logins:
        print(f"  {username:<10} {password:<14} {name}")


async def _demo(config: Config) -> None:
    from server.app import calendaring
    from server.demo import seed

    database = await _with_database(config)
    try:
        _print_logins(
            await seed(
                database,
                config.passwords(),
                calendaring(config, lambda: None),
                dt.datetime.now(dt.UTC).date(),
            )
        )
    finally:
        await database.close()


async def _user_add(config: Config, args: argparse.Namespace) -> None:
    from server.directory.schemas import PersonCreate
    from server.directory.service import add_person

    password = _read_password()
    try:
        body = PersonCreate.model_validate(
            {
                "username": args.username,
                "name": args.name,
                "role": args.role,
                "unit_id": args.unit,
                "email": args.email,
                "phone": args.phone,
                "password": password,
            },
            strict=False,
        )
    except ValidationError as exc:
        raise validation_problem(exc, _("account")) from None
    database = await _with_database(config)
    try:
        person = await add_person(database, config.passwords(), body)
    finally:
        await database.close()
    print(f"Added {person.role} account {person.username!r} (id {person.id}).")


async def _user_passwd(config: Config, username: str) -> None:
    from server.directory.schemas import Password
    from server.directory.service import set_password

    password = _read_password()
    from pydantic import TypeAdapter

    try:
        TypeAdapter(Password).validate_python(password)
    except ValidationError:
        raise SystemExit("The password must be 8 to 256 characters; nothing was changed.") from None
    database = await _with_database(config)
    try:
        await set_password(database, config.passwords(), username, password)
    finally:
        await database.close()
    print(f"Password of {username!r} changed; their open logins were revoked.")


def _serve(config: Config, demo: bool) -> None:
    from server.app import create_app

    limit_malloc_arenas(config.malloc_arenas)  # first: before any thread allocates
    if demo:
        asyncio.run(_demo(config))
    else:
        asyncio.run(_check(config))
    print(
        f"xieshang serving on http://{config.host}:{config.port} (database {config.db_url})",
        flush=True,
    )
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        print=None,
        loop=_event_loop(),
        access_log_class=logs.AccessLogger,
    )


def limit_malloc_arenas(count: int) -> bool:
    """Let the C library's malloc use at most ``count`` arenas (glibc's ``M_ARENA_MAX``), for
    the threads that start from now on; True if it took. 0, or a C library without
    ``mallopt`` (not Linux), leaves the default."""
    if count <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, count))


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it exists (about a fifth less CPU per room delivery), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


async def _check(config: Config) -> None:
    database = await _with_database(config)
    await database.close()


def run(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and run one command (errors propagate)."""
    args = _parser().parse_args(argv)
    overrides = {"db_url": getattr(args, "db", None)}
    if args.command == "serve":
        overrides.update(host=args.host, port=args.port)
    config = Config.from_env(**overrides)
    logs.install(config.log_level, config.log_format)
    if args.command == "serve":
        _serve(config, args.demo)
    elif args.command == "migrate":
        asyncio.run(_migrate(config))
    elif args.command == "demo":
        asyncio.run(_demo(config))
    elif args.command == "backup":
        _backup(config, args.path)
    elif args.command == "restore":
        _restore(config, args.path, args.force)
    elif args.action == "add":
        asyncio.run(_user_add(config, args))
    else:
        asyncio.run(_user_passwd(config, args.username))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``xieshang`` command: clear messages instead of tracebacks."""
    try:
        run(argv)
    except (ConfigError, SchemaMismatch) as err:
        print(f"xieshang: {err}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    except AppError as err:
        print(f"xieshang: {err.message}", file=sys.stderr)
        raise SystemExit(1) from None
    except BackupError as err:
        print(f"xieshang: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
