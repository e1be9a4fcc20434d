"""`lecture-bot export`: the workbook /export sends, written from the database alone."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from bot.core.lectures import Library
from bot.records.report import month_record, quiz_results_of
from bot.records.workbook import workbook_bytes
from bot.stores import Stores


async def export_month(db_path: Path, library: Library, chat_id: int, month: date,
                       timezone: str) -> bytes:
    """The group's workbook for the month, from the database at `db_path` (with the quiz's
    counts, as the bot has them)."""
    stores = await Stores.open(db_path)
    try:
        record = await month_record(stores, library, chat_id, month, timezone,
                                    quiz_results_of(stores.quiz.daily_results))
    finally:
        await stores.close()
    return await asyncio.to_thread(workbook_bytes, record)
