"""Running the real bot against the fake Bot API server, shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Update

from bot.app import build_application, cleanup, prepare
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.storage import engine_for
from bot.study.delivery import CATCH_UP_DONE_KEY
from tests.conftest import KNOWLEDGE_DIR
from tests.fakebotapi import FakeBotApi

TOKEN = "123456:TEST-token-for-the-fake-server"
# Set by the `bot_engine` fixture: the PostgreSQL database the bot under test uses, or None
# for the SQLite file.
DATABASE_URL: str | None = None
SHANGHAI = ZoneInfo("Asia/Shanghai")
PRIVATE_CHAT = 1001
GROUP_CHAT = -100200300
MEMBER = 31337


class Clock:
    """A settable clock (Asia/Shanghai) for the bot's daily-study rules."""

    def __init__(self, *args: int):
        self.now = datetime(*args, tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def running_bot(server: FakeBotApi, knowledge: KnowledgeBase | None = None, *,
                      db_path: Path | None = None, admin_ids: frozenset[int] = frozenset(),
                      clock: Callable[[], datetime] | None = None,
                      rate_limiter: bool = False):
    """The real Application polling the fake server, started as run_polling would.

    Without PTB's rate limiter unless asked: it only slows tests that do not test it."""
    # A test that names its SQLite file reads it; the others run on either engine.
    settings = Settings(token=TOKEN, api_base_url=server.url, knowledge_dir=KNOWLEDGE_DIR,
                        db_path=db_path or Path("bot.sqlite3"), admin_ids=admin_ids,
                        database_url=None if db_path else DATABASE_URL)
    # run_bot builds the application before any event loop runs; here one already runs, and
    # building creates the HTTP clients' TLS contexts (about 0.1 s), so it happens off the loop.
    app = await asyncio.to_thread(build_application, settings, knowledge,
                                  rate_limiter=rate_limiter, clock=clock)
    async with app:
        await prepare(app)  # post_init/post_shutdown run only under run_polling
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                        allowed_updates=Update.ALL_TYPES)
        try:
            await asyncio.wait_for(app.bot_data[CATCH_UP_DONE_KEY].wait(), timeout=10)
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await cleanup(app)


def database() -> Path | str:
    """Where the bot under test keeps its data: the PostgreSQL URL or the SQLite file."""
    return DATABASE_URL or Path("bot.sqlite3")


def query(sql: str, params: tuple = ()) -> list[tuple]:
    """Rows from the bot's database, in the SQL both engines speak (`?` parameters)."""
    connection = engine_for(database()).connect()
    try:
        return [tuple(row) for row in connection.execute(sql, params).fetchall()]
    finally:
        connection.close()


# /reload builds a new tokenizer (jieba's dictionary) and index: seconds, more on a busy machine.
RELOAD_TIMEOUT = 30.0


async def ask(server: FakeBotApi, text: str, chat_id: int = PRIVATE_CHAT, *,
              timeout: float | None = None, **kwargs):
    """Sends a text message and returns the bot's sendMessage call in reply."""
    mark = server.mark()
    server.push_update(server.text_message(chat_id, text, **kwargs))
    if timeout is None:
        timeout = RELOAD_TIMEOUT if text.startswith("/reload") else 5.0
    (call,) = await server.wait_for("sendMessage", since=mark, timeout=timeout)
    return call
