"""Caps on costly requests, per chat and per user.

A member pressing 全文 five times gets the pages once; a chat opening lectures faster than
anyone reads them is asked to wait. Pure bookkeeping over a monotonic clock, no Telegram.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Hashable


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    REPEATED = "repeated"  # this user asked for the same thing here a moment ago
    CHAT_BUSY = "chat_busy"  # the chat used its share for now


class RequestBudget:
    """At most one identical request per user and chat every `repeat_s`, and at most
    `per_chat` requests per chat in any `window_s`."""

    def __init__(self, repeat_s: float, per_chat: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self.repeat_s, self.per_chat, self.window_s = repeat_s, per_chat, window_s
        self._clock = clock
        self._last: dict[tuple[int, int, Hashable], float] = {}
        self._chat: dict[int, deque[float]] = {}

    def allow(self, chat_id: int, user_id: int, what: Hashable) -> Verdict:
        now = self._clock()
        self._forget(now)
        key = (chat_id, user_id, what)
        if key in self._last:
            return Verdict.REPEATED
        recent = self._chat.setdefault(chat_id, deque())
        if len(recent) >= self.per_chat:
            return Verdict.CHAT_BUSY
        recent.append(now)
        self._last[key] = now
        return Verdict.ALLOWED

    def forget(self, chat_id: int, user_id: int, what: Hashable) -> None:
        """The request was not carried out (its send failed): it may be made again."""
        self._last.pop((chat_id, user_id, what), None)

    def _forget(self, now: float) -> None:
        for key in [k for k, at in self._last.items() if now - at >= self.repeat_s]:
            del self._last[key]
        for chat_id in list(self._chat):
            recent = self._chat[chat_id]
            while recent and now - recent[0] >= self.window_s:
                recent.popleft()
            if not recent:
                del self._chat[chat_id]
