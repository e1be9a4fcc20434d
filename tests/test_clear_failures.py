"""Clear failures (issue 21, items 7 and 9): bad rosters and file names get a Chinese reason;
`check`, `ask` and `export` on nothing exit 2 with one line; a database that is missing
(after it existed), read-only or damaged stops the bot at start with one line; a database
deleted under the running bot is logged loudly; a failed COMMIT rolls back; a question that
starts with `#` survives the questions file.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot import texts
from bot.cli import main as cli_main
from bot.core.knowledge import KnowledgeBase
from bot.core.links import LINKS_SUFFIX
from bot.publishing.files import STAGING_DIR
from bot.storage import Database, Schema
from bot.stores import Stores
from tests.botharness import PRIVATE_CHAT, TOKEN, ask, running_bot
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID

pytestmark = pytest.mark.usefixtures("workdir")

GROUP = -100313131
ADMIN = 5201


# --- bad rosters and file names ------------------------------------------------------------


async def test_a_roster_with_a_cell_over_csvs_limit_gets_a_reason(server, knowledge):
    server.chat_admins[GROUP] = [ADMIN]
    data = ("姓名,用户名\n张三," + "长" * 131_073 + "\n").encode()
    server.add_file("roster-long", data)
    async with running_bot(server, knowledge):
        mark = server.mark()
        server.push_update(server.document_message(GROUP, ADMIN, file_id="roster-long",
                                                   file_name="名单.csv", file_size=len(data),
                                                   caption="/roster"))
        (reply,) = await server.wait_for("sendMessage", since=mark)
    assert reply.params["text"] == texts.RECORDS_ROSTER_BAD_FILE.format(
        reason=texts.RECORDS_ROSTER_BAD_TEXT.format(limit=131072))


async def test_an_upload_with_a_name_too_long_for_the_disk_gets_a_reason(server, folder,
                                                                         tokenizer):
    name = "\U00020000" * 100 + ".txt"  # 100 rare characters, four bytes each in UTF-8
    data = "第一段。\n\n第二段。\n".encode()
    server.add_file("long-name", data)
    admin = PRIVATE_CHAT
    async with running_bot(server, KnowledgeBase.load(folder, tokenizer),
                           admin_ids=frozenset({admin})):
        mark = server.mark()
        server.push_update(server.document_message(admin, admin, file_id="long-name",
                                                   file_name=name, file_size=len(data)))
        (reply,) = await server.wait_for("sendMessage", since=mark, timeout=30)
    assert reply.params["text"] == texts.UPLOAD_REFUSED.format(
        reason=texts.UPLOAD_NAME_TOO_LONG.format(limit=66, rare=50))
    staging = folder / STAGING_DIR
    assert not staging.exists() or not any(staging.iterdir()), "nothing staged is left"


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["check"], ["ask", "网民规模有多大"],
                                     ["export", "--chat", "-1", "--month", "2026-11",
                                      "-o", "x.xlsx"]])
async def test_commands_on_a_missing_knowledge_folder_exit_2_with_one_line(command, capsys,
                                                                           monkeypatch):
    await (await Stores.open(Path("bot.sqlite3"))).close()  # export gets as far as the folder
    monkeypatch.setenv("BOT_DB_PATH", "bot.sqlite3")
    assert cli_main([*command, "--knowledge", "/nonexistent"]) == 2
    captured = capsys.readouterr()
    assert captured.err == texts.CLI_NO_KNOWLEDGE.format(path="/nonexistent") + "\n"
    assert captured.out == ""


def test_export_of_a_chat_the_bot_never_met_exits_2(capsys, monkeypatch):
    import asyncio

    asyncio.run(_existing_database(Path("bot.sqlite3")))
    monkeypatch.setenv("BOT_DB_PATH", "bot.sqlite3")
    assert cli_main(["export", "--chat", "-999", "--month", "2026-12", "-o", "x.xlsx",
                     "--knowledge", str(KNOWLEDGE_DIR)]) == 2
    assert capsys.readouterr().err == texts.CLI_UNKNOWN_CHAT.format(
        chat=-999, path="bot.sqlite3") + "\n"
    assert not Path("x.xlsx").exists()


def _run_bot(capsys, monkeypatch, db: str) -> tuple[int, str]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BOT_DB_PATH", db)
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(KNOWLEDGE_DIR))
    code = cli_main(["run"])
    return code, capsys.readouterr().err


async def _existing_database(path: Path) -> None:
    await (await Stores.open(path)).close()


def test_a_database_missing_after_it_existed_stops_the_start(capsys, monkeypatch):
    import asyncio

    asyncio.run(_existing_database(Path("bot.sqlite3")))
    Path("bot.sqlite3").unlink()
    code, err = _run_bot(capsys, monkeypatch, "bot.sqlite3")
    assert code == 2 and err.count("\n") == 1 and "不见了" in err
    assert not Path("bot.sqlite3").exists(), "no empty database was started in its place"


def test_an_unreachable_postgresql_stops_the_start_in_one_line_without_its_password(
        capsys, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("BOT_DATABASE_URL", f"postgresql://bot:s3cr3t-pw@127.0.0.1:{port}/bot")
    code, err = _run_bot(capsys, monkeypatch, "bot.sqlite3")
    assert code == 2 and err.count("\n") == 1 and "无法打开数据库" in err
    assert "s3cr3t-pw" not in err and "bot:***@127.0.0.1" in err
    assert not Path("bot.sqlite3").exists(), "no SQLite database started instead"


def test_a_database_url_that_is_not_postgresql_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("BOT_DATABASE_URL", "mysql://bot@127.0.0.1/bot")
    code, err = _run_bot(capsys, monkeypatch, "bot.sqlite3")
    assert code == 2 and err.count("\n") == 1 and "postgresql://" in err


def test_a_damaged_database_stops_the_start(capsys, monkeypatch):
    Path("bot.sqlite3").write_bytes(b"this is not a database, just text " * 200)
    code, err = _run_bot(capsys, monkeypatch, "bot.sqlite3")
    assert code == 2 and err.count("\n") == 1 and "已损坏" in err


def test_a_read_only_database_stops_the_start(capsys, monkeypatch):
    """Opened read-only, as a file the bot may not write (the tests run as root, whom file
    modes do not stop)."""
    import asyncio

    from bot.storage import sqlite as storage

    asyncio.run(_existing_database(Path("bot.sqlite3")))
    monkeypatch.setattr(storage, "_connect", lambda path: sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None))
    code, err = _run_bot(capsys, monkeypatch, "bot.sqlite3")
    assert code == 2 and err.count("\n") == 1 and "只读" in err


async def test_a_database_deleted_while_running_is_logged_loudly(server, knowledge, caplog):
    async with running_bot(server, knowledge, db_path=Path("bot.sqlite3")) as app:
        (job,) = app.job_queue.get_jobs_by_name("db-watch")
        await job.run(app)
        assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
        Path("bot.sqlite3").unlink()
        await job.run(app)
    alarms = [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert alarms and "DELETED OR REPLACED" in alarms[0].getMessage()


# --- transactions ----------------------------------------------------------------------------


async def test_a_transaction_whose_commit_fails_is_rolled_back(tmp_path):
    """A deferred foreign key is checked at COMMIT: the COMMIT fails and, unless rolled back,
    the transaction stays open and every later one fails too."""
    schema = Schema("commit_test", ("""
        CREATE TABLE parents (id INTEGER PRIMARY KEY);
        CREATE TABLE children (parent INTEGER REFERENCES parents (id)
                               DEFERRABLE INITIALLY DEFERRED);
    """,))
    database = await Database(tmp_path / "t.sqlite3", (schema,)).open()
    try:
        with pytest.raises(sqlite3.IntegrityError):
            await database.run(database.write, "INSERT INTO children VALUES (42)")
        await database.run(database.write, "INSERT INTO parents VALUES (1)")
        rows = await database.run(lambda: database.connection().execute(
            "SELECT (SELECT count(*) FROM children), (SELECT count(*) FROM parents)"
        ).fetchone())
    finally:
        await database.close()
    assert tuple(rows) == (0, 1)


# --- a question that starts with # -----------------------------------------------------------


async def test_a_reviewed_question_starting_with_hash_survives_the_questions_file(
        server, folder, tokenizer):
    admin = PRIVATE_CHAT
    question = "#党员发帖子组织上管得着吗"
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({admin})):
        first = await ask(server, question)
        assert not first.params["text"].startswith("📖")
        listing = await ask(server, "/review", admin)
        assert f"问题:“{question}”" in listing.params["text"]
        rows = listing.params["reply_markup"]["inline_keyboard"]
        pick = next(b["callback_data"] for row in rows for b in row
                    if b["text"] == "1 是这一段")
        mark = server.mark()
        server.push_update(server.callback_query(admin, admin, listing.result, pick))
        (edit,) = await server.wait_for("editMessageText", since=mark)
        assert edit.params["text"].startswith("✅ 已记下")
    written = (folder / f"{LECTURE_ID}{LINKS_SUFFIX}").read_text(encoding="utf-8")
    assert f"\\{question}\t" in written
    reloaded = KnowledgeBase.load(folder, tokenizer)
    assert [link.question for link in reloaded.links.index.links] == [question]
    assert reloaded.answer(question).answered
