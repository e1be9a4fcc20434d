"""`lecture-bot migrate`: a SQLite database filled through the real stores is copied into an
empty PostgreSQL database (a throwaway server): every row of every table arrives, rowids
included, and the stores work on the copy. A target that is not empty, a copy that fails
halfway or comes up short, a missing or newer source: refused with one line, nothing kept."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import tests.test_quiz_points as quiz_tests
import tests.test_records as records_tests
import tests.test_storage as storage_tests
import tests.test_teach as teach_tests
from bot.cli import main
from bot.quiz.store import TIMED, Voter
from bot.records.store import RosterEntry
from bot.storage import Database
from bot.stores import SCHEMAS, Stores
from bot.teach import queue
from bot.teach.store import Decision, GroupLink

GROUP = -100  # the group the quiz and teach helpers write for
LATER = date(2026, 12, 1)
REVIEWER = 42
# A URL nothing listens at: the refusals below come before any connection.
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/none"


async def fill(path: Path) -> None:
    """Writes through the stores as the bot does, reusing the feature tests' own steps."""
    await records_tests.test_a_month_is_gathered_from_every_feature_store(path)
    stores = await Stores.open(path)
    try:
        push_id = await storage_tests._write_a_day(stores)
        await quiz_tests.test_points_are_capped_per_day_and_kept_per_group(stores)
        await quiz_tests.test_a_push_is_quizzed_at_most_once_and_its_days_are_listed(stores)
        await stores.questions.add_feedback(GROUP, "lec:0.0", 5, 1)  # deleted below
        await teach_tests.test_a_dislike_comes_with_the_voters_question(stores)
        await teach_tests.test_a_chat_is_owed_one_follow_up_per_question(stores)
        found = queue.occurrences([], await stores.questions.dislikes(None, 10))
        await stores.teach.decide([o.key for o in found], Decision.LINKED, REVIEWER, "lec:3.3")
        await stores.teach.decide_for_groups([("q1", GROUP)], Decision.LINKED,
                                             [GroupLink(GROUP, "问题", "lec", "3.3", 7)])
        await stores.study.record_copy(push_id, storage_tests.CHAT + 1, 99)
        claim = await stores.records.claim_name(GROUP, "赵六", 8)
        await stores.records.replace_roster(GROUP, [RosterEntry(1, "赵六")])
        await stores.records.settle_claim(claim, True, 1, RosterEntry(1, "赵六"))
        await stores.records.claim_name(GROUP, "钱七", 9)
        await stores.records.set_reminder_time(GROUP, "20:00", "Asia/Shanghai")
        await stores.records.set_opted_out(9, True)
        await stores.records.claim_reminder(GROUP, 8, LATER)
        await stores.records.saw_group(GROUP, "学习小组", 12)
        await stores.quiz.set_schedule(GROUP, TIMED, "21:00")
        await stores.quiz.answer_poll("poll-unknown", Voter(8, "赵"), 1, LATER)
        await stores.quiz.poll_seen("poll-unseen", "题目?", ("甲", "乙"), LATER)
        # A quiz whose poll was never sent is forgotten: its id is never given again.
        forgotten = await stores.quiz.claim_quiz(GROUP, None, LATER, quiz_tests._question(9))
        await stores.quiz.forget_quiz(forgotten)
    finally:
        await stores.close()
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        # A gap before the 👎 votes' rowids, as a vote deleted by hand or a VACUUM leaves:
        # the copy must keep each vote's rowid (review marks name them), not renumber them.
        connection.execute("DELETE FROM feedback WHERE rowid = (SELECT MIN(rowid) "
                           "FROM feedback)")


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("source") / "bot.sqlite3"
    asyncio.run(fill(path))
    return path


def sqlite_tables(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, rowid first, sorted."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {name: sorted(connection.execute(_select(name, _columns(connection, name))),
                             key=repr) for name in names}


def _columns(connection: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def _select(table: str, columns: list[str]) -> str:
    rowid = "" if table == "schema_versions" else "rowid, "  # its rowids are its own
    return f"SELECT {rowid}{', '.join(columns)} FROM {table}"


def postgres_tables(url: str, like: dict[str, list[tuple]], source: Path) -> dict[str, list]:
    """The target's tables, with the source's columns in the source's order."""
    import psycopg

    with contextlib.closing(sqlite3.connect(source)) as reader:
        columns = {name: _columns(reader, name) for name in like}
    with psycopg.connect(url) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()")]
        assert sorted(names) == sorted(like), "the same tables on both sides"
        return {name: sorted((tuple(row) for row in connection.execute(
            _select(name, columns[name]))), key=repr) for name in names}


def pg_row_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name != 'schema_versions'")]
        return {name: connection.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
                for name in names}


def one_line(text: str) -> str:
    line = text.strip()
    assert line and "\n" not in line, text
    assert re.match(r"[\u4e00-\u9fff]", line) and " / " in line, "Chinese first, then English"
    return line


def assert_copied(source: Path, url: str) -> None:
    expected = sqlite_tables(source)
    transient = {table for schema in SCHEMAS for table in schema.transient_tables}
    empty = [name for name, rows in expected.items() if not rows and name not in transient]
    assert not empty, f"the fill leaves tables empty, so they prove nothing: {empty}"
    assert postgres_tables(url, expected, source) == expected


# --------------------------------------------------------------------- every row arrives


async def test_every_row_of_every_table_arrives_and_the_stores_work_on_the_copy(
        filled, pg_url, capsys):
    assert await asyncio.to_thread(main, ["migrate", "--from", str(filled), "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert_copied(filled, pg_url)
    counts = {name: len(rows) for name, rows in sqlite_tables(filled).items()}
    transient = {table for schema in SCHEMAS for table in schema.transient_tables}
    for table, count in counts.items():
        if table != "schema_versions" and table not in transient:
            assert re.search(rf"^{table}\s+{count} → {count}$", out, re.M), table
    for table in transient:  # the running instances' state is not copied
        assert not re.search(rf"^{table}\s", out, re.M), table

    with contextlib.closing(sqlite3.connect(filled)) as connection:
        top = dict(connection.execute("SELECT name, seq FROM sqlite_sequence"))
        last_vote = connection.execute("SELECT MAX(rowid) FROM feedback").fetchone()[0]
        before = await _marked_dislikes(filled)
    copy = await Stores.open(pg_url)
    try:
        after, marked = await _marked_dislikes_in(copy)
        assert after == before and marked == set(before), "the votes' rowids still resolve"
        new_question = await copy.questions.log_question(GROUP, "迁移后的问题", False, None)
        assert new_question == top["questions"] + 1
        push = await copy.study.claim_push(GROUP, LATER, "lec:0.2", "scheduled")
        assert push is not None and push.push_id == top["pushes"] + 1
        quiz = await copy.quiz.claim_quiz(GROUP, None, LATER, quiz_tests._question(10))
        assert quiz == top["quiz_polls"] + 1, "after the forgotten quiz's id, as SQLite would"
        await copy.questions.add_feedback(GROUP, "lec:9.9", 77, 1)
        (vote,) = await copy.database.run(
            lambda: copy.database.connection().execute(
                "SELECT rowid FROM feedback WHERE user_id = 77").fetchall())
        assert vote[0] == last_vote + 1
    finally:
        await copy.close()


async def _marked_dislikes(path: Path) -> list[str]:
    stores = await Stores.open(path)
    try:
        keys, marked = await _marked_dislikes_in(stores)
    finally:
        await stores.close()
    assert keys and marked == set(keys)
    return keys


async def _marked_dislikes_in(stores: Stores) -> tuple[list[str], set[str]]:
    keys = [o.key for o in queue.occurrences([], await stores.questions.dislikes(None, 10))]
    return keys, await stores.teach.marked(keys, REVIEWER)


def test_the_command_takes_both_databases_from_the_environment(filled, pg_cluster, tmp_path):
    url = pg_cluster.new_database()
    env = {**os.environ, "BOT_DB_PATH": str(filled), "BOT_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "各表行数一致" in done.stdout and "postgresql://" in done.stdout
    assert_copied(filled, url)


# --------------------------------------------------------------------- refused, nothing kept


async def _small_source(path: Path) -> Path:
    stores = await Stores.open(path)
    try:
        await storage_tests._write_a_day(stores)
    finally:
        await stores.close()
    return path


async def test_a_target_with_rows_is_refused_and_left_as_it_was(pg_url, tmp_path, capsys):
    source = await _small_source(tmp_path / "bot.sqlite3")
    target = await Stores.open(pg_url)
    try:
        await target.records.saw_group(GROUP, "已有的群", 3)
    finally:
        await target.close()
    before = pg_row_counts(pg_url)
    assert await asyncio.to_thread(main, ["migrate", "--from", str(source),
                                          "--to", pg_url]) == 2
    captured = capsys.readouterr()
    assert "groups" in one_line(captured.err) and captured.out == ""
    assert pg_row_counts(pg_url) == before and before["groups"] == 1


async def test_a_target_missing_a_table_is_refused_with_nothing_written(
        pg_url, tmp_path, capsys):
    source = await _small_source(tmp_path / "bot.sqlite3")
    database = await Database(pg_url, SCHEMAS).open()
    await database.run(lambda: database.connection().execute("DROP TABLE push_copies"))
    await database.close()
    assert await asyncio.to_thread(main, ["migrate", "--from", str(source),
                                          "--to", pg_url]) == 2
    assert "push_copies" in one_line(capsys.readouterr().err)
    assert set(pg_row_counts(pg_url).values()) == {0}


async def test_a_row_the_target_refuses_halfway_rolls_everything_back(pg_url, tmp_path, capsys):
    source = await _small_source(tmp_path / "bot.sqlite3")
    with contextlib.closing(sqlite3.connect(source)) as connection, connection:
        # Written before SQLite checked foreign keys: a check-in of a push that is not there.
        connection.execute("INSERT INTO checkins (push_id, chat_id, user_id, local_date) "
                           "VALUES (999, 1, 2, '2025-03-05')")
    assert await asyncio.to_thread(main, ["migrate", "--from", str(source),
                                          "--to", pg_url]) == 1
    assert "checkins" in one_line(capsys.readouterr().err)
    counts = pg_row_counts(pg_url)
    assert set(counts.values()) == {0}, "pushes and questions, copied before, are gone too"


async def test_rows_lost_on_the_way_are_named_and_rolled_back(pg_url, tmp_path, capsys):
    import psycopg

    source = await _small_source(tmp_path / "bot.sqlite3")
    database = await Database(pg_url, SCHEMAS).open()
    await database.close()
    with psycopg.connect(pg_url, autocommit=True) as connection:
        # A trigger that silently drops every question: the insert succeeds, the rows don't.
        connection.execute("CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS "
                           "'BEGIN RETURN NULL; END'")
        connection.execute("CREATE TRIGGER lose BEFORE INSERT ON questions FOR EACH ROW "
                           "EXECUTE FUNCTION drop_row()")
    assert await asyncio.to_thread(main, ["migrate", "--from", str(source),
                                          "--to", pg_url]) == 1
    line = one_line(capsys.readouterr().err)
    assert "questions" in line and "1" in line
    assert set(pg_row_counts(pg_url).values()) == {0}


def test_a_missing_source_is_refused_in_one_line_and_not_created(tmp_path, capsys):
    missing = tmp_path / "nowhere.sqlite3"
    assert main(["migrate", "--from", str(missing), "--to", UNREACHABLE]) == 2
    assert str(missing) in one_line(capsys.readouterr().err)
    assert not missing.exists()


def test_a_source_from_newer_code_is_refused_before_anything_is_written(tmp_path, capsys):
    source = asyncio.run(_small_source(tmp_path / "bot.sqlite3"))
    with contextlib.closing(sqlite3.connect(source)) as connection, connection:
        connection.execute("UPDATE schema_versions SET version = 99 WHERE name = 'study'")
    before = source.read_bytes()
    assert main(["migrate", "--from", str(source), "--to", UNREACHABLE]) == 2
    assert "study 99" in one_line(capsys.readouterr().err)
    assert source.read_bytes() == before


def test_without_a_target_the_command_says_how_to_give_one(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["migrate", "--from", str(tmp_path / "x.sqlite3")]) == 2
    assert "BOT_DATABASE_URL" in one_line(capsys.readouterr().err)
