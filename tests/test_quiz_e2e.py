"""每日一题 end to end: the real Application against the fake Bot API server.

The daily push brings a quiz poll; poll answers earn points once; /me and /rank show them;
points and streaks survive a restart (the database is the source of truth); /quiztime moves
the quiz to its own time; /quiz gives practice in private and, for global admins, a preview
from which a bad question is dropped. A poll whose sendPoll timed out after Telegram took it
still earns its points, once; a refused one is forgotten.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.core.knowledge import KnowledgeBase
from bot.handlers.quiz import quiz_job_name
from bot.quiz.bank import QuizBank, read_questions
from bot.study.delivery import CATCH_UP_DONE_KEY, PUSH_DELIVERED_LISTENERS, job_name
from tests.botharness import GROUP_CHAT, PRIVATE_CHAT, ask, query, running_bot
from tests.conftest import KNOWLEDGE_DIR, LECTURE_ID

pytestmark = pytest.mark.usefixtures("workdir", "bot_engine")

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUP_ADMIN = 5001
ALICE, BOB, CAROL = 7101, 7102, 7103
GLOBAL_ADMIN = 9999
# PTB's default read timeout is 5 s; the fake server answers later than that.
SLOWER_THAN_THE_CLIENT_S = 6


class Clock:
    def __init__(self, *args: int):
        self.now = datetime(*args, tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def own_knowledge(workdir, tokenizer) -> KnowledgeBase:
    """A copy of the knowledge folder: these tests may change its questions file."""
    folder = workdir / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    return KnowledgeBase.load(folder, tokenizer)


async def _daily_push(server, app, chat_id: int):
    """Fires the chat's daily job; returns the quiz poll that came with the push."""
    mark = server.mark()
    (job,) = app.job_queue.get_jobs_by_name(job_name(chat_id))
    await job.run(app)
    (call,) = await server.wait_for("sendPoll", since=mark)
    return call


async def _answer(server, poll_call, user_id: int, option: int, name: str) -> None:
    server.push_update(server.poll_answer(poll_call.result["poll"]["id"], user_id, [option],
                                          first_name=name))


def _right(poll_call) -> int:
    (correct,) = poll_call.params["correct_option_ids"]
    return correct


def _wrong(poll_call) -> int:
    return (_right(poll_call) + 1) % len(poll_call.params["options"])


async def test_daily_quiz_points_once_rank_me_and_a_restart(server, knowledge, tokenizer):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 7, 0)  # a Monday
    bank = QuizBank.load(knowledge.library, tokenizer)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        clock.now += timedelta(hours=1)
        poll = await _daily_push(server, app, GROUP_CHAT)
        (push,) = [m for m in server.sent_messages(GROUP_CHAT) if "今日学习" in m.get("text", "")]

        params = poll.params
        assert params["type"] == "quiz" and params["is_anonymous"] is False
        options = [o["text"] for o in params["options"]]
        question = next(q for q in bank.for_passage(f"{LECTURE_ID}:0.1")
                        if q.question == params["question"])
        assert options[params["correct_option_ids"][0]] == question.answer
        assert params["explanation"] == question.explanation

        await _answer(server, poll, ALICE, params["correct_option_ids"][0], "Alice")
        await _answer(server, poll, BOB, _wrong(poll), "Bob")
        await _answer(server, poll, ALICE, _wrong(poll), "Alice")  # a second answer
        await _answer(server, poll, BOB, params["correct_option_ids"][0], "Bob")  # earns nothing
        mark = server.mark()
        server.push_update(server.callback_query(GROUP_CHAT, ALICE, push,
                                                 push["reply_markup"]["inline_keyboard"][0][0]
                                                 ["callback_data"], first_name="Alice"))
        await server.wait_for("answerCallbackQuery", since=mark)

        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
        assert "本周积分:3 分(第 1 名)" in me.params["text"]
        assert "连续学习:1 天" in me.params["text"]
        rank = await ask(server, "/rank", GROUP_CHAT, user_id=BOB, first_name="Bob")
        assert rank.params["text"].splitlines()[1:] == ["1. Alice · 3 分", "你本周还没有积分。"]

        clock.now += timedelta(days=1)  # Tuesday: the second study day in a row
        poll = await _daily_push(server, app, GROUP_CHAT)
        assert poll.params["question"] != params["question"]
        await _answer(server, poll, ALICE, _right(poll), "Alice")
        await _answer(server, poll, BOB, _right(poll), "Bob")
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
        assert "连续学习:2 天" in me.params["text"]

    async with running_bot(server, knowledge, clock=clock):
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
        assert "本周积分:5 分(第 1 名)" in me.params["text"]
        assert "累计积分:5 分" in me.params["text"]
        assert "连续学习:2 天" in me.params["text"], "streaks survive a restart"
        rank = await ask(server, "/rank", GROUP_CHAT, user_id=BOB, first_name="Bob")
    assert rank.params["text"].splitlines()[1:] == ["1. Alice · 5 分", "2. Bob · 2 分",
                                                   "你:第 2 名 · 2 分"]


async def test_quiz_time_sends_the_quiz_at_its_own_time_and_survives_a_restart(
        server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 7, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        refused = await ask(server, "/quiztime 20:00", GROUP_CHAT, user_id=ALICE)
        assert refused.params["text"] == texts.NOT_ALLOWED
        for bad in ("/quiztime 25:00", "/quiztime 20:00 明天", "/quiztime 🎉"):
            reply = await ask(server, bad, GROUP_CHAT, user_id=GROUP_ADMIN)
            assert reply.params["text"] == texts.QUIZTIME_USAGE
        reply = await ask(server, "/quiztime 20:00", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert reply.params["text"] == "好的,每日一题:每天 20:00(发当天推送内容的题)。"
        (job,) = app.job_queue.get_jobs_by_name(quiz_job_name(GROUP_CHAT))
        assert job.next_t.astimezone(SHANGHAI).strftime("%H:%M") == "20:00"
        clock.now += timedelta(hours=1)
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)
        await server.wait_for("sendMessage", lambda c: "今日学习" in c.params["text"])
        assert not server.calls("sendPoll"), "no poll with the push any more"
    clock.now = clock.now.replace(hour=20, minute=30)  # the bot was down at 20:00
    async with running_bot(server, knowledge, clock=clock) as app:
        assert app.job_queue.get_jobs_by_name(quiz_job_name(GROUP_CHAT)), "job rebuilt"
        (poll,) = await server.wait_for("sendPoll")
        assert poll.params["chat_id"] == GROUP_CHAT
        (job,) = app.job_queue.get_jobs_by_name(quiz_job_name(GROUP_CHAT))
        await job.run(app)  # the quiz time again the same day: nothing more
        off = await ask(server, "/quiztime 关闭", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert off.params["text"] == "好的,每日一题:已关闭。"
        assert not app.job_queue.get_jobs_by_name(quiz_job_name(GROUP_CHAT))
    assert len(server.calls("sendPoll")) == 1


async def test_private_practice_and_group_hint(server, knowledge):
    async with running_bot(server, knowledge):
        mark = server.mark()
        server.push_update(server.text_message(PRIVATE_CHAT, "/quiz"))
        server.push_update(server.text_message(PRIVATE_CHAT, "/quiz"))
        first, second = await server.wait_for("sendPoll", count=2, since=mark)
        assert first.params["question"] != second.params["question"], "the least asked next"
        assert first.params["type"] == "quiz"
        await _answer(server, first, PRIVATE_CHAT, _right(first), "Me")
        me = await ask(server, "/me")
        assert "本周积分:2 分" in me.params["text"]
        group = await ask(server, "/quiz", GROUP_CHAT, user_id=ALICE)
        assert group.params["text"] == texts.QUIZ_PRIVATE_ONLY
        unknown = await ask(server, "/quiz 不存在的讲稿")
        assert unknown.params["text"].startswith("没有找到讲稿“不存在的讲稿”")
        empty_board = await ask(server, "/rank", GROUP_CHAT, user_id=ALICE)
        assert empty_board.params["text"] == texts.QUIZ_RANK_EMPTY


async def test_practice_skips_what_the_member_answered_in_his_group(server, knowledge):
    """A member's answered questions count wherever he answered them: private practice does
    not give him the question he just answered in his group (a member who did not answer
    it may get it)."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 7, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        clock.now += timedelta(hours=1)
        poll = await _daily_push(server, app, GROUP_CHAT)
        await _answer(server, poll, ALICE, _wrong(poll), "Alice")
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
        assert "连续学习:1 天" in me.params["text"]  # the answer is in
        practice = {}
        for member in (ALICE, BOB):
            mark = server.mark()
            server.push_update(server.text_message(member, "/quiz"))  # his private chat
            (practice[member],) = await server.wait_for("sendPoll", since=mark)
    assert practice[ALICE].params["question"] != poll.params["question"]
    assert practice[BOB].params["question"] == poll.params["question"]


async def test_admin_previews_and_drops_a_question(server, own_knowledge):
    path = own_knowledge.folder / "party-lecture-online-conduct.quiz.tsv"
    before = read_questions(path).questions
    async with running_bot(server, own_knowledge, admin_ids=frozenset({GLOBAL_ADMIN})):
        preview = await ask(server, "/quiz 党课", GLOBAL_ADMIN)
        text = preview.params["text"]
        assert text.startswith("📝 《党课:发挥模范带头作用 规范网络行为》题库 · 第 1/")
        assert f"共 {len(before)} 题,已删除 0 题" in text
        assert before[0].question in text
        rows = preview.params["reply_markup"]["inline_keyboard"]
        drop = rows[0][0]
        assert drop["text"] == "删除第1题"

        mark = server.mark()
        server.push_update(server.callback_query(GLOBAL_ADMIN, ALICE, preview.result,
                                                 drop["callback_data"]))
        (refused,) = await server.wait_for("answerCallbackQuery", since=mark)
        assert refused.params["text"] == texts.ONLY_GLOBAL_ADMINS
        assert read_questions(path).questions == before

        mark = server.mark()
        server.push_update(server.callback_query(GLOBAL_ADMIN, GLOBAL_ADMIN, preview.result,
                                                 drop["callback_data"]))
        (answered,) = await server.wait_for("answerCallbackQuery", since=mark)
        assert answered.params["text"] == texts.QUIZ_DROPPED
        (redrawn,) = await server.wait_for("editMessageText", since=mark)
        assert f"共 {len(before) - 1} 题,已删除 1 题" in redrawn.params["text"]
        assert before[0].question not in redrawn.params["text"]
        after = read_questions(path).questions
        assert [q.source for q in after if q.key == before[0].key] == ["dropped"]

        mark = server.mark()
        server.push_update(server.callback_query(GLOBAL_ADMIN, GLOBAL_ADMIN, preview.result,
                                                 drop["callback_data"]))
        (again,) = await server.wait_for("answerCallbackQuery", since=mark)
        assert again.params["text"] == texts.QUIZ_DROP_GONE

        mark = server.mark()
        server.push_update(server.text_message(ALICE, "/quiz 党课"))
        (practice,) = await server.wait_for("sendPoll", since=mark)
    assert practice.params["question"] == before[1].question, \
        "a member's practice skips the dropped question (it would come first)"


async def test_a_failed_poll_loses_nothing_and_the_push_stands(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        server.fail_next("sendPoll", 403)
        mark = server.mark()
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)
        await server.wait_for("sendMessage", lambda c: "今日学习" in c.params["text"], since=mark)
        await server.wait_for("sendPoll", since=mark)
        plan = await ask(server, "/plan", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert "已推送 1/6 段" in plan.params["text"]
        with pytest.raises(ValueError):
            server.poll_answer("no-such-poll", ALICE, [0])
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE)
        assert "本周积分:0 分" in me.params["text"]
    assert [call.ok for call in server.calls("sendPoll")] == [False]


async def test_a_poll_that_timed_out_but_arrived_earns_its_points_once(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 8, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        await ask(server, "/quiztime 20:00", GROUP_CHAT, user_id=GROUP_ADMIN)
        server.delay_next("sendPoll", SLOWER_THAN_THE_CLIENT_S)
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)  # the push, at once
        (quiz_time,) = app.job_queue.get_jobs_by_name(quiz_job_name(GROUP_CHAT))
        await quiz_time.run(app)  # its quiz: Telegram takes the poll, the answer comes late
        (poll,) = [m["poll"] for m in server.sent_messages(GROUP_CHAT) if "poll" in m]
        right = poll["correct_option_ids"][0]
        wrong = (right + 1) % len(poll["options"])
        await quiz_time.run(app)  # the quiz time again: the poll may be there, none is sent
        await server.wait_for("sendPoll")  # the late answer, which the bot gave up on

        # Alice answers before Telegram's poll update: kept, not counted yet.
        server.push_update(server.poll_answer(poll["id"], ALICE, [right], first_name="Alice"))
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
        assert "本周积分:0 分" in me.params["text"]

    async with running_bot(server, knowledge, clock=clock):  # kept across a restart
        server.push_update(server.poll_state(poll["id"]))  # recognises the claim: Alice +2
        server.push_update(server.poll_answer(poll["id"], BOB, [right], first_name="Bob"))
        server.push_update(server.poll_state(poll["id"]))  # Bob's vote: nothing new for Alice
        server.push_update(server.poll_answer(poll["id"], ALICE, [wrong], first_name="Alice"))
        server.push_update(server.poll_answer(poll["id"], CAROL, [wrong], first_name="Carol"))
        server.push_update(server.poll_state(poll["id"]))
        rank = await ask(server, "/rank", GROUP_CHAT, user_id=CAROL, first_name="Carol")
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
    assert rank.params["text"].splitlines()[1:] == ["1. Alice · 2 分", "1. Bob · 2 分",
                                                   texts.QUIZ_RANK_NOT_MINE]
    assert "本周积分:2 分" in me.params["text"] and "累计积分:2 分" in me.params["text"]
    assert len(server.calls("sendPoll")) == 1
    assert query("SELECT COUNT(*) FROM quiz_pending_answers") == [(0,)]
    assert query("SELECT user_id, correct FROM quiz_answers ORDER BY user_id") == [
        (ALICE, 1), (BOB, 1), (CAROL, 0)]


@pytest.mark.parametrize("status", [400, 500])
async def test_a_refused_poll_is_forgotten_and_sent_at_the_quiz_time(server, knowledge, status):
    """Telegram answered (an error): no poll exists, so the push's quiz is still to come."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 8, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        await ask(server, "/quiztime 20:00", GROUP_CHAT, user_id=GROUP_ADMIN)
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)
        server.fail_next("sendPoll", status)
        (quiz_time,) = app.job_queue.get_jobs_by_name(quiz_job_name(GROUP_CHAT))
        await quiz_time.run(app)
        await quiz_time.run(app)
        refused, sent = await server.wait_for("sendPoll", count=2)
        await _answer(server, sent, ALICE, _right(sent), "Alice")
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
    assert (refused.ok, sent.ok) == (False, True)
    assert sent.params["question"] == refused.params["question"]
    assert "本周积分:2 分" in me.params["text"]


async def test_an_answer_to_a_poll_no_claim_matches_earns_nothing_and_is_kept(server,
                                                                             knowledge):
    async with running_bot(server, knowledge) as app:
        # A poll the bot has no record of (sent by an install whose database was lost).
        stray = await app.bot.send_poll(GROUP_CHAT, "不是本机记录的题?", ["是", "否"],
                                        is_anonymous=False, type="quiz", correct_option_ids=[0])
        server.push_update(server.poll_answer(stray.poll.id, ALICE, [0], first_name="Alice"))
        server.push_update(server.poll_state(stray.poll.id))
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
        rank = await ask(server, "/rank", GROUP_CHAT, user_id=ALICE, first_name="Alice")
    assert "本周积分:0 分" in me.params["text"]
    assert rank.params["text"] == texts.QUIZ_RANK_EMPTY
    assert query("SELECT poll_id, user_id, option FROM quiz_pending_answers") == [
        (stray.poll.id, ALICE, 0)], "a trace is kept"
    assert query("SELECT COUNT(*) FROM quiz_answers") == [(0,)]


async def test_a_push_whose_quiz_a_kill_cut_off_gets_it_at_the_next_start(server, knowledge):
    """A push is recorded delivered, then its listeners run: a kill between the two left the
    day without its quiz (and without its study day). The next start makes it good, once."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 8, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        app.bot_data[PUSH_DELIVERED_LISTENERS] = []  # the process dies right after delivery
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)
        await server.wait_for("sendMessage", lambda c: c.ok and "今日学习" in c.params["text"])
    assert server.calls("sendPoll") == []
    for _ in range(2):  # two starts: one quiz
        async with running_bot(server, knowledge, clock=clock) as app:
            await asyncio.wait_for(app.bot_data[CATCH_UP_DONE_KEY].wait(), 30)
    polls = server.calls("sendPoll")
    assert [(c.ok, c.params["chat_id"]) for c in polls] == [(True, GROUP_CHAT)]
    pushes = [m for m in server.sent_messages(GROUP_CHAT) if "今日学习" in m.get("text", "")]
    assert len(pushes) == 1, "the push itself is not sent again"


async def test_a_timed_quiz_whose_push_record_a_kill_cut_off_is_sent_at_the_next_start(
        server, knowledge):
    """The same kill with a quiz time: the bot is back after it passed. The day's push is
    known again before the missed quiz time is looked at, so the quiz still goes out."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 8, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        await ask(server, "/quiztime 20:00", GROUP_CHAT, user_id=GROUP_ADMIN)
        app.bot_data[PUSH_DELIVERED_LISTENERS] = []  # the process dies right after delivery
        (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
        await daily.run(app)
        await server.wait_for("sendMessage", lambda c: c.ok and "今日学习" in c.params["text"])
    clock.now = clock.now.replace(hour=21)
    async with running_bot(server, knowledge, clock=clock):
        (poll,) = await server.wait_for("sendPoll", lambda c: c.ok, timeout=30)
    assert poll.params["chat_id"] == GROUP_CHAT
