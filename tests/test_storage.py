"""The SQLite stores on throwaway databases: per-feature migrations, plans, pushes, check-ins,
questions, stats, chat migration, durability across a restart or a kill, and a free event
loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.asking.store import MAX_STORED_QUESTION_CHARS
from bot.quiz.store import TIMED, QuizSchedule
from bot.records.store import ReminderTime, RosterEntry
from bot.storage import Database, DatabaseUnusable, Schema, migrate
from bot.storage import database as storage_database
from bot.storage import sqlite as storage_sqlite
from bot.stores import SCHEMAS, Stores
from bot.study import store as study
from bot.study.rules import missed_push_due
from bot.study.store import Plan, PushState

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 3, 5)  # a Wednesday; its week starts on Monday 2025-03-03
WEEK_START = date(2025, 3, 3)
LECTURE = "party-lecture-online-conduct"
CHAT, OTHER_CHAT = 1001, 1002


def make_plan(chat_id: int = CHAT, **changes) -> Plan:
    fields = dict(chat_id=chat_id, lecture_id=LECTURE, last_passage_id=None,
                  time_of_day="08:00", weekdays=(1, 2, 3, 4, 5), timezone="Asia/Shanghai",
                  schedule_set_at=datetime(2025, 3, 4, 21, 30, 15, tzinfo=SHANGHAI),
                  active=True)
    fields.update(changes)
    return Plan(**fields)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def stores(database_target):
    """Every feature's stores, on SQLite and on PostgreSQL in turn."""
    opened = await Stores.open(database_target)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def sqlite_stores(db_path):
    """For tests of the SQLite file itself (its WAL, its columns as stored)."""
    opened = await Stores.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def store(stores):
    return stores.study


@pytest.fixture
def questions(stores):
    return stores.questions


LATEST = {schema.name: len(schema.migrations) for schema in SCHEMAS}


def versions(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return dict(connection.execute("SELECT name, version FROM schema_versions"))


# --------------------------------------------------------------------- migrations


async def test_migrations_from_an_empty_file_reach_the_latest_version(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.touch()  # an empty file is an empty database
    await (await Stores.open(db_path)).close()
    assert versions(db_path) == LATEST
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"plans", "pushes", "checkins", "questions", "feedback"} <= tables


async def test_opening_twice_is_idempotent(db_path):
    for _ in range(2):
        stores = await Stores.open(db_path)
        await stores.study.save_plan(make_plan())
        await stores.close()
        assert versions(db_path) == LATEST
    with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as connection:
        assert migrate(connection, SCHEMAS) == LATEST
        assert migrate(connection, SCHEMAS) == LATEST


async def test_a_database_from_before_per_schema_versions_is_adopted_with_its_data(db_path):
    """The first release kept one PRAGMA user_version for all tables: at 1, they exist."""
    db_path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as connection:
        connection.execute("BEGIN")
        for schema in SCHEMAS:
            if schema.name not in storage_sqlite.LEGACY_SCHEMAS_AT_VERSION_1:
                continue
            for statement in storage_database._statements(schema.migrations[0]):
                connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        connection.execute("COMMIT")
        connection.execute(
            "INSERT INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (CHAT, LECTURE, f"{LECTURE}:1.1", "07:30", "12345", "Asia/Shanghai",
             "2025-03-01T09:00:00+08:00", 1))
    stores = await Stores.open(db_path)
    try:
        plan = await stores.study.plan(CHAT)
    finally:
        await stores.close()
    assert versions(db_path) == LATEST
    assert plan == make_plan(last_passage_id=f"{LECTURE}:1.1", time_of_day="07:30",
                             schedule_set_at=datetime(2025, 3, 1, 9, tzinfo=SHANGHAI))


def _with_migration(schema: Schema, script: str) -> tuple[Schema, ...]:
    extended = Schema(schema.name, schema.migrations + (script,), schema.chat_tables)
    return tuple(extended if s.name == schema.name else s for s in SCHEMAS)


async def test_a_new_migration_of_one_schema_upgrades_it_and_keeps_the_data(db_path):
    stores = await Stores.open(db_path)
    await stores.study.save_plan(make_plan())
    await stores.close()
    schemas = _with_migration(study.SCHEMA,
                              "ALTER TABLE plans ADD COLUMN note TEXT NOT NULL DEFAULT '';")
    database = await Database(db_path, schemas).open()
    try:
        assert await study.StudyStore(database).plan(CHAT) == make_plan()
    finally:
        await database.close()
    assert versions(db_path) == {**LATEST, "study": LATEST["study"] + 1}


async def test_a_failing_migration_is_rolled_back_entirely(db_path):
    await (await Stores.open(db_path)).close()
    schemas = _with_migration(
        study.SCHEMA, "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);")
    with pytest.raises(DatabaseUnusable, match="no_such_table") as failed:
        await Database(db_path, schemas).open()
    assert isinstance(failed.value.__cause__, sqlite3.OperationalError)
    assert versions(db_path) == LATEST
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        assert connection.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'"
                                  ).fetchone() is None


async def test_a_new_schema_gets_its_tables_beside_the_others(db_path):
    stores = await Stores.open(db_path)
    await stores.study.save_plan(make_plan())
    await stores.close()
    extra = Schema("extra", ("CREATE TABLE extra_things (chat_id INTEGER);",), ("extra_things",))
    database = await Database(db_path, SCHEMAS + (extra,)).open()
    try:
        assert await study.StudyStore(database).plan(CHAT) == make_plan()
    finally:
        await database.close()
    assert versions(db_path) == {**LATEST, "extra": 1}


async def test_wal_mode_is_on(sqlite_stores, db_path):
    store = sqlite_stores.study

    def journal_mode() -> str:
        return store.database.connection().execute("PRAGMA journal_mode").fetchone()[0]

    assert await store.database.run(journal_mode) == "wal"
    with contextlib.closing(sqlite3.connect(db_path)) as connection:  # persistent in the file
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_closed_store_refuses_calls(db_path):
    database = Database(db_path, SCHEMAS)
    store = study.StudyStore(database)
    with pytest.raises(RuntimeError, match="not open"):
        await store.plan(CHAT)
    await database.close()


# --------------------------------------------------------------------- plans


async def test_plan_round_trip_keeps_every_field(store):
    plan = make_plan(last_passage_id=f"{LECTURE}:3.2", time_of_day="20:15",
                     weekdays=(0, 6), timezone="Europe/Berlin",
                     schedule_set_at=datetime(2025, 3, 4, 23, 59, 58, tzinfo=UTC),
                     active=False)
    await store.save_plan(plan)
    loaded = await store.plan(CHAT)
    assert loaded == plan
    assert loaded.weekdays == (0, 6) and isinstance(loaded.weekdays, tuple)
    assert loaded.schedule_set_at.tzinfo is not None
    assert loaded.schedule_set_at.utcoffset() == timedelta(0)
    assert loaded.active is False


async def test_saving_a_plan_again_replaces_it(store):
    await store.save_plan(make_plan())
    changed = make_plan(time_of_day="06:45", weekdays=(0, 1, 2, 3, 4, 5, 6),
                        last_passage_id=f"{LECTURE}:0.1")
    await store.save_plan(changed)
    assert await store.plan(CHAT) == changed
    assert await store.plan(OTHER_CHAT) is None


async def test_active_plans_lists_only_active_ones(store):
    await store.save_plan(make_plan(3, active=True))
    await store.save_plan(make_plan(1, active=True))
    await store.save_plan(make_plan(2, active=False))
    await store.save_plan(make_plan(4, active=True))
    await store.set_active(4, False)
    assert [plan.chat_id for plan in await store.active_plans()] == [1, 3]
    await store.set_active(2, True)
    assert [plan.chat_id for plan in await store.active_plans()] == [1, 2, 3]


# --------------------------------------------------------------------- pushes and check-ins


async def test_one_scheduled_push_per_chat_and_day_but_manual_ones_still_allowed(store):
    first = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    assert first is not None and first.message_id is None and first.kind == "scheduled"
    assert first.state == PushState.SENDING
    await store.mark_delivered(first, 1, CHAT)
    assert await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.1", "scheduled") is None
    manual = await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.1", "manual")
    assert manual is not None and manual.push_id != first.push_id
    await store.mark_delivered(manual, 2, CHAT)
    third = await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.2", "manual")
    assert third is not None
    assert await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.3", "manual") is None, \
        "a push in flight carries the passage a second one would repeat"
    await store.mark_delivered(third, 3, CHAT)
    # another day, another chat: fine
    assert await store.claim_push(CHAT, TODAY + timedelta(days=1), "x", "scheduled")
    assert await store.claim_push(OTHER_CHAT, TODAY, "x", "scheduled")
    assert (CHAT, TODAY) in await store.chats_with_scheduled_push({TODAY})
    yesterday = TODAY - timedelta(days=1)
    assert await store.chats_with_scheduled_push({yesterday}) == set()


async def test_mark_delivered_sets_message_id_and_advances_the_plan(store):
    await store.save_plan(make_plan())
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.mark_delivered(push, 42, CHAT)
    assert (await store.plan(CHAT)).last_passage_id == f"{LECTURE}:0.1"
    stored = await store.push(push.push_id)
    assert stored.message_id == 42 and stored.local_date == TODAY
    assert await store.push(push.push_id + 100) is None


async def test_latest_push_ignores_claimed_but_not_completed_pushes(store):
    assert await store.latest_push(CHAT) is None
    done = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.mark_delivered(done, 7, CHAT)
    pending = await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.1", "manual")
    latest = await store.latest_push(CHAT)
    assert latest.push_id == done.push_id and latest.message_id == 7
    assert pending.push_id > done.push_id
    await store.mark_delivered(pending, 8, CHAT)
    assert (await store.latest_push(CHAT)).push_id == pending.push_id


async def test_check_in_counts_a_member_once(store):
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    assert await store.checkin_count(push.push_id) == 0
    assert await store.check_in(push, 5) == 1
    assert await store.check_in(push, 5) == 1
    assert await store.check_in(push, 5) == 1
    assert await store.check_in(push, 6) == 2
    assert await store.checkin_count(push.push_id) == 2
    await store.mark_delivered(push, 1, CHAT)
    other = await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.1", "manual")
    assert await store.check_in(other, 5) == 1  # a member checks in once per push
    assert await store.checkin_count(push.push_id) == 2


# --------------------------------------------------------------------- questions and stats


async def _rows(database: Database, sql: str) -> list[tuple]:
    """What the tables hold, read through the store's own connection (either engine)."""
    return await database.run(
        lambda: [tuple(row) for row in database.connection().execute(sql).fetchall()])


async def _question_rows(database: Database) -> list[tuple]:
    return await _rows(database, "SELECT chat_id, text, answered, top_passage_id FROM "
                                 "questions ORDER BY question_id")


async def test_log_question_truncates_long_text_and_keeps_the_answered_flag(questions):
    await questions.log_question(CHAT, "问" * 5000, True, f"{LECTURE}:1.1")
    await questions.log_question(CHAT, "  没找到  ", False, None)
    rows = await _question_rows(questions.database)
    assert rows[0] == (CHAT, "问" * MAX_STORED_QUESTION_CHARS, 1, f"{LECTURE}:1.1")
    assert rows[1] == (CHAT, "没找到", 0, None)


async def test_stats_count_checkins_members_and_group_questions(store, questions):
    pushes = {}
    for day in (TODAY, TODAY - timedelta(days=1), WEEK_START - timedelta(days=1)):
        pushes[day] = await store.claim_push(CHAT, day, f"{LECTURE}:0.1", "scheduled")
        await store.mark_delivered(pushes[day], 1, CHAT)
    for user in (1, 2):
        await store.check_in(pushes[TODAY], user)
    for user in (1, 3):
        await store.check_in(pushes[TODAY - timedelta(days=1)], user)
    await store.check_in(pushes[WEEK_START - timedelta(days=1)], 4)  # last week
    other = await store.claim_push(OTHER_CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.check_in(other, 9)  # another chat

    for text, answered, times in (("党员网络行为规定", True, 3), ("网民规模", False, 2),
                                  ("天气怎么样", False, 1), ("平台责任", True, 1)):
        for _ in range(times):
            await questions.log_question(CHAT, f" {text} ", answered, None)
    await questions.log_question(OTHER_CHAT, "别的群的问题", False, None)

    checkins = await store.checkin_stats(CHAT, TODAY, WEEK_START)
    assert (checkins.today, checkins.week, checkins.members_week) == (2, 4, 3)
    stats = await questions.stats(CHAT)
    assert stats.top_questions[:2] == (("党员网络行为规定", 3), ("网民规模", 2))
    assert set(stats.top_questions[2:]) == {("天气怎么样", 1), ("平台责任", 1)}
    assert stats.unanswered == (("网民规模", 2), ("天气怎么样", 1))
    assert (await questions.stats(CHAT, limit=1)).top_questions == (("党员网络行为规定", 3),)

    empty = await store.checkin_stats(12345, TODAY, WEEK_START)
    assert (empty.today, empty.week, empty.members_week) == (0, 0, 0)
    no_questions = await questions.stats(12345)
    assert no_questions.top_questions == () and no_questions.unanswered == ()


# --------------------------------------------------------------------- chat migration


async def test_migrate_chat_moves_plan_pushes_checkins_and_questions(store, questions):
    old, new = -4001, -1004001
    await store.save_plan(make_plan(old))
    push = await store.claim_push(old, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.mark_delivered(push, 3, old)
    await store.check_in(push, 5)
    await questions.log_question(old, "问题", True, None)
    await questions.add_feedback(old, f"{LECTURE}:0.1", 7, 1)

    await store.migrate_chat(old, new)

    assert await store.plan(old) is None
    assert (await store.plan(new)) == make_plan(new, last_passage_id=f"{LECTURE}:0.1")
    assert [p.chat_id for p in await store.active_plans()] == [new]
    assert await store.latest_push(old) is None
    assert (await store.latest_push(new)).push_id == push.push_id
    assert (new, TODAY) in await store.chats_with_scheduled_push({TODAY})
    assert (old, TODAY) not in await store.chats_with_scheduled_push({TODAY})
    assert (await store.checkin_stats(new, TODAY, WEEK_START)).today == 1
    assert (await store.checkin_stats(old, TODAY, WEEK_START)).today == 0
    assert (await questions.stats(new)).top_questions == (("问题", 1),)
    assert [row[0] for row in await _question_rows(questions.database)] == [new]
    assert await _rows(questions.database, "SELECT chat_id FROM feedback") == [(new,)]


async def test_migrate_chat_keeps_a_plan_the_new_chat_already_has(store):
    old, new = -4001, -1004001
    await store.save_plan(make_plan(old, time_of_day="07:00"))
    await store.save_plan(make_plan(new, time_of_day="09:00"))
    await store.migrate_chat(old, new)
    assert (await store.plan(new)).time_of_day == "09:00"


async def test_migrate_chat_moves_each_features_settings_whole(stores):
    """A roster, a quiz time and a reminder time follow the group; a second move (Telegram
    announces a migration in both chats) changes nothing."""
    old, new = -4001, -1004001
    await stores.records.replace_roster(old, [RosterEntry(0, "张三"), RosterEntry(1, "李四")])
    await stores.records.set_reminder_time(old, "21:00", "Asia/Shanghai")
    await stores.quiz.set_schedule(old, TIMED, "20:00")
    for _ in range(2):
        await stores.study.migrate_chat(old, new)
        assert [e.name for e in await stores.records.roster(new)] == ["张三", "李四"]
        assert await stores.records.reminder_times() == [ReminderTime(new, "21:00",
                                                                      "Asia/Shanghai")]
        assert await stores.quiz.timed_schedules() == [QuizSchedule(new, TIMED, "20:00")]
        assert await stores.records.roster(old) == []


async def test_migrate_chat_keeps_the_settings_the_new_chat_already_has(stores):
    """The supergroup's own settings win, as its plan does: never merged with the old
    group's (a roster of both), and the old group's are gone, so no job is rebuilt for a
    chat that no longer exists."""
    old, new = -4001, -1004001
    await stores.records.replace_roster(old, [RosterEntry(0, "张三"), RosterEntry(1, "李四")])
    await stores.records.replace_roster(new, [RosterEntry(0, "王五")])
    for chat_id, at in ((old, "21:00"), (new, "22:00")):
        await stores.records.set_reminder_time(chat_id, at, "Asia/Shanghai")
    for chat_id, at in ((old, "19:00"), (new, "20:00")):
        await stores.quiz.set_schedule(chat_id, TIMED, at)
    await stores.study.migrate_chat(old, new)
    assert [e.name for e in await stores.records.roster(new)] == ["王五"]
    assert await stores.records.roster(old) == []
    assert [(t.chat_id, t.time_of_day) for t in await stores.records.reminder_times()] == \
        [(new, "22:00")]
    assert await stores.quiz.timed_schedules() == [QuizSchedule(new, TIMED, "20:00")]


# Tables with a chat_id that stay where they are when a group becomes a supergroup.
NOT_MOVED_BY_SCHEMA = {
    "plans": "the study store moves the plan itself (the new chat's plan wins)",
    "follow_ups": "private chats only, which never migrate",
}


async def test_every_table_keyed_by_chat_follows_a_migrating_group(sqlite_stores, db_path):
    declared = {t for schema in SCHEMAS for t in schema.chat_tables + schema.chat_settings}
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        keyed = {table for table in tables if "chat_id" in
                 {column[1] for column in connection.execute(f"PRAGMA table_info({table})")}}
    assert keyed - set(NOT_MOVED_BY_SCHEMA) == declared


# --------------------------------------------------------------------- durability


async def _write_a_day(stores: Stores) -> int:
    store, questions = stores.study, stores.questions
    await store.save_plan(make_plan())
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.mark_delivered(push, 11, CHAT)
    await store.check_in(push, 5)
    await questions.log_question(CHAT, "问题", False, None)
    return push.push_id


async def _assert_day_is_there(stores: Stores, push_id: int) -> None:
    store = stores.study
    assert await store.plan(CHAT) == make_plan(last_passage_id=f"{LECTURE}:0.1")
    assert (CHAT, TODAY) in await store.chats_with_scheduled_push({TODAY})
    assert (await store.latest_push(CHAT)).push_id == push_id
    assert await store.checkin_count(push_id) == 1
    assert (await stores.questions.stats(CHAT)).unanswered == (("问题", 1),)


async def test_confirmed_writes_survive_a_restart(db_path):
    first = await Stores.open(db_path)
    push_id = await _write_a_day(first)
    await first.close()
    second = await Stores.open(db_path)
    try:
        await _assert_day_is_there(second, push_id)
        assert await second.study.claim_push(CHAT, TODAY, "x", "scheduled") is None
    finally:
        await second.close()


async def test_confirmed_writes_are_visible_without_closing_the_writer(db_path):
    """Like a kill: the first store is never closed before a second one reads the file."""
    first = await Stores.open(db_path)
    push_id = await _write_a_day(first)
    second = await Stores.open(db_path)
    try:
        await _assert_day_is_there(second, push_id)
        assert await second.study.claim_push(CHAT, TODAY, "x", "scheduled") is None
    finally:
        await second.close()
        await first.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_confirmed_writes_survive_sigkill_of_the_writing_process(db_path):
    """A real kill: a child process writes, says so, and is killed by SIGKILL before any
    close; the WAL (not yet checkpointed) must hold the data for the next process."""
    child = textwrap.dedent(f"""
        import asyncio, os, signal, sys
        from pathlib import Path
        from bot.stores import Stores
        from tests.test_storage import _write_a_day

        async def main():
            store = await Stores.open(Path({str(db_path)!r}))
            push_id = await _write_a_day(store)
            print(push_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
    """)
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", child], cwd=ROOT, capture_output=True,
        text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == -signal.SIGKILL, result.stderr
    push_id = int(result.stdout.strip())
    assert Path(f"{db_path}-wal").exists()
    store = await Stores.open(db_path)
    try:
        await _assert_day_is_there(store, push_id)
    finally:
        await store.close()


# --------------------------------------------------------------------- the event loop


async def test_writes_do_not_block_the_event_loop(store, questions, caplog):
    loop = asyncio.get_running_loop()
    caplog.set_level(logging.WARNING, logger="asyncio")
    loop.set_debug(True)
    loop.slow_callback_duration = 0.05
    try:
        for i in range(200):
            if i % 4 == 0:
                await store.save_plan(make_plan(10_000 + i))
            elif i % 4 == 1:
                await store.claim_push(10_000 + i, TODAY, f"{LECTURE}:0.1", "scheduled")
            elif i % 4 == 2:
                await questions.log_question(CHAT, f"问题 {i}", i % 3 == 0, None)
            else:
                push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "manual")
                await store.mark_delivered(push, i, CHAT)
                await store.check_in(push, i)
    finally:
        loop.set_debug(False)
    slow = [r.getMessage() for r in caplog.records
            if r.name == "asyncio" and "took" in r.getMessage()]
    assert slow == [], slow
    assert len(await store.active_plans()) == 50


async def test_the_connection_cannot_be_used_from_the_event_loop_thread(tmp_path):
    """The connection lives on the store's worker thread; sqlite3 refuses any other."""
    stores = await Stores.open(tmp_path / "bot.sqlite3")
    try:
        with pytest.raises(sqlite3.ProgrammingError):
            stores.study._plan(1)  # a direct call, bypassing the worker: must not work
        assert await stores.study.plan(1) is None
    finally:
        await stores.close()


# --------------------------------------------------------------------- atomicity


async def test_mark_delivered_is_atomic(store):
    """If the plan update fails (a trigger stands in for a crash or any error between the
    two statements), the push's message_id must not stay committed on its own."""
    await store.save_plan(make_plan())
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")

    def add_failing_trigger() -> None:
        db = store.database.connection()
        if store.database.shared:  # PostgreSQL: a trigger runs a function
            db.execute("""CREATE FUNCTION fail_update() RETURNS trigger LANGUAGE plpgsql AS
                          $$ BEGIN RAISE EXCEPTION 'simulated failure' USING ERRCODE = '23000';
                          END $$""")
            db.execute("""CREATE TRIGGER fail_plan_update BEFORE UPDATE ON plans
                          FOR EACH ROW EXECUTE FUNCTION fail_update()""")
        else:
            db.execute("""CREATE TRIGGER fail_plan_update BEFORE UPDATE ON plans
                          BEGIN SELECT RAISE(ABORT, 'simulated failure'); END""")

    await store.database.run(add_failing_trigger)
    with pytest.raises(sqlite3.IntegrityError, match="simulated failure"):
        await store.mark_delivered(push, 99, CHAT)
    assert (await store.plan(CHAT)).last_passage_id is None
    assert (await store.push(push.push_id)).message_id is None, (
        "half of mark_delivered was committed: the push is marked delivered, the plan not "
        "advanced")


async def test_migrate_chat_is_all_or_nothing(store):
    """Both ids have a scheduled push that day, so moving the pushes hits the unique index:
    either the migration fails and nothing moved, or it succeeds and everything did."""
    old, new = -4001, -1004001
    await store.save_plan(make_plan(old))
    await store.claim_push(old, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.claim_push(new, TODAY, f"{LECTURE}:0.1", "scheduled")
    try:
        await store.migrate_chat(old, new)
    except sqlite3.IntegrityError:
        assert await store.plan(new) is None, "the plan moved although the migration failed"
        assert await store.plan(old) is not None
    else:
        assert await store.plan(old) is None and await store.plan(new) is not None
        assert await store.latest_push(old) is None


async def test_schedule_set_at_keeps_its_fraction_of_a_second(store):
    """A schedule set at 08:00:00.7 for 08:00 is "after today's time" (the /schedule reply
    says it starts tomorrow, the JobQueue's next run is tomorrow); truncated to 08:00:00 when
    stored, a restart later that day would send today's push after all."""
    set_at = datetime(2025, 3, 5, 8, 0, 0, 700_000, tzinfo=SHANGHAI)
    plan = make_plan(weekdays=(0, 1, 2, 3, 4, 5, 6), schedule_set_at=set_at)
    now = datetime(2025, 3, 5, 9, 0, tzinfo=SHANGHAI)
    assert not missed_push_due(plan, now, already_pushed_today=False)
    await store.save_plan(plan)
    loaded = await store.plan(CHAT)
    assert loaded.schedule_set_at == set_at
    assert not missed_push_due(loaded, now, already_pushed_today=False)


# --------------------------------------------------------------------- a bug (fails)


async def test_a_failed_chat_migration_during_catch_up_does_not_abort_start_up(
        server, knowledge, workdir):
    """One chat's failure during the start-up catch-up must not stop the bot or the others.

    The situation: the bot missed a group's upgrade to a supergroup, an admin subscribed the
    new supergroup too, and the new id already had today's push. The start-up catch-up sends
    to the old group id, Telegram answers "group chat was upgraded" (ChatMigrated), and
    moving the old chat's pushes to the new id hits the one-scheduled-push-a-day index."""
    from tests.botharness import running_bot

    old, new, later = -4001, -1004001, 1001  # restore_jobs goes in chat_id order
    db_path = workdir / "bot.sqlite3"
    stores = await Stores.open(db_path)
    store = stores.study
    for chat_id in (old, new, later):
        await store.save_plan(make_plan(chat_id, weekdays=(0, 1, 2, 3, 4, 5, 6)))
    done = await store.claim_push(new, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.mark_delivered(done, 1, new)
    await stores.close()
    server.fail_next("sendMessage", 400, migrate_to_chat_id=new)  # the first send: to `old`

    async with running_bot(server, knowledge, db_path=db_path,
                           clock=lambda: datetime(2025, 3, 5, 8, 5, tzinfo=SHANGHAI)) as app:
        assert app.job_queue.get_jobs_by_name(f"daily:{later}"), "later chats got no job"
    assert [c.params["chat_id"] for c in server.calls("sendMessage") if c.ok] == [later]


async def test_feedback_counts_each_member_once_per_passage(questions):
    passage = f"{LECTURE}:1.1"
    await questions.add_feedback(CHAT, passage, 1, 1)
    await questions.add_feedback(CHAT, passage, 1, 1)
    await questions.add_feedback(CHAT, passage, 2, 1)
    await questions.add_feedback(CHAT, passage, 2, -1)  # changed their mind
    stats = await questions.stats(CHAT)
    assert (stats.likes, stats.dislikes) == (1, 1)
    assert (await questions.stats(OTHER_CHAT)).likes == 0


async def test_a_logged_question_keeps_who_asked_the_reply_kind_and_the_candidates(
        questions):
    first = await questions.log_question(CHAT, "网民多少", True, f"{LECTURE}:1.2", user_id=5,
                                         reply_kind="answered",
                                         candidates=[f"{LECTURE}:1.2", f"{LECTURE}:0.1"])
    second = await questions.log_question(CHAT, "天气", False, None)
    assert second == first + 1
    rows = await _rows(questions.database, "SELECT user_id, reply_kind, candidates FROM "
                                           "questions ORDER BY question_id")
    assert rows == [(5, "answered", f"{LECTURE}:1.2,{LECTURE}:0.1"), (None, None, "")]


async def test_a_check_in_records_when_it_happened(sqlite_stores, db_path):
    store = sqlite_stores.study
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    await store.check_in(push, 5)
    with contextlib.closing(sqlite3.connect(db_path)) as connection:
        (checked_in_at,) = connection.execute("SELECT checked_in_at FROM checkins").fetchone()
    assert datetime.fromisoformat(checked_in_at).tzinfo is not None


# --------------------------------------------------------------------- push states


async def test_pushes_from_before_push_states_are_delivered_or_failed_and_never_reported(
        db_path):
    """Study at migration 2 stored a push without a message id when its send failed (the
    error was swallowed): such a push was never delivered as far as anyone knows."""
    old = Schema(study.SCHEMA.name, study.SCHEMA.migrations[:2], study.SCHEMA.chat_tables)
    database = await Database(db_path, (old,)).open()

    def two_old_pushes() -> None:
        for message_id in (7, None):
            database.write("INSERT INTO pushes (chat_id, local_date, passage_id, kind, "
                           "message_id, sent_at) VALUES (?, ?, ?, 'manual', ?, ?)",
                           (CHAT, TODAY.isoformat(), f"{LECTURE}:0.1", message_id,
                            "2025-03-05T00:00:00+00:00"))

    await database.run(two_old_pushes)
    await database.close()
    stores = await Stores.open(db_path)
    try:
        delivered, failed = [await stores.study.push(push_id) for push_id in (1, 2)]
        assert (delivered.state, delivered.message_id) == (PushState.DELIVERED, 7)
        assert (failed.state, failed.message_id) == (PushState.FAILED, None)
        assert await stores.study.unreported_pushes() == []
        assert (await stores.study.latest_push(CHAT)).push_id == 1
    finally:
        await stores.close()
    assert versions(db_path)["study"] == LATEST["study"]


async def test_a_push_left_sending_by_a_killed_process_becomes_unknown_and_counts_once(store):
    await store.save_plan(make_plan())
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    (interrupted,) = await store.interrupted_pushes()
    assert (interrupted.push_id, interrupted.state) == (push.push_id, PushState.UNKNOWN)
    assert await store.interrupted_pushes() == []
    assert (await store.plan(CHAT)).last_passage_id == f"{LECTURE}:0.1"
    assert [p.push_id for p in await store.unreported_pushes()] == [push.push_id]
    await store.mark_reported(push.push_id)
    assert await store.unreported_pushes() == []
    assert (await store.latest_push(CHAT)).push_id == push.push_id, "/today shows it"


async def test_the_plan_advances_only_from_where_it_stood_at_the_claim(store):
    await store.save_plan(make_plan())
    first = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "manual", None)
    await store.mark_unknown(first, "TimedOut: Timed out")
    second = await store.claim_push(CHAT, TODAY, f"{LECTURE}:1.1", "manual", f"{LECTURE}:0.1")
    await store.mark_delivered(second, 2, CHAT)
    resent = await store.begin_attempt(first.push_id, (PushState.UNKNOWN,), fresh=True)
    assert resent is not None and resent.state == PushState.SENDING
    await store.mark_delivered(resent, 3, CHAT)  # an admin resent the first one late
    assert (await store.plan(CHAT)).last_passage_id == f"{LECTURE}:1.1", "never backwards"
    assert await store.delivered_later(first) is False
    assert await store.begin_attempt(first.push_id, (PushState.FAILED,)) is None


async def test_a_refused_push_does_not_advance_the_plan(store):
    await store.save_plan(make_plan())
    push = await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "scheduled")
    later = datetime(2025, 3, 5, 9, 0, tzinfo=SHANGHAI)
    await store.mark_retrying(push, "NetworkError: Bad Gateway", later, later)
    (retrying,) = await store.pushes_in_state(PushState.RETRYING)
    assert (retrying.next_attempt_at, retrying.give_up_at) == (later, later)
    assert await store.claim_push(CHAT, TODAY, f"{LECTURE}:0.1", "manual") is None
    await store.mark_failed(retrying, "NetworkError: Bad Gateway")
    assert (await store.plan(CHAT)).last_passage_id is None
    assert await store.latest_push(CHAT) is None
    assert [p.error for p in await store.unreported_pushes()] == ["NetworkError: Bad Gateway"]
