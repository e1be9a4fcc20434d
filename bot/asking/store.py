"""What members asked and how they rated the answers: the question log and 👍/👎 votes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.storage import Database, Schema, now_text

SCHEMA = Schema(
    name="asking",
    migrations=(
        # 1: the first release (created with the study tables, as one migration then).
        """
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
        """,
        # 2: who asked (for a follow-up when an admin links the question, and for records),
        # what kind of reply they got, and the candidate passages it offered, best first.
        """
        ALTER TABLE questions ADD COLUMN user_id INTEGER;
        ALTER TABLE questions ADD COLUMN reply_kind TEXT;
        ALTER TABLE questions ADD COLUMN candidates TEXT NOT NULL DEFAULT '';
        """,
    ),
    chat_tables=("questions", "feedback"),
)

# Stored questions are cut to this length: enough to read, bounded for a pasted essay.
MAX_STORED_QUESTION_CHARS = 500


@dataclass(frozen=True)
class LoggedQuestion:
    asked_at: datetime  # UTC
    user_id: int | None
    text: str
    answered: bool


@dataclass(frozen=True)
class QuestionStats:
    top_questions: tuple[tuple[str, int], ...]
    unanswered: tuple[tuple[str, int], ...]
    likes: int = 0
    dislikes: int = 0


class QuestionLog:
    """The questions members asked and their votes; every call runs on the database thread."""

    def __init__(self, database: Database):
        self.database = database

    async def log_question(self, chat_id: int, text: str, answered: bool,
                           top_passage_id: str | None, *, user_id: int | None = None,
                           reply_kind: str | None = None,
                           candidates: Sequence[str] = (),
                           at: datetime | None = None) -> int:
        """Records a question; returns its id. `candidates`: passage ids, best first.

        `at` is the bot's clock (a test's fake one); by default the wall clock.
        """
        asked_at = at.astimezone(UTC).isoformat(timespec="seconds") if at else now_text()
        cursor = await self.database.run(
            self.database.write,
            """INSERT INTO questions (chat_id, text, answered, top_passage_id, asked_at,
                   user_id, reply_kind, candidates) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (chat_id, text.strip()[:MAX_STORED_QUESTION_CHARS], int(answered),
             top_passage_id, asked_at, user_id, reply_kind, ",".join(candidates)))
        return int(cursor.lastrowid)

    async def add_feedback(self, chat_id: int, passage_id: str, user_id: int,
                           vote: int) -> None:
        await self.database.run(
            self.database.write,
            """INSERT INTO feedback (chat_id, passage_id, user_id, vote, given_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, passage_id, user_id) DO UPDATE
               SET vote = excluded.vote, given_at = excluded.given_at""",
            (chat_id, passage_id, user_id, vote, now_text()))

    async def stats(self, chat_id: int, limit: int = 5) -> QuestionStats:
        return await self.database.run(self._stats, chat_id, limit)

    def _stats(self, chat_id: int, limit: int) -> QuestionStats:
        db = self.database.connection()

        def count(sql: str, *params) -> int:
            return db.execute(sql, params).fetchone()[0]

        def grouped(answered_only: bool | None) -> tuple[tuple[str, int], ...]:
            where = "" if answered_only is None else f"AND answered = {int(answered_only)}"
            rows = db.execute(
                f"""SELECT text, COUNT(*) AS n FROM questions WHERE chat_id = ? {where}
                    GROUP BY text ORDER BY n DESC, MAX(asked_at) DESC LIMIT ?""",
                (chat_id, limit))
            return tuple((row["text"], row["n"]) for row in rows)

        return QuestionStats(
            top_questions=grouped(None),
            unanswered=grouped(False),
            likes=count("SELECT COUNT(*) FROM feedback WHERE chat_id = ? AND vote = 1", chat_id),
            dislikes=count("SELECT COUNT(*) FROM feedback WHERE chat_id = ? AND vote = -1",
                           chat_id),
        )

    async def questions_between(self, chat_id: int, start: datetime,
                                end: datetime) -> list[LoggedQuestion]:
        """The chat's questions asked from `start` (inclusive) to `end` (exclusive), in order."""
        return await self.database.run(self._questions_between, chat_id, start, end)

    def _questions_between(self, chat_id: int, start: datetime,
                           end: datetime) -> list[LoggedQuestion]:
        bounds = [moment.astimezone(UTC).isoformat(timespec="seconds") for moment in (start, end)]
        rows = self.database.connection().execute(
            """SELECT asked_at, user_id, text, answered FROM questions
               WHERE chat_id = ? AND asked_at >= ? AND asked_at < ?
               ORDER BY asked_at, question_id""", (chat_id, *bounds))
        return [LoggedQuestion(datetime.fromisoformat(row["asked_at"]), row["user_id"],
                               row["text"], bool(row["answered"])) for row in rows]
