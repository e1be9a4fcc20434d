"""The daily-study tables: plans, pushes and check-ins.

The database is the source of truth for schedules; jobs are rebuilt from it at start-up.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.core.lectures import lecture_of
from bot.storage import Database, Schema, now_text

SCHEMA = Schema(
    name="study",
    migrations=(
        # 1: the first release.
        """
        CREATE TABLE plans (
            chat_id INTEGER PRIMARY KEY,
            lecture_id TEXT NOT NULL,
            last_passage_id TEXT,
            time_of_day TEXT NOT NULL,
            weekdays TEXT NOT NULL,
            timezone TEXT NOT NULL,
            schedule_set_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE pushes (
            push_id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            local_date TEXT NOT NULL,
            passage_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
            message_id INTEGER,
            sent_at TEXT NOT NULL
        );
        -- At most one scheduled push per chat and day, however often the bot restarts.
        CREATE UNIQUE INDEX one_scheduled_push_a_day ON pushes (chat_id, local_date)
            WHERE kind = 'scheduled';
        CREATE TABLE checkins (
            push_id INTEGER NOT NULL REFERENCES pushes (push_id),
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            local_date TEXT NOT NULL,
            PRIMARY KEY (push_id, user_id)
        );
        CREATE INDEX checkins_by_chat ON checkins (chat_id, local_date);
        """,
        # 2: when a member checked in (a passage studied days after its push is made up,
        # 补学); rows from before this migration have none.
        """
        ALTER TABLE checkins ADD COLUMN checked_in_at TEXT;
        """,
    ),
    chat_tables=("pushes", "checkins"),
)


@dataclass(frozen=True)
class Plan:
    chat_id: int
    lecture_id: str
    last_passage_id: str | None
    time_of_day: str
    weekdays: tuple[int, ...]
    timezone: str
    schedule_set_at: datetime
    active: bool


@dataclass(frozen=True)
class Push:
    push_id: int
    chat_id: int
    local_date: date
    passage_id: str
    kind: str
    message_id: int | None


@dataclass(frozen=True)
class CheckIn:
    """A member's ✅ on a push; `local_date` is the push's day, `checked_in_at` (UTC) when
    they pressed it (None for check-ins from before that was recorded)."""

    push_id: int
    user_id: int
    local_date: date
    checked_in_at: datetime | None


@dataclass(frozen=True)
class CheckInStats:
    today: int
    week: int
    members_week: int


class StudyStore:
    """Plans, pushes and check-ins; every call runs on the database's thread."""

    def __init__(self, database: Database):
        self.database = database
        self._run = database.run
        self._db = database.connection
        self._transaction = database.transaction
        self._write = database.write

    # --- plans -------------------------------------------------------------------------

    async def save_plan(self, plan: Plan) -> None:
        await self._run(self._save_plan, plan)

    def _save_plan(self, plan: Plan) -> None:
        self._write(
            """INSERT INTO plans (chat_id, lecture_id, last_passage_id, time_of_day, weekdays,
                   timezone, schedule_set_at, active)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET lecture_id = excluded.lecture_id,
                   last_passage_id = excluded.last_passage_id,
                   time_of_day = excluded.time_of_day, weekdays = excluded.weekdays,
                   timezone = excluded.timezone, schedule_set_at = excluded.schedule_set_at,
                   active = excluded.active""",
            (plan.chat_id, plan.lecture_id, plan.last_passage_id, plan.time_of_day,
             "".join(str(d) for d in plan.weekdays), plan.timezone,
             plan.schedule_set_at.isoformat(), int(plan.active)))

    async def plan(self, chat_id: int) -> Plan | None:
        return await self._run(self._plan, chat_id)

    def _plan(self, chat_id: int) -> Plan | None:
        row = self._db().execute("SELECT * FROM plans WHERE chat_id = ?", (chat_id,)).fetchone()
        return _plan(row) if row else None

    async def active_plans(self) -> list[Plan]:
        return await self._run(self._active_plans)

    def _active_plans(self) -> list[Plan]:
        rows = self._db().execute("SELECT * FROM plans WHERE active = 1 ORDER BY chat_id")
        return [_plan(row) for row in rows]

    async def set_active(self, chat_id: int, active: bool) -> None:
        await self._run(self._write, "UPDATE plans SET active = ? WHERE chat_id = ?",
                        (int(active), chat_id))

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> bool:
        """A group became a supergroup: everything of the old id moves to the new one.

        If the new id already has a plan, that plan is kept and the old one is paused; a
        push the new id already has for a day keeps the old chat's push of that day where
        it is. Returns True if the old plan moved.
        """
        return await self._run(self._migrate_chat, old_chat_id, new_chat_id)

    def _migrate_chat(self, old: int, new: int) -> bool:
        with self._transaction() as db:
            taken = db.execute("SELECT 1 FROM plans WHERE chat_id = ?", (new,)).fetchone()
            if taken:
                db.execute("UPDATE plans SET active = 0 WHERE chat_id = ?", (old,))
            else:
                db.execute("UPDATE plans SET chat_id = ? WHERE chat_id = ?", (new, old))
            self.database.move_chat_rows(db, old, new)
            return taken is None

    # --- pushes and check-ins ---------------------------------------------------------

    async def claim_push(self, chat_id: int, local_date: date, passage_id: str,
                         kind: str) -> Push | None:
        """Records a push before it is sent; None if today's scheduled push already exists.

        Claiming first makes a scheduled push at-most-once: a crash between claim and send
        loses that day's push rather than sending it twice after every restart.
        """
        return await self._run(self._claim_push, chat_id, local_date, passage_id, kind)

    def _claim_push(self, chat_id, local_date, passage_id, kind) -> Push | None:
        try:
            cursor = self._write(
                """INSERT INTO pushes (chat_id, local_date, passage_id, kind, sent_at)
                   VALUES (?, ?, ?, ?, ?)""",
                (chat_id, local_date.isoformat(), passage_id, kind, now_text()))
        except sqlite3.IntegrityError:
            return None
        return Push(int(cursor.lastrowid), chat_id, local_date, passage_id, kind, None)

    async def complete_push(self, push_id: int, message_id: int, chat_id: int,
                            passage_id: str) -> None:
        """The push was delivered: remember its message and advance the plan.

        The plan advances only if it still studies the passage's lecture (an admin may have
        switched lectures while the push was on its way).
        """
        await self._run(self._complete_push, push_id, message_id, chat_id, passage_id)

    def _complete_push(self, push_id, message_id, chat_id, passage_id: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE pushes SET message_id = ?, chat_id = ? WHERE push_id = ?",
                       (message_id, chat_id, push_id))
            db.execute("UPDATE plans SET last_passage_id = ? WHERE chat_id = ? "
                       "AND lecture_id = ?", (passage_id, chat_id, lecture_of(passage_id)))

    async def chats_with_scheduled_push(self, local_dates: set[date]) -> set[tuple[int, date]]:
        """(chat, day) pairs that have their scheduled push, for any of the given days."""
        return await self._run(self._chats_with_scheduled_push, local_dates)

    def _chats_with_scheduled_push(self, local_dates: set[date]) -> set[tuple[int, date]]:
        if not local_dates:
            return set()
        marks = ",".join("?" * len(local_dates))
        rows = self._db().execute(
            f"SELECT chat_id, local_date FROM pushes WHERE kind = 'scheduled' "
            f"AND local_date IN ({marks})", tuple(d.isoformat() for d in local_dates))
        return {(row["chat_id"], date.fromisoformat(row["local_date"])) for row in rows}

    async def latest_push(self, chat_id: int) -> Push | None:
        return await self._run(self._latest_push, chat_id)

    def _latest_push(self, chat_id: int) -> Push | None:
        row = self._db().execute(
            """SELECT * FROM pushes WHERE chat_id = ? AND message_id IS NOT NULL
               ORDER BY push_id DESC LIMIT 1""", (chat_id,)).fetchone()
        return _push(row) if row else None

    async def push(self, push_id: int) -> Push | None:
        return await self._run(self._push, push_id)

    def _push(self, push_id: int) -> Push | None:
        row = self._db().execute("SELECT * FROM pushes WHERE push_id = ?",
                                 (push_id,)).fetchone()
        return _push(row) if row else None

    async def check_in(self, push: Push, user_id: int, at: datetime | None = None) -> int:
        """Counts the member once for this push; returns the push's check-in count.

        `at` is the bot's clock (a test's fake one); by default the wall clock.
        """
        return await self._run(self._check_in, push, user_id, at)

    def _check_in(self, push: Push, user_id: int, at: datetime | None) -> int:
        stamp = at.astimezone(UTC).isoformat(timespec="seconds") if at else now_text()
        with self._transaction() as db:
            db.execute("""INSERT OR IGNORE INTO checkins (push_id, chat_id, user_id, local_date,
                              checked_in_at) VALUES (?, ?, ?, ?, ?)""",
                       (push.push_id, push.chat_id, user_id, push.local_date.isoformat(),
                        stamp))
            return db.execute("SELECT COUNT(*) FROM checkins WHERE push_id = ?",
                              (push.push_id,)).fetchone()[0]

    async def checkin_count(self, push_id: int) -> int:
        return await self._run(self._checkin_count, push_id)

    def _checkin_count(self, push_id: int) -> int:
        return self._db().execute("SELECT COUNT(*) FROM checkins WHERE push_id = ?",
                                  (push_id,)).fetchone()[0]

    async def checkin_stats(self, chat_id: int, today: date, week_start: date) -> CheckInStats:
        return await self._run(self._checkin_stats, chat_id, today, week_start)

    def _checkin_stats(self, chat_id: int, today: date, week_start: date) -> CheckInStats:
        db = self._db()

        def count(sql: str, *params) -> int:
            return db.execute(sql, params).fetchone()[0]

        return CheckInStats(
            today=count("SELECT COUNT(*) FROM checkins WHERE chat_id = ? AND local_date = ?",
                        chat_id, today.isoformat()),
            week=count("SELECT COUNT(*) FROM checkins WHERE chat_id = ? AND local_date >= ?",
                       chat_id, week_start.isoformat()),
            members_week=count("SELECT COUNT(DISTINCT user_id) FROM checkins WHERE chat_id = ? "
                               "AND local_date >= ?", chat_id, week_start.isoformat()),
        )


    # --- reading for records (台账) -----------------------------------------------------

    async def pushes_between(self, chat_id: int, first: date, last: date) -> list[Push]:
        """The chat's pushes that reached it, of the days `first` to `last` inclusive."""
        return await self._run(self._pushes_between, chat_id, first, last)

    def _pushes_between(self, chat_id: int, first: date, last: date) -> list[Push]:
        rows = self._db().execute(
            """SELECT * FROM pushes WHERE chat_id = ? AND local_date BETWEEN ? AND ?
               AND message_id IS NOT NULL ORDER BY local_date, push_id""",
            (chat_id, first.isoformat(), last.isoformat()))
        return [_push(row) for row in rows]

    async def checkins_between(self, chat_id: int, first: date, last: date) -> list[CheckIn]:
        """Check-ins on the chat's pushes of the days `first` to `last` inclusive, whenever
        they were made."""
        return await self._run(self._checkins_between, chat_id, first, last)

    def _checkins_between(self, chat_id: int, first: date, last: date) -> list[CheckIn]:
        rows = self._db().execute(
            """SELECT push_id, user_id, local_date, checked_in_at FROM checkins
               WHERE chat_id = ? AND local_date BETWEEN ? AND ? ORDER BY push_id, user_id""",
            (chat_id, first.isoformat(), last.isoformat()))
        return [CheckIn(row["push_id"], row["user_id"], date.fromisoformat(row["local_date"]),
                        datetime.fromisoformat(row["checked_in_at"])
                        if row["checked_in_at"] else None)
                for row in rows]


def _plan(row: sqlite3.Row) -> Plan:
    return Plan(chat_id=row["chat_id"], lecture_id=row["lecture_id"],
                last_passage_id=row["last_passage_id"], time_of_day=row["time_of_day"],
                weekdays=tuple(int(d) for d in row["weekdays"]), timezone=row["timezone"],
                schedule_set_at=datetime.fromisoformat(row["schedule_set_at"]),
                active=bool(row["active"]))


def _push(row: sqlite3.Row) -> Push:
    return Push(push_id=row["push_id"], chat_id=row["chat_id"],
                local_date=date.fromisoformat(row["local_date"]),
                passage_id=row["passage_id"], kind=row["kind"], message_id=row["message_id"])
