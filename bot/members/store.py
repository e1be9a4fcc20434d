"""Who the bot has met in each chat, and the names to show for them.

Records (台账), leaderboards and reminders show names, not user ids. A member's name is, in
order of preference: the name an admin gave on the roster, the name the member chose
(/myname), their Telegram name, their @username, their id.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage import Database, Row, Schema, now_text

SCHEMA = Schema(
    name="members",
    migrations=(
        """
        CREATE TABLE members (
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            first_name TEXT NOT NULL DEFAULT '',
            last_name TEXT NOT NULL DEFAULT '',
            username TEXT,
            own_name TEXT,       -- chosen by the member (/myname)
            roster_name TEXT,    -- given by an admin on the roster
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        );
        """,
    ),
    chat_tables=("members",),
)

# Names are cut to this length: Telegram allows 64 + 64 characters; a roster file may hold more.
MAX_NAME_CHARS = 64


@dataclass(frozen=True)
class Member:
    chat_id: int
    user_id: int
    first_name: str
    last_name: str
    username: str | None
    own_name: str | None
    roster_name: str | None

    @property
    def name(self) -> str:
        telegram_name = f"{self.first_name} {self.last_name}".strip()
        return (self.roster_name or self.own_name or telegram_name
                or (f"@{self.username}" if self.username else "") or str(self.user_id))


@dataclass(frozen=True)
class Sighting:
    """A user seen in a chat, with the Telegram names they had then."""

    chat_id: int
    user_id: int
    first_name: str
    last_name: str = ""
    username: str | None = None


class MemberDirectory:
    """The members table; every call runs on the database's thread."""

    def __init__(self, database: Database):
        self.database = database
        # What was last written for each (chat, user): a member who writes a hundred messages
        # costs one write, not a hundred.
        self._written: dict[tuple[int, int], Sighting] = {}

    async def saw(self, sighting: Sighting) -> None:
        """Remembers a user in a chat (new, or with changed Telegram names)."""
        key = (sighting.chat_id, sighting.user_id)
        if self._written.get(key) == sighting:
            return
        await self.database.run(self._saw, sighting)
        self._written[key] = sighting

    async def saw_record(self, record: dict) -> None:
        """`saw` from a queued record (`dataclasses.asdict` of a Sighting)."""
        await self.saw(Sighting(**record))

    def _saw(self, s: Sighting) -> None:
        now = now_text()
        self.database.write(
            """INSERT INTO members (chat_id, user_id, first_name, last_name, username,
                   first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, user_id) DO UPDATE SET first_name = excluded.first_name,
                   last_name = excluded.last_name, username = excluded.username,
                   last_seen = excluded.last_seen""",
            (s.chat_id, s.user_id, s.first_name[:MAX_NAME_CHARS], s.last_name[:MAX_NAME_CHARS],
             s.username, now, now))

    async def set_own_name(self, chat_id: int, user_id: int, name: str | None) -> None:
        """The name a member chose for this chat (None: back to their Telegram name)."""
        await self.database.run(self._set_name, "own_name", chat_id, user_id, name)

    async def set_roster_name(self, chat_id: int, user_id: int, name: str | None) -> None:
        """The name an admin gave a member on the chat's roster."""
        await self.database.run(self._set_name, "roster_name", chat_id, user_id, name)

    def _set_name(self, column: str, chat_id: int, user_id: int, name: str | None) -> None:
        assert column in ("own_name", "roster_name")
        value = name.strip()[:MAX_NAME_CHARS] if name and name.strip() else None
        now = now_text()
        with self.database.transaction() as db:
            db.execute("""INSERT INTO members (chat_id, user_id, first_seen, last_seen)
                          VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                       (chat_id, user_id, now, now))
            db.execute(f"UPDATE members SET {column} = ? WHERE chat_id = ? AND user_id = ?",
                       (value, chat_id, user_id))
        self._written.pop((chat_id, user_id), None)

    async def member(self, chat_id: int, user_id: int) -> Member | None:
        return await self.database.run(self._member, chat_id, user_id)

    def _member(self, chat_id: int, user_id: int) -> Member | None:
        row = self.database.connection().execute(
            "SELECT * FROM members WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id)).fetchone()
        return _member(row) if row else None

    async def members(self, chat_id: int) -> list[Member]:
        """Everyone the bot has met in the chat, by name."""
        return await self.database.run(self._members, chat_id)

    def _members(self, chat_id: int) -> list[Member]:
        rows = self.database.connection().execute(
            "SELECT * FROM members WHERE chat_id = ? ORDER BY first_seen, user_id", (chat_id,))
        return sorted((_member(row) for row in rows), key=lambda m: m.name)

    async def names(self, chat_id: int, user_ids: list[int]) -> dict[int, str]:
        """The name of each user id in the chat (unknown ids get their id as a name)."""
        known = {m.user_id: m.name for m in await self.members(chat_id)}
        return {user_id: known.get(user_id, str(user_id)) for user_id in user_ids}

    async def has_private_chat(self, user_id: int) -> bool:
        """Has the user ever written to the bot privately (so the bot may write to them)?"""
        return await self.member(user_id, user_id) is not None

    async def with_private_chat(self, user_ids: list[int]) -> set[int]:
        """Which of these users have written to the bot privately (one query for them all)."""
        return await self.database.run(self._with_private_chat, list(user_ids))

    def _with_private_chat(self, user_ids: list[int]) -> set[int]:
        rows = self.database.connection().execute(
            "SELECT user_id FROM members WHERE chat_id = user_id")
        return {row["user_id"] for row in rows} & set(user_ids)

    async def groups_of(self, user_id: int) -> list[int]:
        """The groups (negative chat ids) where the bot has met this user."""
        return await self.database.run(self._chat_ids,
                                       "SELECT chat_id FROM members WHERE user_id = ? "
                                       "AND chat_id < 0 ORDER BY chat_id", (user_id,))

    async def group_ids(self) -> list[int]:
        """Every group where the bot has met someone."""
        return await self.database.run(self._chat_ids,
                                       "SELECT DISTINCT chat_id FROM members WHERE chat_id < 0 "
                                       "ORDER BY chat_id", ())

    def _chat_ids(self, sql: str, params: tuple) -> list[int]:
        return [row[0] for row in self.database.connection().execute(sql, params)]


def _member(row: Row) -> Member:
    return Member(chat_id=row["chat_id"], user_id=row["user_id"], first_name=row["first_name"],
                  last_name=row["last_name"], username=row["username"],
                  own_name=row["own_name"], roster_name=row["roster_name"])
