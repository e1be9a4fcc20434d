"""The rate limiter keeps a flood wait to the chat Telegram imposed it on."""

from __future__ import annotations

import asyncio

from telegram.error import RetryAfter

from bot.isolation.ratelimit import ChatRateLimiter

CHAT_A, CHAT_B = 11, 22


class FakeTelegram:
    """Answers requests; the first `floods` requests matching a chat get a 429 of 1 s."""

    def __init__(self, flooded: int | None, floods: int = 1):
        self.flooded, self.floods = flooded, floods
        self.done: list[str] = []

    async def call(self, name: str, chat: int | None) -> dict:
        if chat == self.flooded and self.floods:
            self.floods -= 1
            raise RetryAfter(1)
        self.done.append(name)
        return {"ok": True}


async def _request(limiter: ChatRateLimiter, telegram: FakeTelegram, name: str,
                   chat: int | None):
    data = {} if chat is None else {"chat_id": chat}
    return await limiter.process_request(telegram.call, (name, chat), {}, "sendMessage", data,
                                         None)


async def test_a_flood_wait_in_chat_a_pauses_a_but_not_b():
    limiter = ChatRateLimiter(max_retries=2)
    telegram = FakeTelegram(flooded=CHAT_A)
    await limiter.initialize()
    try:
        a = asyncio.create_task(_request(limiter, telegram, "a1", CHAT_A))
        await asyncio.sleep(0.05)  # A got its 429 and waits
        a2 = asyncio.create_task(_request(limiter, telegram, "a2", CHAT_A))
        await _request(limiter, telegram, "b1", CHAT_B)
        assert telegram.done == ["b1"], "B went ahead; A's second request waits with A"
        await asyncio.gather(a, a2)
    finally:
        await limiter.shutdown()
    assert sorted(telegram.done[1:]) == ["a1", "a2"]


async def test_a_flood_wait_without_a_chat_pauses_only_that_request():
    limiter = ChatRateLimiter(max_retries=2)
    telegram = FakeTelegram(flooded=None)
    await limiter.initialize()
    try:
        first = asyncio.create_task(_request(limiter, telegram, "answer1", None))
        await asyncio.sleep(0.05)
        await _request(limiter, telegram, "answer2", None)
        assert telegram.done == ["answer2"]
        await first
    finally:
        await limiter.shutdown()
    assert telegram.done == ["answer2", "answer1"]
