"""SQLite storage: study plans, pushes, check-ins, questions and feedback.

The database is the source of truth for schedules; jobs are rebuilt from it at start-up.
Every call runs on one worker thread that owns the connection, so the event loop never
waits on the disk and writes never interleave. WAL with synchronous=FULL: once a call has
returned (and the user was told), a crash or kill cannot lose it.

Schema changes are migrations keyed by `PRAGMA user_version`; never edit a released one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from bot.lectures import lecture_of

T = TypeVar("T")

MIGRATIONS: tuple[str, ...] = (
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
    CREATE TABLE questions (
        question_id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        answered INTEGER NOT NULL,
        top_passage_id TEXT,
        asked_at TEXT NOT NULL
    );
    -- One vote per member and passage in a chat; pressing again changes it.
    CREATE TABLE feedback (
        chat_id INTEGER NOT NULL,
        passage_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        given_at TEXT NOT NULL,
        PRIMARY KEY (chat_id, passage_id, user_id)
    );
    CREATE INDEX questions_by_chat ON questions (chat_id, asked_at);
    CREATE INDEX checkins_by_chat ON checkins (chat_id, local_date);
    """,
)

# Stored questions are cut to this length: enough to read, bounded for a pasted essay.
MAX_STORED_QUESTION_CHARS = 500


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
class Stats:
    checkins_today: int
    checkins_week: int
    members_week: int
    top_questions: tuple[tuple[str, int], ...]
    unanswered: tuple[tuple[str, int], ...]
    likes: int = 0
    dislikes: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """Async facade over one SQLite connection living on a dedicated thread."""

    def __init__(self, path: Path):
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> Store:
        await self._run(self._open)
        return self

    async def close(self) -> None:
        if self._connection is not None:
            await self._run(self._close)
        self._executor.shutdown(wait=True)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        # Only this process writes; the wait covers an admin's sqlite3 shell holding a lock.
        connection.execute("PRAGMA busy_timeout=5000")
        self._connection = connection
        migrate(connection)

    def _close(self) -> None:
        assert self._connection is not None
        self._connection.close()
        self._connection = None

    async def _run(self, function: Callable[..., T], *args) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("store is not open")
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together before the call returns, or none does.

        The connection is in autocommit mode (isolation_level=None), where sqlite3's own
        `with connection:` does not open a transaction: BEGIN is issued here explicitly.
        """
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._transaction() as db:
            return db.execute(sql, params)

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
            for table in ("pushes", "checkins", "questions", "feedback"):
                db.execute(f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?",
                           (new, old))
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
                (chat_id, local_date.isoformat(), passage_id, kind, _now()))
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

    async def check_in(self, push: Push, user_id: int) -> int:
        """Counts the member once for this push; returns the push's check-in count."""
        return await self._run(self._check_in, push, user_id)

    def _check_in(self, push: Push, user_id: int) -> int:
        with self._transaction() as db:
            db.execute("""INSERT OR IGNORE INTO checkins (push_id, chat_id, user_id, local_date)
                          VALUES (?, ?, ?, ?)""",
                       (push.push_id, push.chat_id, user_id, push.local_date.isoformat()))
            return db.execute("SELECT COUNT(*) FROM checkins WHERE push_id = ?",
                              (push.push_id,)).fetchone()[0]

    async def checkin_count(self, push_id: int) -> int:
        return await self._run(self._checkin_count, push_id)

    def _checkin_count(self, push_id: int) -> int:
        return self._db().execute("SELECT COUNT(*) FROM checkins WHERE push_id = ?",
                                  (push_id,)).fetchone()[0]

    # --- questions, feedback, stats ---------------------------------------------------

    async def log_question(self, chat_id: int, text: str, answered: bool,
                           top_passage_id: str | None) -> None:
        await self._run(self._write,
                        """INSERT INTO questions (chat_id, text, answered, top_passage_id,
                               asked_at) VALUES (?, ?, ?, ?, ?)""",
                        (chat_id, text.strip()[:MAX_STORED_QUESTION_CHARS], int(answered),
                         top_passage_id, _now()))

    async def add_feedback(self, chat_id: int, passage_id: str, user_id: int,
                           vote: int) -> None:
        await self._run(self._write,
                        """INSERT INTO feedback (chat_id, passage_id, user_id, vote, given_at)
                           VALUES (?, ?, ?, ?, ?)
                           ON CONFLICT (chat_id, passage_id, user_id) DO UPDATE
                           SET vote = excluded.vote, given_at = excluded.given_at""",
                        (chat_id, passage_id, user_id, vote, _now()))

    async def stats(self, chat_id: int, today: date, week_start: date,
                    limit: int = 5) -> Stats:
        return await self._run(self._stats, chat_id, today, week_start, limit)

    def _stats(self, chat_id: int, today: date, week_start: date, limit: int) -> Stats:
        db = self._db()

        def count(sql: str, *params) -> int:
            return db.execute(sql, params).fetchone()[0]

        def grouped(answered_only: bool | None) -> tuple[tuple[str, int], ...]:
            where = "" if answered_only is None else f"AND answered = {int(answered_only)}"
            rows = db.execute(
                f"""SELECT text, COUNT(*) AS n FROM questions WHERE chat_id = ? {where}
                    GROUP BY text ORDER BY n DESC, MAX(asked_at) DESC LIMIT ?""",
                (chat_id, limit))
            return tuple((row["text"], row["n"]) for row in rows)

        return Stats(
            checkins_today=count("SELECT COUNT(*) FROM checkins WHERE chat_id = ? AND "
                                 "local_date = ?", chat_id, today.isoformat()),
            checkins_week=count("SELECT COUNT(*) FROM checkins WHERE chat_id = ? AND "
                                "local_date >= ?", chat_id, week_start.isoformat()),
            members_week=count("SELECT COUNT(DISTINCT user_id) FROM checkins WHERE chat_id = ? "
                               "AND local_date >= ?", chat_id, week_start.isoformat()),
            top_questions=grouped(None),
            unanswered=grouped(False),
            likes=count("SELECT COUNT(*) FROM feedback WHERE chat_id = ? AND vote = 1", chat_id),
            dislikes=count("SELECT COUNT(*) FROM feedback WHERE chat_id = ? AND vote = -1",
                           chat_id),
        )


def migrate(connection: sqlite3.Connection) -> int:
    """Brings the schema up to date; returns the version it is at."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise
        version = number
    return version


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


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
