"""Pressed buttons against a failing answerCallbackQuery: what the press changes is kept.

Telegram refuses an answer to a press handled late ("query is too old": presses queued while
the bot restarted) and an answer can time out; the spinner is all that is lost: a check-in
keeps its point and count, a published lecture goes live, a review choice is linked, 立即发送
sends. The real Application polls the fake Bot API server, which injects the fault on the
answer (or on the preview's edit) only.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import services, texts
from bot.core.knowledge import KnowledgeBase
from bot.core.links import LINKS_SUFFIX
from bot.study.delivery import CHECK_IN_PREFIX, job_name
from bot.study.store import PushState
from tests import test_push_faults as push_faults
from tests import test_teach_e2e as teach
from tests.botharness import GROUP_CHAT, PRIVATE_CHAT, RELOAD_TIMEOUT, Clock, ask, running_bot
from tests.conftest import LECTURE_ID
from tests.fakebotapi import FakeBotApi
from tests.test_lectures_e2e import NEW_LECTURE, _buttons, _send_file

pytestmark = pytest.mark.usefixtures("workdir")

GROUP_ADMIN = 5001
ALICE = 7101
ADMIN = PRIVATE_CHAT  # a bot admin, in a private chat
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# PTB's default read timeout is 5 s; the fake server answers later than that.
SLOWER_THAN_THE_CLIENT_S = 6


def _break_the_next_answer(server: FakeBotApi, fault: str) -> None:
    if fault == "too old":
        server.fail_next("answerCallbackQuery", 400, TOO_OLD)
    else:
        server.delay_next("answerCallbackQuery", SLOWER_THAN_THE_CLIENT_S)


async def _pushed_to_the_group(server: FakeBotApi, app) -> dict:
    """Today's passage pushed to the group (its quiz off: the check-in is all it earns)."""
    await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
    await ask(server, "/quiztime 关闭", GROUP_CHAT, user_id=GROUP_ADMIN)
    (daily,) = app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT))
    await daily.run(app)
    (push,) = [m for m in server.sent_messages(GROUP_CHAT) if "今日学习" in m.get("text", "")]
    return push


@pytest.mark.parametrize("fault", ["too old", "timed out"])
async def test_a_check_in_whose_answer_fails_still_earns_its_point_and_count(server, knowledge,
                                                                           fault):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge) as app:
        push = await _pushed_to_the_group(server, app)
        _break_the_next_answer(server, fault)
        mark = server.mark()
        server.push_update(server.callback_query(
            GROUP_CHAT, ALICE, push, push["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            first_name="Alice"))
        (edit,) = await server.wait_for("editMessageReplyMarkup", since=mark, timeout=10)
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
    assert edit.params["reply_markup"]["inline_keyboard"][0][0]["text"].endswith("(1)")
    assert "本周积分:1 分" in me.params["text"], "the check-in's point is not lost"


@pytest.mark.parametrize("method, status", [("answerCallbackQuery", 400),
                                            ("editMessageText", 500)])
async def test_a_publish_whose_answer_or_edit_fails_still_goes_live(server, folder, tokenizer,
                                                                   method, status):
    """The file is moved into the folder first: the rebuild must follow, or the lecture is
    on disk but not answered from, and a second 发布 says the upload expired."""
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        preview = await _send_file(server, "new.txt", NEW_LECTURE.encode("utf-8"))
        server.fail_next(method, status, TOO_OLD if status == 400 else None)
        mark = server.mark()
        server.push_update(server.callback_query(PRIVATE_CHAT, ADMIN, preview.result,
                                                 _buttons(preview)["发布"]))
        done = await server.wait_for("editMessageText",
                                     lambda c: c.params["text"].startswith("✅"), since=mark,
                                     timeout=RELOAD_TIMEOUT)
        answer = await ask(server, "党费要按期交吗")
    assert done[0].params["text"] == "✅ 已发布《党课:学习新党章》(2段),现在可以提问了。"
    assert "《党课:学习新党章》" in answer.params["text"]


async def test_a_review_choice_whose_answer_fails_is_still_linked(server, folder, tokenizer):
    knowledge = KnowledgeBase.load(folder, tokenizer)
    async with running_bot(server, knowledge, admin_ids=frozenset({ADMIN})):
        await ask(server, teach.UNANSWERED)
        listing = await ask(server, "/review", ADMIN)
        server.fail_next("answerCallbackQuery", 400, TOO_OLD)
        mark = server.mark()
        server.push_update(server.callback_query(ADMIN, ADMIN, listing.result,
                                                 _buttons(listing)["1 是这一段"]))
        (chosen,) = await server.wait_for("editMessageText", since=mark)
        await server.wait_for("sendMessage", lambda c: "您之前问的" in c.params["text"],
                              since=mark)  # the member who asked hears back
        answer = await ask(server, teach.UNANSWERED)
    assert chosen.params["text"].startswith(
        f"✅ 已记下:“{teach.UNANSWERED}” → {teach.LINKED_CITATION}")
    assert f"{teach.UNANSWERED}\t3.3" in (folder / f"{LECTURE_ID}{LINKS_SUFFIX}").read_text(
        encoding="utf-8")
    assert answer.params["text"].startswith("答:")  # the answering sentence first
    assert f"\n\n📖 {teach.LINKED_CITATION}" in answer.params["text"]


async def test_send_now_whose_answer_fails_still_sends(server, knowledge):
    await push_faults.subscribe_the_group_yesterday(server, knowledge)
    server.delay_next("sendMessage", SLOWER_THAN_THE_CLIENT_S, when=push_faults._is_push)
    async with running_bot(server, knowledge, admin_ids=push_faults.ADMINS,
                           clock=Clock(2026, 11, 27, 9, 0)):
        (alert,) = push_faults.sent_to(server, push_faults.GROUP_ADMIN)
        server.fail_next("answerCallbackQuery", 400, TOO_OLD)
        mark = server.mark()
        server.push_update(server.callback_query(
            push_faults.GROUP_ADMIN, push_faults.GROUP_ADMIN, alert,
            push_faults.buttons(alert)["立即发送"]))
        (edit,) = await server.wait_for("editMessageText", since=mark)
    assert edit.params["text"].endswith("✅ 已发送。")
    assert push_faults.group_pushes(server) == ["📖 今日学习 · 第1/6段"] * 2
    _, (push,) = await push_faults.stored_pushes()
    assert push.state == PushState.DELIVERED


@pytest.mark.parametrize("days_later, points", [(0, 1), (1, 1), (2, 0)])
async def test_a_check_in_whose_point_a_kill_cut_off_earns_it_on_the_next_press(
        server, knowledge, days_later, points):
    """The check-in and its point are written one after the other: a kill between them left
    the member checked in without the point, and pressing again only said "already". A press
    within a day makes it good, once (the award is once per member and push); an older
    check-in without a point may predate the points, and earns nothing later."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    clock = Clock(2026, 11, 23, 8, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        push = await _pushed_to_the_group(server, app)
        data = push["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        store = services.study_store(app)
        pushed = await store.push(int(data.removeprefix(CHECK_IN_PREFIX)))
        await store.check_in(pushed, ALICE, services.now(app))  # ... and the process died
        clock.now += timedelta(days=days_later)
        for _ in range(2):
            mark = server.mark()
            server.push_update(server.callback_query(GROUP_CHAT, ALICE, push, data,
                                                     first_name="Alice"))
            (answer,) = await server.wait_for("answerCallbackQuery", since=mark)
        me = await ask(server, "/me", GROUP_CHAT, user_id=ALICE, first_name="Alice")
    assert answer.params["text"] == texts.ALREADY_CHECKED_IN
    assert f"累计积分:{points} 分" in me.params["text"], "made good once, not twice"
