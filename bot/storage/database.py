"""The one database, shared by the features that each own some tables in it.

Every call runs on one worker thread that owns the connection, so the event loop never waits
on the disk or the network and this process's writes never interleave. The engine is SQLite
(a file, the default) or PostgreSQL (shared by several instances): bot.storage.sqlite and
bot.storage.postgres hold what differs; the features' SQL and migrations are written once.

Each feature package declares a `Schema`: its name, its migrations and the tables that hold a
chat id. Versions are kept per schema in `schema_versions`, so a feature's tables change
without touching another's; never edit a released migration, add one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.storage.errors import DatabaseError, DatabaseUnusable, IntegrityError
from bot.storage.postgres import PostgresEngine, is_postgres_url
from bot.storage.sqlite import SqliteEngine

T = TypeVar("T")


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
    # Tables of the running instances' state (a lease, heartbeats), not data: a copy of the
    # database (lecture-bot migrate) leaves them behind.
    transient_tables: tuple[str, ...] = ()


def now_text() -> str:
    """A UTC time stamp as stored in every table."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Written:
    """What a write returned: its RETURNING rows and how many rows it changed."""

    rows: list
    rowcount: int

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


class Connection(Protocol):
    """What the features use of a connection: sqlite3's, or bot.storage.postgres's."""

    in_transaction: bool

    def execute(self, sql: str, params: Any = ...) -> Any: ...

    def executemany(self, sql: str, rows: Any) -> Any: ...


# A row: by position and by column name (sqlite3.Row, or bot.storage.postgres.Row).
Row = Any


def engine_for(target: Path | str) -> SqliteEngine | PostgresEngine:
    """A postgresql:// URL selects PostgreSQL; anything else is a SQLite file's path."""
    if is_postgres_url(target):
        return PostgresEngine(str(target))
    return SqliteEngine(Path(target))


class Database:
    """Async facade over one connection living on a dedicated thread."""

    def __init__(self, target: Path | str, schemas: Sequence[Schema]):
        self.engine = engine_for(target)
        self.schemas = tuple(schemas)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._connection: Any = None

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return getattr(self.engine, "path", None)

    @property
    def shared(self) -> bool:
        """Can other instances use this database at the same time?"""
        return self.engine.name == "postgresql"

    async def open(self) -> Database:
        await self.run(self._open)
        return self

    async def close(self) -> None:
        if self._connection is not None:
            await self.run(self._close)
        self._executor.shutdown(wait=True)

    def _open(self) -> None:
        """Connects and migrates; a database that cannot be used raises DatabaseUnusable
        with one line that says why."""
        connection = self.engine.connect()
        try:
            self._connection = connection
            migrate(connection, self.schemas, self.engine)
            self.engine.opened(connection)
        except (DatabaseError, OSError) as error:
            self._connection = None
            connection.close()
            raise DatabaseUnusable(self.engine.unusable_line(error)) from error
        except BaseException:
            self._connection = None
            connection.close()
            raise

    def file_gone(self) -> bool:
        return self.engine.file_gone()

    def _close(self) -> None:
        assert self._connection is not None
        self._connection.close()
        self._connection = None

    async def run(self, function: Callable[..., T], *args) -> T:
        """Runs `function(*args)` on the database thread (the only place it may touch SQL)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def connection(self) -> Any:
        if self._connection is None:
            raise RuntimeError("store is not open")
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """All statements inside commit together before the call returns, or none does.

        The connection is in autocommit mode, where the drivers' own `with connection:` does
        not open a transaction: BEGIN is issued here explicitly.
        """
        db = self.connection()
        for statement in self.engine.begin_statements:
            db.execute(statement)
        try:
            yield db
        except BaseException:
            _rollback(db)
            raise
        try:
            db.execute("COMMIT")
        except BaseException:
            # A failed COMMIT (a deferred constraint, a full disk) can leave the transaction
            # open: every later BEGIN would fail. Nothing of it is kept.
            _rollback(db)
            raise

    @staticmethod
    @contextmanager
    def savepoint(db: Any, name: str = "attempt") -> Iterator[None]:
        """Inside a transaction: a statement that may fail (a claim already taken) without
        failing the transaction (PostgreSQL aborts the whole transaction at an error)."""
        db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            db.execute(f"ROLLBACK TO SAVEPOINT {name}")
            db.execute(f"RELEASE SAVEPOINT {name}")
            raise
        db.execute(f"RELEASE SAVEPOINT {name}")

    def write(self, sql: str, params: tuple = ()) -> Written:
        """One statement in its own transaction; what it returned is read before COMMIT
        (SQLite cannot commit while a RETURNING statement has rows left)."""
        with self.transaction() as db:
            cursor = db.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            return Written(rows, cursor.rowcount)

    def move_chat_rows(self, db: Any, old: int, new: int) -> None:
        """Inside a transaction: every schema's chat rows follow a group to its new id.

        A row the new id already has (the same day's push, the same vote) keeps the old
        chat's row where it is. A setting the new id already has wins, as its plan does, and
        the old chat's is deleted: nothing is scheduled again for a chat that is gone.
        Moving twice moves nothing more.
        """
        for schema in self.schemas:
            for table in schema.chat_tables:
                update_or_ignore(db, table, "chat_id", new, "chat_id = ?", (old,))
            for table in schema.chat_settings:
                if db.execute(f"SELECT 1 FROM {table} WHERE chat_id = ?", (new,)).fetchone():
                    db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (old,))
                else:
                    db.execute(f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?", (new, old))


def update_or_ignore(db: Any, table: str, column: str, value: Any, where: str,
                     params: tuple) -> None:
    """SQLite's `UPDATE OR IGNORE`, in SQL both engines speak: each row is updated on its
    own, and one that would break a unique key stays as it was."""
    rowids = [row[0] for row in db.execute(f"SELECT rowid FROM {table} WHERE {where}", params)]
    for rowid in rowids:
        # The savepoint rolls the refused row back (and PostgreSQL's transaction with it).
        with contextlib.suppress(IntegrityError), Database.savepoint(db, "row"):
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))


def _rollback(db: Any) -> None:
    if db.in_transaction:
        db.execute("ROLLBACK")


def migrate(connection: Any, schemas: Sequence[Schema],
            engine: SqliteEngine | PostgresEngine | None = None) -> dict[str, int]:
    """Brings every schema up to date; returns the version each is at."""
    engine = engine or SqliteEngine(Path(":memory:"))
    engine.migration_lock(connection, held=True)
    try:
        versions = _versions(connection, engine)
        for schema in schemas:
            version = versions.get(schema.name, 0)
            for number, script in enumerate(schema.migrations, start=1):
                if number > version:
                    _apply(connection, engine, schema.name, number, script)
                    version = number
            versions[schema.name] = version
        return versions
    finally:
        if not connection.in_transaction:
            engine.migration_lock(connection, held=False)


def _versions(connection: Any, engine: SqliteEngine | PostgresEngine) -> dict[str, int]:
    """Each schema's version; a database from before per-schema versions is adopted."""
    _begin(connection, engine)
    try:
        if "schema_versions" not in engine.table_names(connection):
            connection.execute("CREATE TABLE schema_versions (name TEXT PRIMARY KEY, "
                               "version INTEGER NOT NULL)")
            legacy = engine.adopt_legacy_versions(connection)
            if legacy:
                connection.executemany("INSERT INTO schema_versions VALUES (?, ?)", legacy)
        connection.execute("COMMIT")
    except Exception:
        _rollback(connection)
        raise
    rows = connection.execute("SELECT name, version FROM schema_versions")
    return {row[0]: row[1] for row in rows}


def _begin(connection: Any, engine: SqliteEngine | PostgresEngine) -> None:
    for statement in engine.begin_statements:
        connection.execute(statement)


def _apply(connection: Any, engine: SqliteEngine | PostgresEngine, name: str, number: int,
           script: str) -> None:
    """One migration and its version, in one transaction."""
    _begin(connection, engine)
    try:
        for statement in _statements(script):
            connection.execute(engine.ddl(statement))
        connection.execute("INSERT INTO schema_versions (name, version) VALUES (?, ?) "
                           "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                           (name, number))
        connection.execute("COMMIT")
    except Exception:
        _rollback(connection)
        raise


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
