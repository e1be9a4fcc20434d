"""The daily push against a failing Telegram: each ends delivered once, or an admin is told.

The real Application polls the fake Bot API server, which injects the faults on the push's
sendMessage: a 500, 429 past the rate limiter's retries, 403, a refusal that lasts an hour,
and an answer slower than the client's timeout although the message was stored. The clock is
injected; retry jobs are run with `Job.run` instead of waiting for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.app import RATE_LIMIT_RETRIES
from bot.outcome import outcome_unknown
from bot.stores import Stores
from bot.study.delivery import PUSH_DELIVERED_LISTENERS, job_name
from bot.study.store import PushState
from tests.botharness import GROUP_CHAT, MEMBER, Clock, ask, running_bot
from tests.fakebotapi import FakeBotApi

pytestmark = pytest.mark.usefixtures("workdir")

GROUP_ADMIN = 5001
BOT_ADMIN = 9999
ADMINS = frozenset({BOT_ADMIN})
GROUP_TITLE = "Lecture Study Group"  # the fake server's default title
# PTB's default read timeout is 5 s; the fake server answers later than that.
SLOWER_THAN_THE_CLIENT_S = 6


def _is_push(params: dict) -> bool:
    return "今日学习" in str(params.get("text", ""))


def group_pushes(server: FakeBotApi) -> list[str]:
    """The headers of the pushes the group received (not /today's replies to a member)."""
    # The daily quiz follows a delivered push as a poll: only text messages are pushes.
    return [m["text"].split("\n")[0] for m in server.sent_messages(GROUP_CHAT)
            if "今日学习" in m.get("text", "") and "reply_to_message" not in m]


def sent_to(server: FakeBotApi, chat_id: int) -> list[dict]:
    return server.sent_messages(chat_id)


def buttons(message: dict) -> dict[str, str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def subscribe_the_group_yesterday(server: FakeBotApi, knowledge) -> None:
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, admin_ids=ADMINS,
                           clock=Clock(2026, 11, 26, 12, 0)):
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
    server.clear()


async def stored_pushes(db: Path = Path("bot.sqlite3")):
    stores = await Stores.open(db)
    try:
        plan = await stores.study.plan(GROUP_CHAT)
        pushes = [push for state in PushState
                  for push in await stores.study.pushes_in_state(state)]
        return plan, sorted(pushes, key=lambda push: push.push_id)
    finally:
        await stores.close()


def retry_jobs(app) -> list:
    return [job for job in app.job_queue.jobs() if job.name.startswith("retry:")]


async def run_retries(app) -> None:
    """Runs the pending retry jobs now, as the JobQueue would when they are due."""
    for job in retry_jobs(app):
        job.schedule_removal()
        await job.run(app)


async def plan_progress(server: FakeBotApi) -> str:
    reply = await ask(server, "/plan", GROUP_CHAT, user_id=MEMBER)
    return next(line for line in reply.params["text"].split("\n") if line.startswith("进度"))


async def test_one_500_is_retried_within_30_s_and_delivered_once(server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.fail_next("sendMessage", 500, "Internal Server Error")
    clock = Clock(2026, 11, 27, 9, 0)  # the 08:00 push was missed: the catch-up sends it
    delivered = []

    async def broken_listener(app, push) -> None:
        raise RuntimeError("a listener's bug")

    async def listener(app, push) -> None:
        delivered.append((push.push_id, push.state, push.message_id))

    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock) as app:
        app.bot_data[PUSH_DELIVERED_LISTENERS] = [broken_listener, listener]
        assert group_pushes(server) == []
        (job,) = retry_jobs(app)
        assert job.next_t - datetime.now(job.next_t.tzinfo) <= timedelta(seconds=30)
        await run_retries(app)
        await run_retries(app)  # nothing left to retry: sends nothing
        progress = await plan_progress(server)
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段"]
    assert progress == "进度:已推送 1/6 段"
    assert sent_to(server, GROUP_ADMIN) == [] and sent_to(server, BOT_ADMIN) == []
    _, (push,) = await stored_pushes()
    assert (push.state, push.attempts) == (PushState.DELIVERED, 2)
    assert delivered == [(push.push_id, PushState.DELIVERED, push.message_id)]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_past_the_rate_limiters_retries_is_retried_later(server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.fail_next("sendMessage", 429, retry_after=1, times=RATE_LIMIT_RETRIES + 1)
    async with running_bot(server, knowledge, admin_ids=ADMINS, rate_limiter=True,
                           clock=Clock(2026, 11, 27, 9, 0)) as app:
        refused = [c for c in server.calls("sendMessage") if not c.ok]
        assert len(refused) == RATE_LIMIT_RETRIES + 1, "the limiter retried, then gave up"
        assert group_pushes(server) == []
        await run_retries(app)
        progress = await plan_progress(server)
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段"]
    assert progress == "进度:已推送 1/6 段"
    assert sent_to(server, GROUP_ADMIN) == [] and sent_to(server, BOT_ADMIN) == []


async def test_a_refusal_for_an_hour_tells_the_group_admins_who_can_send_it_now(
        server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.fail_next("sendMessage", 502, times=50, when=_is_push)
    clock = Clock(2026, 11, 27, 9, 0)
    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock) as app:
        attempts = 1
        while retry_jobs(app):
            assert sent_to(server, GROUP_ADMIN) == [], "admins are told only at the end"
            clock.now += timedelta(minutes=16)
            await run_retries(app)
            attempts += 1
        (alert,) = sent_to(server, GROUP_ADMIN)
        assert sent_to(server, BOT_ADMIN) == [], "the group's admin was reached"
        assert f"「{GROUP_TITLE}」({GROUP_CHAT})" in alert["text"]
        assert "第1/6段" in alert["text"] and "开篇 · 第1段" in alert["text"]
        assert "没有发出" in alert["text"] and "进度没有前进" in alert["text"]
        assert await plan_progress(server) == "进度:已推送 0/6 段"

        server.clear_failures()  # Telegram is back
        send_now = buttons(alert)["立即发送"]
        mark = server.mark()
        server.push_update(server.callback_query(GROUP_ADMIN, MEMBER, alert, send_now))
        (refused,) = await server.wait_for("answerCallbackQuery", since=mark)
        assert refused.params["text"] == "抱歉,只有本群管理员可以这样操作。"
        for _ in range(2):  # pressed twice: sent once
            mark = server.mark()
            server.push_update(server.callback_query(GROUP_ADMIN, GROUP_ADMIN, alert,
                                                     send_now))
            (edit,) = await server.wait_for("editMessageText", since=mark)
        assert edit.params["text"].endswith("这一段已经发到群里了,不再重复发送。")
        progress = await plan_progress(server)
    assert attempts == 5
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段"]
    assert progress == "进度:已推送 1/6 段"
    plan, (push,) = await stored_pushes()
    assert push.state == PushState.DELIVERED and push.message_id is not None


async def test_403_pauses_the_plan_and_tells_the_bot_admins(server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    async with running_bot(server, knowledge, admin_ids=ADMINS,
                           clock=Clock(2026, 11, 27, 9, 0)) as app:
        assert not app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT)), "no more daily job"
        assert retry_jobs(app) == []
    (alert,) = sent_to(server, BOT_ADMIN)
    assert "被移出群或被屏蔽" in alert["text"] and "已暂停" in alert["text"]
    assert str(GROUP_CHAT) in alert["text"] and "第1/6段" in alert["text"]
    assert buttons(alert) == {}
    assert sent_to(server, GROUP_ADMIN) == []
    plan, (push,) = await stored_pushes()
    assert plan.active is False and plan.last_passage_id is None
    assert (push.state, push.reported) == (PushState.FAILED, True)


async def test_an_answer_slower_than_the_timeout_counts_once_and_is_never_resent(
        server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.delay_next("sendMessage", SLOWER_THAN_THE_CLIENT_S, when=_is_push)
    clock = Clock(2026, 11, 27, 9, 0)
    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock) as app:
        assert retry_jobs(app) == [], "an unknown outcome is never retried on its own"
        today = await ask(server, "/today", GROUP_CHAT, user_id=MEMBER)
        assert today.params["text"].startswith("📖 今日学习 · 第1/6段")
        assert await plan_progress(server) == "进度:已推送 1/6 段"
    (alert,) = sent_to(server, GROUP_ADMIN)
    assert "不确定" in alert["text"] and "不会自动重发" in alert["text"]
    assert "立即发送" in buttons(alert)
    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock):
        pass  # a restart the same day: nothing is resent, nobody is told twice
    clock.now += timedelta(days=1)
    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock):
        pass  # the next day's push: the next passage
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段", "📖 今日学习 · 第2/6段"]
    assert len(sent_to(server, GROUP_ADMIN)) == 1
    plan, pushes = await stored_pushes()
    assert [push.state for push in pushes] == [PushState.UNKNOWN, PushState.DELIVERED]
    assert pushes[0].message_id is None and plan.last_passage_id == pushes[1].passage_id


async def test_send_now_after_an_unknown_outcome_sends_once_more_and_keeps_the_plan(
        server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.delay_next("sendMessage", SLOWER_THAN_THE_CLIENT_S, when=_is_push)
    async with running_bot(server, knowledge, admin_ids=ADMINS,
                           clock=Clock(2026, 11, 27, 9, 0)):
        (alert,) = sent_to(server, GROUP_ADMIN)
        mark = server.mark()
        server.push_update(server.callback_query(GROUP_ADMIN, GROUP_ADMIN, alert,
                                                 buttons(alert)["立即发送"]))
        (edit,) = await server.wait_for("editMessageText", since=mark)
        progress = await plan_progress(server)
    assert edit.params["text"].endswith("✅ 已发送。")
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段"] * 2, "the admin chose to resend"
    assert progress == "进度:已推送 1/6 段"
    _, (push,) = await stored_pushes()
    assert push.state == PushState.DELIVERED


async def test_a_manual_push_waits_while_the_last_one_is_retried(server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.fail_next("sendMessage", 500)
    async with running_bot(server, knowledge, admin_ids=ADMINS,
                           clock=Clock(2026, 11, 27, 9, 0)) as app:
        busy = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert busy.params["text"] == "上一条推送还没有发出(正在发送或等待重试),请稍后再试。"
        await run_retries(app)
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段"]


async def test_a_retry_pending_at_shutdown_is_made_after_the_restart(server, knowledge):
    await subscribe_the_group_yesterday(server, knowledge)
    server.fail_next("sendMessage", 503, when=_is_push)
    clock = Clock(2026, 11, 27, 9, 0)
    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock) as app:
        assert len(retry_jobs(app)) == 1
    clock.now += timedelta(minutes=5)  # the retry was due while the bot was down: at once
    async with running_bot(server, knowledge, admin_ids=ADMINS, clock=clock) as app:
        await server.wait_for("sendMessage", lambda c: c.ok and _is_push(c.params))
        assert retry_jobs(app) == []
    assert group_pushes(server) == ["📖 今日学习 · 第1/6段"], "resumed, not sent twice"
    plan, (push,) = await stored_pushes()
    assert push.state == PushState.DELIVERED and plan.last_passage_id == push.passage_id


@pytest.mark.parametrize("error, cause, unknown", [
    (TimedOut(), httpx.ReadTimeout("read"), True),  # the request left; its answer did not come
    (NetworkError("reset"), httpx.ReadError("reset"), True),
    (TimedOut(), httpx.ConnectTimeout("connect"), False),  # nothing left this machine
    (TimedOut(), httpx.PoolTimeout("pool"), False),
    (NetworkError("refused"), httpx.ConnectError("refused"), False),
    (BadRequest("Chat not found"), None, False),  # Telegram answered
    (Forbidden("bot was blocked by the user"), None, False),
])
def test_only_a_request_that_left_unanswered_has_an_unknown_outcome(error, cause, unknown):
    """What push retries, quiz claims and teach follow-ups rely on: a request that may have
    been delivered is never repeated, one that never left is tried again."""
    error.__cause__ = cause
    assert outcome_unknown(error) is unknown
