"""Reading around a withheld part (原文缺失): /read names it, 上一段/下一段 say what they skip."""

from __future__ import annotations

import pytest

from bot.cli import reply_for
from bot.core.knowledge import KnowledgeBase
from bot.core.navigation import withheld_beside
from bot.core.render import passage_html
from tests.botharness import PRIVATE_CHAT, ask, running_bot
from tests.conftest import LECTURE_ID, write_lecture

pytestmark = pytest.mark.usefixtures("workdir")


def _buttons(call) -> dict[str, str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def _press(server, call, data: str):
    mark = server.mark()
    server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, call.result, data))
    (edit,) = await server.wait_for("editMessageText", since=mark)
    return edit


@pytest.mark.parametrize("selector", ["2", "第二部分", "二", "2.1", "党课 2"])
async def test_read_a_withheld_part_says_so_and_offers_the_parts_that_exist(server, knowledge,
                                                                           selector):
    async with running_bot(server, knowledge):
        reply = await ask(server, f"/read {selector}")
        text = reply.params["text"]
        assert "第二部分原文缺失" in text and "没有找到" not in text
        assert "2,928" in text  # the size the source gave
        for number in (0, 1, 3):
            assert f"/read {number}" in text
        assert "/read 2" not in text
        buttons = _buttons(reply)
        assert len(buttons) == 3
        opened = await _press(server, reply, buttons["三、聚力攻坚…"])
    assert knowledge.library.passage(f"{LECTURE_ID}:3.1").text[:20] in opened.params["text"]


async def test_next_and_previous_across_the_withheld_part_say_it_is_missing(server, knowledge):
    async with running_bot(server, knowledge):
        last_before = await ask(server, "/read 1.2")
        assert "(第二部分原文缺失)" in last_before.params["text"]
        after_gap = await _press(server, last_before, _buttons(last_before)["下一段"])
        assert "三、聚力攻坚… · 第1段" in after_gap.params["text"]
        assert "(第二部分原文缺失)" in after_gap.params["text"]
        back = await _press(server, after_gap, _buttons(after_gap)["上一段"])
        assert "一、统一思想… · 第2段" in back.params["text"]
        assert "(第二部分原文缺失)" in back.params["text"]
        inside = await _press(server, back, _buttons(back)["上一段"])
    assert "原文缺失" not in inside.params["text"]  # 1.1 → 1.2 skips nothing


def test_the_part_named_is_the_one_the_lecture_withheld(tmp_path, tokenizer):
    write_lecture(tmp_path, "other.txt",
                  "另一篇讲稿\n\n一、第一节\n甲段。\n\n二、第二节\n乙段。\n丙段。\n"
                  "此处隐藏1200字\n四、第四节\n丁段。\n")
    knowledge = KnowledgeBase.load(tmp_path, tokenizer)
    library = knowledge.library
    lecture = library.lectures[0]
    assert lecture.missing_section_nos == (3,)
    before_gap, after_gap = library.passage("other:2.2"), library.passage("other:4.1")
    assert withheld_beside(library, before_gap) == ((), (3,))
    assert withheld_beside(library, after_gap) == ((3,), ())
    assert withheld_beside(library, library.passage("other:2.1")) == ((), ())
    assert "(第三部分原文缺失)" in passage_html(after_gap, library)
    assert "(第三部分原文缺失)" in passage_html(before_gap, library)
    assert "原文缺失" not in passage_html(library.passage("other:1.1"), library)
    # The terminal chat reads the same way.
    assert "第三部分原文缺失" in reply_for(knowledge, "/read 3")
    assert "(第三部分原文缺失)" in reply_for(knowledge, "/read 4")
    assert "没有找到" in reply_for(knowledge, "/read 5")
