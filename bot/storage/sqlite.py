"""The embedded engine: one SQLite file, WAL with synchronous=FULL (the default store).

Once a call has returned (and the user was told), a crash or kill cannot lose it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot import texts
from bot.storage.errors import DatabaseUnusable

# Written beside a database the first time it is opened: a later start that finds the marker
# but not the database stops (the file was deleted or BOT_DB_PATH points at a fresh copy)
# instead of silently beginning empty. Deleting the marker accepts an empty start.
MARKER_SUFFIX = ".created"

# Before schemas were versioned one by one, the whole database had one migration, recorded
# in PRAGMA user_version = 1; it created the tables of these schemas, at their version 1.
LEGACY_SCHEMAS_AT_VERSION_1 = ("study", "asking")


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def _connect(path: Path) -> sqlite3.Connection:
    """The connection (a test may open it read-only, as a read-only file would be)."""
    return sqlite3.connect(path, isolation_level=None)


class SqliteEngine:
    """Opens the file with its checks; begins write transactions as the single writer."""

    name = "sqlite"
    # Seconds since the epoch, by the database's clock.
    epoch_sql = "SELECT (julianday('now') - 2440587.5) * 86400.0"
    # Only this process writes: IMMEDIATE takes the write lock at BEGIN, so a transaction
    # never fails halfway for a lock another statement took.
    begin_statements = ("BEGIN IMMEDIATE",)

    def __init__(self, path: Path):
        self.path = path
        self._identity: tuple[int, int] | None = None  # the file's (device, inode) at open

    def describe(self) -> str:
        return str(self.path)

    def connect(self) -> sqlite3.Connection:
        """Opens the file; one that is missing (after it existed), read-only or damaged
        raises DatabaseUnusable with one line that says so."""
        existed = self.path.exists()
        if not existed and marker_path(self.path).exists():
            raise DatabaseUnusable(texts.DB_MISSING.format(
                path=self.path, marker=marker_path(self.path)))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = _connect(self.path)
        except (sqlite3.Error, OSError) as error:
            raise DatabaseUnusable(self.unusable_line(error)) from error
        try:
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
        except (sqlite3.Error, OSError) as error:
            connection.close()
            raise DatabaseUnusable(self.unusable_line(error)) from error
        return connection

    def opened(self, connection: sqlite3.Connection) -> None:
        """After the migrations: prove the file writable now (a read-only file opens and
        reads), leave the marker and remember which file this is."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute(f"PRAGMA user_version = {int(version)}")
        marker = marker_path(self.path)
        if not marker.exists():
            marker.write_text(texts.DB_MARKER_NOTE, encoding="utf-8")
        self._identity = _identity(self.path)

    def file_gone(self) -> bool:
        """Was the open database's file deleted or replaced under the running bot? Its
        writes then go to a file nobody will open again: worth an alarm."""
        return self._identity is not None and _identity(self.path) != self._identity

    def unusable_line(self, error: Exception) -> str:
        message = str(error).lower()
        if "readonly" in message or "read-only" in message or isinstance(error, PermissionError):
            return texts.DB_READ_ONLY.format(path=self.path)
        if "not a database" in message or "malformed" in message or "quick_check" in message:
            return texts.DB_DAMAGED.format(path=self.path, error=error)
        return texts.DB_UNUSABLE.format(path=self.path, error=error)

    # Migrations.

    def ddl(self, statement: str) -> str:
        return statement  # the schemas are written in SQLite's types

    def migration_lock(self, connection: sqlite3.Connection, held: bool) -> None:
        """One process owns the file; nothing to take."""

    def adopt_legacy_versions(self, connection: sqlite3.Connection) -> list[tuple[str, int]]:
        """A file from before per-schema versions recorded one version for all."""
        if connection.execute("PRAGMA user_version").fetchone()[0] >= 1:
            return [(name, 1) for name in LEGACY_SCHEMAS_AT_VERSION_1]
        return []

    def table_names(self, connection: sqlite3.Connection) -> list[str]:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [row[0] for row in rows]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino
