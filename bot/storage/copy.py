"""Copying a SQLite database into an empty PostgreSQL one (`lecture-bot migrate`).

Both are first brought to the code's schema versions, by opening them as the bot does. Then
every table of the SQLite file is copied with its rowids (the features refer to rows by them,
e.g. a review mark to a 👎 vote), parents before the tables whose foreign keys point at them,
in one write transaction on the target: it commits whole or not at all. The identity
sequences then continue after the copied ids, and each table's row count is compared before
the commit.

The bot must not write to the SQLite file meanwhile: what it writes after the copy began is
not copied. The file is read in one snapshot, so the copy is consistent in itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import texts
from bot.storage.database import Database, Schema
from bot.storage.postgres import is_postgres_url, redacted

# Rows sent per executemany: large enough that the round trips do not dominate, small enough
# that a wide table's batch stays a few megabytes in memory.
BATCH_ROWS = 1000
VERSIONS_TABLE = "schema_versions"  # each database keeps its own; never copied


class CopyRefused(Exception):
    """The copy cannot start (nothing was written to the target); the message is one line."""


class CopyMismatch(Exception):
    """A table's rows did not all arrive; the copy was rolled back. One line."""

    def __init__(self, table: str, source: int, target: int):
        super().__init__(texts.MIGRATE_MISMATCH.format(table=table, source=source,
                                                       target=target))
        self.table = table


@dataclass(frozen=True)
class TableCount:
    """One table's rows: read from the source, found on the target before the commit."""

    table: str
    source: int
    target: int


async def copy_database(source: Path, target_url: str, schemas: Sequence[Schema],
                        batch_rows: int = BATCH_ROWS) -> list[TableCount]:
    """Copies every table of the SQLite file `source` into the empty PostgreSQL database
    `target_url`; returns each table's counts, in the order copied.

    Raises CopyRefused before writing anything (no source, a source newer than this code, a
    target that is not PostgreSQL, not empty or lacks a table or column), CopyMismatch or a
    DatabaseError after rolling the copy back, DatabaseUnusable when a database cannot be
    opened."""
    if not is_postgres_url(target_url):
        raise CopyRefused(texts.MIGRATE_TARGET_NOT_POSTGRES.format(target=redacted(target_url)))
    if not source.is_file():
        raise CopyRefused(texts.MIGRATE_NO_SOURCE.format(path=source))
    _refuse_newer_versions(source, schemas)
    opened = await Database(source, schemas).open()  # migrates the source to this code
    await opened.close()
    target = await Database(target_url, schemas).open()
    try:
        transient = {table for schema in schemas for table in schema.transient_tables}
        return await target.run(_copy, target, source, batch_rows, transient)
    finally:
        await target.close()


def _refuse_newer_versions(source: Path, schemas: Sequence[Schema]) -> None:
    """A source written by newer code has tables or columns this code would not copy right."""
    known = {schema.name: len(schema.migrations) for schema in schemas}
    try:
        with _reader(source) as reader:
            if not reader.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                  "name = ?", (VERSIONS_TABLE,)).fetchone():
                return  # new, or from before per-schema versions: opening migrates it
            versions = reader.execute(f"SELECT name, version FROM {VERSIONS_TABLE}").fetchall()
    except sqlite3.DatabaseError:
        return  # not a readable database: opening it says so in its own words
    newer = [f"{name} {version}" for name, version in versions
             if version > known.get(name, 0)]
    if newer:
        raise CopyRefused(texts.MIGRATE_SOURCE_NEWER.format(path=source,
                                                            schemas=", ".join(sorted(newer))))


class _reader:
    """A plain connection to the SQLite file, closed on leaving (sqlite3's own context
    manager only commits)."""

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc_info) -> None:
        self.connection.close()


def _copy(target: Database, source: Path, batch_rows: int,
          transient: set[str]) -> list[TableCount]:
    """On the target's database thread: the whole copy, in one transaction."""
    with _reader(source) as reader:
        # One read transaction: every table is read from the same snapshot.
        reader.execute("BEGIN")
        tables = [table for table in _tables_in_order(reader) if table not in transient]
        columns = {table: _source_columns(reader, table) for table in tables}
        with target.transaction() as db:  # takes the writer lock other instances wait on
            identities = _check_target(db, target, columns)
            read = {table: _copy_table(reader, db, table, columns[table], batch_rows)
                    for table in tables}
            floors = _sqlite_sequences(reader)
            for table in tables:
                for column in identities[table]:
                    _continue_sequence(db, table, column, floors.get(table, 0))
            counts = [TableCount(table, read[table], _count(db, table)) for table in tables]
            for count in counts:
                if count.source != count.target:
                    raise CopyMismatch(count.table, count.source, count.target)
        reader.execute("ROLLBACK")
    return counts


def _tables_in_order(reader: sqlite3.Connection) -> list[str]:
    """Every table but the versions and SQLite's own, each after the tables its foreign
    keys point at (by name otherwise, so the order is the same on every run)."""
    names = [row[0] for row in reader.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != ? ORDER BY name", (VERSIONS_TABLE,))]
    parents = {name: {row[2] for row in reader.execute(
        f"PRAGMA foreign_key_list({_quoted(name)})")} & set(names) - {name} for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [name for name in names if name not in ordered
                 and parents[name] <= set(ordered)]
        if not ready:  # a cycle: the target's foreign keys will say which rows fail
            ready = [name for name in names if name not in ordered]
        ordered += ready
    return ordered


def _source_columns(reader: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in reader.execute(f"PRAGMA table_info({_quoted(table)})")]


def _check_target(db: Any, target: Database, columns: dict[str, list[str]]
                  ) -> dict[str, list[str]]:
    """Refuses a target that holds rows or lacks a table or column; returns each copied
    table's identity columns (its rowid, and its INTEGER PRIMARY KEY if it has one)."""
    found: dict[str, dict[str, bool]] = {}
    for row in db.execute("SELECT table_name, column_name, is_identity "
                          "FROM information_schema.columns "
                          "WHERE table_schema = current_schema()"):
        found.setdefault(row[0], {})[row[1]] = row[2] == "YES"
    described = target.engine.describe()  # without the password
    for table, wanted in columns.items():
        if table not in found:
            raise CopyRefused(texts.MIGRATE_TABLE_MISSING.format(table=table,
                                                                 target=described))
        missing = [column for column in ("rowid", *wanted) if column not in found[table]]
        if missing:
            raise CopyRefused(texts.MIGRATE_COLUMNS_MISSING.format(
                table=table, columns=", ".join(missing), target=described))
    filled = [table for table in target.engine.table_names(db) if table != VERSIONS_TABLE
              and db.execute(f"SELECT EXISTS (SELECT 1 FROM {_quoted(table)})").fetchone()[0]]
    if filled:
        raise CopyRefused(texts.MIGRATE_TARGET_NOT_EMPTY.format(target=described,
                                                                tables=", ".join(filled)))
    return {table: [column for column, identity in found[table].items() if identity]
            for table in columns}


def _copy_table(reader: sqlite3.Connection, db: Any, table: str, columns: list[str],
                batch_rows: int) -> int:
    """Copies the table's rows with their rowids (explicit values are allowed where the
    identity is GENERATED BY DEFAULT); returns how many were read."""
    # rowid unquoted: SQLite reads a quoted "rowid" as a column of that name (or a string).
    names = ", ".join(("rowid", *(_quoted(column) for column in columns)))
    rows = reader.execute(f"SELECT {names} FROM {_quoted(table)} ORDER BY rowid")
    insert = (f"INSERT INTO {_quoted(table)} ({names}) "
              f"VALUES ({', '.join('?' * (len(columns) + 1))})")
    read = 0
    while batch := rows.fetchmany(batch_rows):
        db.executemany(insert, batch)
        read += len(batch)
    return read


def _sqlite_sequences(reader: sqlite3.Connection) -> dict[str, int]:
    """The highest id each AUTOINCREMENT table ever gave: SQLite never gives it again, even
    after the row was deleted (a quiz whose poll was never sent), nor may PostgreSQL."""
    if not reader.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
                          ).fetchone():
        return {}
    return {row[0]: int(row[1]) for row in reader.execute("SELECT name, seq FROM "
                                                          "sqlite_sequence")}


def _continue_sequence(db: Any, table: str, column: str, floor: int) -> None:
    """The next generated value comes after every copied one (and after `floor`)."""
    db.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
               f"GREATEST(COALESCE(MAX({_quoted(column)}), 0), ?) + 1, false) "
               f"FROM {_quoted(table)}", (_quoted(table), column, floor))


def _count(db: Any, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {_quoted(table)}").fetchone()[0])


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
