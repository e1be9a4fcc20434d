"""Several instances behind one webhook: an update Telegram sent again (its first delivery
was not acknowledged in time) and the proxy gave to another instance is handled once."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.cluster import coordination

log = logging.getLogger(__name__)

# Before every other group: a repeat reaches no feature.
REPEATS_GROUP = -100


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, drop_repeats), group=REPEATS_GROUP)


async def drop_repeats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await coordination.first_sighting(context.application, update.update_id):
        log.info("update %s was already taken on by another instance", update.update_id)
        raise ApplicationHandlerStop
