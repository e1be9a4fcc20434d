"""One chat's trouble stays in that chat: a flood wait, a hung request or a long 全文 in one
chat, through the fake Bot API, while another chat asks.

No timings are asserted (benchmarks/isolation.py measures them): each test checks the order of
events: the other chat's answer goes out while the troubled chat is still waiting.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.botharness import running_bot
from tests.test_replies_e2e import deciding

pytestmark = pytest.mark.usefixtures("workdir")

CHAT_A, CHAT_B = 5101, 5202
QUESTION = "网民规模多大"


def _to(chat_id: int):
    return lambda params: params.get("chat_id") == chat_id


def _answers(server, chat_id: int, since: int = 0):
    return [c for c in server.calls("sendMessage")
            if c.seq > since and c.ok and c.params.get("chat_id") == chat_id]


async def test_a_flood_wait_in_one_chat_does_not_hold_another(server, knowledge):
    # Telegram makes chat A wait 3 s; PTB's limiter retries A after that.
    server.fail_next("sendMessage", 429, retry_after=3, when=_to(CHAT_A))
    async with running_bot(server, deciding(knowledge, 0.0, 0.0), rate_limiter=True):
        mark = server.mark()
        server.push_update(server.text_message(CHAT_A, QUESTION))
        await server.wait_for("sendMessage", lambda c: not c.ok, since=mark)  # A's 429
        server.push_update(server.text_message(CHAT_B, QUESTION))
        (b,) = await server.wait_for("sendMessage", lambda c: c.ok, since=mark)
        assert b.params["chat_id"] == CHAT_B, "B was answered only after A's flood wait"
        (a,) = await server.wait_for("sendMessage", lambda c: c.ok and c.seq > b.seq,
                                     since=mark, timeout=10)
    assert a.params["chat_id"] == CHAT_A  # A still gets its answer, after the wait


async def test_a_hung_request_in_one_chat_does_not_hold_another(server, knowledge):
    hold = server.hold_next("sendMessage", when=_to(CHAT_A))
    async with running_bot(server, deciding(knowledge, 0.0, 0.0)):
        mark = server.mark()
        server.push_update(server.text_message(CHAT_A, QUESTION))
        await asyncio.to_thread(hold.wait_arrived)  # A's reply is in flight...
        server.push_update(server.text_message(CHAT_B, QUESTION))
        # ...and B is answered before A's request comes back (the client waits 5 s for it).
        await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == CHAT_B,
                              since=mark, timeout=3)
        assert not hold._released.is_set()
        hold.release()


async def test_one_chats_updates_stay_in_order(server, knowledge):
    hold = server.hold_next("sendMessage", when=_to(CHAT_A))
    async with running_bot(server, deciding(knowledge, 0.0, 0.0)):
        mark = server.mark()
        server.push_update(server.text_message(CHAT_A, QUESTION))
        await asyncio.to_thread(hold.wait_arrived)
        server.push_update(server.text_message(CHAT_A, "三地是啥"))
        server.push_update(server.text_message(CHAT_B, QUESTION))
        await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == CHAT_B,
                              since=mark, timeout=3)
        # A's second question waits for its first: nothing went to A meanwhile (the held
        # call is recorded when it is answered).
        assert not [c for c in server.calls("sendMessage")
                    if c.seq > mark and c.params["chat_id"] == CHAT_A]
        hold.release()
        second = await server.wait_for("sendMessage", lambda c: c.params["chat_id"] == CHAT_A,
                                       count=2, since=mark, timeout=10)
    assert "三地" in second[1].params["text"]
