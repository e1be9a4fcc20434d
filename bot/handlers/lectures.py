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

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import services, texts
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import LectureError
from bot.core.render import numeral
from bot.handlers.common import command, knowledge_of
from bot.handlers.permissions import refuse_unless_global_admin
from bot.publishing import files as publishing
from bot.publishing.files import Preview, UploadError
from bot.study.rules import find_lecture
from bot.teach import linkfile, regression

log = logging.getLogger(__name__)

PUBLISH_PREFIX, CANCEL_PREFIX, CONFIRM_PREFIX = "u:p:", "u:c:", "u:f:"
_REBUILD_LOCK_KEY = "rebuild_lock"


def register(app: Application) -> None:
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL
                                   & filters.UpdateType.MESSAGE, upload))
    app.add_handler(CallbackQueryHandler(publish, pattern=f"^{PUBLISH_PREFIX}"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=f"^{CANCEL_PREFIX}"))
    app.add_handler(CallbackQueryHandler(confirm_publish, pattern=f"^{CONFIRM_PREFIX}"))
    app.add_handler(command("lectures", list_lectures))
    app.add_handler(command("retire", retire))
    app.add_handler(command("reload", reload_command))


def install_reload_signal(app: Application) -> None:
    """SIGHUP reloads the knowledge folder, as /reload does (where signals exist)."""
    try:
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: app.create_task(rebuild(app, reload_lexicon=True)))
    except (AttributeError, NotImplementedError, RuntimeError, ValueError):
        log.info("SIGHUP reload is not available here; use /reload")


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    document = message.document
    if not await refuse_unless_global_admin(update, context):
        return
    knowledge = knowledge_of(context)
    try:
        publishing.check_upload(document.file_name or "", document.file_size)
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
        preview = await asyncio.to_thread(publishing.stage, knowledge.folder,
                                          document.file_name or "", data, knowledge.library)
        check = await asyncio.to_thread(regression.preview_check, knowledge, preview.lecture)
    except UploadError as error:
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=error))
        return
    except TelegramError as error:
        log.warning("could not download %s: %s", document.file_name, error)
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.UPLOAD_DOWNLOAD_FAILED))
        return
    # Publishing a version that breaks links takes a second, explicit yes.
    publish = PUBLISH_PREFIX + preview.token
    if check is not None and check.failures:
        publish = f"{CONFIRM_PREFIX}{preview.token}:{len(check.failures)}"
    await message.reply_text(preview_text(preview, regression.preview_lines(check)),
                             reply_markup=_publish_keyboard(texts.BUTTON_PUBLISH, publish,
                                                            preview.token))


def _publish_keyboard(label: str, publish_data: str, token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(label, callback_data=publish_data),
        InlineKeyboardButton(texts.BUTTON_CANCEL, callback_data=CANCEL_PREFIX + token),
    ]])


def preview_text(preview: Preview, extra: list[str] | None = None) -> str:
    lecture = preview.lecture
    sections = "\n".join(f"· {s.label}({len(s.passages)}段)" for s in lecture.sections)
    parts = [texts.UPLOAD_PREVIEW.format(
        title=lecture.title, file=preview.file_name,
        replaces=texts.UPLOAD_REPLACES if preview.replaces else "",
        count=len(lecture.passages), sections=sections)]
    if lecture.gaps:
        parts.append(texts.UPLOAD_GAPS.format(gaps="\n".join(
            texts.UPLOAD_GAP_ITEM.format(
                where="".join(f"第{numeral(n)}部分" for n in gap.missing_section_nos),
                chars=gap.chars or "?")
            for gap in lecture.gaps)))
    if preview.warnings:
        parts.append(texts.UPLOAD_WARNINGS.format(
            warnings="\n".join(f"· {w}" for w in preview.warnings)))
    parts += extra or []
    parts.append(texts.UPLOAD_ASK)
    return "\n\n".join(parts)


async def publish(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context):
        return
    query = update.callback_query
    folder = knowledge_of(context).folder
    try:
        path = await asyncio.to_thread(publishing.publish, folder,
                                       query.data.removeprefix(PUBLISH_PREFIX))
    except UploadError as error:
        await query.answer(str(error), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(texts.PUBLISHING.format(title=path.name))
    # Updates are handled one at a time: the rebuild runs as a task, so questions asked
    # meanwhile are answered (from the old index) instead of waiting for it.
    context.application.create_task(_announce_when_rebuilt(context.application, query, path),
                                     update=update)


async def confirm_publish(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The preview's regression run failed: 发布 asks once more before publishing."""
    if not await refuse_unless_global_admin(update, context):
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
    await query.edit_message_text(text)


def _failure_lines(failures) -> str:
    return "\n".join(texts.RELOAD_FAILURE_ITEM.format(file=f.path.name, reason=f.reason)
                     for f in failures)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context):
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
    await asyncio.to_thread(publishing.retire, knowledge_of(context).folder, found)
    context.application.create_task(_rebuild_then_reply(
        context.application, update, texts.RETIRED.format(title=found.title)), update=update)


async def _rebuild_then_reply(app: Application, update: Update, reply: str) -> None:
    await rebuild(app)
    await update.effective_message.reply_text(reply)
