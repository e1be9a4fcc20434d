"""A group that becomes a supergroup, end to end: every feature's jobs follow it at once.

Telegram gives the supergroup a new chat id and announces it twice, in the old group
(migrate_to) and in the supergroup (migrate_from). The fake Bot API server then refuses every
call naming the old id, as Telegram does. Jobs are fired with `Job.run`, not by waiting.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bot import texts
from bot.handlers.quiz import quiz_job_name
from bot.records.delivery import reminder_job_name
from bot.study.delivery import job_name
from tests.botharness import SHANGHAI, Clock, ask, running_bot

pytestmark = pytest.mark.usefixtures("workdir")

OLD, NEW = -4001, -1004001
ADMIN, ZHANG = 5001, 101
NEW_TITLE = "学习超级群"
DATABASE = Path("bot.sqlite3")


def _chat_jobs(app) -> dict[str, str]:
    """The per-chat jobs of both ids, by name, with their local time of day: not the next run's
    date, which moves on when the real clock passes that time between two looks."""
    names = {name(chat_id) for chat_id in (OLD, NEW)
             for name in (job_name, quiz_job_name, reminder_job_name)}
    return {job.name: _at(job.next_t) for job in app.job_queue.jobs() if job.name in names}


def _at(job_time: datetime) -> str:
    return job_time.astimezone(SHANGHAI).strftime("%H:%M")


def _database_rows(path: Path) -> dict[str, list[tuple]]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in tables}


async def _set_up(server, chat_id: int, quiz_time: str, reminder_time: str,
                  chat_type: str | None = None) -> None:
    """A daily plan, a quiz time and a reminder time, set by the group's admin."""
    await ask(server, "/subscribe", chat_id, user_id=ADMIN, chat_type=chat_type)
    reply = await ask(server, f"/quiztime {quiz_time}", chat_id, user_id=ADMIN)
    assert quiz_time in reply.params["text"]
    reply = await ask(server, f"/remind {reminder_time}", chat_id, user_id=ADMIN)
    assert reminder_time in reply.params["text"]


async def _migrate(server, *updates) -> str:
    """Pushes migration updates; the bot handles updates in order, so once it answered a
    command in the supergroup after them, they were handled. Returns the quiz time it shows."""
    for update in updates:
        server.push_update(update)
    reply = await ask(server, "/quiztime", NEW, user_id=ADMIN)
    return reply.params["text"].split("\n")[0]


async def test_the_quiz_and_reminder_jobs_follow_the_group_and_a_duplicate_changes_nothing(
        server, knowledge):
    server.chat_admins[OLD] = server.chat_admins[NEW] = [ADMIN]
    server.group_titles[NEW] = NEW_TITLE
    clock = Clock(2026, 11, 23, 7, 0)  # a Monday
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/start", ZHANG)  # a private chat, for the reminder
        await _set_up(server, OLD, "20:00", "21:00", chat_type="group")
        await ask(server, "/myname 张三", OLD, user_id=ZHANG)  # on the group's roster
        app.chat_data[OLD]["note"] = "kept"
        assert set(_chat_jobs(app)) == {job_name(OLD), quiz_job_name(OLD),
                                        reminder_job_name(OLD)}

        mark = server.mark()
        shown = await _migrate(server, server.migration_message(OLD, NEW, user_id=ADMIN))
        assert shown == texts.QUIZTIME_CURRENT.format(
            setting=texts.QUIZTIME_AT.format(time="20:00"))
        jobs = _chat_jobs(app)
        assert set(jobs) == {job_name(NEW), quiz_job_name(NEW), reminder_job_name(NEW)}
        assert (jobs[quiz_job_name(NEW)], jobs[reminder_job_name(NEW)]) == \
            ("20:00", "21:00")
        assert app.chat_data[NEW] == {"note": "kept"}

        clock.now = clock.now.replace(hour=8)
        await app.job_queue.get_jobs_by_name(job_name(NEW))[0].run(app)
        (push,) = await server.wait_for("sendMessage", lambda c: "今日学习" in c.params["text"],
                                        since=mark)
        clock.now = clock.now.replace(hour=20)
        await app.job_queue.get_jobs_by_name(quiz_job_name(NEW))[0].run(app)
        (poll,) = await server.wait_for("sendPoll", since=mark)
        clock.now = clock.now.replace(hour=21)
        await app.job_queue.get_jobs_by_name(reminder_job_name(NEW))[0].run(app)
        (reminder,) = await server.wait_for(
            "sendMessage", lambda c: c.params["text"].startswith("⏰ 学习提醒"), since=mark)
        assert (push.params["chat_id"], poll.params["chat_id"]) == (NEW, NEW)
        assert reminder.params["chat_id"] == ZHANG
        assert reminder.params["text"].startswith(f"⏰ 学习提醒 · {NEW_TITLE}\n")
        assert not [c for c in server.calls() if c.seq > mark and c.params.get("chat_id") == OLD]

        jobs, rows, mark = _chat_jobs(app), _database_rows(DATABASE), server.mark()
        await _migrate(server, server.migrated_from_message(NEW, OLD, user_id=ADMIN),
                       server.migration_message(OLD, NEW, user_id=ADMIN))
        assert _chat_jobs(app) == jobs
        assert _database_rows(DATABASE) == rows
        assert app.chat_data[NEW] == {"note": "kept"}
        sent = [c for c in server.calls() if c.seq > mark and c.method.startswith("send")]
        assert len(sent) == 1, "only the reply to /quiztime"


async def test_the_supergroups_own_settings_win_and_the_old_groups_never_come_back(
        server, knowledge):
    """The bot missed the upgrade for a while and the admins set the supergroup up anew:
    when the migration arrives, the supergroup keeps its times, now and after a restart."""
    server.chat_admins[OLD] = server.chat_admins[NEW] = [ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 23, 7, 0)) as app:
        await _set_up(server, OLD, "20:00", "21:00", chat_type="group")
        await _set_up(server, NEW, "19:00", "22:00")
        shown = await _migrate(server, server.migrated_from_message(NEW, OLD, user_id=ADMIN))
        migrated = _chat_jobs(app)
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 23, 7, 0)) as app:
        restarted = _chat_jobs(app)
    assert "19:00" in shown
    for jobs in (migrated, restarted):
        assert set(jobs) == {job_name(NEW), quiz_job_name(NEW), reminder_job_name(NEW)}
        assert (jobs[quiz_job_name(NEW)], jobs[reminder_job_name(NEW)]) == \
            ("19:00", "22:00")


async def test_a_push_that_finds_the_group_upgraded_brings_the_other_jobs_along(
        server, knowledge):
    """No migration update came (the bot was down longer than Telegram keeps updates): the
    daily push learns of the supergroup from Telegram's error, and every feature follows."""
    server.chat_admins[OLD] = [ADMIN]
    clock = Clock(2026, 11, 23, 7, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await _set_up(server, OLD, "20:00", "21:00", chat_type="group")
        server.fail_next("sendMessage", 400, migrate_to_chat_id=NEW)
        clock.now = clock.now.replace(hour=8)
        await app.job_queue.get_jobs_by_name(job_name(OLD))[0].run(app)
        (push,) = await server.wait_for("sendMessage",
                                        lambda c: c.ok and "今日学习" in c.params["text"])
        assert push.params["chat_id"] == NEW
        assert set(_chat_jobs(app)) == {job_name(NEW), quiz_job_name(NEW),
                                        reminder_job_name(NEW)}


async def test_a_quiz_that_meets_chat_migrated_moves_the_group_and_goes_to_the_supergroup(
        server, knowledge):
    """The quiz time is the first to learn of the supergroup (no update, no push since): the
    poll follows it, and every feature's jobs with it."""
    server.chat_admins[OLD] = [ADMIN]
    clock = Clock(2026, 11, 23, 7, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await _set_up(server, OLD, "20:00", "21:00", chat_type="group")
        clock.now = clock.now.replace(hour=8)
        await app.job_queue.get_jobs_by_name(job_name(OLD))[0].run(app)
        await server.wait_for("sendMessage", lambda c: c.ok and "今日学习" in c.params["text"])
        server.fail_next("sendPoll", 400, migrate_to_chat_id=NEW)
        clock.now = clock.now.replace(hour=20)
        await app.job_queue.get_jobs_by_name(quiz_job_name(OLD))[0].run(app)
        (poll,) = await server.wait_for("sendPoll", lambda c: c.ok)
        assert poll.params["chat_id"] == NEW
        assert set(_chat_jobs(app)) == {job_name(NEW), quiz_job_name(NEW),
                                        reminder_job_name(NEW)}
        refused = [c for c in server.calls("sendPoll") if not c.ok]
        assert [c.params["chat_id"] for c in refused] == [OLD]


async def test_a_quiz_that_meets_chat_migrated_leaves_a_supergroup_with_its_own_plan_be(
        server, knowledge):
    """The supergroup studies a plan of its own: the old group's quiz is not put to it, as
    the old group's push is not."""
    server.chat_admins[OLD] = server.chat_admins[NEW] = [ADMIN]
    clock = Clock(2026, 11, 23, 7, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await _set_up(server, OLD, "20:00", "21:00", chat_type="group")
        await _set_up(server, NEW, "19:00", "22:00")
        clock.now = clock.now.replace(hour=8)
        await app.job_queue.get_jobs_by_name(job_name(OLD))[0].run(app)
        await server.wait_for("sendMessage", lambda c: c.ok and c.params["chat_id"] == OLD
                              and "今日学习" in c.params["text"])
        server.fail_next("sendPoll", 400, migrate_to_chat_id=NEW)
        clock.now = clock.now.replace(hour=20)
        await app.job_queue.get_jobs_by_name(quiz_job_name(OLD))[0].run(app)
        await server.wait_for("sendPoll", lambda c: not c.ok)
        await ask(server, "/quiztime", NEW, user_id=ADMIN)  # handled after the job's sends
    assert [c.params["chat_id"] for c in server.calls("sendPoll")] == [OLD]
