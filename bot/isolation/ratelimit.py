"""PTB's AIORateLimiter, with Telegram's flood waits kept to the chat they were imposed on.

AIORateLimiter keeps Telegram's overall and per-group rates, and on a 429 it waits
`retry_after` and retries: but while it waits it holds every request of the bot, so a flood
wait in one chat silenced all chats. Here the wait pauses only requests to that chat (a 429 on
a request that names no chat, as answerCallbackQuery, pauses that request alone); the rates
are PTB's, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

# Telegram's retry_after is a whole number of seconds; waiting a little longer avoids a second
# 429 from a request that arrives on the boundary (PTB's own margin).
RETRY_MARGIN_S = 0.1


def _chat_of(data: dict[str, Any] | None) -> int | str | None:
    chat_id = (data or {}).get("chat_id")
    try:
        return int(chat_id) if chat_id is not None else None
    except (TypeError, ValueError):
        return str(chat_id)  # a channel's @username


def _group_of(chat: int | str | None) -> int | str | bool:
    """The chat, if PTB's per-group rate applies to it (groups, channels), else False."""
    if isinstance(chat, str) or (isinstance(chat, int) and chat < 0):
        return chat
    return False


class ChatRateLimiter(AIORateLimiter):
    """Telegram's rates as AIORateLimiter keeps them; flood waits per chat."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Chat id -> loop time until which no request to it may be made.
        self._paused_until: dict[int | str, float] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        max_retries = rate_limit_args or self._max_retries
        chat = _chat_of(data)
        loop = asyncio.get_running_loop()
        for attempt in range(max_retries + 1):
            wait = (self._paused_until.get(chat, 0.0) if chat is not None else 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                # PTB's overall and per-group rates; its bot-wide pause is never set here.
                return await self._run_request(
                    chat=chat is not None, group=_group_of(chat),
                    allow_paid_broadcast=bool(data.get("allow_paid_broadcast", False)),
                    callback=callback, args=args, kwargs=kwargs)
            except RetryAfter as exc:
                if attempt == max_retries:
                    log.error("%s to chat %s: flood limit after %d retries", endpoint, chat,
                              max_retries)
                    raise
                seconds = exc._retry_after.total_seconds() + RETRY_MARGIN_S  # as PTB reads it
                log.info("%s to chat %s: flood limit, retrying in %.1f s", endpoint, chat,
                         seconds)
                if chat is None:  # nothing to share the wait with: this request waits alone
                    await asyncio.sleep(seconds)
                    continue
                until = loop.time() + seconds
                self._paused_until[chat] = max(self._paused_until.get(chat, 0.0), until)
            finally:
                self._forget_past_pauses(loop.time())
        raise AssertionError("unreachable")  # the last attempt returned or raised

    def _forget_past_pauses(self, now: float) -> None:
        for chat in [c for c, until in self._paused_until.items() if until <= now]:
            del self._paused_until[chat]
