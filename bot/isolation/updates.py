"""Concurrent updates, in order within each chat: PTB's update processor, keyed by chat.

PTB's `concurrent_updates` alone would let two presses in one chat race each other (a check-in
counted twice, an answer edited out of order). Here each chat's updates wait for the one before
them, while another chat's run at once: a slow request, a flood wait or a long reply in one
chat never holds another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates handled at once across all chats. Each waits mostly on the network; a few hundred
# would still be cheap, this bounds memory when thousands of chats write in the same second.
MAX_CONCURRENT_UPDATES = 64


def order_key(update: object) -> Hashable | None:
    """What an update must stay in order with: its chat; else its user (inline queries, poll
    answers); else its poll. None: nothing (it runs at once)."""
    if not isinstance(update, Update):
        return None
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id:
        # A group becoming a supergroup: in order with the supergroup's own updates, so
        # none of them runs before its settings and jobs have moved.
        return ("chat", message.migrate_to_chat_id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.poll is not None:
        return ("poll", update.poll.id)
    return None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently; updates with the same `order_key` one after another, in the
    order they arrived."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        # One lock per key that has an update running or waiting; asyncio.Lock wakes its
        # waiters first come, first served, which keeps each chat's order.
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}

    async def process_update(self, update: object,
                             coroutine: Awaitable[Any]) -> None:
        """The chat's turn first, then a slot: a chat with a hundred queued updates holds
        one slot, not a hundred."""
        key = order_key(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def waiting_keys(self) -> int:
        """How many chats (or users, polls) have an update running or waiting."""
        return len(self._locks)
