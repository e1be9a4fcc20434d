"""Builds the Telegram Application: settings in, a ready `Application` out.

`build_application` is used by `run_bot` and by the tests, which point it at a local fake Bot
API server through `Settings.api_base_url`. Start-up work that must not block the event loop
(jieba, the index) runs in a worker thread from `post_init`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot import services, texts
from bot.cluster import coordination
from bot.config import Settings
from bot.core.knowledge import KnowledgeBase
from bot.handlers import (
    ask,
    cluster,
    errors,
    lectures,
    members,
    quiz,
    reading,
    records,
    study,
    teach,
)
from bot.handlers.common import soft_call
from bot.isolation.ratelimit import ChatRateLimiter
from bot.isolation.updates import ChatOrderedUpdateProcessor
from bot.records.delivery import restore_reminders
from bot.records.report import quiz_results_of
from bot.stores import Stores, spill_path
from bot.study.delivery import restore_jobs

log = logging.getLogger(__name__)

# How often the database file is checked for having been deleted under the running bot.
DB_WATCH_SECONDS = 60
# The rate limiter retries a request that hit a flood limit this many times before giving up.
RATE_LIMIT_RETRIES = 3


def build_application(settings: Settings, knowledge: KnowledgeBase | None = None,
                      rate_limiter: bool = True,
                      clock: Callable[[], datetime] | None = None) -> Application:
    """The bot with every feature registered; `knowledge` is loaded at start-up if None.

    `clock` (aware datetimes) replaces the wall clock for the daily-study rules in tests.
    """
    # No default parse mode: plain texts (which may hold a user's words or a file's title)
    # are sent as plain text; only the renderers' escaped HTML is sent with ParseMode.HTML.
    builder = (ApplicationBuilder().token(settings.token)
               .defaults(Defaults(tzinfo=ZoneInfo(settings.timezone)))
               .post_init(prepare).post_shutdown(cleanup)
               # Chats are handled side by side, each chat's updates in order.
               .concurrent_updates(ChatOrderedUpdateProcessor()))
    if settings.api_base_url:
        builder = (builder.base_url(f"{settings.api_base_url}/bot")
                   .base_file_url(f"{settings.api_base_url}/file/bot"))
    if rate_limiter:
        builder = builder.rate_limiter(ChatRateLimiter(max_retries=RATE_LIMIT_RETRIES))
    app = builder.build()
    app.bot_data[services.SETTINGS_KEY] = settings
    app.bot_data[services.CLOCK_KEY] = clock
    if knowledge is not None:
        app.bot_data[services.KNOWLEDGE_KEY] = knowledge
    # Order matters: uploads before the media hint, every command before ask's catch-all.
    for feature in (cluster, members, reading, study, quiz, records, teach, lectures, ask,
                    errors):
        feature.register(app)
    return app


async def prepare(app: Application) -> None:
    """Start-up: database, knowledge (off the event loop), jobs, command menu."""
    stores = app.bot_data[services.STORES_KEY] = await Stores.open(
        services.settings(app).database, replay_pending=True,
        spill=spill_path(services.settings(app).db_path))
    # On a shared database: the scheduler lease, before any job is restored, and the change
    # counters, read before the knowledge so a lecture published meanwhile is not missed.
    await coordination.start(app)
    if services.KNOWLEDGE_KEY not in app.bot_data:
        settings: Settings = app.bot_data[services.SETTINGS_KEY]
        app.bot_data[services.KNOWLEDGE_KEY] = await asyncio.to_thread(KnowledgeBase.load,
                                                              settings.knowledge_dir)
    knowledge: KnowledgeBase = app.bot_data[services.KNOWLEDGE_KEY]
    # jieba's dictionary, its parts of speech, the index and the learned trees live as long
    # as the process: out of the collector's reach, a full collection no longer walks their
    # millions of objects (a 0.1-0.2 s pause between two updates).
    gc.freeze()
    for failure in knowledge.library.failures:
        log.warning("lecture file not loaded: %s", failure)
    log.info("loaded %d lectures, %d passages", len(knowledge.library.lectures),
             len(knowledge.library.passages))
    # The records show 每日一题's daily counts; each feature keeps to its own tables.
    app.bot_data[services.QUIZ_RESULTS_KEY] = quiz_results_of(stores.quiz.daily_results)
    if app.job_queue is not None:
        app.job_queue.run_repeating(watch_database, interval=DB_WATCH_SECONDS,
                                    first=DB_WATCH_SECONDS, name="db-watch")
    await teach.prepare(app)
    with coordination.quietly():  # restored from the database: nothing new to announce
        await restore_jobs(app)
        await quiz.prepare(app)
        await restore_reminders(app)
    lectures.install_reload_signal(app)
    await register_command_menus(app)
    await soft_call("setMyDescription", app.bot.set_my_description(texts.BOT_DESCRIPTION))
    await soft_call("setMyShortDescription",
                    app.bot.set_my_short_description(texts.BOT_SHORT_DESCRIPTION))


async def watch_database(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The database file deleted or replaced under the running bot: every write from then on
    goes to a file nobody will open again. Said loudly, each check, until someone acts."""
    stores = context.application.bot_data.get(services.STORES_KEY)
    if stores is not None and await asyncio.to_thread(stores.database.file_gone):
        log.critical("DATABASE FILE %s WAS DELETED OR REPLACED while the bot runs: what it "
                     "records now is lost when it stops. Restore it from a backup and restart.",
                     stores.database.path)


async def register_command_menus(app: Application) -> None:
    """Each kind of user sees the commands they may use (Telegram picks the closest scope)."""
    settings: Settings = app.bot_data[services.SETTINGS_KEY]
    managing = texts.MEMBER_COMMANDS + texts.CHAT_ADMIN_COMMANDS
    menus = [(texts.MEMBER_COMMANDS, BotCommandScopeDefault()),
             (managing, BotCommandScopeAllPrivateChats()),
             (managing + texts.TEACH_CHAT_ADMIN_COMMANDS,
              BotCommandScopeAllChatAdministrators())]
    menus += [(texts.all_commands(), BotCommandScopeChat(admin_id))
              for admin_id in sorted(settings.admin_ids)]
    for commands, scope in menus:
        await soft_call("setMyCommands", app.bot.set_my_commands(
            [BotCommand(name, description) for name, description in commands], scope=scope))


async def cleanup(app: Application) -> None:
    """Shutdown: close the database (every write was already committed), end the parser."""
    await asyncio.to_thread(lectures.close_parse_worker, app)
    if services.STORES_KEY in app.bot_data:
        await coordination.stop(app)
    stores = app.bot_data.pop(services.STORES_KEY, None)
    if stores is not None:
        await stores.close()


def run_bot(env: Mapping[str, str]) -> int:
    """Runs the bot until interrupted: long polling, or a webhook when WEBHOOK_URL is set."""
    settings = Settings.from_env(env)
    # A missing (after it existed), read-only or damaged database stops the bot here, with
    # one line (DatabaseUnusable), before it starts polling.
    asyncio.run(_probe_database(settings.database))
    app = build_application(settings)
    if settings.webhook_url:
        app.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port,
                        url_path=_webhook_path(settings.webhook_url),
                        webhook_url=settings.webhook_url, secret_token=settings.webhook_secret,
                        allowed_updates=Update.ALL_TYPES)
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def _probe_database(path) -> None:
    stores = await Stores.open(path)
    await stores.close()


def _webhook_path(webhook_url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(webhook_url).path.lstrip("/")
