"""``xieshang backup PATH`` and ``xieshang restore PATH``: a copy of the database and the files
kept beside it, taken while the server runs, and put back only where nothing is lost by it.

A backup is a folder::

    PATH/xieshang.db      the SQLite database as of one instant (``snapshot_at``)
    PATH/recordings/...   the files under XIESHANG_RECORDING_DIR
    PATH/manifest.json    when, which schema and version, every file with its size and sha256

The database is copied with SQLite's online backup API from inside one read transaction: under
the write-ahead log (the server always uses it) a reader never blocks writers, so the server goes
on answering while the copy is made, and every page comes from the same snapshot, so the copy is
consistent. The copy goes a few hundred pages at a time. Proposal attachments are stored inside
the database (``proposal_attachments.data``) and so are in ``xieshang.db``; recordings are files
and are copied. The manifest is written last: a folder without one is an unfinished backup.

PostgreSQL is backed up with its own tools (``pg_dump``/``pg_restore``); these commands refuse
and say which ``pg_dump`` fits the server's version. Nothing here runs on an event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server import __version__
from server.config import Config
from server.migrate import head_revision

FORMAT = "xieshang-backup/1"
DATABASE_FILE = "xieshang.db"
RECORDINGS = "recordings"
MANIFEST = "manifest.json"
PAGES_PER_STEP = 256  # 1 MiB at SQLite's default page size, then a pause
PAUSE_SECONDS = 0.002
SQLITE_PREFIX = "sqlite+aiosqlite:///"
ATTACHMENTS_NOTE = (
    "Proposal attachments are stored in the database (table proposal_attachments, "
    "column data), so they are inside xieshang.db; no attachment files exist outside it."
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Done:
    """What a backup or restore did, for the command's last lines."""

    path: Path
    manifest: dict[str, Any]
    recordings: int


def _sqlite_file(db_url: str) -> Path:
    if not db_url.startswith(SQLITE_PREFIX) or ":memory:" in db_url:
        raise BackupError(f"--db must be an SQLite file or a PostgreSQL URL, got {db_url!r}")
    return Path(db_url.removeprefix(SQLITE_PREFIX).split("?")[0])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(root: Path, path: Path) -> dict[str, Any]:
    return {
        "path": path.relative_to(root).as_posix(),
        "size": path.stat().st_size,
        "sha256": _sha256(path),
    }


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- backup -----------------------------------------------------------------------------------


def backup(config: Config, target: Path, say: Callable[[str], None] = print) -> Done:
    """Back up ``config.db_url`` and ``config.recording_dir`` into the new folder ``target``."""
    if config.db_url.startswith("postgresql"):
        raise BackupError(postgres_advice(config.db_url, "backup"))
    source = _sqlite_file(config.db_url)
    if not source.is_file():
        raise BackupError(f"There is no database at {source}; nothing to back up.")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"{target} already exists and is not an empty folder; a backup never overwrites "
            "another. Give a new path."
        )
    target.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    snapshot_at, revision = _copy_database(source, target / DATABASE_FILE)
    say(f"Database copied as of {_utc(snapshot_at)} (schema revision {revision}).")
    copied = _copy_tree(config.recording_dir, target / RECORDINGS)
    say(f"{len(copied)} recording file(s) copied from {config.recording_dir}.")
    files = [_entry(target, target / DATABASE_FILE)] + [_entry(target, p) for p in copied]
    manifest = {
        "format": FORMAT,
        "started_at": _utc(started),
        "snapshot_at": _utc(snapshot_at),
        "finished_at": _utc(dt.datetime.now(dt.UTC)),
        "app_version": __version__,
        "schema_revision": revision,
        "database": {"engine": "sqlite", "file": DATABASE_FILE, "source": str(source)},
        "recordings": {
            "source": str(config.recording_dir),
            "folder": RECORDINGS,
            "files": len(copied),
        },
        "attachments": ATTACHMENTS_NOTE,
        "files": files,
    }
    partial = target / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    partial.replace(target / MANIFEST)  # last: a folder without a manifest is unfinished
    return Done(target, manifest, len(copied))


def _copy_database(source: Path, copy: Path) -> tuple[dt.datetime, str | None]:
    """Copy one consistent snapshot of ``source``; returns its instant and schema revision."""
    src = sqlite3.connect(source, timeout=30, isolation_level=None)
    dst = sqlite3.connect(copy, isolation_level=None)
    try:
        # The first read in a transaction fixes the snapshot the whole copy is taken from: the
        # backup steps run inside this transaction, so pages written later are never mixed in.
        src.execute("BEGIN")
        snapshot_at = dt.datetime.now(dt.UTC)
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        revision = _revision(src)

        def pause(_status: int, _remaining: int, _total: int) -> None:
            time.sleep(PAUSE_SECONDS)

        src.backup(dst, pages=PAGES_PER_STEP, progress=pause)
        src.execute("COMMIT")
        # One self-contained file: no -wal beside it to forget.
        dst.execute("PRAGMA journal_mode=DELETE")
        problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"The copy failed SQLite's check ({problem}); it was not kept.")
    finally:
        src.close()
        dst.close()
    return snapshot_at, revision


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _copy_tree(source: Path, target: Path) -> list[Path]:
    """Copy every regular file under ``source`` (none when it does not exist)."""
    copied: list[Path] = []
    if not source.is_dir():
        return copied
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            into = target / path.relative_to(source)
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, into)
            copied.append(into)
    return copied


# --- restore ----------------------------------------------------------------------------------


def restore(
    config: Config, backup_path: Path, force: bool = False, say: Callable[[str], None] = print
) -> Done:
    """Put a backup back into ``config.db_url`` and ``config.recording_dir``.

    Refuses, unless ``force``, when the database is in use by another process or holds data,
    or when a recording would replace a different file of the same name. Every file's sha256
    is checked against the manifest before anything is written.
    """
    if config.db_url.startswith("postgresql"):
        raise BackupError(postgres_advice(config.db_url, "restore"))
    target = _sqlite_file(config.db_url)
    manifest = verify(backup_path)
    live = _in_use(target)
    rows = _rows(target)
    if live and not force:
        raise BackupError(
            f"{target} is in use by another process (SQLite would not give this one sole "
            "access: a server is probably running on it). Stop it first, or give --force to "
            "write the backup into the running database."
        )
    if rows and not force:
        raise BackupError(
            f"{target} already holds data ({rows} row(s)); restoring would replace it. "
            "Restore into a new --db, or give --force to overwrite it."
        )
    recordings = backup_path / RECORDINGS
    clashes = _clashes(recordings, config.recording_dir)
    if clashes and not force:
        raise BackupError(
            f"{len(clashes)} recording(s) in {config.recording_dir} differ from the backup's "
            f"(e.g. {clashes[0]}); give --force to replace them."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup_path / DATABASE_FILE}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30, isolation_level=None)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
    finally:
        src.close()
        dst.close()
    copied = _copy_tree(recordings, config.recording_dir)
    say(
        f"Restored {target} as of {manifest['snapshot_at']} (schema revision "
        f"{manifest['schema_revision']}) and {len(copied)} recording file(s) into "
        f"{config.recording_dir}."
    )
    if manifest["schema_revision"] != head_revision():
        say(
            f"This version of xieshang needs schema revision {head_revision()}: run "
            "`xieshang migrate` on the restored database before serving it."
        )
    if live:
        say("The database was in use: restart the server so it reads the restored data.")
    return Done(target, manifest, len(copied))


def verify(backup_path: Path) -> dict[str, Any]:
    """The backup's manifest, after checking that every file it lists is there, unchanged."""
    try:
        manifest = json.loads((backup_path / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{backup_path} has no {MANIFEST}: it is not a backup, or the backup did not finish."
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{backup_path / MANIFEST} is not readable JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{backup_path / MANIFEST} is not a {FORMAT} manifest.")
    listed = set()
    for entry in manifest.get("files", []):
        path = backup_path / entry["path"]
        listed.add(Path(entry["path"]).as_posix())
        if not path.is_file():
            raise BackupError(f"The backup is incomplete: {entry['path']} is missing.")
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(
                f"{entry['path']} does not match the sha256 in the manifest: the backup was "
                "changed or damaged after it was written. Nothing was restored."
            )
    if DATABASE_FILE not in listed:
        raise BackupError(f"The manifest does not list {DATABASE_FILE}.")
    return manifest


def _in_use(path: Path) -> bool:
    """Whether another process has the SQLite file open.

    xieshang keeps SQLite in write-ahead-log mode, and SQLite leaves that mode only for a
    connection that has the file to itself; asking for it without waiting answers "locked" while
    any other process has the file open. (Leaving WAL mode when nobody has it open is harmless:
    the server turns it back on at start.) A file in rollback mode is in use when an exclusive
    lock cannot be had at once.
    """
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise BackupError(f"{path} cannot be opened as an SQLite database: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database: {exc}") from None
    finally:
        conn.close()
    return False


def _rows(path: Path) -> int:
    """How many rows the tables hold, Alembic's own bookkeeping aside (0: empty or no file)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        counts = [
            conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608 - names from sqlite_master
            for name in tables
        ]
        return sum(int(n) for n in counts)
    finally:
        conn.close()


def _clashes(source: Path, target: Path) -> list[str]:
    if not source.is_dir() or not target.is_dir():
        return []
    found = []
    for path in sorted(source.rglob("*")):
        there = target / path.relative_to(source)
        if path.is_file() and there.is_file() and _sha256(there) != _sha256(path):
            found.append(path.relative_to(source).as_posix())
    return found


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_advice(db_url: str, action: str) -> str:
    """Why this command does not copy PostgreSQL, the commands that do, and which pg_dump fits."""
    plain = re.sub(r"^postgresql\+asyncpg://", "postgresql://", db_url)
    shown = re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", plain)  # never print the password
    server = _server_major(plain)
    local = _pg_dump_major()
    lines = [
        f"`xieshang {action}` copies SQLite databases only; PostgreSQL is backed up with its own "
        "tools, which take a consistent snapshot while the server runs:",
        f"  pg_dump --format=custom --file=xieshang.dump '{shown}'",
        f"  pg_restore --clean --if-exists --no-owner --dbname='{shown}' xieshang.dump",
        "and copy XIESHANG_RECORDING_DIR beside the dump (attachments are in the database).",
    ]
    if server is None:
        lines.append("The PostgreSQL server could not be asked for its version.")
    else:
        lines.append(f"The server runs PostgreSQL {server}.")
    if local is None:
        lines.append("No pg_dump was found on PATH: install the client tools.")
    elif server is not None and local < server:
        lines.append(
            f"The pg_dump here is version {local}, older than the server's {server}: it will "
            f"refuse. Use pg_dump {server} or newer (e.g. postgresql-client-{server})."
        )
    else:
        lines.append(f"The pg_dump here is version {local}, which fits.")
    if server is not None:
        lines.append(f"Use pg_dump and pg_restore of version {server} or newer.")
    return "\n".join(lines)


def _server_major(url: str) -> int | None:
    async def ask() -> int | None:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(url, timeout=5)
        try:
            number = await conn.fetchval("SHOW server_version_num")
        finally:
            await conn.close()
        return int(number) // 10000

    try:
        return asyncio.run(ask())
    except Exception:  # unreachable or refused: the advice says so
        return None


def _pg_dump_major() -> int | None:
    program = shutil.which("pg_dump")
    if program is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - the pg_dump on PATH, asked its version
            [program, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(found.group(1)) if found else None


def describe(done: Done) -> str:
    """The last line of a backup: where, when, how big."""
    size = sum(int(f["size"]) for f in done.manifest["files"])
    return (
        f"Backup written to {done.path} ({len(done.manifest['files'])} file(s), "
        f"{size / 1_048_576:.1f} MiB); its manifest is {done.path / MANIFEST}."
    )
