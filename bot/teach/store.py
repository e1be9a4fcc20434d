"""The review queue's own state: what reviewers decided, and the follow-ups owed to members.

What members asked and how they voted lives in the question log (bot.asking.store); this
store only marks those questions and votes ("occurrences") as decided, and keeps the one
follow-up a member gets when an admin links their question. The links themselves live in the
questions files beside the lectures, never here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.storage import Database, Schema, now_text, update_or_ignore

SCHEMA = Schema(
    name="teach",
    migrations=(
        """
        -- A decision about one occurrence (a question the bot did not answer, "q<id>", or a
        -- 👎 on an answer, "d<feedback rowid>@<time>"). Linking and "not covered" hold for
        -- every reviewer (reviewer_id 0); a skip only hides it from the one who skipped.
        CREATE TABLE review_marks (
            occurrence TEXT NOT NULL,
            reviewer_id INTEGER NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('linked', 'not_covered', 'skipped')),
            passage_id TEXT,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (occurrence, reviewer_id)
        );
        -- The one follow-up a member who asked in a private chat gets when their question
        -- (the group of wordings it belongs to, by its key) is linked.
        CREATE TABLE follow_ups (
            follow_up_id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            question_key TEXT NOT NULL,
            question TEXT NOT NULL,
            passage_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            UNIQUE (chat_id, question_key)
        );
        CREATE INDEX follow_ups_pending ON follow_ups (state, follow_up_id);
        """,
        """
        -- 2: what a group's own admins taught in their /review: it answers in that group
        -- only (bot.teach.scoped). The shared questions files beside the lectures come from
        -- bot admins alone, who may adopt a group's link in their own /review. ref is a
        -- passage's "3.2" in lecture_id, or "-" for "the lecture does not cover it". A
        -- group's decision marks its occurrences under reviewer_id = the group's chat id.
        CREATE TABLE group_links (
            chat_id INTEGER NOT NULL,
            question TEXT NOT NULL,
            lecture_id TEXT NOT NULL,
            ref TEXT NOT NULL,
            linked_by INTEGER NOT NULL,
            linked_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, question)
        );
        """,
    ),
    chat_tables=("group_links",),
)

# Every reviewer's decision is recorded under this reviewer id; skips under the reviewer's.
EVERYONE = 0
# Occurrences looked up per query: well under SQLite's 32,766 parameters per statement.
MARKS_PER_QUERY = 500


class Decision(StrEnum):
    LINKED = "linked"
    NOT_COVERED = "not_covered"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class FollowUp:
    chat_id: int
    question_key: str
    question: str
    passage_id: str
    follow_up_id: int = 0
    attempts: int = 0


@dataclass(frozen=True)
class GroupLink:
    """A link one group's admins taught: answers in that group only."""

    chat_id: int
    question: str
    lecture_id: str
    ref: str  # "3.2", or "-": not covered
    linked_by: int


class TeachStore:
    """Review marks and follow-ups; every call runs on the database thread."""

    def __init__(self, database: Database):
        self.database = database

    async def marked(self, occurrences: Collection[str], reviewer_id: int,
                     groups: Collection[int] = ()) -> set[str]:
        """Which of these occurrences are decided for everyone, skipped by this reviewer, or
        decided by the admins of one of `groups` (a group's own review)."""
        return await self.database.run(self._marked, tuple(occurrences),
                                       (EVERYONE, reviewer_id, *groups))

    def _marked(self, occurrences: tuple[str, ...], reviewers: tuple[int, ...]) -> set[str]:
        db = self.database.connection()
        found: set[str] = set()
        for start in range(0, len(occurrences), MARKS_PER_QUERY):
            chunk = occurrences[start:start + MARKS_PER_QUERY]
            rows = db.execute(
                f"""SELECT occurrence FROM review_marks
                    WHERE reviewer_id IN ({','.join('?' * len(reviewers))})
                    AND occurrence IN ({','.join('?' * len(chunk))})""",
                (*reviewers, *chunk))
            found.update(row[0] for row in rows)
        return found

    async def decide(self, occurrences: Sequence[str], decision: Decision, reviewer_id: int,
                     passage_id: str | None = None,
                     follow_ups: Sequence[FollowUp] = ()) -> list[FollowUp]:
        """Marks the occurrences and owes the follow-ups, in one transaction; returns the
        follow-ups newly owed (a chat gets one per question, however often it is linked)."""
        reviewer = reviewer_id if decision == Decision.SKIPPED else EVERYONE
        return await self.database.run(self._decide, [(o, reviewer) for o in occurrences],
                                       decision, passage_id, tuple(follow_ups), ())

    async def decide_for_groups(self, occurrences: Sequence[tuple[str, int]],
                                decision: Decision, links: Sequence[GroupLink]) -> None:
        """A group admin's decision: each (occurrence, its group) is marked for that group,
        and the groups' own links saved, in one transaction (see migration 2)."""
        await self.database.run(self._decide, list(occurrences), decision, None, (),
                                tuple(links))

    def _decide(self, marks: list[tuple[str, int]], decision: Decision,
                passage_id: str | None, follow_ups: tuple[FollowUp, ...],
                links: tuple[GroupLink, ...]) -> list[FollowUp]:
        now = now_text()
        owed = []
        with self.database.transaction() as db:
            db.executemany(
                """INSERT INTO review_marks (occurrence, reviewer_id, decision, passage_id,
                       decided_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (occurrence, reviewer_id) DO UPDATE SET
                       decision = excluded.decision, passage_id = excluded.passage_id,
                       decided_at = excluded.decided_at""",
                [(occurrence, reviewer, decision.value, passage_id, now)
                 for occurrence, reviewer in marks])
            db.executemany(
                """INSERT INTO group_links (chat_id, question, lecture_id, ref, linked_by,
                       linked_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (chat_id, question) DO UPDATE SET
                       lecture_id = excluded.lecture_id, ref = excluded.ref,
                       linked_by = excluded.linked_by, linked_at = excluded.linked_at""",
                [(link.chat_id, link.question, link.lecture_id, link.ref, link.linked_by, now)
                 for link in links])
            for follow_up in follow_ups:
                cursor = db.execute(
                    """INSERT INTO follow_ups (chat_id, question_key, question,
                           passage_id, state, created_at) VALUES (?, ?, ?, ?, 'pending', ?)
                       ON CONFLICT DO NOTHING RETURNING follow_up_id""",
                    (follow_up.chat_id, follow_up.question_key, follow_up.question,
                     follow_up.passage_id, now))
                created = cursor.fetchone()
                if created:
                    owed.append(FollowUp(follow_up.chat_id, follow_up.question_key,
                                         follow_up.question, follow_up.passage_id,
                                         int(created[0])))
        return owed

    async def move_group_marks(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its admins' decisions (marked under its chat id, see
        migration 2) follow it; its links follow by `chat_tables`."""
        await self.database.run(self._move_group_marks, old_chat_id, new_chat_id)

    def _move_group_marks(self, old_chat_id: int, new_chat_id: int) -> None:
        with self.database.transaction() as db:
            update_or_ignore(db, "review_marks", "reviewer_id", new_chat_id,
                             "reviewer_id = ?", (old_chat_id,))

    async def group_links(self, chat_ids: Collection[int]) -> list[GroupLink]:
        """The links these groups' admins taught, oldest first."""
        ids = tuple(chat_ids)
        if not ids:
            return []
        rows = await self.database.run(self._all, f"""SELECT * FROM group_links
            WHERE chat_id IN ({','.join('?' * len(ids))}) ORDER BY linked_at, rowid""", ids)
        return [GroupLink(row["chat_id"], row["question"], row["lecture_id"], row["ref"],
                          row["linked_by"]) for row in rows]

    def _all(self, sql: str, params: tuple) -> list:
        return self.database.connection().execute(sql, params).fetchall()

    async def pending_follow_ups(self, limit: int) -> list[FollowUp]:
        return await self.database.run(self._pending, limit)

    def _pending(self, limit: int) -> list[FollowUp]:
        rows = self.database.connection().execute(
            """SELECT * FROM follow_ups WHERE state = 'pending' ORDER BY follow_up_id
               LIMIT ?""", (limit,))
        return [FollowUp(row["chat_id"], row["question_key"], row["question"],
                         row["passage_id"], row["follow_up_id"], row["attempts"])
                for row in rows]

    async def follow_up_done(self, follow_up_id: int, sent: bool) -> None:
        """Sent, or given up for good (the member blocked the bot, the passage is gone)."""
        await self.database.run(
            self.database.write,
            """UPDATE follow_ups SET state = ?, attempts = attempts + 1, finished_at = ?
               WHERE follow_up_id = ?""",
            ("sent" if sent else "failed", now_text(), follow_up_id))

    async def follow_up_attempted(self, follow_up_id: int, max_attempts: int) -> None:
        """A send that may work later; after `max_attempts` the follow-up is given up."""
        await self.database.run(
            self.database.write,
            """UPDATE follow_ups SET attempts = attempts + 1,
                   state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE state END,
                   finished_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE finished_at END
               WHERE follow_up_id = ?""",
            (max_attempts, max_attempts, now_text(), follow_up_id))
