"""The quiz tables: polls sent, answers, the points ledger, study days and quiz times.

The database is the source of truth: a poll's chat, question and right option are stored
when it is sent (a poll answer carries no chat), points live in a ledger that counts each
answer and each check-in once, and streaks and boards are computed from it.

A claim whose poll id is unknown (its sendPoll timed out or was cut by a kill) may still be
a poll in the chat: answers to a poll the bot cannot place are kept, and scored once a `poll`
update names the claim (see `matching`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from bot.quiz.generation import Question
from bot.quiz.matching import RECOGNISED_DAYS, Claim, recognised, same_text
from bot.quiz.scoring import (
    CHECK_IN_POINTS,
    CORRECT_ANSWER_POINTS,
    Standing,
    capped,
    ranked,
    streak,
)
from bot.storage import Connection, Database, IntegrityError, Schema, now_text

SCHEMA = Schema(
    name="quiz",
    migrations=(
        """
        CREATE TABLE quiz_polls (
            quiz_id INTEGER PRIMARY KEY AUTOINCREMENT,
            poll_id TEXT UNIQUE,            -- given by Telegram once the poll is sent
            chat_id INTEGER NOT NULL,
            push_id INTEGER UNIQUE,         -- the study push it is about (NULL for /quiz)
            study_date TEXT NOT NULL,
            question_key TEXT NOT NULL,
            passage_id TEXT NOT NULL,
            question TEXT NOT NULL,
            options TEXT NOT NULL,          -- JSON list
            correct_option INTEGER NOT NULL,
            message_id INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX quiz_polls_by_chat ON quiz_polls (chat_id, study_date);
        CREATE TABLE quiz_answers (
            quiz_id INTEGER NOT NULL REFERENCES quiz_polls (quiz_id),
            user_id INTEGER NOT NULL,
            option INTEGER NOT NULL,
            correct INTEGER NOT NULL,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (quiz_id, user_id)
        );
        -- One row per answer or check-in, zero points included: it is also the member's
        -- study record for streaks.
        CREATE TABLE quiz_points (
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            reason TEXT NOT NULL CHECK (reason IN ('answer', 'study')),
            ref INTEGER NOT NULL,           -- quiz_id or push_id
            study_date TEXT NOT NULL,       -- the day whose passage was studied
            earned_date TEXT NOT NULL,      -- the local day the points were earned
            points INTEGER NOT NULL,
            earned_at TEXT NOT NULL,
            PRIMARY KEY (reason, ref, user_id)
        );
        CREATE INDEX quiz_points_by_chat ON quiz_points (chat_id, earned_date);
        CREATE TABLE quiz_pushes (
            push_id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            study_date TEXT NOT NULL,
            passage_id TEXT NOT NULL
        );
        CREATE INDEX quiz_pushes_by_chat ON quiz_pushes (chat_id, study_date);
        CREATE TABLE quiz_schedules (
            chat_id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('with_push', 'timed', 'off')),
            time_of_day TEXT,
            set_at TEXT NOT NULL
        );
        """,
        """
        -- Answers to a poll the bot cannot place yet (its sendPoll got no answer), kept until
        -- the poll is recognised; the names are for the members' list once its chat is known.
        CREATE TABLE quiz_pending_answers (
            poll_id TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            option INTEGER NOT NULL,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            username TEXT,
            is_bot INTEGER NOT NULL,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (poll_id, user_id)
        );
        -- Polls Telegram reported (`poll` updates) that are no claim's as yet: one may be
        -- recognised once its voters are known.
        CREATE TABLE quiz_unplaced_polls (
            poll_id TEXT PRIMARY KEY,
            question TEXT NOT NULL,
            options TEXT NOT NULL,          -- JSON list
            seen_at TEXT NOT NULL
        );
        """,
    ),
    chat_tables=("quiz_polls", "quiz_points", "quiz_pushes"),
    chat_settings=("quiz_schedules",),
)

WITH_PUSH, TIMED, OFF = "with_push", "timed", "off"


@dataclass(frozen=True)
class SentQuiz:
    quiz_id: int
    chat_id: int
    study_date: date
    question_key: str
    passage_id: str
    correct_option: int


@dataclass(frozen=True)
class AnswerResult:
    first: bool  # False: this member had answered this poll already
    correct: bool
    points: int


@dataclass(frozen=True)
class Voter:
    """Who answered a poll, as the poll answer shows them (it has no chat)."""

    user_id: int
    first_name: str = ""
    last_name: str = ""
    username: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class ScoredAnswer:
    """An answer counted for a quiz: at once, or when its poll was recognised."""

    quiz: SentQuiz
    voter: Voter
    result: AnswerResult


@dataclass(frozen=True)
class MemberStanding:
    week_points: int
    total_points: int
    streak: int
    rank: int | None  # this week's; None without points this week


@dataclass(frozen=True)
class QuizSchedule:
    chat_id: int
    mode: str
    time_of_day: str | None


class QuizStore:
    """Every call runs on the database's thread."""

    def __init__(self, database: Database):
        self.database = database
        self._run = database.run
        self._db = database.connection
        self._transaction = database.transaction

    # --- pushes and polls ---------------------------------------------------------------

    async def record_push(self, push_id: int, chat_id: int, study_date: date,
                          passage_id: str) -> None:
        """A study push was delivered: its day is a study day of the chat."""
        await self._run(self.database.write,
                        "INSERT INTO quiz_pushes (push_id, chat_id, study_date, passage_id) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (push_id, chat_id, study_date.isoformat(), passage_id))

    async def unquizzed_pushes(self, chat_id: int, study_date: date) -> list[tuple[int, str]]:
        """The day's pushes (id, passage) that have no quiz yet."""
        return await self._run(self._unquizzed_pushes, chat_id, study_date)

    def _unquizzed_pushes(self, chat_id: int, study_date: date) -> list[tuple[int, str]]:
        rows = self._db().execute(
            """SELECT push_id, passage_id FROM quiz_pushes WHERE chat_id = ? AND study_date = ?
               AND push_id NOT IN (SELECT push_id FROM quiz_polls WHERE push_id IS NOT NULL)
               ORDER BY push_id""", (chat_id, study_date.isoformat()))
        return [(row["push_id"], row["passage_id"]) for row in rows]

    async def claim_quiz(self, chat_id: int, push_id: int | None, study_date: date,
                         question: Question) -> int | None:
        """Records a quiz before it is sent; None if the push already has one (at most once
        per push however often the bot restarts, like the push itself)."""
        return await self._run(self._claim_quiz, chat_id, push_id, study_date, question)

    def _claim_quiz(self, chat_id, push_id, study_date: date, question: Question) -> int | None:
        try:
            cursor = self.database.write(
                """INSERT INTO quiz_polls (chat_id, push_id, study_date, question_key,
                       passage_id, question, options, correct_option, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING quiz_id""",
                (chat_id, push_id, study_date.isoformat(), question.key, question.passage_id,
                 question.question, json.dumps(question.options, ensure_ascii=False),
                 question.correct, now_text()))
        except IntegrityError:
            return None
        return int(cursor.fetchone()[0])

    async def complete_quiz(self, quiz_id: int, poll_id: str, chat_id: int, message_id: int,
                            today: date) -> list[ScoredAnswer]:
        """Telegram returned the poll: the claim is bound to it, and answers that came before
        the reply (a member quicker than the bot's own database) are scored."""
        return await self._run(self._complete_quiz, quiz_id, poll_id, chat_id, message_id,
                               today)

    def _complete_quiz(self, quiz_id: int, poll_id: str, chat_id: int, message_id: int,
                       today: date) -> list[ScoredAnswer]:
        with self._transaction() as db:
            # Telegram's reply is authoritative: a claim with the same text that a `poll`
            # update took for this poll in the meantime is uncertain again.
            db.execute("UPDATE quiz_polls SET poll_id = NULL WHERE poll_id = ? AND quiz_id != ?",
                       (poll_id, quiz_id))
            db.execute("UPDATE quiz_polls SET poll_id = ?, chat_id = ?, message_id = ? "
                       "WHERE quiz_id = ?", (poll_id, chat_id, message_id, quiz_id))
            db.execute("DELETE FROM quiz_unplaced_polls WHERE poll_id = ?", (poll_id,))
            return self._score_pending(db, poll_id, today)

    async def forget_quiz(self, quiz_id: int) -> None:
        """The poll was not sent (Telegram said no): the claim goes, nothing else. A claim
        whose outcome is unknown is kept instead: it counts as asked, its push is not quizzed
        again, and its poll is recognised when members answer it."""
        await self._run(self.database.write,
                        "DELETE FROM quiz_polls WHERE quiz_id = ? AND poll_id IS NULL",
                        (quiz_id,))

    async def asked_counts(self, chat_id: int) -> dict[str, int]:
        """How often each question was sent to the chat (the next one is the least asked)."""
        return await self._run(self._asked_counts, chat_id)

    def _asked_counts(self, chat_id: int) -> dict[str, int]:
        rows = self._db().execute("SELECT question_key, COUNT(*) FROM quiz_polls "
                                  "WHERE chat_id = ? GROUP BY question_key", (chat_id,))
        return {row[0]: row[1] for row in rows}

    async def answered_keys(self, user_id: int) -> set[str]:
        """The questions a member has answered, in any chat (a group's daily quiz, private
        practice): practice offers him the others first."""
        return await self._run(self._answered_keys, user_id)

    def _answered_keys(self, user_id: int) -> set[str]:
        rows = self._db().execute("SELECT DISTINCT p.question_key FROM quiz_answers a "
                                  "JOIN quiz_polls p ON p.quiz_id = a.quiz_id "
                                  "WHERE a.user_id = ?", (user_id,))
        return {row[0] for row in rows}

    async def sent_quiz(self, poll_id: str) -> SentQuiz | None:
        return await self._run(self._sent_quiz, poll_id)

    def _sent_quiz(self, poll_id: str) -> SentQuiz | None:
        row = self._db().execute("SELECT * FROM quiz_polls WHERE poll_id = ?",
                                 (poll_id,)).fetchone()
        if row is None:
            return None
        return SentQuiz(row["quiz_id"], row["chat_id"], date.fromisoformat(row["study_date"]),
                        row["question_key"], row["passage_id"], row["correct_option"])

    async def daily_results(self, chat_id: int, first: date,
                            last: date) -> dict[date, tuple[int, int]]:
        """For the records: (answers, right answers) of each study day from `first` to `last`
        that had a quiz in the chat (a quiz nobody answered counts (0, 0))."""
        return await self._run(self._daily_results, chat_id, first, last)

    def _daily_results(self, chat_id: int, first: date,
                       last: date) -> dict[date, tuple[int, int]]:
        rows = self._db().execute(
            """SELECT p.study_date, COUNT(a.user_id), COALESCE(SUM(a.correct), 0)
               FROM quiz_polls p LEFT JOIN quiz_answers a ON a.quiz_id = p.quiz_id
               WHERE p.chat_id = ? AND p.poll_id IS NOT NULL AND p.study_date BETWEEN ? AND ?
               GROUP BY p.study_date""", (chat_id, first.isoformat(), last.isoformat()))
        return {date.fromisoformat(row[0]): (row[1], row[2]) for row in rows}

    # --- polls whose sendPoll got no answer ------------------------------------------------

    async def answer_poll(self, poll_id: str, voter: Voter, option: int,
                          today: date) -> list[ScoredAnswer]:
        """A member's answer to a poll: scored if the poll is known (see `answer`), else kept
        until the poll is recognised. Returns the answers this call scored: none, this one,
        or, when it let a poll be recognised, every answer that waited for it."""
        return await self._run(self._answer_poll, poll_id, voter, option, today)

    def _answer_poll(self, poll_id: str, voter: Voter, option: int,
                     today: date) -> list[ScoredAnswer]:
        with self._transaction() as db:
            quiz = self._sent_quiz(poll_id)
            if quiz is not None:
                return [ScoredAnswer(quiz, voter,
                                     self._answer_in(db, quiz, voter.user_id, option, today))]
            # The first answer counts, as for a known poll.
            db.execute("""INSERT INTO quiz_pending_answers (poll_id, user_id, option, first_name,
                              last_name, username, is_bot, answered_at)
                          VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                       (poll_id, voter.user_id, option, voter.first_name, voter.last_name,
                        voter.username, int(voter.is_bot), now_text()))
            if not self._recognise(db, poll_id, today):
                return []
            return self._score_pending(db, poll_id, today)

    async def poll_seen(self, poll_id: str, question: str, options: tuple[str, ...],
                        today: date) -> list[ScoredAnswer]:
        """Telegram reported the state of a poll the bot sent (a `poll` update, on every vote).
        A poll the bot does not know is matched to a claim whose sendPoll got no answer, by
        its question and options; the answers that waited for it are scored and returned.
        Idempotent: a known poll only gets what still waits for it (normally nothing)."""
        return await self._run(self._poll_seen, poll_id, question, options, today)

    def _poll_seen(self, poll_id: str, question: str, options: tuple[str, ...],
                   today: date) -> list[ScoredAnswer]:
        known = self._sent_quiz(poll_id) is not None
        if known and not self._has_pending(poll_id):
            return []  # the usual case: no write
        with self._transaction() as db:
            if not known:
                db.execute("INSERT INTO quiz_unplaced_polls (poll_id, question, options, seen_at) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           (poll_id, question, json.dumps(options, ensure_ascii=False),
                            now_text()))
                if not self._recognise(db, poll_id, today):
                    return []
            return self._score_pending(db, poll_id, today)

    def _has_pending(self, poll_id: str) -> bool:
        return self._db().execute("SELECT 1 FROM quiz_pending_answers WHERE poll_id = ?",
                                  (poll_id,)).fetchone() is not None

    def _recognise(self, db: Connection, poll_id: str, today: date) -> bool:
        """Inside a transaction: binds an unplaced poll to the claim it is, if one is sure."""
        poll = db.execute("SELECT question, options FROM quiz_unplaced_polls WHERE poll_id = ?",
                          (poll_id,)).fetchone()
        if poll is None:
            return False  # no `poll` update yet: its text is unknown
        question, options = poll["question"], json.loads(poll["options"])
        claims = [claim for claim in self._uncertain_claims(db, today)
                  if same_text(claim, question, options)]
        chats = {claim.chat_id for claim in claims}
        voters = [row[0] for row in db.execute(
            "SELECT user_id FROM quiz_pending_answers WHERE poll_id = ?", (poll_id,))]
        claim = recognised(claims, [self._known_in(db, user_id, chats) for user_id in voters])
        if claim is None:
            return False
        db.execute("UPDATE quiz_polls SET poll_id = ? WHERE quiz_id = ? AND poll_id IS NULL",
                   (poll_id, claim.quiz_id))
        db.execute("DELETE FROM quiz_unplaced_polls WHERE poll_id = ?", (poll_id,))
        return True

    @staticmethod
    def _uncertain_claims(db: Connection, today: date) -> list[Claim]:
        """Recent claims without a poll id, newest first."""
        since = today - timedelta(days=RECOGNISED_DAYS)
        rows = db.execute("SELECT quiz_id, chat_id, question, options FROM quiz_polls "
                          "WHERE poll_id IS NULL AND study_date >= ? ORDER BY quiz_id DESC",
                          (since.isoformat(),))
        return [Claim(row["quiz_id"], row["chat_id"], row["question"],
                      tuple(json.loads(row["options"]))) for row in rows]

    @staticmethod
    def _known_in(db: Connection, user_id: int, chats: set[int]) -> set[int]:
        """Those of `chats` the member is known in: their private chat, or a chat where
        they answered or checked in before."""
        known = {chat_id for chat_id in chats if chat_id == user_id}
        known.update(row[0] for row in db.execute(
            "SELECT DISTINCT chat_id FROM quiz_points WHERE user_id = ?", (user_id,))
            if row[0] in chats)
        return known

    def _score_pending(self, db: Connection, poll_id: str,
                       today: date) -> list[ScoredAnswer]:
        """Inside a transaction: the answers that waited for a now known poll, scored in the
        order they came as if they came now, and no longer kept."""
        quiz = self._sent_quiz(poll_id)
        if quiz is None:
            return []
        rows = db.execute("SELECT * FROM quiz_pending_answers WHERE poll_id = ? "
                          "ORDER BY answered_at, rowid", (poll_id,)).fetchall()
        db.execute("DELETE FROM quiz_pending_answers WHERE poll_id = ?", (poll_id,))
        scored = []
        for row in rows:
            voter = Voter(row["user_id"], row["first_name"], row["last_name"], row["username"],
                          bool(row["is_bot"]))
            scored.append(ScoredAnswer(quiz, voter,
                                       self._answer_in(db, quiz, voter.user_id, row["option"],
                                                       today)))
        return scored

    # --- points --------------------------------------------------------------------------

    async def answer(self, quiz: SentQuiz, user_id: int, option: int,
                     today: date) -> AnswerResult:
        """The member's answer to a poll: points for a right first answer, within the cap."""
        return await self._run(self._answer, quiz, user_id, option, today)

    def _answer(self, quiz: SentQuiz, user_id: int, option: int, today: date) -> AnswerResult:
        with self._transaction() as db:
            return self._answer_in(db, quiz, user_id, option, today)

    def _answer_in(self, db: Connection, quiz: SentQuiz, user_id: int, option: int,
                   today: date) -> AnswerResult:
        """Inside a transaction: the answer, and its points if it is the member's first."""
        correct = option == quiz.correct_option
        inserted = db.execute(
            "INSERT INTO quiz_answers (quiz_id, user_id, option, correct, answered_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (quiz.quiz_id, user_id, option, int(correct), now_text())).rowcount
        if not inserted:
            return AnswerResult(first=False, correct=correct, points=0)
        points = self._earn(db, quiz.chat_id, user_id, "answer", quiz.quiz_id,
                            quiz.study_date, today, CORRECT_ANSWER_POINTS if correct else 0)
        return AnswerResult(first=True, correct=correct, points=points)

    async def award_check_in(self, chat_id: int, user_id: int, push_id: int,
                             study_date: date, today: date) -> int:
        """Points for reading a pushed passage (✅ 已学习), once per member and push."""
        return await self._run(self._award_check_in, chat_id, user_id, push_id, study_date,
                               today)

    def _award_check_in(self, chat_id, user_id, push_id, study_date, today) -> int:
        with self._transaction() as db:
            return self._earn(db, chat_id, user_id, "study", push_id, study_date, today,
                              CHECK_IN_POINTS)

    @staticmethod
    def _earn(db: Connection, chat_id: int, user_id: int, reason: str, ref: int,
              study_date: date, today: date, points: int) -> int:
        """Inside a transaction: one ledger row, its points cut to what today's cap allows."""
        earned_today = db.execute(
            "SELECT CAST(COALESCE(SUM(points), 0) AS INTEGER) FROM quiz_points WHERE chat_id = ? "
            "AND user_id = ? "
            "AND earned_date = ?", (chat_id, user_id, today.isoformat())).fetchone()[0]
        granted = capped(points, earned_today)
        inserted = db.execute(
            "INSERT INTO quiz_points (chat_id, user_id, reason, ref, study_date, earned_date, "
            "points, earned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (chat_id, user_id, reason, ref, study_date.isoformat(), today.isoformat(),
             granted, now_text())).rowcount
        return granted if inserted else 0

    async def weekly_board(self, chat_id: int, week_start: date) -> list[Standing]:
        """Everyone with points this week, best first (ties: who got there first)."""
        return await self._run(self._weekly_board, chat_id, week_start)

    def _weekly_board(self, chat_id: int, week_start: date) -> list[Standing]:
        rows = self._db().execute(
            """SELECT user_id, CAST(SUM(points) AS INTEGER) AS total FROM quiz_points
               WHERE chat_id = ? AND earned_date >= ? GROUP BY user_id HAVING SUM(points) > 0
               ORDER BY total DESC, MAX(earned_at), user_id""",
            (chat_id, week_start.isoformat()))
        return ranked((row["user_id"], row["total"]) for row in rows)

    async def standing(self, chat_id: int, user_id: int, week_start: date,
                       today: date) -> MemberStanding:
        return await self._run(self._standing, chat_id, user_id, week_start, today)

    def _standing(self, chat_id: int, user_id: int, week_start: date,
                  today: date) -> MemberStanding:
        db = self._db()
        board = self._weekly_board(chat_id, week_start)
        mine = next((s for s in board if s.user_id == user_id), None)
        total = db.execute("SELECT CAST(COALESCE(SUM(points), 0) AS INTEGER) FROM quiz_points "
                           "WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)).fetchone()[0]
        active = {date.fromisoformat(row[0]) for row in db.execute(
            "SELECT DISTINCT study_date FROM quiz_points WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id))}
        study_days = {date.fromisoformat(row[0]) for row in db.execute(
            "SELECT study_date FROM quiz_pushes WHERE chat_id = ? UNION "
            "SELECT study_date FROM quiz_polls WHERE chat_id = ? AND poll_id IS NOT NULL",
            (chat_id, chat_id))}
        return MemberStanding(week_points=mine.points if mine else 0, total_points=total,
                              streak=streak(study_days, active, today),
                              rank=mine.rank if mine else None)

    # --- quiz times ------------------------------------------------------------------------

    async def set_schedule(self, chat_id: int, mode: str, time_of_day: str | None) -> None:
        await self._run(self.database.write,
                        """INSERT INTO quiz_schedules VALUES (?, ?, ?, ?)
                           ON CONFLICT (chat_id) DO UPDATE SET mode = excluded.mode,
                               time_of_day = excluded.time_of_day, set_at = excluded.set_at""",
                        (chat_id, mode, time_of_day, now_text()))

    async def schedule(self, chat_id: int) -> QuizSchedule:
        """The chat's quiz time; a chat that never set one gets its quiz with the push."""
        row = await self._run(lambda: self._db().execute(
            "SELECT * FROM quiz_schedules WHERE chat_id = ?", (chat_id,)).fetchone())
        if row is None:
            return QuizSchedule(chat_id, WITH_PUSH, None)
        return QuizSchedule(chat_id, row["mode"], row["time_of_day"])

    async def timed_schedules(self) -> list[QuizSchedule]:
        rows = await self._run(lambda: self._db().execute(
            "SELECT * FROM quiz_schedules WHERE mode = ? ORDER BY chat_id", (TIMED,)).fetchall())
        return [QuizSchedule(row["chat_id"], row["mode"], row["time_of_day"]) for row in rows]
