"""What members asked and how they rated the answers: the question log and 👍/👎 votes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.storage import Database, Row, Schema, now_text

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


def question_record(chat_id: int, text: str, answered: bool, top_passage_id: str | None, *,
                    user_id: int | None, reply_kind: str | None, candidates: Sequence[str],
                    at: datetime) -> dict:
    """A question as a plain record, written later by `QuestionLog.log_record`."""
    return {"chat_id": chat_id, "text": text.strip()[:MAX_STORED_QUESTION_CHARS],
            "answered": answered, "top_passage_id": top_passage_id, "user_id": user_id,
            "reply_kind": reply_kind, "candidates": list(candidates),
            "at": at.astimezone(UTC).isoformat(timespec="seconds")}


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
                   user_id, reply_kind, candidates) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               RETURNING question_id""",
            (chat_id, text.strip()[:MAX_STORED_QUESTION_CHARS], int(answered),
             top_passage_id, asked_at, user_id, reply_kind, ",".join(candidates)))
        return int(cursor.fetchone()[0])

    async def log_record(self, record: dict) -> int:
        """`log_question` from a queued record (see `question_record`)."""
        at = record.get("at")
        return await self.log_question(
            record["chat_id"], record["text"], record["answered"], record["top_passage_id"],
            user_id=record.get("user_id"), reply_kind=record.get("reply_kind"),
            candidates=record.get("candidates", ()),
            at=datetime.fromisoformat(at) if at else None)

    async def add_feedback(self, chat_id: int, passage_id: str, user_id: int,
                           vote: int) -> None:
        await self.database.run(
            self.database.write,
            """INSERT INTO feedback (chat_id, passage_id, user_id, vote, given_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, passage_id, user_id) DO UPDATE
               SET vote = excluded.vote, given_at = excluded.given_at""",
            (chat_id, passage_id, user_id, vote, now_text()))

    async def questions_of_kinds(self, kinds: Sequence[str], chat_ids: Collection[int] | None,
                                 limit: int) -> list[AskedQuestion]:
        """The newest questions that got one of these reply kinds (in these chats, or all)."""
        return await self.database.run(self._questions_of_kinds, tuple(kinds), chat_ids, limit)

    def _questions_of_kinds(self, kinds: tuple[str, ...], chat_ids: Collection[int] | None,
                            limit: int) -> list[AskedQuestion]:
        chats, params = _chat_filter(chat_ids, "chat_id")
        rows = self.database.connection().execute(
            f"""SELECT * FROM questions WHERE reply_kind IN ({','.join('?' * len(kinds))})
                {chats} ORDER BY question_id DESC LIMIT ?""", (*kinds, *params, limit))
        return [_asked(row) for row in rows]

    async def dislikes(self, chat_ids: Collection[int] | None, limit: int) -> list[Dislike]:
        """The newest 👎 votes with the question whose answer got them, newest first.

        The question is the latest one asked in the chat before the vote that offered the
        passage, the voter's own question first; a vote no question explains (a 👎 under a
        passage read with /read) is left out.
        """
        return await self.database.run(self._dislikes, chat_ids, limit)

    def _dislikes(self, chat_ids: Collection[int] | None, limit: int) -> list[Dislike]:
        chats, params = _chat_filter(chat_ids, "f.chat_id")
        offered = """SELECT MAX(q2.question_id) FROM questions q2
            WHERE q2.chat_id = f.chat_id AND q2.asked_at <= f.given_at
              AND (q2.top_passage_id = f.passage_id
                   OR ',' || q2.candidates || ',' LIKE '%,' || f.passage_id || ',%')"""
        rows = self.database.connection().execute(
            f"""SELECT d.*, q.* FROM (
                    SELECT f.rowid AS feedback_id, f.user_id AS voter, f.passage_id, f.given_at,
                        COALESCE(({offered} AND q2.user_id = f.user_id), ({offered})) AS asked
                    FROM feedback f WHERE f.vote = -1 {chats}
                    ORDER BY f.given_at DESC, f.rowid DESC LIMIT ?) d
                JOIN questions q ON q.question_id = d.asked
                ORDER BY d.given_at DESC, d.feedback_id DESC""",
            (*params, limit))
        return [Dislike(row["feedback_id"], row["chat_id"], row["voter"], row["passage_id"],
                        row["given_at"], _asked(row)) for row in rows]

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

@dataclass(frozen=True)
class AskedQuestion:
    """A logged question, as the review queue reads it."""

    question_id: int
    chat_id: int
    user_id: int | None
    text: str
    reply_kind: str | None
    candidates: tuple[str, ...]  # passage ids, best first
    asked_at: str


@dataclass(frozen=True)
class Dislike:
    """A 👎 on an answer, with the question that answer was given to."""

    feedback_id: int
    chat_id: int
    user_id: int
    passage_id: str
    given_at: str
    question: AskedQuestion


def _asked(row: Row) -> AskedQuestion:
    return AskedQuestion(row["question_id"], row["chat_id"], row["user_id"], row["text"],
                         row["reply_kind"], tuple(c for c in row["candidates"].split(",") if c),
                         row["asked_at"])


def _chat_filter(chat_ids: Collection[int] | None, column: str) -> tuple[str, tuple]:
    if chat_ids is None:
        return "", ()
    return f"AND {column} IN ({','.join('?' * len(chat_ids))})", tuple(chat_ids)
