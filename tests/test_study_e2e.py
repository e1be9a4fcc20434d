"""Daily study end to end: commands, check-ins, admin rules, restarts and catch-up pushes.

The real Application polls the fake Bot API server; the clock is injected so the catch-up
rules are tested at chosen times of day; jobs are fired with `Job.run`, not by waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import services, texts
from bot.stores import Stores
from bot.study.alerts import RESEND_PREFIX
from bot.study.delivery import SWEEP_JOB_NAME, job_name, sync_jobs
from bot.study.store import PushState
from tests.botharness import (
    GROUP_CHAT,
    MEMBER,
    PRIVATE_CHAT,
    SHANGHAI,
    Clock,
    ask,
    database,
    running_bot,
)
from tests.conftest import LECTURE_ID

pytestmark = pytest.mark.usefixtures("workdir", "bot_engine")

GROUP_ADMIN = 5001


def _buttons(call) -> dict[str, str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def _stored_plan(db: Path | str, chat_id: int):
    stores = await Stores.open(db)
    try:
        return await stores.study.plan(chat_id)
    finally:
        await stores.close()


async def test_subscribe_push_and_check_in_once_per_member(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)) as app:
        subscribed = await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert "已开始每日学习《党课:发挥模范带头作用 规范网络行为》" in subscribed.params["text"]
        assert "每天 08:00" in subscribed.params["text"]
        pushed = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert pushed.params["text"].startswith("📖 今日学习 · 第1/6段")
        assert "开篇 · 第1段" in pushed.params["text"]
        (button,) = _buttons(pushed).items()
        assert button[0] == "✅ 已学习 (0)"
        app.bot_data.setdefault("counter_last_edit", {}).clear()
        for user in (MEMBER, MEMBER, 77):
            mark = server.mark()
            server.push_update(server.callback_query(GROUP_CHAT, user, pushed.result,
                                                     button[1]))
            await server.wait_for("answerCallbackQuery", since=mark)
        answers = [c.params.get("text") for c in server.calls("answerCallbackQuery")]
        assert answers == ["已记录,谢谢学习!", "你已经打过卡了。", "已记录,谢谢学习!"]
        count = await services.study_store(app).checkin_count(1)
        assert count == 2, "each member counts once"
        plan = await ask(server, "/plan", GROUP_CHAT)
    assert "已推送 1/6 段" in plan.params["text"]
    assert "下一段:《党课:发挥模范带头作用 规范网络行为》· 一、统一思想… · 第1段" \
        in plan.params["text"]


@pytest.mark.parametrize("command", ["/schedule 25:61", "/schedule abc", "/schedule",
                                     "/schedule 8:00 周末", "/schedule 8:00 每天 多余"])
async def test_bad_schedule_gets_usage_and_changes_nothing(server, knowledge, command):
    async with running_bot(server, knowledge):
        await ask(server, "/subscribe")
        reply = await ask(server, command)
    assert reply.params["text"].startswith("用法:/schedule")
    plan = await _stored_plan(database(), PRIVATE_CHAT)
    assert plan.time_of_day == "08:00" and plan.weekdays == (0, 1, 2, 3, 4, 5, 6)


async def test_schedule_confirms_hhmm_and_reschedules_the_job(server, knowledge):
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 21, 0)) as app:
        await ask(server, "/subscribe")
        reply = await ask(server, "/schedule 7:5 工作日")
        assert reply.params["text"] == texts.SCHEDULE_USAGE
        reply = await ask(server, "/schedule 20:30 工作日")
        (job,) = app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT))
    assert reply.params["text"].startswith("好的,以后工作日 20:30 推送。")
    assert "今天的推送时间已过" in reply.params["text"]
    assert job.next_t.astimezone(SHANGHAI).strftime("%H:%M") == "20:30"


async def test_unknown_lecture_lists_the_lectures(server, knowledge):
    async with running_bot(server, knowledge):
        reply = await ask(server, "/subscribe 不存在的讲稿")
    assert "没有找到讲稿“不存在的讲稿”" in reply.params["text"]
    assert "party-lecture-online-conduct.txt" in reply.params["text"]
    assert await _stored_plan(database(), PRIVATE_CHAT) is None


async def test_group_admin_rules(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, admin_ids=frozenset({9999})):
        refused = await ask(server, "/subscribe", GROUP_CHAT, user_id=MEMBER)
        assert refused.params["text"] == "抱歉,只有本群管理员可以这样操作。"
        assert await _stored_plan(database(), GROUP_CHAT) is None
        accepted = await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert accepted.params["text"].startswith("已开始每日学习")
        server.chat_admins[GROUP_CHAT].append(MEMBER)  # promoted a moment ago
        promoted = await ask(server, "/schedule 09:00", GROUP_CHAT, user_id=MEMBER)
        assert promoted.params["text"].startswith("好的,以后每天 09:00 推送。")
        global_admin = await ask(server, "/stats", GROUP_CHAT, user_id=9999)
        assert global_admin.params["text"].startswith("📊 学习统计")
        anyone = await ask(server, "/today", GROUP_CHAT, user_id=424242)
        assert anyone.params["text"] == "还没有推送过学习内容。"


async def test_restart_keeps_plan_job_progress_and_old_buttons(server, knowledge):
    clock = Clock(2026, 11, 27, 10, 0)
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=clock):
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        pushed = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        server.push_update(server.callback_query(GROUP_CHAT, 1, pushed.result,
                                                 _buttons(pushed)["✅ 已学习 (0)"]))
        await server.wait_for("editMessageReplyMarkup")
    async with running_bot(server, knowledge, clock=clock) as app:
        assert app.job_queue.get_jobs_by_name(job_name(GROUP_CHAT)), "job rebuilt"
        mark = server.mark()
        server.push_update(server.callback_query(GROUP_CHAT, 2, pushed.result,
                                                 _buttons(pushed)["✅ 已学习 (0)"]))
        (edit,) = await server.wait_for("editMessageReplyMarkup", since=mark)
        plan = await ask(server, "/plan", GROUP_CHAT)
    assert edit.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ 已学习 (2)"
    assert "已推送 1/6 段" in plan.params["text"]


async def _subscribe_yesterday(server, knowledge) -> None:
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 26, 12, 0)):
        await ask(server, "/subscribe")


def _pushes(server) -> list:
    return [c for c in server.calls("sendMessage") if "今日学习" in c.params["text"]]


async def test_missed_push_is_sent_once_however_often_the_bot_restarts(server, knowledge):
    await _subscribe_yesterday(server, knowledge)
    server.clear()
    for minute in (0, 5, 30):  # down at 08:00, back at 09:00, restarted twice more
        async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 9, minute)):
            pass
    assert len(_pushes(server)) == 1
    assert _pushes(server)[0].params["text"].startswith("📖 今日学习 · 第1/6段")


async def test_no_catch_up_before_the_time_or_after_a_late_schedule_change(server, knowledge):
    await _subscribe_yesterday(server, knowledge)
    server.clear()
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 7, 30)):
        pass
    assert _pushes(server) == [], "07:30 is before the 08:00 push"
    clock = Clock(2026, 11, 27, 10, 0)
    async with running_bot(server, knowledge, clock=clock):
        pass  # 10:00: the missed 08:00 push goes out now
    async with running_bot(server, knowledge, clock=clock):
        await ask(server, "/schedule 09:00")  # changed after today's time
    server.clear()
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 28, 8, 0)):
        pass
    assert _pushes(server) == [], "the new schedule first fires at 09:00"


async def test_job_fires_and_manual_push_does_not_replace_it(server, knowledge):
    clock = Clock(2026, 11, 27, 7, 0)
    async with running_bot(server, knowledge, clock=clock) as app:
        await ask(server, "/subscribe")
        await ask(server, "/push")  # manual, extra
        await server.wait_for("sendMessage", lambda c: "额外推送" in c.params["text"])
        (job,) = app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT))
        clock.now += timedelta(hours=1)
        await job.run(app)
        await job.run(app)  # a second firing the same day sends nothing
    headers = [c.params["text"].split("\n")[0] for c in _pushes(server)]
    assert headers == ["📖 今日学习 · 第1/6段", "📖 今日学习 · 第2/6段"]


async def test_blocked_chat_is_marked_inactive_and_others_still_get_theirs(server, knowledge):
    clock = Clock(2026, 11, 26, 12, 0)
    async with running_bot(server, knowledge, clock=clock):
        await ask(server, "/subscribe")
        await ask(server, "/subscribe", chat_id=2002)
    server.clear()
    server.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 9, 0)) as app:
        assert not app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT))
    assert [c.params["chat_id"] for c in _pushes(server) if c.ok] == [2002]
    assert (await _stored_plan(database(), PRIVATE_CHAT)).active is False
    assert (await _stored_plan(database(), 2002)).active is True


async def test_group_that_became_a_supergroup_keeps_its_plan(server, knowledge):
    old, new = -4001, -1004001
    server.chat_admins[old] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 26, 12, 0)):
        await ask(server, "/subscribe", old, user_id=GROUP_ADMIN)
    server.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded to a "
                     "supergroup chat", migrate_to_chat_id=new)
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 9, 0)) as app:
        assert app.job_queue.get_jobs_by_name(job_name(new))
    assert [c.params["chat_id"] for c in _pushes(server) if c.ok] == [new]
    assert await _stored_plan(database(), old) is None
    assert (await _stored_plan(database(), new)).lecture_id == LECTURE_ID


async def test_end_of_lecture_asks_admins_to_restart_or_stop(server, knowledge):
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)):
        await ask(server, "/subscribe")
        for _ in range(6):
            await ask(server, "/push")
        (note,) = await server.wait_for("sendMessage",
                                        lambda c: "全部推送完毕" in c.params["text"])
        assert _pushes(server)[-1].params["text"].startswith("📖 今日学习 · 第6/6段")
        nothing = await ask(server, "/push")
        assert "已经全部推送完毕" in nothing.params["text"]
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, note.result,
                                                 _buttons(note)["重新开始"]))
        (edit,) = await server.wait_for("editMessageText")
        again = await ask(server, "/push")
    assert edit.params["text"].startswith("好的,《党课")
    assert again.params["text"].startswith("📖 今日学习 · 第1/6段")


async def test_stats_show_check_ins_top_and_unanswered_questions(server, knowledge):
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)):
        await ask(server, "/subscribe")
        pushed = await ask(server, "/push")
        server.push_update(server.callback_query(PRIVATE_CHAT, PRIVATE_CHAT, pushed.result,
                                                 _buttons(pushed)["✅ 已学习 (0)"]))
        await server.wait_for("editMessageReplyMarkup")
        for question in ("网民规模有多大", "网民规模有多大", "党费怎么交"):
            await ask(server, question)
        stats = await ask(server, "/stats")
    text = stats.params["text"]
    assert "今天打卡:1 人次" in text and "本周打卡:1 人次(1 人)" in text
    assert "· 网民规模有多大(2次)" in text
    # The records' names follow the counts after a blank line.
    assert text.split("讲稿没能回答的问题:")[1].strip().split("\n\n")[0] == "· 党费怎么交(1次)"


async def test_today_shows_the_latest_push_to_anyone(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)):
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        await server.wait_for("sendMessage", lambda c: "额外推送" in c.params["text"])
        today = await ask(server, "/today", GROUP_CHAT, user_id=MEMBER)
    assert today.params["text"].startswith("📖 今日学习 · 第1/6段")
    assert "✅ 已学习 (0)" in _buttons(today)


async def test_replying_to_the_daily_push_is_not_a_question(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)):
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        pushed = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        await server.wait_for("sendMessage", lambda c: "额外推送" in c.params["text"])
        mark = server.mark()
        server.push_update(server.text_message(GROUP_CHAT, "学习了", MEMBER,
                                               reply_to=pushed.result))
        answer = await ask(server, "@lecture_test_bot 网民规模有多大", GROUP_CHAT, user_id=MEMBER)
    replies = [c for c in server.calls("sendMessage") if c.seq > mark]
    assert replies == [answer], "the reply to the push got no answer"


async def test_an_anonymous_group_admin_may_manage(server, knowledge):
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    update = server.text_message(GROUP_CHAT, "/subscribe", 1087968824)  # GroupAnonymousBot
    update["message"]["sender_chat"] = {"id": GROUP_CHAT, "type": "supergroup",
                                        "title": "学习小组"}
    async with running_bot(server, knowledge):
        mark = server.mark()
        server.push_update(update)
        (reply,) = await server.wait_for("sendMessage", since=mark)
    assert reply.params["text"].startswith("已开始每日学习")


async def test_a_burst_of_check_ins_in_a_group_edits_the_counter_twice(server, knowledge,
                                                                      monkeypatch):
    """Telegram limits a bot's edits in a group: the first press is shown at once, the rest
    of the burst in one edit when the interval has passed, with the count then."""
    from bot.study import counter

    monkeypatch.setattr(counter, "COUNTER_EDIT_INTERVAL_S", 0.5)
    group = -100500600
    server.chat_admins[group] = [PRIVATE_CHAT]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)):
        await ask(server, "/subscribe", group, user_id=PRIVATE_CHAT)
        pushed = await ask(server, "/push", group, user_id=PRIVATE_CHAT)
        data = _buttons(pushed)["✅ 已学习 (0)"]
        mark = server.mark()
        for user in range(1, 9):
            server.push_update(server.callback_query(group, user, pushed.result, data))
        await server.wait_for("answerCallbackQuery", count=8, since=mark)
        edits = await server.wait_for("editMessageReplyMarkup", count=2, since=mark)
        await asyncio.sleep(0.8)  # nothing more comes
        later = [c for c in server.calls("editMessageReplyMarkup") if c.seq > mark]
    labels = [e.params["reply_markup"]["inline_keyboard"][0][0]["text"] for e in edits]
    assert len(later) == 2
    assert labels[0] == "✅ 已学习 (1)" and labels[1] == "✅ 已学习 (8)"


async def test_a_push_a_dead_instance_left_in_flight_is_settled_by_the_sweep(server, knowledge):
    """Another instance (several share a PostgreSQL database) was killed sending a /push: the
    push stays `sending` and the chat's next push is refused as busy, until the scheduler's
    sweep finds its instance gone, records the push as unknown and tells the admins."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        store = services.study_store(app)
        ours, store.instance = store.instance, "gone-host:4242:dead00"
        orphan = await store.claim_push(GROUP_CHAT, date(2026, 11, 27), f"{LECTURE_ID}:0.1",
                                        "manual")
        store.instance = ours
        busy = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        assert busy.params["text"] == texts.PUSH_BUSY
        (sweep,) = app.job_queue.get_jobs_by_name(SWEEP_JOB_NAME)
        mark = server.mark()
        await sweep.run(app)
        (told,) = await server.wait_for(
            "sendMessage", lambda c: c.params["chat_id"] == GROUP_ADMIN, since=mark)
        assert (await store.push(orphan.push_id)).state == PushState.UNKNOWN
        pushed = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
    resend = [button["callback_data"]
              for row in told.params["reply_markup"]["inline_keyboard"] for button in row]
    assert resend == [f"{RESEND_PREFIX}{orphan.push_id}"], "the admins can send it again"
    assert pushed.params["text"].startswith("📖 今日学习")


async def test_the_daily_jobs_follow_the_database_and_an_unchanged_job_stays(server, knowledge):
    """What the scheduler does when another instance changed a plan: only the changed job is
    scheduled again (a job replaced at its own minute would miss its run)."""
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)) as app:
        await ask(server, "/subscribe")
        store = services.study_store(app)
        (before,) = app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT))
        await sync_jobs(app)
        assert app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT)) == (before,)
        plan = await store.plan(PRIVATE_CHAT)
        await store.save_plan(replace(plan, time_of_day="21:30"))  # as another instance would
        await sync_jobs(app)
        (after,) = app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT))
        assert after is not before and after.data[0] == "21:30"
        await store.set_active(PRIVATE_CHAT, False)
        await sync_jobs(app)
        assert app.job_queue.get_jobs_by_name(job_name(PRIVATE_CHAT)) == ()


async def test_on_a_shared_database_the_count_is_shown_again_after_the_interval(
        server, knowledge, bot_engine):
    """With several instances another may edit the counter in between with an older count:
    on PostgreSQL the first press's edit is followed by one more after the interval."""
    server.chat_admins[GROUP_CHAT] = [GROUP_ADMIN]
    async with running_bot(server, knowledge, clock=Clock(2026, 11, 27, 10, 0)) as app:
        await ask(server, "/subscribe", GROUP_CHAT, user_id=GROUP_ADMIN)
        pushed = await ask(server, "/push", GROUP_CHAT, user_id=GROUP_ADMIN)
        (check_in,) = _buttons(pushed).values()
        mark = server.mark()
        server.push_update(server.callback_query(GROUP_CHAT, MEMBER, pushed.result, check_in))
        await server.wait_for("editMessageReplyMarkup", since=mark)
        name = f"counter:{GROUP_CHAT}:{pushed.result['message_id']}"
        for _ in range(40):  # the later edit is planned once the first edit's answer is in
            if app.job_queue.get_jobs_by_name(name):
                break
            await asyncio.sleep(0.05)
        later = app.job_queue.get_jobs_by_name(name)
        assert len(later) == (1 if bot_engine == "postgresql" else 0)
