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


LONG_LECTURE_ID = "long-lecture"


def long_lecture_text(sections: int = 12, paragraphs: int = 24) -> str:
    """A lecture of about 86,000 characters: sections of paragraphs of whole sentences."""
    numerals = "一二三四五六七八九十"
    sentence = "党员要自觉学网、懂网、用网,规范网络行为,发挥模范带头作用。"
    lines = ["长篇讲稿:网络空间里的党员", ""]
    for s in range(sections):
        label = numerals[s] if s < 10 else "十" + numerals[s - 10]
        lines += [f"{label}、第{s + 1}部分", ""]
        for p in range(paragraphs):
            lines += [f"第{s + 1}部分第{p + 1}段。" + sentence * 10, ""]
    return "\n".join(lines)


@pytest.fixture
def long_knowledge(folder, tokenizer):
    from bot.core.knowledge import KnowledgeBase

    (folder / f"{LONG_LECTURE_ID}.txt").write_text(long_lecture_text(), encoding="utf-8")
    return KnowledgeBase.load(folder, tokenizer)


def _full_text_data(lecture_id: str) -> str:
    from bot.core.navigation import lecture_key
    from bot.handlers.ask import FULL_TEXT_PREFIX

    return FULL_TEXT_PREFIX + lecture_key(lecture_id)


async def test_full_text_pressed_three_times_sends_the_pages_once(server, long_knowledge):
    from bot import texts
    from tests.botharness import GROUP_CHAT, ask
    from tests.test_replies_e2e import buttons

    assert len(long_lecture_text()) > 80_000
    async with running_bot(server, long_knowledge):
        reply = await ask(server, "/help", GROUP_CHAT)
        message = server.sent_messages(GROUP_CHAT)[-1]
        assert message["message_id"] == reply.result["message_id"]
        mark = server.mark()
        for _ in range(3):
            server.push_update(server.callback_query(GROUP_CHAT, 7001, message,
                                                     _full_text_data(LONG_LECTURE_ID)))
        notes = await server.wait_for("answerCallbackQuery", count=3, since=mark)
        (page,) = [c for c in server.calls("sendMessage") if c.seq > mark]
        assert [n.params.get("text") for n in notes[1:]] == [texts.FULL_TEXT_ALREADY_SENT] * 2
        assert "《长篇讲稿:网络空间里的党员》全文" in page.params["text"].split("\n")[0]
        assert len(page.params["text"]) <= 4096
        pages = int(page.params["text"].rsplit("/", 1)[1].split()[0])
        assert 10 < pages < 40
        keys = buttons(page)
        assert list(keys) == ["下一页"]
        # 下一页 turns the page in place: still one message.
        mark = server.mark()
        server.push_update(server.callback_query(GROUP_CHAT, 7002, page.result, keys["下一页"]))
        (edit,) = await server.wait_for("editMessageText", since=mark)
        assert f"第 2/{pages} 页" in edit.params["text"]
        assert "第1部分第" in edit.params["text"] or "第2部分第" in edit.params["text"]
        assert set(buttons(edit)) == {"上一页", "下一页"}
        assert not [c for c in server.calls("sendMessage") if c.seq > mark]


async def test_a_chat_opening_many_full_texts_is_asked_to_wait(server, long_knowledge):
    from bot import texts
    from bot.handlers.ask import FULL_TEXTS_PER_CHAT
    from tests.botharness import GROUP_CHAT, ask

    async with running_bot(server, long_knowledge):
        await ask(server, "/help", GROUP_CHAT)
        message = server.sent_messages(GROUP_CHAT)[-1]
        mark = server.mark()
        members = range(7101, 7102 + FULL_TEXTS_PER_CHAT)
        for member in members:
            server.push_update(server.callback_query(GROUP_CHAT, member, message,
                                                     _full_text_data(LONG_LECTURE_ID)))
        notes = await server.wait_for("answerCallbackQuery", count=len(members), since=mark)
    assert len([c for c in server.calls("sendMessage") if c.seq > mark]) == FULL_TEXTS_PER_CHAT
    assert notes[-1].params.get("text") == texts.TOO_MANY_REQUESTS
