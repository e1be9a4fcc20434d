"""Who may manage a chat's study: global admins, a group's own admins, anyone in private.

Group admins come from Telegram (getChatAdministrators), cached for a few minutes; a user the
cache does not list is looked up again before being refused, so a newly promoted admin is
never turned away.
"""

from __future__ import annotations

import logging
import time

from telegram import ChatMemberRestricted, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import services, texts

log = logging.getLogger(__name__)

ADMIN_CACHE_KEY = "admin_cache"
# Long enough that a busy group does not ask Telegram on every command; a user the cache
# does not list is asked about again anyway, so a newly promoted admin never waits for it.
ADMIN_CACHE_SECONDS = 300
# Members seen pressing ✅, remembered as long as admins: one getChatMember per member and
# few minutes, not per press. Forgotten all at once past this many (a few busy groups' worth).
MEMBER_CACHE_KEY = "member_cache"
MAX_CACHED_MEMBERS = 20_000


async def may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    if is_bot_admin(context, user.id):
        return True
    if chat.type == ChatType.PRIVATE:
        return True
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return False
    message = update.effective_message
    if message is not None and message.sender_chat is not None \
            and message.sender_chat.id == chat.id:
        return True  # an admin posting anonymously, as the group itself
    return await is_group_admin(context, chat.id, user.id)


def is_bot_admin(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    return user_id in services.settings(context.application).admin_ids


async def is_group_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    """Is the user one of the group's Telegram admins (asked again if the cache says no)?"""
    cache: dict[int, tuple[float, frozenset[int]]] = \
        context.application.bot_data.setdefault(ADMIN_CACHE_KEY, {})
    cached = cache.get(chat_id)
    if cached and time.monotonic() < cached[0] and user_id in cached[1]:
        return True
    admins = await _chat_admins(context, chat_id)
    cache[chat_id] = (time.monotonic() + ADMIN_CACHE_SECONDS, admins)
    return user_id in admins


async def may_manage_chat(context: ContextTypes.DEFAULT_TYPE, user_id: int,
                          chat_id: int) -> bool:
    """May this user manage that chat's study from elsewhere (a button in a private chat)?
    Global admins, the user of a private chat, and the group's current admins may."""
    if user_id in services.settings(context.application).admin_ids or user_id == chat_id:
        return True
    return chat_id < 0 and user_id in await _chat_admins(context, chat_id)


async def may_study_in(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    """May this user study (check in) in that chat: the user of a private chat, a group's
    member. Members are asked of Telegram (a press on a public group's message may come
    from a visitor); when Telegram cannot say, the press is let through: the button was
    already found on the push's own message in that chat."""
    if chat_id > 0:
        return user_id == chat_id
    cache: dict[tuple[int, int], float] = \
        context.application.bot_data.setdefault(MEMBER_CACHE_KEY, {})
    if cache.get((chat_id, user_id), 0.0) > time.monotonic():
        return True
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:
        log.warning("getChatMember failed for %s in %s: %s", user_id, chat_id, error)
        return True
    is_member = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR,
                                  ChatMemberStatus.MEMBER) \
        or (isinstance(member, ChatMemberRestricted) and member.is_member)
    if is_member:
        if len(cache) > MAX_CACHED_MEMBERS:
            cache.clear()
        cache[(chat_id, user_id)] = time.monotonic() + ADMIN_CACHE_SECONDS
    return is_member


async def _chat_admins(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> frozenset[int]:
    try:
        members = await context.bot.get_chat_administrators(chat_id)
    except TelegramError as error:
        log.warning("getChatAdministrators failed for %s: %s", chat_id, error)
        return frozenset()
    return frozenset(member.user.id for member in members)


async def refuse_unless_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the user may manage the chat; otherwise refuses politely."""
    if await may_manage(update, context):
        return True
    await refuse(update, texts.NOT_ALLOWED)
    return False


async def refuse_unless_global_admin(update: Update,
                                     context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for BOT_ADMIN_IDS (who manage what every chat shares); otherwise refuses."""
    user = update.effective_user
    if user is not None and is_bot_admin(context, user.id):
        return True
    await refuse(update, texts.ONLY_GLOBAL_ADMINS)
    return False


def pressed_in_private(update: Update) -> bool:
    """Was the button pressed in the presser's own private chat (where the bot sent it)?"""
    query = update.callback_query
    return query is not None and query.message is not None \
        and query.message.chat.id == query.from_user.id


async def refuse_unless_pressed_in_private(update: Update) -> bool:
    """True for a button in the presser's private chat; otherwise refuses briefly."""
    if pressed_in_private(update):
        return True
    await refuse(update, texts.BUTTON_NOT_HERE)
    return False


async def refuse(update: Update, text: str) -> None:
    """Answers the button with an alert, or replies to the message."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
