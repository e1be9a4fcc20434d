"""Managing lectures from the chat: upload → preview → 发布/取消, /lectures, /retire, /reload.

Lectures are shared by every chat, so only global admins (BOT_ADMIN_IDS) manage them. The
index is rebuilt in a worker thread and swapped in with one assignment: questions asked
meanwhile are answered from the old index. SIGHUP reloads the folder like /reload.

The preview runs the lecture's question links as a regression set (bot.teach.regression):
with failures, 发布 asks for an explicit confirmation. After a rebuild, links follow their
edited paragraphs in the questions files (bot.teach.linkfile.reconcile_all).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures.process import BrokenProcessPool

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import services, texts
from bot.cluster import coordination
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import LectureError
from bot.core.links import links_path
from bot.core.render import MAX_MESSAGE_LENGTH
from bot.handlers.common import answer_query, command, knowledge_of, soft_call
from bot.handlers.permissions import (
    refuse_unless_global_admin,
    refuse_unless_pressed_in_private,
)
from bot.publishing import files as publishing
from bot.publishing.files import LectureIdTaken, UploadError
from bot.publishing.worker import ParseWorker
from bot.study.delivery import lecture_retired
from bot.study.rules import find_lecture
from bot.teach import linkfile, regression

log = logging.getLogger(__name__)

PUBLISH_PREFIX, CANCEL_PREFIX, CONFIRM_PREFIX = "u:p:", "u:c:", "u:f:"
_REBUILD_LOCK_KEY = "rebuild_lock"
_PARSE_WORKER_KEY = "parse_worker"


def register(app: Application) -> None:
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL
                                   & filters.UpdateType.MESSAGE, upload))
    app.add_handler(CallbackQueryHandler(publish, pattern=f"^{PUBLISH_PREFIX}"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=f"^{CANCEL_PREFIX}"))
    app.add_handler(CallbackQueryHandler(confirm_publish, pattern=f"^{CONFIRM_PREFIX}"))
    app.add_handler(command("lectures", list_lectures))
    app.add_handler(command("retire", retire))
    app.add_handler(command("reload", reload_command))
    coordination.on_change(app, coordination.LECTURES, _follow_lectures)


async def _follow_lectures(app: Application) -> None:
    """Another instance published, retired or reloaded lectures in the shared folder."""
    await rebuild(app, reload_lexicon=True)

def install_reload_signal(app: Application) -> None:
    """SIGHUP reloads the knowledge folder, as /reload does (where signals exist)."""
    try:
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: app.create_task(rebuild(app, reload_lexicon=True)))
    except (AttributeError, NotImplementedError, RuntimeError, ValueError):
        log.info("SIGHUP reload is not available here; use /reload")


def close_parse_worker(app: Application) -> None:
    """At shutdown: the upload parser's process ends with the bot."""
    worker: ParseWorker | None = app.bot_data.pop(_PARSE_WORKER_KEY, None)
    if worker is not None:
        worker.close()


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    document = message.document
    if not await refuse_unless_global_admin(update, context):
        return
    try:
        publishing.check_upload(document.file_name or "", document.file_size)
    except UploadError as error:
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=error))
        return
    # Updates are handled one at a time: downloading and parsing run as a task, so members'
    # questions are answered meanwhile.
    context.application.create_task(_preview_upload(context.application, message),
                                    update=update)


async def _preview_upload(app: Application, message: Message) -> None:
    document = message.document
    knowledge: KnowledgeBase = app.bot_data[services.KNOWLEDGE_KEY]
    worker: ParseWorker = app.bot_data.setdefault(_PARSE_WORKER_KEY, ParseWorker())
    try:
        file = await app.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
        # The worker returns the preview's text, not the parsed lecture: a 20,000-paragraph
        # lecture takes longer to unpickle here than its text to build there.
        staged = await worker.run(publishing.stage_for_preview, knowledge.folder,
                                  document.file_name or "", data,
                                  publishing.existing_titles(knowledge.library))
    except UploadError as error:
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=error))
        return
    except BrokenProcessPool:
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.UPLOAD_PARSE_FAILED))
        return
    except OSError as error:  # the staging folder could not take it (a full disk, …)
        log.error("upload %s not staged: %s", document.file_name, error)
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.UPLOAD_SAVE_FAILED))
        return
    except TelegramError as error:
        log.warning("could not download %s: %s", document.file_name, error)
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.UPLOAD_DOWNLOAD_FAILED))
        return
    check = await _regression_check(knowledge, staged.token)
    # Publishing a version that breaks links takes a second, explicit yes.
    publish_data = PUBLISH_PREFIX + staged.token
    if check is not None and check.failures:
        publish_data = f"{CONFIRM_PREFIX}{staged.token}:{len(check.failures)}"
    text = staged.text
    extra = regression.preview_lines(check)
    if extra:
        body = text.removesuffix(texts.UPLOAD_ASK).rstrip()
        text = "\n\n".join([body, *extra, texts.UPLOAD_ASK])[:MAX_MESSAGE_LENGTH]
    await message.reply_text(text, reply_markup=_publish_keyboard(texts.BUTTON_PUBLISH,
                                                                  publish_data, staged.token))


async def _regression_check(knowledge: KnowledgeBase, token: str):
    """The staged lecture's question links run against it; None without a questions file.

    The lecture is parsed again here, in a thread, only when it has links: parsing holds the
    GIL, and most uploads have none, so the worker process keeps the common case free."""
    def check():
        lecture = publishing.staged_lecture(knowledge.folder, token)
        if lecture is None or not links_path(knowledge.folder, lecture.lecture_id).is_file():
            return None
        return regression.preview_check(knowledge, lecture)
    return await asyncio.to_thread(check)


def _publish_keyboard(label: str, publish_data: str, token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(label, callback_data=publish_data),
        InlineKeyboardButton(texts.BUTTON_CANCEL, callback_data=CANCEL_PREFIX + token),
    ]])


async def publish(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context) \
            or not await refuse_unless_pressed_in_private(update):
        return
    query = update.callback_query
    folder = knowledge_of(context).folder
    try:
        path = await asyncio.to_thread(publishing.publish, folder,
                                       query.data.removeprefix(PUBLISH_PREFIX))
    except LectureIdTaken as error:  # another preview of the same lecture won: say why here
        await query.answer()
        await query.edit_message_text(str(error))
        return
    except UploadError as error:
        await query.answer(str(error), show_alert=True)
        return
    # The file is in the folder now: the rebuild follows whatever Telegram answers, or the
    # lecture would sit there unanswered from, its preview saying the upload expired.
    await answer_query(query)
    await soft_call("editMessageText",
                    query.edit_message_text(texts.PUBLISHING.format(title=path.name)))
    # Updates are handled one at a time: the rebuild runs as a task, so questions asked
    # meanwhile are answered (from the old index) instead of waiting for it.
    context.application.create_task(_announce_when_rebuilt(context.application, query, path),
                                     update=update)


async def confirm_publish(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The preview's regression run failed: 发布 asks once more before publishing."""
    if not await refuse_unless_global_admin(update, context) \
            or not await refuse_unless_pressed_in_private(update):
        return
    query = update.callback_query
    token, _, failed = query.data.removeprefix(CONFIRM_PREFIX).partition(":")
    await query.answer()
    await query.edit_message_text(
        texts.PREVIEW_CONFIRM.format(failed=failed or "?"),
        reply_markup=_publish_keyboard(texts.BUTTON_PUBLISH_ANYWAY, PUBLISH_PREFIX + token,
                                       token))


async def _announce_when_rebuilt(app: Application, query, path) -> None:
    knowledge, broken = await rebuild(app)
    lecture = next((lec for lec in knowledge.library.lectures if lec.path == path), None)
    if broken or lecture is None:
        text = texts.RELOAD_FAILED.format(failures=_failure_lines(broken))
    else:
        text = texts.PUBLISHED.format(title=lecture.title, count=len(lecture.passages))
        log.info("lecture %s published by admin %s: %d passages", lecture.lecture_id,
                 query.from_user.id, len(lecture.passages))
    await query.edit_message_text(text)


def _failure_lines(failures) -> str:
    return "\n".join(texts.RELOAD_FAILURE_ITEM.format(file=f.path.name, reason=f.reason)
                     for f in failures)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context) \
            or not await refuse_unless_pressed_in_private(update):
        return
    query = update.callback_query
    await asyncio.to_thread(publishing.discard, knowledge_of(context).folder,
                            query.data.removeprefix(CANCEL_PREFIX))
    await query.answer()
    await query.edit_message_text(texts.UPLOAD_CANCELLED)


async def rebuild(app: Application, reload_lexicon: bool = False
                  ) -> tuple[KnowledgeBase, list[LectureError]]:
    """Builds a new index off the event loop and swaps it in; one rebuild at a time.

    If a file that loaded before now fails, the previous index stays in service: returns the
    knowledge in service and the files that newly failed.
    """
    lock: asyncio.Lock = app.bot_data.setdefault(_REBUILD_LOCK_KEY, asyncio.Lock())
    async with lock:
        current: KnowledgeBase = app.bot_data[services.KNOWLEDGE_KEY]
        fresh = await asyncio.to_thread(current.reload, reload_lexicon)
        before = {f.path.name for f in current.library.failures}
        broken = [f for f in fresh.library.failures if f.path.name not in before]
        if broken:
            log.error("reload kept the previous index; broken: %s", broken)
            return current, broken
        fresh = await links_follow_edits(fresh, current)
        app.bot_data[services.KNOWLEDGE_KEY] = fresh
        log.info("index rebuilt: %d lectures, %d passages", len(fresh.library.lectures),
                 len(fresh.library.passages))
    # Other instances (a shared database and knowledge folder) load the change too.
    await coordination.announce(app, coordination.LECTURES)
    return fresh, []


async def links_follow_edits(fresh: KnowledgeBase,
                             previous: KnowledgeBase | None) -> KnowledgeBase:
    """Questions files follow their lectures' edits (moved refs rewritten, orphans commented
    out, anchors recorded); returns the knowledge with its links re-read if a file changed."""
    try:
        rewritten = await asyncio.to_thread(linkfile.reconcile_all, fresh, previous)
    except (OSError, linkfile.LinksFileError) as error:
        log.error("questions files not updated after loading the lectures: %s", error)
        return fresh
    for found in rewritten:
        log.info("questions file %s: %d links moved, %d orphaned", found.path.name,
                 len(found.moved), len(found.orphans))
    knowledge = await asyncio.to_thread(fresh.reload_links) if rewritten else fresh
    for found in knowledge.links.lectures:
        for problem in found.problems:  # the admin sees them with lecture-bot check
            log.warning("questions file %s, line %d not used: %s", found.path.name,
                        problem.line_no, problem.reason)
    return knowledge


async def refresh_links(app: Application) -> KnowledgeBase:
    """Re-reads the questions files and swaps in new links, keeping the index; waits for a
    rebuild in progress, which would otherwise swap in links read before the change."""
    lock: asyncio.Lock = app.bot_data.setdefault(_REBUILD_LOCK_KEY, asyncio.Lock())
    async with lock:
        current: KnowledgeBase = app.bot_data[services.KNOWLEDGE_KEY]
        fresh = await asyncio.to_thread(current.reload_links)
        app.bot_data[services.KNOWLEDGE_KEY] = fresh
    await coordination.announce(app, coordination.LINKS)
    return fresh


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context):
        return
    context.application.create_task(_reload_and_report(update, context), update=update)


async def _reload_and_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    after, broken = await rebuild(context.application, reload_lexicon=True)
    if broken:
        await update.effective_message.reply_text(
            texts.RELOAD_FAILED.format(failures=_failure_lines(broken)))
        return
    await update.effective_message.reply_text(texts.RELOADED.format(
        lectures=len(after.library.lectures), passages=len(after.library.passages)))


async def list_lectures(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    library = knowledge_of(context).library
    if not library.lectures:
        await update.effective_message.reply_text(texts.NO_LECTURES)
        return
    lines = [texts.LECTURE_LIST_TITLE] + [
        texts.LECTURE_LIST_ITEM.format(title=lec.title, count=len(lec.passages),
                                       file=lec.path.name) for lec in library.lectures]
    await update.effective_message.reply_text("\n".join(lines))


async def retire(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context):
        return
    name = " ".join(context.args or []).strip()
    found = find_lecture(knowledge_of(context).library, name) if name else None
    if found is None or isinstance(found, list):
        await update.effective_message.reply_text(texts.RETIRE_USAGE)
        return
    moved = await asyncio.to_thread(publishing.retire, knowledge_of(context).folder, found)
    log.info("lecture %s retired by admin %s: %s", found.lecture_id,
             update.effective_user.id if update.effective_user else None,
             ", ".join(path.name for path in moved))
    reply = texts.RETIRED.format(title=found.title,
                                 files="、".join(path.name for path in moved))
    context.application.create_task(_retire_then_reply(context.application, update,
                                                       found.lecture_id, reply), update=update)


async def _retire_then_reply(app: Application, update: Update, lecture_id: str,
                             reply: str) -> None:
    """Once the index no longer holds the lecture: the chats whose plan used it are told
    (with the lectures left to choose from), then the admin who retired it."""
    await rebuild(app)
    told = await lecture_retired(app, lecture_id)
    if told:
        reply += "\n" + texts.RETIRED_PLANS.format(count=len(told))
    await update.effective_message.reply_text(reply)
