"""The records tables: imported roster names, absence reasons, reminder times and opt-outs,
the reminders already sent, and what the bot last learnt about each group (title, size).

Who studied and who asked what is not kept here: it is read from the study and asking stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.storage import Database, IntegrityError, Row, Schema, now_text, update_or_ignore

SCHEMA = Schema(
    name="records",
    migrations=(
        """
        -- Names an admin imported with /roster; user_id is set once the name is matched to
        -- a member the bot met (by @username, or by a unique name).
        CREATE TABLE roster_entries (
            chat_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            username TEXT,
            user_id INTEGER,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, position)
        );
        -- Why someone did not study on a day (/absent). person: 'u:<user id>' for a member
        -- the bot met, 'n:<name>' for a roster name not matched yet.
        CREATE TABLE absence_reasons (
            chat_id INTEGER NOT NULL,
            local_date TEXT NOT NULL,
            person TEXT NOT NULL,
            reason TEXT NOT NULL,
            noted_by INTEGER,
            noted_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, local_date, person)
        );
        CREATE TABLE reminder_times (
            chat_id INTEGER PRIMARY KEY,
            time_of_day TEXT NOT NULL,
            timezone TEXT NOT NULL,
            set_at TEXT NOT NULL
        );
        -- Members who turned reminders off (/remind off in private), for every group.
        CREATE TABLE reminder_optouts (
            user_id INTEGER PRIMARY KEY,
            since TEXT NOT NULL
        );
        -- Claimed before a reminder is sent: at most one a day, however often the bot restarts.
        CREATE TABLE reminders_sent (
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            local_date TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, user_id, local_date)
        );
        -- The group's title and member count when the bot last asked Telegram: the command
        -- line export has no Telegram to ask.
        CREATE TABLE groups (
            chat_id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            member_count INTEGER,
            seen_at TEXT NOT NULL
        );
        """,
        """
        -- 2: a member's /myname claim of a roster name no member holds yet (issue 21: a name
        -- is claimed, not taken). It links the name to the member only once one of the
        -- group's admins confirms it (or the roster's @username is theirs); every claim,
        -- confirmation and refusal stays here and in the log.
        CREATE TABLE name_claims (
            claim_id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'refused')),
            claimed_at TEXT NOT NULL,
            decided_by INTEGER,
            decided_at TEXT
        );
        CREATE INDEX name_claims_by_chat ON name_claims (chat_id, state);
        """,
    ),
    chat_tables=("absence_reasons", "reminders_sent", "name_claims"),
    chat_settings=("roster_entries", "reminder_times", "groups"),
)

# Roster names and reasons are cut to these lengths: a spreadsheet cell, not an essay.
MAX_ROSTER_NAME_CHARS = 64
MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class RosterEntry:
    """One name of an imported roster, in the file's order."""

    position: int
    name: str
    username: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class ReminderTime:
    chat_id: int
    time_of_day: str
    timezone: str


@dataclass(frozen=True)
class GroupInfo:
    chat_id: int
    title: str
    member_count: int | None


@dataclass(frozen=True)
class NameClaim:
    """A member's claim of a roster name (see migration 2)."""

    claim_id: int
    chat_id: int
    name: str
    user_id: int
    state: str  # pending, confirmed, refused


class RecordsStore:
    """The records tables; every call runs on the database's thread."""

    def __init__(self, database: Database):
        self.database = database
        self._run = database.run
        self._db = database.connection

    # --- roster ----------------------------------------------------------------------

    async def replace_roster(self, chat_id: int, entries: Sequence[RosterEntry]) -> None:
        """The chat's imported roster becomes `entries` (a new file replaces the old list)."""
        await self._run(self._replace_roster, chat_id, entries)

    def _replace_roster(self, chat_id: int, entries: Sequence[RosterEntry]) -> None:
        now = now_text()
        with self.database.transaction() as db:
            db.execute("DELETE FROM roster_entries WHERE chat_id = ?", (chat_id,))
            db.executemany(
                """INSERT INTO roster_entries (chat_id, position, name, username, user_id,
                       imported_at) VALUES (?, ?, ?, ?, ?, ?)""",
                [(chat_id, e.position, e.name[:MAX_ROSTER_NAME_CHARS], _username(e.username),
                  e.user_id, now) for e in entries])

    async def roster(self, chat_id: int) -> list[RosterEntry]:
        return await self._run(self._roster, chat_id)

    def _roster(self, chat_id: int) -> list[RosterEntry]:
        rows = self._db().execute(
            "SELECT * FROM roster_entries WHERE chat_id = ? ORDER BY position", (chat_id,))
        return [RosterEntry(row["position"], row["name"], row["username"], row["user_id"])
                for row in rows]

    async def matched(self, chat_id: int, entry: RosterEntry, user_id: int) -> None:
        """A roster name turned out to be this member: link them, and carry the reasons
        noted under the bare name over to the member."""
        await self._run(self._matched, chat_id, entry, user_id)

    def _matched(self, chat_id: int, entry: RosterEntry, user_id: int) -> None:
        with self.database.transaction() as db:
            db.execute("UPDATE roster_entries SET user_id = ? WHERE chat_id = ? AND position = ?",
                       (user_id, chat_id, entry.position))
            update_or_ignore(db, "absence_reasons", "person", member_key(user_id),
                             "chat_id = ? AND person = ?", (chat_id, name_key(entry.name)))

    # --- name claims -------------------------------------------------------------------

    async def claim_name(self, chat_id: int, name: str, user_id: int) -> NameClaim:
        """Records a pending claim (the member's earlier pending claim of it is reused)."""
        return await self._run(self._claim_name, chat_id, name, user_id)

    def _claim_name(self, chat_id: int, name: str, user_id: int) -> NameClaim:
        with self.database.transaction() as db:
            row = db.execute("""SELECT claim_id FROM name_claims WHERE chat_id = ? AND name = ?
                                AND user_id = ? AND state = 'pending'""",
                             (chat_id, name, user_id)).fetchone()
            claim_id = row[0] if row else db.execute(
                """INSERT INTO name_claims (chat_id, name, user_id, state, claimed_at)
                   VALUES (?, ?, ?, 'pending', ?) RETURNING claim_id""",
                (chat_id, name, user_id, now_text())).fetchone()[0]
        return NameClaim(int(claim_id), chat_id, name, user_id, "pending")

    async def name_claim(self, claim_id: int) -> NameClaim | None:
        rows = await self._run(self._all, "SELECT * FROM name_claims WHERE claim_id = ?",
                               (claim_id,))
        return NameClaim(rows[0]["claim_id"], rows[0]["chat_id"], rows[0]["name"],
                         rows[0]["user_id"], rows[0]["state"]) if rows else None

    async def settle_claim(self, claim: NameClaim, confirmed: bool, decided_by: int,
                           entry: RosterEntry | None) -> bool:
        """Confirms (linking `entry` to the claimant) or refuses a pending claim, in one
        transaction; False if it was settled before or the name went to someone else."""
        return await self._run(self._settle_claim, claim, confirmed, decided_by, entry)

    def _settle_claim(self, claim: NameClaim, confirmed: bool, decided_by: int,
                      entry: RosterEntry | None) -> bool:
        with self.database.transaction() as db:
            if confirmed and entry is not None:
                linked = db.execute(
                    """UPDATE roster_entries SET user_id = ? WHERE chat_id = ? AND position = ?
                       AND (user_id IS NULL OR user_id = ?)""",
                    (claim.user_id, claim.chat_id, entry.position, claim.user_id)).rowcount
                if not linked:
                    return False
                update_or_ignore(db, "absence_reasons", "person", member_key(claim.user_id),
                                 "chat_id = ? AND person = ?",
                                 (claim.chat_id, name_key(entry.name)))
            return db.execute(
                """UPDATE name_claims SET state = ?, decided_by = ?, decided_at = ?
                   WHERE claim_id = ? AND state = 'pending'""",
                ("confirmed" if confirmed else "refused", decided_by, now_text(),
                 claim.claim_id)).rowcount == 1

    # --- absence reasons ---------------------------------------------------------------

    async def note_absence(self, chat_id: int, day: date, person: str, reason: str,
                           noted_by: int | None) -> None:
        """Why `person` did not study on `day` (a second note for the day replaces the first)."""
        await self._run(
            self.database.write,
            """INSERT INTO absence_reasons (chat_id, local_date, person, reason, noted_by,
                   noted_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, local_date, person) DO UPDATE SET reason = excluded.reason,
                   noted_by = excluded.noted_by, noted_at = excluded.noted_at""",
            (chat_id, day.isoformat(), person, reason.strip()[:MAX_REASON_CHARS], noted_by,
             now_text()))

    async def absences(self, chat_id: int, first: date, last: date) -> dict[tuple[date, str], str]:
        """(day, person) → reason, for the days from `first` to `last` inclusive."""
        return await self._run(self._absences, chat_id, first, last)

    def _absences(self, chat_id: int, first: date, last: date) -> dict[tuple[date, str], str]:
        rows = self._db().execute(
            """SELECT local_date, person, reason FROM absence_reasons
               WHERE chat_id = ? AND local_date BETWEEN ? AND ?""",
            (chat_id, first.isoformat(), last.isoformat()))
        return {(date.fromisoformat(row["local_date"]), row["person"]): row["reason"]
                for row in rows}

    # --- reminders ---------------------------------------------------------------------

    async def set_reminder_time(self, chat_id: int, time_of_day: str | None,
                                timezone: str) -> None:
        """The group's daily reminder time; None turns its reminders off."""
        if time_of_day is None:
            await self._run(self.database.write,
                            "DELETE FROM reminder_times WHERE chat_id = ?", (chat_id,))
            return
        await self._run(
            self.database.write,
            """INSERT INTO reminder_times (chat_id, time_of_day, timezone, set_at)
               VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET
               time_of_day = excluded.time_of_day, timezone = excluded.timezone,
               set_at = excluded.set_at""",
            (chat_id, time_of_day, timezone, now_text()))

    async def reminder_time(self, chat_id: int) -> ReminderTime | None:
        found = [t for t in await self.reminder_times() if t.chat_id == chat_id]
        return found[0] if found else None

    async def reminder_times(self) -> list[ReminderTime]:
        return await self._run(self._reminder_times)

    def _reminder_times(self) -> list[ReminderTime]:
        rows = self._db().execute("SELECT * FROM reminder_times ORDER BY chat_id")
        return [ReminderTime(row["chat_id"], row["time_of_day"], row["timezone"])
                for row in rows]

    async def set_opted_out(self, user_id: int, opted_out: bool) -> None:
        if opted_out:
            await self._run(self.database.write,
                            "INSERT INTO reminder_optouts (user_id, since) VALUES (?, ?) "
                            "ON CONFLICT DO NOTHING",
                            (user_id, now_text()))
        else:
            await self._run(self.database.write,
                            "DELETE FROM reminder_optouts WHERE user_id = ?", (user_id,))

    async def opted_out(self, user_ids: Iterable[int]) -> set[int]:
        """Which of these users turned reminders off."""
        wanted = set(user_ids)
        rows = await self._run(self._all, "SELECT user_id FROM reminder_optouts", ())
        return {row["user_id"] for row in rows} & wanted

    async def claim_reminder(self, chat_id: int, user_id: int, day: date) -> bool:
        """Records a reminder before it is sent; False if the member already got today's."""
        return await self._run(self._claim_reminder, chat_id, user_id, day)

    def _claim_reminder(self, chat_id: int, user_id: int, day: date) -> bool:
        try:
            self.database.write(
                "INSERT INTO reminders_sent (chat_id, user_id, local_date, sent_at) "
                "VALUES (?, ?, ?, ?)", (chat_id, user_id, day.isoformat(), now_text()))
        except IntegrityError:
            return False
        return True

    # --- groups --------------------------------------------------------------------------

    async def saw_group(self, chat_id: int, title: str, member_count: int | None) -> None:
        """Remembers a group's title (and size, when Telegram told it)."""
        await self._run(
            self.database.write,
            """INSERT INTO groups (chat_id, title, member_count, seen_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title,
               member_count = COALESCE(excluded.member_count, groups.member_count),
               seen_at = excluded.seen_at""",
            (chat_id, title, member_count, now_text()))

    async def group(self, chat_id: int) -> GroupInfo | None:
        rows = await self._run(self._all, "SELECT * FROM groups WHERE chat_id = ?", (chat_id,))
        return _group(rows[0]) if rows else None

    async def groups(self) -> list[GroupInfo]:
        rows = await self._run(self._all, "SELECT * FROM groups ORDER BY title, chat_id", ())
        return [_group(row) for row in rows]

    def _all(self, sql: str, params: tuple) -> list[Row]:
        return self._db().execute(sql, params).fetchall()


def member_key(user_id: int) -> str:
    return f"u:{user_id}"


def name_key(name: str) -> str:
    return f"n:{name}"


def _username(raw: str | None) -> str | None:
    """Usernames are compared without the @ and in lower case, as Telegram treats them."""
    value = (raw or "").strip().lstrip("@").lower()
    return value or None


def _group(row: Row) -> GroupInfo:
    return GroupInfo(row["chat_id"], row["title"], row["member_count"])
