"""The error handler: log the failure with its update id first, then tell the user briefly."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.storage import OperationalError

log = logging.getLogger(__name__)


def register(app: Application) -> None:
    app.add_error_handler(on_error)


def failure_text(error: BaseException | None) -> str:
    """What the user is told: the database's refusal by its cause, anything else briefly."""
    if isinstance(error, OperationalError):
        reason = str(error).lower()
        if "full" in reason:
            return texts.DATABASE_FULL
        if "locked" in reason or "busy" in reason:
            return texts.DATABASE_BUSY
        if "disk i/o" in reason:  # a write the file system refused (a quota, a bad disk)
            return texts.DATABASE_DISK_ERROR
    return texts.ANSWER_FAILED


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_message is None:
        return
    text = failure_text(context.error)
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(text, show_alert=text != texts.ANSWER_FAILED)
        return
    try:
        await update.effective_message.reply_text(text)
    except TelegramError as error:
        log.warning("could not tell the user about the failure: %s", error)
