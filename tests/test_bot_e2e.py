"""End to end: the real Application polls a local fake Bot API server over real HTTP.

Nothing inside the bot is mocked; what the bot did is read from what the server received.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.knowledge import KnowledgeBase
from bot.handlers.ask import MORE_PREFIX, SHOW_PREFIX
from tests.botharness import GROUP_CHAT, MEMBER, PRIVATE_CHAT, ask, running_bot
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID

pytestmark = pytest.mark.usefixtures("workdir")

def _buttons(call) -> dict[str, str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def test_private_question_gets_a_cited_highlighted_answer(server, knowledge):
    async with running_bot(server, knowledge):
        call = await ask(server, "党员网络行为规定是什么时候印发的?")
    text = call.params["text"]
    assert call.params["chat_id"] == PRIVATE_CHAT
    assert call.params["parse_mode"] == "HTML"
    assert "《党课:发挥模范带头作用 规范网络行为》· 开篇 · 第1段" in text
    assert "<b>2024年1月,中央办公厅印发《中国GCD党员网络行为规定》" in text
    assert {"更多", "下一段", "👍", "👎"} <= set(_buttons(call))


async def test_startup_registers_chinese_command_menus_per_scope(server, knowledge):
    async with running_bot(server, knowledge, admin_ids=frozenset({42})):
        calls = await server.wait_for("setMyCommands", count=4)
    menus = {c.params.get("scope", {}).get("type", "default"):
             {cmd["command"]: cmd["description"] for cmd in c.params["commands"]}
             for c in calls}
    assert {"start", "help", "ask", "toc", "read"} <= set(menus["default"])
    assert "subscribe" not in menus["default"] and "retire" not in menus["default"]
    assert {"subscribe", "push", "stats"} <= set(menus["all_chat_administrators"])
    assert {"subscribe", "push"} <= set(menus["all_private_chats"])
    assert "retire" in menus["chat"]  # the global admin's own chat
    descriptions = [d for menu in menus.values() for d in menu.values()]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d) for d in descriptions)


async def test_group_chatter_is_ignored_but_ask_mention_and_reply_are_answered(server, knowledge):
    async with running_bot(server, knowledge):
        server.push_update(server.text_message(GROUP_CHAT, "大家早上好,今天开会吗", MEMBER))
        asked = await ask(server, "/ask 网民规模有多大", GROUP_CHAT, user_id=MEMBER)
        mentioned = await ask(server, "@lecture_test_bot 党员总数有多少", GROUP_CHAT,
                              user_id=MEMBER)
        bot_message = server.sent_messages(GROUP_CHAT)[-1]
        replied = await ask(server, "平台主体责任呢", GROUP_CHAT, user_id=MEMBER,
                            reply_to=bot_message)
        await asyncio.sleep(0.2)
    sent = server.calls("sendMessage")
    assert len(sent) == 3, "the chatter got no reply"
    assert "10.92亿" in asked.params["text"]
    assert "9918.5万" in mentioned.params["text"]
    assert "压实平台主体责任" in replied.params["text"]
    assert all(c.params.get("reply_parameters") for c in sent), "group replies quote"


async def test_next_paragraph_and_more_buttons_edit_the_answer(server, knowledge):
    async with running_bot(server, knowledge):
        answer = await ask(server, "平台主体责任怎么压实")
        message = answer.result
        buttons = _buttons(answer)
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, message,
                                                 buttons["下一段"]))
        (edit,) = await server.wait_for("editMessageText")
        assert "三、聚力攻坚… · 第3段" in edit.params["text"]
        mark = server.mark()
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, message,
                                                 buttons["更多"]))
        (more,) = await server.wait_for("editMessageText", since=mark)
        await server.wait_for("answerCallbackQuery", count=2)
    assert buttons["更多"].startswith(MORE_PREFIX)
    second = knowledge.answer("平台主体责任怎么压实").hits[1].passage
    assert second.citation in more.params["text"]


async def test_button_from_before_a_restart_works_in_a_new_application(server, knowledge):
    async with running_bot(server, knowledge):
        answer = await ask(server, "网民规模有多大")
    next_data = _buttons(answer)["下一段"]
    assert next_data.startswith(SHOW_PREFIX)
    fresh = KnowledgeBase.load(KNOWLEDGE_DIR)  # a new process would load its own
    async with running_bot(server, fresh):
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, answer.result,
                                                 next_data))
        (edit,) = await server.wait_for("editMessageText")
    assert fresh.library.passage(f"{LECTURE_ID}:3.1").text[:20] in edit.params["text"]


async def test_inline_query_offers_paragraphs(server, knowledge):
    async with running_bot(server, knowledge):
        server.push_update(server.inline_query(MEMBER, "网民规模"))
        (call,) = await server.wait_for("answerInlineQuery")
    results = call.params["results"]
    assert results and "10.92亿" in results[0]["input_message_content"]["message_text"]


async def test_sticker_gets_a_hint_in_private_and_silence_in_groups(server, knowledge):
    async with running_bot(server, knowledge):
        server.push_update(server.sticker_message(GROUP_CHAT, MEMBER))
        server.push_update(server.sticker_message(PRIVATE_CHAT))
        (call,) = await server.wait_for("sendMessage")
        await asyncio.sleep(0.2)
    assert call.params["chat_id"] == PRIVATE_CHAT and call.params["text"] == "请用文字提问。"
    assert len(server.calls("sendMessage")) == 1


@pytest.mark.parametrize("text", ["？？？", "😀😀", "<script>&</script>", "/read abc", "/read 9.9",
                                  "/ask", "/toc extra", "党员" * 3000, "/nosuchcommand",
                                  "/", "/read@lecture_test_bot 3.2"])
async def test_bad_input_gets_a_chinese_reply(server, knowledge, text):
    async with running_bot(server, knowledge):
        call = await ask(server, text)
    reply = call.params["text"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reply)
    assert len(reply) <= 4096


async def test_a_failed_handler_does_not_stop_the_bot(server, knowledge, caplog):
    async with running_bot(server, knowledge):
        server.fail_next("sendMessage", 400, "Bad Request: something broke")
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "网民规模有多大"))
        (apology,) = await server.wait_for("sendMessage", lambda c: c.ok, since=mark)
        assert apology.params["text"] == "抱歉,这次回答失败了,请稍后再试。"
        answer = await ask(server, "党员总数有多少")
    assert "9918.5万" in answer.params["text"]
    assert any("failed" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


async def test_edits_channel_posts_and_service_messages_are_ignored(server, knowledge, caplog):
    channel = -1009999
    post = {"channel_post": {"message_id": 5, "date": 1_700_000_000, "text": "/push 网民",
                             "chat": {"id": channel, "type": "channel", "title": "学习频道"}}}
    joined = server.text_message(GROUP_CHAT, "", MEMBER)
    del joined["message"]["text"]
    joined["message"]["new_chat_members"] = [{"id": 55, "is_bot": False, "first_name": "新"}]
    async with running_bot(server, knowledge):
        first = await ask(server, "网民规模有多大")
        mark = server.mark()
        server.push_update(server.edited_message(PRIVATE_CHAT, first.result["message_id"] - 1,
                                                 "/toc"))
        server.push_update(post)
        server.push_update(joined)
        answer = await ask(server, "党员总数有多少")
    assert [c.params["text"] for c in server.calls("sendMessage") if c.seq > mark] \
        == [answer.params["text"]], "nothing but the new question was answered"
    assert "9918.5万" in answer.params["text"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_burst_of_questions_never_blocks_the_event_loop(server, caplog):
    loop = asyncio.get_running_loop()
    caplog.set_level(logging.WARNING, logger="asyncio")
    async with running_bot(server):  # loads jieba and the index itself, off the loop
        # Watched from the first update on: while start-up loads jieba in a worker thread, a
        # step of the loop may wait for the GIL that jieba's dictionary unmarshalling holds.
        loop.set_debug(True)
        loop.slow_callback_duration = 0.1
        mark = server.mark()
        questions = ["网民规模有多大", "党员总数有多少", "第二部分讲了什么", "你好", "三地是什么"]
        for i in range(40):
            server.push_update(server.text_message(PRIVATE_CHAT + i, questions[i % 5]))
        await server.wait_for("sendMessage", count=40, since=mark, timeout=30)
    slow = [r.getMessage() for r in caplog.records
            if r.name == "asyncio" and "Executing" in r.getMessage()]
    assert not slow, slow


async def test_user_text_in_plain_replies_is_never_parsed_as_html(server, knowledge):
    async with running_bot(server, knowledge):
        reply = await ask(server, "/read <i>3.9</i>")
        await ask(server, "/subscribe")
        await ask(server, "问个<b>怪</b>问题 & <script>")
        stats = await ask(server, "/stats")
    assert reply.params["text"].startswith("没有找到“<i>3.9</i>”")
    assert "parse_mode" not in reply.params
    assert "问个<b>怪</b>问题 & <script>" in stats.params["text"]


async def test_a_question_is_logged_even_when_the_reply_cannot_be_sent(server, knowledge,
                                                                        workdir):
    import sqlite3

    async with running_bot(server, knowledge):
        server.fail_next("sendMessage", 500, times=1)
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "网民规模有多大", PRIVATE_CHAT))
        await server.wait_for("sendMessage", since=mark)
        await asyncio.sleep(0.2)
    with sqlite3.connect(workdir / "bot.sqlite3") as connection:
        rows = connection.execute("SELECT chat_id, user_id, text, answered, reply_kind "
                                  "FROM questions").fetchall()
    assert rows == [(PRIVATE_CHAT, PRIVATE_CHAT, "网民规模有多大", 1, "answered")]
