"""The three replies through the fake Bot API: a confident answer, the closest paragraph
(with the reading buttons), and "not covered" (with a button to read each paragraph it
names); and messages of several questions, one reply each.

The decision's thresholds are set here (all candidates confident, or all closest), so these
tests are about the replies, not about the shipped weights (tests/test_decision.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.decision import Thresholds, shipped_model
from bot.handlers.ask import FULL_TEXT_PREFIX, READ_PREFIX, SHOW_PREFIX
from tests.botharness import PRIVATE_CHAT, ask, running_bot
from tests.conftest import LECTURE_ID

pytestmark = pytest.mark.usefixtures("workdir")


def deciding(knowledge, confident: float, closest: float):
    model = replace(shipped_model(), thresholds=Thresholds(confident, closest))
    return knowledge.with_model(model)


def buttons(call) -> dict[str, str]:
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def test_the_closest_paragraph_is_offered_as_such_with_reading_buttons(server,
                                                                              knowledge):
    closest_only = deciding(knowledge, confident=1.01, closest=0.0)
    async with running_bot(server, closest_only):
        call = await ask(server, "网民规模多大")
        text = call.params["text"]
        assert text.startswith("讲稿没有直接回答这个问题,最相关的是这一段:")
        assert "《党课:发挥模范带头作用 规范网络行为》· 一、统一思想… · 第2段" in text
        assert "10.92亿" in text
        keys = buttons(call)
        assert {"上一段", "下一段", "全文", "👍", "👎"} <= set(keys)
        assert "更多" not in keys  # more results belong to answers
        # 下一段 shows the next paragraph in place
        mark = server.mark()
        message = server.sent_messages(PRIVATE_CHAT)[-1]
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, message,
                                                 keys["下一段"]))
        (edit,) = await server.wait_for("editMessageText", since=mark)
        assert "三、聚力攻坚… · 第1段" in edit.params["text"]
        assert keys["下一段"].startswith(SHOW_PREFIX)


async def test_the_full_text_button_sends_the_whole_lecture(server, knowledge):
    async with running_bot(server, deciding(knowledge, confident=0.0, closest=0.0)):
        call = await ask(server, "网民规模多大")
        data = buttons(call)["全文"]
        assert data.startswith(FULL_TEXT_PREFIX)
        mark = server.mark()
        message = server.sent_messages(PRIVATE_CHAT)[-1]
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, message, data))
        (sent,) = await server.wait_for("sendMessage", since=mark)
    text = sent.params["text"]
    assert "《党课:发挥模范带头作用 规范网络行为》全文" in text
    for passage in knowledge.library.lecture(LECTURE_ID).passages:
        assert passage.text[:30] in text
    assert "第二部分:原文缺失" in text  # the withheld part is marked, never invented


async def test_a_refusal_names_paragraphs_with_a_button_to_read_each(server, knowledge):
    never = deciding(knowledge, confident=1.01, closest=1.01)
    async with running_bot(server, never):
        call = await ask(server, "网民规模多大")
        assert call.params["text"].startswith("讲稿里没有讲到这个问题")
        reading = {k: v for k, v in buttons(call).items() if k.startswith("阅读")}
        assert reading and all(v.startswith(READ_PREFIX) for v in reading.values())
        mark = server.mark()
        message = server.sent_messages(PRIVATE_CHAT)[-1]
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, message,
                                                 next(iter(reading.values()))))
        (sent,) = await server.wait_for("sendMessage", since=mark)
    assert sent.params["text"].startswith("📖 《党课")
    assert {"上一段", "下一段", "全文"} & set(buttons(sent))
    # the refusal itself stays as it was
    assert not server.calls("editMessageText")


async def test_greetings_never_get_a_closest_paragraph(server, knowledge):
    async with running_bot(server, deciding(knowledge, confident=1.01, closest=0.0)):
        call = await ask(server, "谢谢老师")
    assert "最相关的是这一段" not in call.params["text"]
    assert not buttons(call)


async def test_several_questions_get_one_reply_each(server, knowledge):
    async with running_bot(server, deciding(knowledge, confident=0.0, closest=0.0)):
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "老师好!三地是啥?另外网民规模多大?"))
        replies = await server.wait_for("sendMessage", count=2, since=mark)
    assert replies[0].params["text"].startswith("关于“三地是啥?”:")
    assert "三地" in replies[0].params["text"]
    assert replies[1].params["text"].startswith("关于“网民规模多大?”:")
    assert "10.92亿" in replies[1].params["text"]
    assert all("👍" in buttons(call) for call in replies)


async def test_a_long_story_with_a_question_is_answered_from_its_question(server, knowledge):
    story = ("我是退休老党员,平时爱在手机上看新闻,孙子教会了我用抖音。我们小区群里经常有人转发"
             "各种消息,真真假假分不清,前几天还有人说某某地方出了大事,后来又说是谣言。" * 3)
    async with running_bot(server, deciding(knowledge, confident=0.0, closest=0.0)):
        call = await ask(server, story + "请问截至2023年底全国党员总数是多少?")
    assert "9918.5万名" in call.params["text"]
    assert not call.params["text"].startswith("关于")  # one question: no header


async def test_an_answer_opens_with_the_sentence_that_answers_its_fact_in_bold(server,
                                                                             knowledge):
    async with running_bot(server, knowledge):
        call = await ask(server, "党员有多少人")
    first, *rest = call.params["text"].split("\n\n")
    assert first.startswith("答:")
    assert "<b>9918.5万名</b>" in first or "<b>9918.5万</b>" in first
    # the paragraph follows with the same sentence highlighted, and the citation as before
    sentence = "截至2023年底,中国GCD党员总数达9918.5万名,广大党员成为意识形态斗争的先锋队和主力军。"
    assert rest[0].startswith("📖 《党课")
    assert f"<b>{sentence}</b>" in "\n\n".join(rest)
    assert first.replace("<b>", "").replace("</b>", "") == f"答:{sentence}"
