"""Messages that used to trip the pipeline, through the fake Bot API: a quoted fragment with an
ellipsis, a long story with two questions, a sentence pasted 120 times, two questions answered
alike, and a taught question reworded with a word that says little."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.decision import Thresholds, shipped_model
from bot.core.knowledge import KnowledgeBase
from bot.core.links import LINKS_SUFFIX
from tests.botharness import PRIVATE_CHAT, ask, running_bot
from tests.conftest import LECTURE_ID
from tests.test_questions import LONG_MESSAGE, LONG_MESSAGE_QUESTIONS, QUOTED_FRAGMENTS, REPEATED

pytestmark = pytest.mark.usefixtures("workdir")

# Asked after a message, its reply marks that every reply to the message came before it
# (a chat's updates are handled one after the other).
SENTINEL, SENTINEL_ANSWER = "党员总数有多少", "9918.5万"


async def _ask_then_sentinel(server, message: str) -> list[str]:
    """Every reply the bot sends to one message."""
    mark = server.mark()
    server.push_update(server.text_message(PRIVATE_CHAT, message))
    server.push_update(server.text_message(PRIVATE_CHAT, SENTINEL))
    (sentinel,) = await server.wait_for(
        "sendMessage", lambda c: "📖" in c.params["text"] and SENTINEL_ANSWER
        in c.params["text"], since=mark, timeout=10)
    return [c.params["text"] for c in server.calls("sendMessage")
            if mark < c.seq < sentinel.seq]


async def test_a_quoted_fragment_with_an_ellipsis_is_answered(server, knowledge):
    async with running_bot(server, knowledge):
        replies = [await ask(server, message) for message in QUOTED_FRAGMENTS[:2]]
    for reply in replies:
        assert "确保互联网平台在法治轨道内主动营造清朗的网络空间" in reply.params["text"]
        assert not reply.params["text"].startswith("关于")


async def test_a_long_story_gets_its_two_questions_answered_and_nothing_else(server,
                                                                             knowledge):
    async with running_bot(server, knowledge):
        replies = await _ask_then_sentinel(server, LONG_MESSAGE)
    assert [reply.split("\n")[0] for reply in replies] == [
        f"关于“{question}”:" for question in LONG_MESSAGE_QUESTIONS]
    assert "中央办公厅印发《中国GCD党员网络行为规定》" in replies[0]
    assert "10.92亿" in replies[1]


async def test_a_sentence_sent_120_times_gets_one_reply_per_distinct_question(server,
                                                                              knowledge):
    async with running_bot(server, knowledge):
        replies = await _ask_then_sentinel(server, REPEATED)
    assert [reply.split("\n")[0] for reply in replies] == [
        "关于“党员可以在朋友圈转发新闻吗?”:", "关于“网民规模多大?”:"]
    assert "10.92亿" in replies[1]
    assert "只读了前" not in "".join(replies), "nothing that matters was cut"


async def test_two_questions_answered_alike_get_one_reply(server, knowledge):
    """Two long questions that differ after the words a reply echoes, answered by the same
    paragraph: the second reply would repeat the first word for word."""
    prefix = ("我们支部的老同志平时在微信群和朋友圈里转发各种来路不明的消息、评论社会热点事件、"
              "给别人的帖子点赞留言,")
    message = prefix + "这些网上行为有什么规定?" + prefix + "这些网上行为有什么规定呢?"
    every_candidate_answers = knowledge.with_model(
        replace(shipped_model(), thresholds=Thresholds(0.0, 0.0)))
    assert len(every_candidate_answers.answer(message).parts) == 2
    async with running_bot(server, every_candidate_answers):
        replies = await _ask_then_sentinel(server, message)
    assert len(replies) == 1 and replies[0].startswith("关于“我们支部的老同志")


# Links an admin taught (as /review writes them), each with rewordings that only add or swap
# a word that says little, and rewordings that add a premise.
TAUGHT = {
    "出了网络舆情各部门之间推来推去怎么办": (
        "3.2", ["出了网络舆情各部门之间互相推来推去怎么办"],
        ["出了网络舆情农村各部门之间推来推去怎么办"]),
    "党员上网要会些啥": (
        "0.1", ["党员上网要会点啥"],
        ["农村党员上网要会些啥", "2024年党员上网要会些啥"]),
}


@pytest.fixture
def taught(folder, tokenizer) -> KnowledgeBase:
    lines = "".join(f"{question}\t{ref}\n" for question, (ref, _, _) in TAUGHT.items())
    (folder / f"{LECTURE_ID}{LINKS_SUFFIX}").write_text(lines, encoding="utf-8")
    return KnowledgeBase.load(folder, tokenizer)


async def test_a_taught_link_answers_a_rewording_by_a_word_that_says_little(server, taught):
    for question, (_, rewordings, premises) in TAUGHT.items():
        for premise in premises:  # a premise makes another question: not the link's
            assert taught.links.index.match(premise) is None, premise
        for rewording in rewordings:
            assert taught.links.index.match(rewording).question == question, rewording
    async with running_bot(server, taught):
        for ref, rewordings, _ in TAUGHT.values():
            linked = taught.library.passage(f"{LECTURE_ID}:{ref}")
            for rewording in rewordings:
                reply = await ask(server, rewording)
                assert f"\n\n📖 {linked.citation}" in reply.params["text"], rewording
