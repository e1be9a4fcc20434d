"""Sizes are bounded where they are read: one huge paragraph, through the fake Bot API.

A published lecture whose one paragraph is far over Telegram's limit is split at sentence ends
when it is read; a question about it gets one reply message, and the daily push sends the
passage whole (never its header alone) and advances the plan by that one piece.
"""

from __future__ import annotations

import shutil

import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import MAX_PASSAGE_CHARS
from bot.study.delivery import job_name
from tests.botharness import GROUP_CHAT, ask, running_bot
from tests.conftest import KNOWLEDGE_DIR
from tests.test_push_faults import GROUP_ADMIN, stored_pushes

pytestmark = pytest.mark.usefixtures("workdir")

SENTENCE = "党员要在网络空间发挥模范带头作用,自觉规范网络行为,传播正能量。"
HUGE_PARAGRAPH_CHARS = 120_000


@pytest.fixture
def huge_knowledge(tmp_path, tokenizer) -> KnowledgeBase:
    folder = tmp_path / "huge"
    shutil.copytree(KNOWLEDGE_DIR / "lexicon", folder / "lexicon")
    paragraph = SENTENCE * (HUGE_PARAGRAPH_CHARS // len(SENTENCE))
    (folder / "huge.txt").write_text(f"一段很长的讲稿\n\n一、唯一的一节\n\n{paragraph}\n",
                                     encoding="utf-8")
    return KnowledgeBase.load(folder, tokenizer)


def test_the_huge_paragraph_is_read_as_sendable_passages(huge_knowledge):
    passages = huge_knowledge.library.lectures[0].passages
    assert len(passages) == -(-HUGE_PARAGRAPH_CHARS // MAX_PASSAGE_CHARS)
    assert all(len(p.text) <= MAX_PASSAGE_CHARS and p.text.endswith("。") for p in passages)


async def test_one_question_about_it_brings_one_message(server, huge_knowledge):
    async with running_bot(server, huge_knowledge):
        mark = server.mark()
        server.push_update(server.text_message(6301, "党员在网络空间要发挥什么作用"))
        await server.wait_for("sendMessage", since=mark)
        await ask(server, "/help", 6301)  # everything the question brought came before this
    replies = [c for c in server.calls("sendMessage") if c.seq > mark]
    assert len(replies) == 2  # the answer, and /help's reply


async def test_the_daily_push_sends_the_passage_whole_and_advances_one_piece(server,
                                                                            huge_knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, huge_knowledge) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        await ask(server, "/quiztime 关闭", GROUP_CHAT, user_id=GROUP_ADMIN)
        mark = server.mark()
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)
        (push,) = [c for c in server.calls("sendMessage")
                   if c.seq > mark and "今日学习" in c.params["text"]]
    first = huge_knowledge.library.lectures[0].passages[0]
    assert first.text in push.params["text"]
    plan, (stored,) = await stored_pushes()
    assert stored.passage_id == first.passage_id
    assert plan.last_passage_id == first.passage_id
