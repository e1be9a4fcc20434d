"""The scheduler's lease and the change counters, in the shared database."""

from __future__ import annotations

import functools
import os
import socket
import uuid

from bot.storage import Database, Schema, now_text


@functools.cache
def instance_identity() -> str:
    """This process among the instances: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


SCHEMA = Schema(
    name="cluster",
    migrations=(
        """
        -- Who runs the daily pushes, quizzes and reminders: the holder, until expires_at
        -- (seconds since the epoch); renewed while it lives, taken by another once expired.
        CREATE TABLE cluster_leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at REAL NOT NULL,
            acquired_at TEXT NOT NULL
        );
        -- Bumped when an instance changes what every instance keeps in memory (the
        -- lectures, the links): the others see the new number and load it again.
        CREATE TABLE cluster_versions (
            name TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            changed_by TEXT,
            changed_at TEXT NOT NULL
        );
        -- Every running instance, seen at its last tick: a push one of them left half-sent
        -- is settled only once it has stopped ticking.
        CREATE TABLE cluster_instances (
            identity TEXT PRIMARY KEY,
            seen_at REAL NOT NULL,
            started_at TEXT NOT NULL
        );
        """,
        """
        -- 2: updates some instance took on (Telegram sends an update again when its webhook
        -- did not answer in time, and the proxy may hand it to another instance).
        CREATE TABLE cluster_updates (
            update_id INTEGER PRIMARY KEY,
            seen_at REAL NOT NULL
        );
        CREATE INDEX cluster_updates_by_age ON cluster_updates (seen_at);
        """,
    ),
    transient_tables=("cluster_leases", "cluster_versions", "cluster_instances",
                      "cluster_updates"),
)


class ClusterStore:
    def __init__(self, database: Database):
        self.database = database

    async def take_lease(self, name: str, holder: str, ttl: float,
                         now: float | None = None) -> bool:
        """Takes or renews the lease; False while another holder's has not expired. `now`:
        seconds since the epoch, by default the database's clock (instances on several
        machines then agree on when a lease has expired)."""
        return await self.database.run(self._take_lease, name, holder, ttl, now)

    def _now(self, db, now: float | None) -> float:
        return float(db.execute(self.database.engine.epoch_sql).fetchone()[0]) \
            if now is None else now

    def _take_lease(self, name: str, holder: str, ttl: float, now: float | None) -> bool:
        with self.database.transaction() as db:
            now = self._now(db, now)
            row = db.execute("SELECT holder, expires_at FROM cluster_leases WHERE name = ?",
                             (name,)).fetchone()
            if row is None:
                db.execute("INSERT INTO cluster_leases (name, holder, expires_at, acquired_at) "
                           "VALUES (?, ?, ?, ?)", (name, holder, now + ttl, now_text()))
                return True
            if row[0] == holder:
                db.execute("UPDATE cluster_leases SET expires_at = ? WHERE name = ?",
                           (now + ttl, name))
                return True
            if row[1] > now:
                return False
            db.execute("UPDATE cluster_leases SET holder = ?, expires_at = ?, acquired_at = ? "
                       "WHERE name = ?", (holder, now + ttl, now_text(), name))
            return True

    async def release_lease(self, name: str, holder: str) -> None:
        """A clean stop hands the lease on at once instead of after it expires."""
        await self.database.run(self.database.write,
                                "DELETE FROM cluster_leases WHERE name = ? AND holder = ?",
                                (name, holder))

    async def lease_holder(self, name: str) -> tuple[str, float] | None:
        row = await self.database.run(self._one, "SELECT holder, expires_at FROM "
                                                 "cluster_leases WHERE name = ?", (name,))
        return (row[0], row[1]) if row else None

    async def heartbeat(self, identity: str, now: float | None = None) -> None:
        await self.database.run(self._heartbeat, identity, now)

    def _heartbeat(self, identity: str, now: float | None) -> None:
        with self.database.transaction() as db:
            db.execute("""INSERT INTO cluster_instances (identity, seen_at, started_at)
                          VALUES (?, ?, ?)
                          ON CONFLICT (identity) DO UPDATE SET seen_at = excluded.seen_at""",
                       (identity, self._now(db, now), now_text()))

    async def live_instances(self, ttl: float, now: float | None = None) -> set[str]:
        """Instances seen within `ttl` seconds (the others are gone; their rows go too)."""
        return await self.database.run(self._live_instances, ttl, now)

    def _live_instances(self, ttl: float, now: float | None) -> set[str]:
        with self.database.transaction() as db:
            db.execute("DELETE FROM cluster_instances WHERE seen_at < ?",
                       (self._now(db, now) - ttl,))
            return {row[0] for row in db.execute("SELECT identity FROM cluster_instances")}

    async def leave(self, identity: str) -> None:
        await self.database.run(self.database.write,
                                "DELETE FROM cluster_instances WHERE identity = ?", (identity,))

    async def first_sighting(self, update_id: int) -> bool:
        """Records that an instance takes this update on; False if one already did."""
        return await self.database.run(self._first_sighting, update_id)

    def _first_sighting(self, update_id: int) -> bool:
        with self.database.transaction() as db:
            return db.execute(
                "INSERT INTO cluster_updates (update_id, seen_at) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING RETURNING update_id",
                (update_id, self._now(db, None))).fetchone() is not None

    async def forget_updates(self, older_than_s: float) -> None:
        """Telegram gives up resending an update within a day: older ones need no memory."""
        await self.database.run(self._forget_updates, older_than_s)

    def _forget_updates(self, older_than_s: float) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM cluster_updates WHERE seen_at < ?",
                       (self._now(db, None) - older_than_s,))

    async def versions(self) -> dict[str, int]:
        rows = await self.database.run(self._all, "SELECT name, version FROM cluster_versions")
        return {row[0]: row[1] for row in rows}

    async def bump(self, name: str, by: str) -> int:
        """Counts one change; returns the new number."""
        written = await self.database.run(
            self.database.write,
            """INSERT INTO cluster_versions (name, version, changed_by, changed_at)
               VALUES (?, 1, ?, ?) ON CONFLICT (name) DO UPDATE SET
                   version = cluster_versions.version + 1, changed_by = excluded.changed_by,
                   changed_at = excluded.changed_at
               RETURNING version""", (name, by, now_text()))
        return int(written.fetchone()[0])

    def _one(self, sql: str, params: tuple):
        return self.database.connection().execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple = ()) -> list:
        return self.database.connection().execute(sql, params).fetchall()
