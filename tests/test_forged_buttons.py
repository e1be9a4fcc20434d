"""Forged button presses: clients may send any callback data, on any message, in any chat.

A ✅ counts only on its push's own message (or a copy the bot sent: /today, a private
reminder) in that push's chat, pressed by someone who may study there; every other prefix
checks the presser and the chat again. Forged, malformed and out-of-range data get a short
refusal (never "抱歉,这次回答失败了") and change nothing. The real Application polls the
fake Bot API server; presses are built by the test with whatever data an attacker likes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import services, texts
from bot.core.navigation import lecture_key
from bot.study.delivery import CHECK_IN_PREFIX
from tests import test_push_faults as push_faults
from tests.botharness import Clock, ask, running_bot
from tests.conftest import LECTURE_ID
from tests.fakebotapi import FakeBotApi

pytestmark = pytest.mark.usefixtures("workdir", "bot_engine")

GROUP_B = -100900900
B_ADMIN = 5002
B_MEMBER = 7202
OUTSIDER = 8101  # a stranger, in his own private chat with the bot
GLOBAL_ADMIN = 9901
CLOCK = (2026, 11, 27, 10, 0)


def _buttons(call) -> dict[str, str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def _press(server: FakeBotApi, chat_id: int, user_id: int, message, data: str):
    """Presses and returns the answerCallbackQuery call (the refusal, the thanks)."""
    mark = server.mark()
    server.push_update(server.callback_query(chat_id, user_id, message, data))
    (answer,) = await server.wait_for("answerCallbackQuery", since=mark)
    return answer


async def _say(server: FakeBotApi, chat_id: int, text: str = "你好", user_id: int | None = None):
    """Sends a message and returns the bot's reply in that chat (not a note elsewhere)."""
    mark = server.mark()
    server.push_update(server.text_message(chat_id, text, user_id=user_id))
    (call,) = await server.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == chat_id, since=mark)
    return call


async def _group_push(server: FakeBotApi):
    """Group B subscribes and gets its push; returns the push's sendMessage call."""
    await _say(server, GROUP_B, "/subscribe", B_ADMIN)
    pushed = await _say(server, GROUP_B, "/push", B_ADMIN)
    await server.wait_for("sendMessage", lambda c: "额外推送" in c.params["text"])
    return pushed


async def _checkins(app, push_id: int) -> int:
    return await services.study_store(app).checkin_count(push_id)


async def test_a_check_in_forged_from_another_chat_is_refused(server, knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        pushed = await _group_push(server)
        data = _buttons(pushed)["✅ 已学习 (0)"]
        push_id = int(data.removeprefix(CHECK_IN_PREFIX))
        own = await _say(server, OUTSIDER)  # any message of the outsider's own chat
        answer = await _press(server, OUTSIDER, OUTSIDER, own.result, data)
        assert answer.params["text"] == texts.CHECK_IN_REFUSED
        assert await _checkins(app, push_id) == 0
        board = await services.stores(app).quiz.weekly_board(GROUP_B, (
            services.now(app) - timedelta(days=7)).date())
        assert all(standing.user_id != OUTSIDER for standing in board)
        assert await services.stores(app).members.member(GROUP_B, OUTSIDER) is None
        # The genuine press still counts.
        answer = await _press(server, GROUP_B, B_MEMBER, pushed.result, data)
        assert answer.params["text"] == texts.CHECKED_IN
        assert await _checkins(app, push_id) == 1


async def test_a_check_in_on_another_message_of_the_same_group_is_refused(server, knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        pushed = await _group_push(server)
        data = _buttons(pushed)["✅ 已学习 (0)"]
        other = await _say(server, GROUP_B, "/plan", B_MEMBER)
        answer = await _press(server, GROUP_B, B_MEMBER, other.result, data)
        assert answer.params["text"] == texts.CHECK_IN_REFUSED
        assert await _checkins(app, int(data.removeprefix(CHECK_IN_PREFIX))) == 0


async def test_a_check_in_of_another_push_on_this_push_is_refused(server, knowledge):
    """Group A's real push message, with group B's push id in the data."""
    group_a, a_admin = -100800800, 5003
    server.chat_admins[GROUP_B] = [B_ADMIN]
    server.chat_admins[group_a] = [a_admin]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        b_push = await _group_push(server)
        await _say(server, group_a, "/subscribe", a_admin)
        a_push = await _say(server, group_a, "/push", a_admin)
        b_data = _buttons(b_push)["✅ 已学习 (0)"]
        answer = await _press(server, group_a, a_admin, a_push.result, b_data)
        assert answer.params["text"] == texts.CHECK_IN_REFUSED
        assert await _checkins(app, int(b_data.removeprefix(CHECK_IN_PREFIX))) == 0


async def test_a_visitor_who_is_not_a_member_cannot_check_in(server, knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN]
    server.outsiders[GROUP_B] = {OUTSIDER}  # reads a public group without joining it
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        pushed = await _group_push(server)
        data = _buttons(pushed)["✅ 已学习 (0)"]
        answer = await _press(server, GROUP_B, OUTSIDER, pushed.result, data)
        assert answer.params["text"] == texts.CHECK_IN_REFUSED
        assert await _checkins(app, int(data.removeprefix(CHECK_IN_PREFIX))) == 0
        assert await services.members(app).member(GROUP_B, OUTSIDER) is None, "not on the roster"
        answer = await _press(server, GROUP_B, B_MEMBER, pushed.result, data)
        assert answer.params["text"] == texts.CHECKED_IN
        assert await services.members(app).member(GROUP_B, B_MEMBER) is not None


async def test_todays_copy_of_the_push_counts_in_its_own_chat_only(server, knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        await _group_push(server)
        copy = await _say(server, GROUP_B, "/today", B_MEMBER)
        data = _buttons(copy)["✅ 已学习 (0)"]
        answer = await _press(server, GROUP_B, B_MEMBER, copy.result, data)
        assert answer.params["text"] == texts.CHECKED_IN
        assert await _checkins(app, int(data.removeprefix(CHECK_IN_PREFIX))) == 1


async def test_a_resend_button_is_refused_to_others_and_outside_a_private_chat(server,
                                                                                knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        pushed = await _group_push(server)
        push_id = _buttons(pushed)["✅ 已学习 (0)"].removeprefix(CHECK_IN_PREFIX)
        own = await _say(server, OUTSIDER)
        answer = await _press(server, OUTSIDER, OUTSIDER, own.result, f"r:{push_id}")
        assert answer.params["text"] == texts.NOT_ALLOWED
        # B's own admin, but pressing in the group (the alert goes to admins in private).
        answer = await _press(server, GROUP_B, B_ADMIN, pushed.result, f"r:{push_id}")
        assert answer.params["text"] == texts.BUTTON_NOT_HERE
        assert len([c for c in server.calls("sendMessage")
                    if c.params["text"].startswith("📖 今日学习")]) == 1, "nothing resent"
        assert (await services.study_store(app).push(int(push_id))).attempts == 1


async def test_a_review_button_for_another_group_is_refused(server, knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)):
        own = await _say(server, OUTSIDER)
        for data in (f"rv:n:{GROUP_B}:q1", "rv:n:a:q1", "rv:p:g:q1:x"):
            answer = await _press(server, OUTSIDER, OUTSIDER, own.result, data)
            assert answer.params["text"] == texts.REVIEW_NOT_ALLOWED, data
        # B's admin, with B's scope, but on a message in his private chat: a group's review
        # lives in that group.
        private = await _say(server, B_ADMIN)
        answer = await _press(server, B_ADMIN, B_ADMIN, private.result, f"rv:n:{GROUP_B}:q1")
        assert answer.params["text"] == texts.REVIEW_NOT_HERE


async def test_a_review_button_naming_another_groups_question_is_refused(server, knowledge):
    group_a, a_admin = -100800800, 5003
    server.chat_admins[GROUP_B] = [B_ADMIN]
    server.chat_admins[group_a] = [a_admin]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)) as app:
        await _say(server, group_a, "/ask 女党员有多少", a_admin)  # logged as question 1
        in_b = await _say(server, GROUP_B, "/plan", B_MEMBER)
        answer = await _press(server, GROUP_B, B_ADMIN, in_b.result, f"rv:n:{GROUP_B}:q1")
        assert answer.params["text"] == texts.REVIEW_GONE
        assert await services.teach_store(app).group_links([group_a, GROUP_B]) == []
        listing = await _say(server, group_a, "/review", a_admin)
        assert "女党员有多少" in listing.params["text"], "still waiting for A's own admins"


async def test_publish_buttons_work_only_for_global_admins_in_their_private_chat(server,
                                                                                 knowledge):
    server.chat_admins[GROUP_B] = [B_ADMIN, GLOBAL_ADMIN]
    async with running_bot(server, knowledge, admin_ids=frozenset({GLOBAL_ADMIN})):
        own = await _say(server, OUTSIDER)
        for data in ("u:p:0123456789ab", "u:c:0123456789ab", "u:f:0123456789ab:1"):
            answer = await _press(server, OUTSIDER, OUTSIDER, own.result, data)
            assert answer.params["text"] == texts.ONLY_GLOBAL_ADMINS, data
        in_group = await _say(server, GROUP_B, "/plan", B_MEMBER)
        for data in ("u:p:0123456789ab", "u:c:0123456789ab", "u:f:0123456789ab:1"):
            answer = await _press(server, GROUP_B, GLOBAL_ADMIN, in_group.result, data)
            assert answer.params["text"] == texts.BUTTON_NOT_HERE, data


_TAG = lecture_key(LECTURE_ID)  # a real lecture's tag
MALFORMED = [
    "c:99999999999999999999999", "c:9223372036854775808", "c:-1", "c:0", "c:²", "c:",
    "c:1e3", "c:abc", "r:99999999999999999999999", "r:²", "r:",
    "rv:", "rv:p", "rv:x:a:q1", "rv:p:a:q99999999999999999999999:", "rv:r:a:q1:zz",
    "rv:n:-99999999999999999999999:q1", "rv:n:99999999999999999999999:q1",
    "m:", "m:,,,", "m:zz.99999999999999999999.1", "p:", "p:x.1.99999999999999999999999",
    "f:", "f:+", "f:*x.1.1", "f:-zz.99999999999999999999.1", "rd:", "rd:a.b.c", "ft:",
    "ft:nope", "qp:", "qp:x:99999999999999999999999", "qd:", "qd:x:1",
    "u:p:", "u:p:../../etc", "u:c:", "u:f:", "u:f:zz", "e:restart", "e:stop",
    "fp:", "fp:nope:1", f"fp:{_TAG}:99999999999999999999999", "sw:", "sw:nope",
    "e:restart:99999999999999999999999", "zz:1", "\u202e",
    f"qp:{_TAG}:²", f"qp:{_TAG}:99999999999999999999999", "qd:x:²",
]


@pytest.mark.parametrize("user", [OUTSIDER, GLOBAL_ADMIN])
async def test_malformed_and_out_of_range_data_is_refused_cleanly(server, knowledge, user):
    async with running_bot(server, knowledge, admin_ids=frozenset({GLOBAL_ADMIN}),
                           clock=Clock(*CLOCK)) as app:
        await ask(server, "/subscribe", user)
        own = await _say(server, user)
        for data in MALFORMED:
            mark = server.mark()
            server.push_update(server.callback_query(user, user, own.result, data))
            if data.startswith(("zz:", "\u202e", "e:restart:")):
                continue  # no handler claims it: left alone, like any unknown update
            (answer,) = await server.wait_for("answerCallbackQuery", since=mark)
            assert answer.params.get("text") != texts.ANSWER_FAILED, data
        await ask(server, "/plan", user)  # every press above was handled by now
        failures = [c for c in server.calls("sendMessage")
                    if c.params["text"] == texts.ANSWER_FAILED]
        assert failures == []
        assert await services.study_store(app).checkin_count(1) == 0


async def test_a_push_whose_send_timed_out_still_counts_on_its_own_message(server, knowledge):
    """The push's outcome is unknown (no message id on record); its real message in the
    group still takes check-ins, and its data on another message of the group does not."""
    group, member = push_faults.GROUP_CHAT, push_faults.MEMBER
    await push_faults.subscribe_the_group_yesterday(server, knowledge)
    server.delay_next("sendMessage", push_faults.SLOWER_THAN_THE_CLIENT_S,
                      when=push_faults._is_push)
    async with running_bot(server, knowledge, admin_ids=push_faults.ADMINS,
                           clock=Clock(2026, 11, 27, 9, 0)) as app:
        pushed = next(m for m in server.sent_messages(group)
                      if m["text"].startswith("📖 今日学习"))
        data = pushed["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        push_id = int(data.removeprefix(CHECK_IN_PREFIX))
        assert (await services.study_store(app).push(push_id)).message_id is None
        other = await _say(server, group, "/plan", member)
        answer = await _press(server, group, member, other.result, data)
        assert answer.params["text"] == texts.CHECK_IN_REFUSED
        answer = await _press(server, group, member, pushed, data)
        assert answer.params["text"] == texts.CHECKED_IN
        assert await _checkins(app, push_id) == 1


async def test_a_forged_vote_is_not_recorded(server, knowledge):
    async with running_bot(server, knowledge) as app:
        answered = await _say(server, OUTSIDER, "网民规模有多大")
        vote = next(b["callback_data"] for row in answered.params["reply_markup"][
            "inline_keyboard"] for b in row if b["text"] == "👎")
        forged = vote.rsplit(":", 1)[0] + ":0.1"  # the opening paragraph, never shown here
        assert forged != vote
        answer = await _press(server, OUTSIDER, OUTSIDER, answered.result, forged)
        assert answer.params["text"] == texts.BUTTON_EXPIRED
        assert await services.question_log(app).dislikes(None, 10) == []
        answer = await _press(server, OUTSIDER, OUTSIDER, answered.result, vote)
        assert answer.params["text"] == texts.FEEDBACK_THANKS
        assert len(await services.question_log(app).dislikes(None, 10)) == 1


async def test_a_lecture_page_turn_forged_on_a_push_leaves_the_push_as_it_is(server, knowledge):
    """上一页/下一页 data pressed on a message that has no such button (the group's push):
    refused, and the push keeps its text and its ✅ button."""
    server.chat_admins[GROUP_B] = [B_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(*CLOCK)):
        pushed = await _group_push(server)
        mark = server.mark()
        answer = await _press(server, GROUP_B, B_MEMBER, pushed.result,
                              f"fp:{lecture_key(LECTURE_ID)}:0")
        await ask(server, "/plan", GROUP_B)  # the press was handled by now
    assert answer.params["text"] == texts.BUTTON_EXPIRED
    assert [c for c in server.calls("editMessageText") if c.seq > mark] == []
    kept = server.message(GROUP_B, pushed.result["message_id"])
    assert kept["text"] == pushed.result["text"] and kept["reply_markup"]
