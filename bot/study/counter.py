"""The ✅ 已学习 (n) count under a group's daily push, edited at most every few seconds.

Every member's press changes the count, and Telegram limits how often a bot may edit
messages in a group (about twenty a minute, edits included): a burst of presses becomes one
edit now and one when the interval has passed, showing the count then. A private chat's
push has one reader, and its count is edited at once.
"""

from __future__ import annotations

import contextlib
import logging
import time

from telegram import Message
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot import services
from bot.study.delivery import checkin_keyboard

log = logging.getLogger(__name__)

# At most one edit of a group's counter this often: a few a minute leaves the rest of the
# group's limit to answers, and a count a few seconds behind misleads nobody.
COUNTER_EDIT_INTERVAL_S = 15.0
_LAST_EDIT_KEY = "counter_last_edit"


async def show_count(app: Application, message: Message, push_id: int) -> None:
    """Shows the push's current count on its message, now or once the interval has passed."""
    if message.chat.type == ChatType.PRIVATE:
        await _edit(app, message.chat_id, message.message_id, push_id)
        return
    last_edit: dict[tuple[int, int], float] = app.bot_data.setdefault(_LAST_EDIT_KEY, {})
    now = time.monotonic()
    for key in [k for k, at in last_edit.items() if now - at > COUNTER_EDIT_INTERVAL_S]:
        del last_edit[key]  # forget counters nobody pressed for a while
    key = (message.chat_id, message.message_id)
    if key not in last_edit:
        last_edit[key] = now
        await _edit(app, message.chat_id, message.message_id, push_id)
        if services.stores(app).database.shared:
            # Another instance may edit in between with the count it read before this
            # press: one more edit after the interval shows the count as it ends up.
            _edit_later(app, message, push_id, COUNTER_EDIT_INTERVAL_S)
        return
    _edit_later(app, message, push_id, COUNTER_EDIT_INTERVAL_S - (now - last_edit[key]))


def _edit_later(app: Application, message: Message, push_id: int, wait: float) -> None:
    name = f"counter:{message.chat_id}:{message.message_id}"
    if app.job_queue is not None and not app.job_queue.get_jobs_by_name(name):
        app.job_queue.run_once(_deferred_edit, when=wait, name=name,
                               data=(message.chat_id, message.message_id, push_id))


async def _deferred_edit(context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id, message_id, push_id = context.job.data
    context.application.bot_data.setdefault(_LAST_EDIT_KEY, {})[(chat_id, message_id)] = \
        time.monotonic()
    await _edit(context.application, chat_id, message_id, push_id)


async def _edit(app: Application, chat_id: int, message_id: int, push_id: int) -> None:
    count = await services.study_store(app).checkin_count(push_id)
    try:
        # The same count shown twice (two presses at once) is "message is not modified".
        with contextlib.suppress(BadRequest):
            await app.bot.edit_message_reply_markup(chat_id, message_id,
                                                    reply_markup=checkin_keyboard(push_id, count))
    except TelegramError as error:  # the check-in is stored; only its display lags
        log.warning("counter of push %s not updated: %s", push_id, error)
