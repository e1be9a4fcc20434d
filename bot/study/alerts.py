"""Telling admins about a daily push that did not (surely) reach its chat.

A failed or unknown push is reported to the chat's own admins in private (the user of a
private chat; the bot admins, BOT_ADMIN_IDS, when none of them can be reached), naming the
chat and the passage, with a "send now" button. A push refused with 403 (the bot was removed or
blocked) is reported to the bot admins only: the chat's admins cannot act on it from there.
A push is marked reported once one admin got the message; one nobody got is reported again
at the next start-up.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application

from bot import services, texts
from bot.study.rules import passage_number
from bot.study.store import Push, PushState

log = logging.getLogger(__name__)

RESEND_PREFIX = "r:"
# The error recorded for a push refused with 403.
FORBIDDEN = "forbidden"


async def report_pending(app: Application) -> None:
    """At start-up: failed or unknown pushes whose admins were not told yet."""
    for push in await services.study_store(app).unreported_pushes():
        await report(app, push)


async def report(app: Application, push: Push) -> None:
    """Tells the admins about a failed or unknown push; never raises for Telegram errors."""
    text = await _alert_text(app, push)
    keyboard = None if push.error == FORBIDDEN else resend_keyboard(push.push_id)
    told = False
    if push.error != FORBIDDEN:
        told = await _tell(app, await _chat_admins(app, push.chat_id), text, keyboard)
    if not told:
        told = await _tell(app, sorted(services.settings(app).admin_ids), text, keyboard)
    if told:
        await services.study_store(app).mark_reported(push.push_id)
    else:
        log.error("no admin could be told that push %s to chat %s is %s", push.push_id,
                  push.chat_id, push.state)


def resend_keyboard(push_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        texts.BUTTON_SEND_NOW, callback_data=f"{RESEND_PREFIX}{push_id}")]])


async def _tell(app: Application, user_ids: list[int], text: str,
                keyboard: InlineKeyboardMarkup | None) -> bool:
    """Sends to each user in private; True if at least one got it."""
    told = False
    for user_id in user_ids:
        try:
            await app.bot.send_message(user_id, text, reply_markup=keyboard)
            told = True
        except TelegramError as error:  # e.g. an admin who never started the bot: 403
            log.warning("could not tell admin %s about a push: %s", user_id, error)
    return told


async def _chat_admins(app: Application, chat_id: int) -> list[int]:
    """Who manages the chat's plan: a group's human admins (none when Telegram cannot say),
    the user of a private chat."""
    if chat_id > 0:
        return [chat_id]
    try:
        members = await app.bot.get_chat_administrators(chat_id)
    except TelegramError as error:
        log.warning("getChatAdministrators failed for %s: %s", chat_id, error)
        return []
    return [member.user.id for member in members if not member.user.is_bot]


async def _alert_text(app: Application, push: Push) -> str:
    library = services.knowledge(app).library
    passage = library.passage(push.passage_id)
    if passage is None:
        what = push.passage_id
    else:
        number, total = passage_number(library, passage)
        what = texts.PUSH_ALERT_PASSAGE.format(number=number, total=total,
                                               citation=passage.citation)
    chat = await _chat_name(app, push.chat_id)
    if push.error == FORBIDDEN:
        return texts.PUSH_ALERT_FORBIDDEN.format(chat=chat, passage=what)
    if push.state == PushState.UNKNOWN:
        return texts.PUSH_ALERT_UNKNOWN.format(chat=chat, passage=what, day=push.local_date)
    return texts.PUSH_ALERT_FAILED.format(chat=chat, passage=what, day=push.local_date,
                                          error=push.error or "")


async def _chat_name(app: Application, chat_id: int) -> str:
    """「group title」 (id), or the id alone when Telegram no longer shows the chat."""
    try:
        chat = await app.bot.get_chat(chat_id)
    except TelegramError:
        return texts.PUSH_ALERT_CHAT_ID.format(chat_id=chat_id)
    if chat.type == ChatType.PRIVATE:
        name = chat.full_name or chat.username or str(chat_id)
        return texts.PUSH_ALERT_PRIVATE_CHAT.format(name=name, chat_id=chat_id)
    return texts.PUSH_ALERT_GROUP.format(title=chat.title or "", chat_id=chat_id)
