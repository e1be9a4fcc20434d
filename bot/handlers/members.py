"""Remembers who the bot meets in each chat, so records and rankings can show names."""

from __future__ import annotations

import logging
from dataclasses import asdict

from telegram import Update, User
from telegram.ext import Application, ContextTypes, TypeHandler

from bot import services
from bot.members.store import Sighting
from bot.stores import SIGHTING

log = logging.getLogger(__name__)

# Before every feature's handlers (group 0), and never in their way.
MEMBERS_GROUP = -1


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, remember_sender), group=MEMBERS_GROUP)


async def remember_sender(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Whoever writes in a chat is one of its members. A button press is not proof of that
    (a visitor of a public group can press, a client can forge one): the features remember
    the presses they accept (a check-in, `remember`)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or update.callback_query is not None:
        return
    await remember(context.application, chat.id, user)


async def remember(app: Application, chat_id: int, user: User) -> None:
    """Remembers the user as a member of the chat; a failure is logged, never raised."""
    if user.is_bot:
        return
    sighting = Sighting(chat_id, user.id, user.first_name or "", user.last_name or "",
                        user.username)
    # Queued, not awaited: a busy database must never hold a member's answer.
    services.deferred(app).submit(SIGHTING, asdict(sighting))
