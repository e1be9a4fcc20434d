"""Remembers who the bot meets in each chat, so records and rankings can show names."""

from __future__ import annotations

import logging
from dataclasses import asdict

from telegram import Update
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
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return
    sighting = Sighting(chat.id, user.id, user.first_name or "", user.last_name or "",
                        user.username)
    # Queued, not awaited: a busy database must never hold a member's answer.
    services.deferred(context.application).submit(SIGHTING, asdict(sighting))
