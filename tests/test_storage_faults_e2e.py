"""Answers don't wait on storage: another process holds the database's write lock.

The lock is held by a real second process (sqlite3 in a subprocess, as an admin's shell or a
backup would), through the fake Bot API. Questions are answered while it holds the lock; what
they log is written once it lets go, or spilled to a file at shutdown and written at the next
start. Commands that must write say the database is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import services, texts
from bot.stores import Stores, spill_path
from tests.botharness import GROUP_CHAT, ask, running_bot
from tests.test_replies_e2e import deciding

pytestmark = pytest.mark.usefixtures("workdir")

DB = Path("bot.sqlite3")
FIVE_CHATS = [6101, 6102, 6103, 6104, 6105]
QUESTION = "网民规模多大"
GROUP_ADMIN = 5001

_LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


@contextlib.contextmanager
def write_lock_held_elsewhere(db: Path):
    """Another process holds the write lock until the block ends."""
    locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        yield
    finally:
        locker.stdin.close()
        locker.wait(timeout=10)


def _rows(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return connection.execute(sql).fetchall()


async def test_questions_are_answered_while_another_process_holds_the_write_lock(server,
                                                                                 knowledge):
    async with running_bot(server, deciding(knowledge, 0.0, 0.0)) as app:
        with write_lock_held_elsewhere(DB):
            mark = server.mark()
            for chat in FIVE_CHATS:
                server.push_update(server.text_message(chat, QUESTION, user_id=chat))
            replies = await server.wait_for("sendMessage", count=5, since=mark, timeout=8)
            assert sorted(r.params["chat_id"] for r in replies) == FIVE_CHATS
            assert all("10.92亿" in r.params["text"] for r in replies)
            # Answered before anything was stored: the lock is still held.
            assert _rows(DB, "SELECT COUNT(*) FROM questions") == [(0,)]
        await asyncio.wait_for(services.deferred(app).drained(), 30)
    assert sorted(_rows(DB, "SELECT chat_id, user_id, text FROM questions")) == [
        (chat, chat, QUESTION) for chat in FIVE_CHATS]
    assert sorted(_rows(DB, "SELECT chat_id FROM members")) == [(c,) for c in FIVE_CHATS]


async def test_what_the_database_never_took_is_spilled_and_written_at_the_next_start(
        server, knowledge):
    with contextlib.ExitStack() as lock:
        async with running_bot(server, deciding(knowledge, 0.0, 0.0)):
            lock.enter_context(write_lock_held_elsewhere(DB))
            reply = await ask(server, QUESTION, 6201, user_id=6201)
            assert "10.92亿" in reply.params["text"]
        # The bot stopped while the lock was held: the question waits in the spill file.
        spilled = [json.loads(line) for line in
                   spill_path(DB).read_text(encoding="utf-8").splitlines()]
        assert {"question", "sighting"} <= {entry["kind"] for entry in spilled}
    assert _rows(DB, "SELECT COUNT(*) FROM questions") == [(0,)]
    # A command-line tool opening the database leaves the spill file to the bot.
    stores = await Stores.open(DB)
    await stores.close()
    assert spill_path(DB).exists()
    async with running_bot(server, deciding(knowledge, 0.0, 0.0)) as app:
        await asyncio.wait_for(services.deferred(app).drained(), 30)
    assert _rows(DB, "SELECT chat_id, text FROM questions") == [(6201, QUESTION)]
    assert not spill_path(DB).exists()


async def test_push_says_the_database_is_busy_while_the_lock_is_held(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge):
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        with write_lock_held_elsewhere(DB):
            busy = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN, timeout=15)
        assert busy.params["text"] == texts.DATABASE_BUSY
        # Once the lock is gone, /push works: nothing was half done.
        pushed = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
    assert pushed.params["text"].startswith(texts.PUSH_TITLE)
