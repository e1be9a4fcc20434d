"""`lecture-bot export`: the workbook /export sends, written from the database alone."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from bot.core.lectures import Library
from bot.records.report import month_record, quiz_results_of
from bot.records.workbook import workbook_bytes
from bot.stores import Stores


class UnknownChat(LookupError):
    """The database holds nothing of this chat: a typo, not an empty month."""


async def chat_known(stores: Stores, chat_id: int) -> bool:
    """Has the bot met this chat: a member, its title, a plan or a roster?"""
    return bool(await stores.members.members(chat_id) or await stores.records.group(chat_id)
                or await stores.study.plan(chat_id) or await stores.records.roster(chat_id))


async def export_month(database: Path | str, library: Library, chat_id: int, month: date,
                       timezone: str) -> bytes:
    """The group's workbook for the month, from the database (a SQLite file or a PostgreSQL
    URL), with the quiz's counts as the bot has them."""
    stores = await Stores.open(database)
    try:
        if not await chat_known(stores, chat_id):
            raise UnknownChat(chat_id)
        record = await month_record(stores, library, chat_id, month, timezone,
                                    quiz_results_of(stores.quiz.daily_results))
    finally:
        await stores.close()
    return await asyncio.to_thread(workbook_bytes, record)
