"""What the two benchmarks that run the real bot (bot, push) share: the environment they
report and the logging they keep quiet."""

from __future__ import annotations

import logging
import os
import platform

import telegram

Env = dict[str, str | int | float | None]


def environment() -> Env:
    """The facts a reader needs to compare two runs: versions, cores, load at the start."""
    return {"python": platform.python_version(),
            "python_telegram_bot": telegram.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2)}


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    # The fake server logs a long poll cut short when the updater stops ("Connection lost").
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
