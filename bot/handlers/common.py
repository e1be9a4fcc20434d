"""What every Telegram feature module shares: access to the knowledge and safe sending."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ContextTypes, filters

from bot import services
from bot.core.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

# SQLite's largest integer: an id past it names nothing (and would overflow a query).
MAX_STORED_ID = 2**63 - 1


def command(names: str | list[str], callback) -> CommandHandler:
    """A command handler for new messages only: an edited "/push" must not push again."""
    return CommandHandler(names, callback, filters=filters.UpdateType.MESSAGE)


def editable_message(query: CallbackQuery) -> Message | None:
    """The message under a pressed button, or None if Telegram no longer lets us edit it."""
    return query.message if isinstance(query.message, Message) else None


def knowledge_of(context: ContextTypes.DEFAULT_TYPE) -> KnowledgeBase:
    return services.knowledge(context.application)


async def soft_call(what: str, call: Awaitable[Any]) -> Any:
    """Awaits a nice-to-have API call; a failure is one warning line, never a broken flow."""
    try:
        return await call
    except TelegramError as error:
        log.warning("%s failed: %s", what, error)
        return None


async def answer_query(query: CallbackQuery, text: str | None = None,
                       show_alert: bool = False) -> None:
    """Answers a pressed button (its spinner stops, its note shows); a failure is a warning.

    A press the bot handles late (queued while it restarted, a busy loop) is refused as "query
    is too old", and an answer can time out: what the press changes must not depend on it."""
    await soft_call("answerCallbackQuery", query.answer(text, show_alert=show_alert))


async def reply_chunks(message: Message, chunks: list[str],
                       keyboard: InlineKeyboardMarkup | None = None) -> Message | None:
    """Sends the chunks as replies; the keyboard goes under the last one. Groups get a quote."""
    quote = message.chat.type != ChatType.PRIVATE
    sent = None
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        sent = await message.reply_html(chunk, do_quote=quote and i == 0,
                                        reply_markup=keyboard if last else None)
    return sent


def stored_id(text: str) -> int | None:
    """The row id a button's data names: ASCII digits within SQLite's range, else None.

    Clients may send any callback data; "²", "-1" or 30 digits name no row."""
    if not text or len(text) > 19 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_STORED_ID else None


def shows_button(query: CallbackQuery) -> bool:
    """Does the pressed message, as Telegram has it (not as the client claims), carry a
    button with this data? Telegram sends the message from its own store; a forged press
    has data no button of that message carries (an old, inaccessible message has none)."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    return markup is not None and any(button.callback_data == query.data
                                      for row in markup.inline_keyboard for button in row)
