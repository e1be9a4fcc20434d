"""The one SQLite database, shared by the features that each own some tables in it.

Every call runs on one worker thread that owns the connection, so the event loop never waits
on the disk and writes never interleave. WAL with synchronous=FULL: once a call has returned
(and the user was told), a crash or kill cannot lose it.

Each feature package declares a `Schema`: its name, its migrations and the tables that hold a
chat id. Versions are kept per schema in `schema_versions`, so a feature's tables change
without touching another's; never edit a released migration, add one.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot import texts

T = TypeVar("T")

# Written beside a database the first time it is opened: a later start that finds the marker
# but not the database stops (the file was deleted or BOT_DB_PATH points at a fresh copy)
# instead of silently beginning empty. Deleting the marker accepts an empty start.
MARKER_SUFFIX = ".created"


class DatabaseUnusable(Exception):
    """The database cannot be used at start-up; the message is the one line to show."""


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def _connect(path: Path) -> sqlite3.Connection:
    """The connection (a test may open it read-only, as a read-only file would be)."""
    return sqlite3.connect(path, isolation_level=None)

# Before schemas were versioned one by one, the whole database had one migration, recorded
# in PRAGMA user_version = 1; it created the tables of these schemas, at their version 1.
LEGACY_SCHEMAS_AT_VERSION_1 = ("study", "asking")


@dataclass(frozen=True)
class Schema:
    """A feature's tables: migrations in order (SQL scripts) and the tables keyed by chat."""

    name: str
    migrations: tuple[str, ...]
    # Tables with a chat_id column that follows a group when it becomes a supergroup.
    chat_tables: tuple[str, ...] = ()
    # Tables whose rows for a chat belong together (a quiz time, a roster, the group's title):
    # they follow the group only if the supergroup has none of its own; never merged.
    chat_settings: tuple[str, ...] = ()


def now_text() -> str:
    """A UTC time stamp as stored in every table."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Database:
    """Async facade over one SQLite connection living on a dedicated thread."""

    def __init__(self, path: Path, schemas: Sequence[Schema]):
        self.path = path
        self.schemas = tuple(schemas)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._connection: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # the file's (device, inode) at open

    async def open(self) -> Database:
        await self.run(self._open)
        return self

    async def close(self) -> None:
        if self._connection is not None:
            await self.run(self._close)
        self._executor.shutdown(wait=True)

    def _open(self) -> None:
        """Opens and migrates; a database that is missing (after it existed), read-only or
        damaged raises DatabaseUnusable with one line that says so."""
        existed = self.path.exists()
        if not existed and marker_path(self.path).exists():
            raise DatabaseUnusable(texts.DB_MISSING.format(
                path=self.path, marker=marker_path(self.path)))
        connection = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = _connect(self.path)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            # Only this process writes; the wait covers an admin's sqlite3 shell holding a lock.
            connection.execute("PRAGMA busy_timeout=5000")
            if existed:
                verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise sqlite3.DatabaseError(f"quick_check: {verdict}")
            migrate(connection, self.schemas)
            # A read-only file opens and reads; find out now, not at the first check-in.
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            connection.execute(f"PRAGMA user_version = {int(version)}")
            marker = marker_path(self.path)
            if not marker.exists():
                marker.write_text(texts.DB_MARKER_NOTE, encoding="utf-8")
            self._identity = _identity(self.path)
        except (sqlite3.Error, OSError) as error:
            if connection is not None:
                connection.close()
            raise DatabaseUnusable(_unusable_line(self.path, error)) from error
        self._connection = connection

    def file_gone(self) -> bool:
        """Was the open database's file deleted or replaced under the running bot? Its
        writes then go to a file nobody will open again: worth an alarm."""
        return self._identity is not None and _identity(self.path) != self._identity

    def _close(self) -> None:
        assert self._connection is not None
        self._connection.close()
        self._connection = None

    async def run(self, function: Callable[..., T], *args) -> T:
        """Runs `function(*args)` on the database thread (the only place it may touch SQL)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("store is not open")
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together before the call returns, or none does.

        The connection is in autocommit mode (isolation_level=None), where sqlite3's own
        `with connection:` does not open a transaction: BEGIN is issued here explicitly.
        """
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except BaseException:
            # A failed COMMIT (a deferred constraint, a full disk) can leave the transaction
            # open: every later BEGIN would fail. Nothing of it is kept.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self.transaction() as db:
            return db.execute(sql, params)

    def move_chat_rows(self, db: sqlite3.Connection, old: int, new: int) -> None:
        """Inside a transaction: every schema's chat rows follow a group to its new id.

        A row the new id already has (the same day's push, the same vote) keeps the old
        chat's row where it is. A setting the new id already has wins, as its plan does, and
        the old chat's is deleted: nothing is scheduled again for a chat that is gone.
        Moving twice moves nothing more.
        """
        for schema in self.schemas:
            for table in schema.chat_tables:
                db.execute(f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?",
                           (new, old))
            for table in schema.chat_settings:
                if db.execute(f"SELECT 1 FROM {table} WHERE chat_id = ?", (new,)).fetchone():
                    db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (old,))
                else:
                    db.execute(f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?", (new, old))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _unusable_line(path: Path, error: Exception) -> str:
    message = str(error).lower()
    if "readonly" in message or "read-only" in message or isinstance(error, PermissionError):
        return texts.DB_READ_ONLY.format(path=path)
    if "not a database" in message or "malformed" in message or "quick_check" in message:
        return texts.DB_DAMAGED.format(path=path, error=error)
    return texts.DB_UNUSABLE.format(path=path, error=error)


def migrate(connection: sqlite3.Connection, schemas: Sequence[Schema]) -> dict[str, int]:
    """Brings every schema up to date; returns the version each is at."""
    versions = _versions(connection)
    for schema in schemas:
        version = versions.get(schema.name, 0)
        for number, script in enumerate(schema.migrations, start=1):
            if number > version:
                _apply(connection, schema.name, number, script)
                version = number
        versions[schema.name] = version
    return versions


def _versions(connection: sqlite3.Connection) -> dict[str, int]:
    """Each schema's version; a database from before per-schema versions is adopted."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
        ).fetchone()
        if not exists:
            connection.execute("CREATE TABLE schema_versions (name TEXT PRIMARY KEY, "
                               "version INTEGER NOT NULL)")
            if connection.execute("PRAGMA user_version").fetchone()[0] >= 1:
                connection.executemany("INSERT INTO schema_versions VALUES (?, 1)",
                                       [(name,) for name in LEGACY_SCHEMAS_AT_VERSION_1])
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    rows = connection.execute("SELECT name, version FROM schema_versions")
    return {row[0]: row[1] for row in rows}


def _apply(connection: sqlite3.Connection, name: str, number: int, script: str) -> None:
    """One migration and its version, in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(script):
            connection.execute(statement)
        connection.execute("INSERT INTO schema_versions (name, version) VALUES (?, ?) "
                           "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                           (name, number))
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
