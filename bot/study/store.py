"""The daily-study tables: plans, pushes and check-ins.

The database is the source of truth for schedules; jobs are rebuilt from it at start-up.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from bot.core.lectures import lecture_of
from bot.storage import Connection, Database, IntegrityError, Row, Schema, now_text

# The error recorded for a push found `sending` at start-up: the process died mid-request.
INTERRUPTED = "interrupted"

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
        # 3: a push's delivery state (see PushState), what the plan pointed at when it was
        # claimed (the plan advances only from there), its retries and whether admins were
        # told of a failure. Before this, a push without a message id was never delivered
        # as far as anyone knows (the error was swallowed): failed, too old to report.
        """
        ALTER TABLE pushes ADD COLUMN state TEXT NOT NULL DEFAULT 'delivered';
        UPDATE pushes SET state = 'failed' WHERE message_id IS NULL;
        ALTER TABLE pushes ADD COLUMN previous_passage_id TEXT;
        ALTER TABLE pushes ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE pushes ADD COLUMN next_attempt_at TEXT;
        ALTER TABLE pushes ADD COLUMN give_up_at TEXT;
        ALTER TABLE pushes ADD COLUMN error TEXT;
        ALTER TABLE pushes ADD COLUMN reported INTEGER NOT NULL DEFAULT 1;
        CREATE INDEX pushes_in_progress ON pushes (chat_id, state)
            WHERE state <> 'delivered';
        """,
        # 4: every other message that carries a push's ✅ button (/today's copy in the chat,
        # a member's private reminder): a press counts only on the push's own message or on
        # one of these, in the chat it was sent to (pushes.chat_id/message_id is the push's).
        """
        CREATE TABLE push_copies (
            push_id INTEGER NOT NULL REFERENCES pushes (push_id),
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            PRIMARY KEY (chat_id, message_id)
        );
        """,
        # 5: which instance claimed a push (several share a PostgreSQL database): one left
        # `sending` is settled only when that instance is gone.
        """
        ALTER TABLE pushes ADD COLUMN claimed_by TEXT;
        """,
    ),
    chat_tables=("pushes", "checkins", "push_copies"),
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


class PushState(StrEnum):
    """Where a push stands; only `sending` and `retrying` still change on their own."""

    SENDING = "sending"      # the request is on its way (found at start-up: the bot was killed)
    DELIVERED = "delivered"  # Telegram returned the message
    UNKNOWN = "unknown"      # the request left but no answer came: counts as delivered
    RETRYING = "retrying"    # Telegram refused it; another attempt is scheduled
    FAILED = "failed"        # refused for good (or the bot was removed): admins are told


# A push the plan counts as sent, and the one /today shows.
COUNTED_STATES = (PushState.DELIVERED, PushState.UNKNOWN)
# A chat has at most one push in one of these states: a second would carry the same passage.
IN_FLIGHT_STATES = (PushState.SENDING, PushState.RETRYING)


@dataclass(frozen=True)
class Push:
    push_id: int
    chat_id: int
    local_date: date
    passage_id: str
    kind: str
    message_id: int | None
    state: PushState = PushState.SENDING
    # The plan's last passage when this push was claimed: the plan advances only from it.
    previous_passage_id: str | None = None
    attempts: int = 1
    next_attempt_at: datetime | None = None
    give_up_at: datetime | None = None
    error: str | None = None
    reported: bool = False


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

    def __init__(self, database: Database, instance: str = ""):
        self.database = database
        # Who claims pushes here: on a shared database a push left `sending` is settled only
        # once the instance that claimed it is gone.
        self.instance = instance
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

    async def claim_push(self, chat_id: int, local_date: date, passage_id: str, kind: str,
                         previous_passage_id: str | None = None) -> Push | None:
        """Records a push as `sending` before it is sent; None if it may not be sent.

        Refused when today's scheduled push already exists (a scheduled push goes out at
        most once a day however often the bot restarts) or when the chat has a push still
        sending or retrying (it carries the passage this one would repeat).
        """
        return await self._run(self._claim_push, chat_id, local_date, passage_id, kind,
                               previous_passage_id)

    def _claim_push(self, chat_id, local_date, passage_id, kind, previous) -> Push | None:
        with self._transaction() as db:
            if db.execute(f"SELECT 1 FROM pushes WHERE chat_id = ? AND state IN "
                          f"({_marks(IN_FLIGHT_STATES)})",
                          (chat_id, *IN_FLIGHT_STATES)).fetchone():
                return None
            try:
                with self.database.savepoint(db):
                    push_id = db.execute(
                        """INSERT INTO pushes (chat_id, local_date, passage_id, kind, sent_at,
                               state, previous_passage_id, reported, claimed_by)
                           VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING push_id""",
                        (chat_id, local_date.isoformat(), passage_id, kind, now_text(),
                         PushState.SENDING, previous, self.instance)).fetchone()[0]
            except IntegrityError:
                return None
        return Push(int(push_id), chat_id, local_date, passage_id, kind, None,
                    previous_passage_id=previous)

    async def begin_attempt(self, push_id: int, from_states: tuple[PushState, ...],
                            fresh: bool = False) -> Push | None:
        """Moves a push back to `sending` for another attempt; None if it is in none of
        `from_states` (another attempt, or an admin's button, got there first). `fresh`
        starts a new round of retries (an admin asked for it)."""
        return await self._run(self._begin_attempt, push_id, from_states, fresh)

    def _begin_attempt(self, push_id: int, from_states: tuple[PushState, ...],
                       fresh: bool) -> Push | None:
        counting = ("attempts = 1, give_up_at = NULL" if fresh
                    else "attempts = attempts + 1")
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE pushes SET state = ?, claimed_by = ?, {counting} WHERE push_id = ? "
                f"AND state IN ({_marks(from_states)})",
                (PushState.SENDING, self.instance, push_id, *from_states))
            if cursor.rowcount == 0:
                return None
            return _push(db.execute("SELECT * FROM pushes WHERE push_id = ?",
                                    (push_id,)).fetchone())

    async def mark_delivered(self, push: Push, message_id: int, chat_id: int) -> None:
        """Telegram returned the message: the push is delivered and the plan advances, in
        one transaction."""
        await self._run(self._settle, push, PushState.DELIVERED, None,
                        {"message_id": message_id, "chat_id": chat_id})

    async def mark_unknown(self, push: Push, error: str) -> None:
        """The request left but its answer never came: the plan counts it as delivered."""
        await self._run(self._settle, push, PushState.UNKNOWN, error, {"reported": 0})

    async def mark_retrying(self, push: Push, error: str, next_attempt_at: datetime,
                            give_up_at: datetime) -> None:
        await self._run(self._settle, push, PushState.RETRYING, error,
                        {"next_attempt_at": next_attempt_at.isoformat(),
                         "give_up_at": give_up_at.isoformat()})

    async def mark_failed(self, push: Push, error: str, report: bool = True) -> None:
        """Refused for good; `report` leaves it for the admins to be told."""
        await self._run(self._settle, push, PushState.FAILED, error,
                        {"reported": 0 if report else 1})

    def _settle(self, push: Push, state: PushState, error: str | None, fields: dict) -> None:
        with self._transaction() as db:
            assignments = ", ".join(f"{name} = ?" for name in ("state", "error", *fields))
            db.execute(f"UPDATE pushes SET {assignments} WHERE push_id = ?",
                       (state, error, *fields.values(), push.push_id))
            if state in COUNTED_STATES:
                self._advance_plan(db, push)

    @staticmethod
    def _advance_plan(db: Connection, push: Push) -> None:
        """The plan moves to the push's passage once, and only from where it stood when the
        push was claimed: not after a lecture switch or a restart, never backwards."""
        chat_id = db.execute("SELECT chat_id FROM pushes WHERE push_id = ?",
                             (push.push_id,)).fetchone()[0]
        db.execute("UPDATE plans SET last_passage_id = ? WHERE chat_id = ? AND lecture_id = ? "
                   "AND last_passage_id IS ?",
                   (push.passage_id, chat_id, lecture_of(push.passage_id),
                    push.previous_passage_id))

    async def mark_reported(self, push_id: int) -> None:
        await self._run(self._write, "UPDATE pushes SET reported = 1 WHERE push_id = ?",
                        (push_id,))

    async def interrupted_pushes(self, live: Collection[str] = ()) -> list[Push]:
        """Pushes left `sending` by a killed process become `unknown` (and count for their
        plans), in one transaction; returns them. `live`: instances still running on a
        shared database, whose pushes in flight are theirs to finish."""
        return await self._run(self._interrupted_pushes, tuple(live))

    def _interrupted_pushes(self, live: tuple[str, ...]) -> list[Push]:
        spared = f" AND COALESCE(claimed_by, '') NOT IN ({_marks(live)})" if live else ""
        with self._transaction() as db:
            pushes = [_push(row) for row in db.execute(
                f"SELECT * FROM pushes WHERE state = ?{spared} ORDER BY push_id",
                (PushState.SENDING, *live))]
            for push in pushes:
                db.execute("UPDATE pushes SET state = ?, reported = 0, error = ? "
                           "WHERE push_id = ?",
                           (PushState.UNKNOWN, INTERRUPTED, push.push_id))
                self._advance_plan(db, push)
        return [replace(push, state=PushState.UNKNOWN) for push in pushes]

    async def pushes_in_state(self, state: PushState) -> list[Push]:
        return await self._run(self._pushes_in_state, state)

    def _pushes_in_state(self, state: PushState) -> list[Push]:
        rows = self._db().execute("SELECT * FROM pushes WHERE state = ? ORDER BY push_id",
                                  (state,))
        return [_push(row) for row in rows]

    async def orphaned_retries(self, live: Collection[str]) -> list[Push]:
        """Pushes waiting for a retry whose instance is gone (its retry job went with it)."""
        return await self._run(self._orphaned_retries, tuple(live))

    def _orphaned_retries(self, live: tuple[str, ...]) -> list[Push]:
        rows = self._db().execute(
            f"SELECT * FROM pushes WHERE state = ? AND COALESCE(claimed_by, '') NOT IN "
            f"({_marks(live)}) ORDER BY push_id", (PushState.RETRYING, *live))
        return [_push(row) for row in rows]

    async def unreported_pushes(self) -> list[Push]:
        """Failed or unknown pushes whose admins have not been told yet."""
        return await self._run(self._unreported_pushes)

    def _unreported_pushes(self) -> list[Push]:
        rows = self._db().execute(
            "SELECT * FROM pushes WHERE reported = 0 AND state IN (?, ?) ORDER BY push_id",
            (PushState.FAILED, PushState.UNKNOWN))
        return [_push(row) for row in rows]

    async def delivered_later(self, push: Push) -> bool:
        """Did a later push bring the same passage to the chat (so a resend would repeat it)?"""
        return await self._run(self._delivered_later, push)

    def _delivered_later(self, push: Push) -> bool:
        return self._db().execute(
            "SELECT 1 FROM pushes WHERE chat_id = ? AND passage_id = ? AND push_id > ? "
            "AND state IN (?, ?)",
            (push.chat_id, push.passage_id, push.push_id, *COUNTED_STATES)).fetchone() is not None

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
        """The last push the chat got, as far as anyone knows (message id known or not)."""
        return await self._run(self._latest_push, chat_id)

    def _latest_push(self, chat_id: int) -> Push | None:
        row = self._db().execute(
            """SELECT * FROM pushes WHERE chat_id = ? AND state IN (?, ?)
               ORDER BY push_id DESC LIMIT 1""", (chat_id, *COUNTED_STATES)).fetchone()
        return _push(row) if row else None

    async def push(self, push_id: int) -> Push | None:
        return await self._run(self._push, push_id)

    def _push(self, push_id: int) -> Push | None:
        row = self._db().execute("SELECT * FROM pushes WHERE push_id = ?",
                                 (push_id,)).fetchone()
        return _push(row) if row else None

    async def record_copy(self, push_id: int, chat_id: int, message_id: int) -> None:
        """A message other than the push's own now carries its ✅ button (see migration 4)."""
        await self._run(self._write,
                        """INSERT INTO push_copies (push_id, chat_id, message_id)
                           VALUES (?, ?, ?) ON CONFLICT (chat_id, message_id)
                           DO UPDATE SET push_id = excluded.push_id""",
                        (push_id, chat_id, message_id))

    async def carries_button(self, push: Push, chat_id: int, message_id: int) -> bool:
        """Is this message the push's own, or a copy the bot sent of it, in this chat?"""
        if push.chat_id == chat_id and push.message_id == message_id:
            return True
        return await self._run(self._is_copy, push.push_id, chat_id, message_id)

    def _is_copy(self, push_id: int, chat_id: int, message_id: int) -> bool:
        return self._db().execute(
            "SELECT 1 FROM push_copies WHERE push_id = ? AND chat_id = ? AND message_id = ?",
            (push_id, chat_id, message_id)).fetchone() is not None

    async def check_in(self, push: Push, user_id: int, at: datetime | None = None) -> int:
        """Counts the member once for this push; returns the push's check-in count.

        `at` is the bot's clock (a test's fake one); by default the wall clock.
        """
        return await self._run(self._check_in, push, user_id, at)

    def _check_in(self, push: Push, user_id: int, at: datetime | None) -> int:
        stamp = at.astimezone(UTC).isoformat(timespec="seconds") if at else now_text()
        with self._transaction() as db:
            db.execute("""INSERT INTO checkins (push_id, chat_id, user_id, local_date,
                              checked_in_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
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
        """The chat's pushes counted as sent (delivered, or of unknown outcome, as the plan
        counts them), of the days `first` to `last` inclusive."""
        return await self._run(self._pushes_between, chat_id, first, last)

    def _pushes_between(self, chat_id: int, first: date, last: date) -> list[Push]:
        marks = ",".join("?" * len(COUNTED_STATES))
        rows = self._db().execute(
            f"""SELECT * FROM pushes WHERE chat_id = ? AND local_date BETWEEN ? AND ?
                AND state IN ({marks}) ORDER BY local_date, push_id""",
            (chat_id, first.isoformat(), last.isoformat(), *COUNTED_STATES))
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


def _plan(row: Row) -> Plan:
    return Plan(chat_id=row["chat_id"], lecture_id=row["lecture_id"],
                last_passage_id=row["last_passage_id"], time_of_day=row["time_of_day"],
                weekdays=tuple(int(d) for d in row["weekdays"]), timezone=row["timezone"],
                schedule_set_at=datetime.fromisoformat(row["schedule_set_at"]),
                active=bool(row["active"]))


def _push(row: Row) -> Push:
    return Push(push_id=row["push_id"], chat_id=row["chat_id"],
                local_date=date.fromisoformat(row["local_date"]),
                passage_id=row["passage_id"], kind=row["kind"], message_id=row["message_id"],
                state=PushState(row["state"]), previous_passage_id=row["previous_passage_id"],
                attempts=row["attempts"], next_attempt_at=_time(row["next_attempt_at"]),
                give_up_at=_time(row["give_up_at"]), error=row["error"],
                reported=bool(row["reported"]))


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _marks(values: tuple) -> str:
    return ",".join("?" * len(values))
