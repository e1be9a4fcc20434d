"""Sending the daily passage: jobs, the push itself, catch-up after downtime.

One JobQueue job per chat, named `daily:{chat_id}`, rebuilt from the database at start-up.
A push is claimed in the database before it is sent (see StudyStore.claim_push), so a scheduled
push goes out at most once a day however often the bot restarts. A chat that blocked the
bot is marked inactive; a group that became a supergroup keeps its plan under the new id.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot import services, texts
from bot.core.lectures import Library
from bot.core.render import passage_message
from bot.study.rules import missed_push_due, next_passage, parse_time, zone
from bot.study.store import Plan

log = logging.getLogger(__name__)

CHECK_IN_PREFIX = "c:"
# Set once the start-up catch-up has run (tests and health checks wait for it).
CATCH_UP_DONE_KEY = "catch_up_done"
# APScheduler skips a run that starts more than 1 s late by default; a push an hour late (a
# busy loop, a suspended machine) is still wanted, and the database claim prevents doubles.
DAILY_MISFIRE_GRACE_SECONDS = 3600
_AS_SOON_AS_STARTED = datetime(2000, 1, 1, tzinfo=UTC)
RESTART_DATA, STOP_DATA = "e:restart", "e:stop"
# Features acting on the daily study register async listeners under these bot_data keys:
# PUSH_DELIVERED_LISTENERS: listener(app, push) right after a push is recorded as delivered;
# CHECKED_IN_LISTENERS: listener(app, push, user_id) after a member's new ✅ 已学习.
PUSH_DELIVERED_LISTENERS = "push_delivered_listeners"
CHECKED_IN_LISTENERS = "checked_in_listeners"


def now_of(app: Application) -> datetime:
    return services.now(app)


def job_name(chat_id: int) -> str:
    return f"daily:{chat_id}"


def schedule_job(app: Application, plan: Plan) -> None:
    """(Re)creates the chat's one daily job from its plan; an inactive plan gets none."""
    unschedule_job(app, plan.chat_id)
    if not plan.active or app.job_queue is None:
        return
    at = (parse_time(plan.time_of_day) or parse_time("08:00")).replace(tzinfo=zone(plan.timezone))
    app.job_queue.run_daily(daily_job, time=at, days=plan.weekdays,
                            name=job_name(plan.chat_id), chat_id=plan.chat_id,
                            job_kwargs={"misfire_grace_time": DAILY_MISFIRE_GRACE_SECONDS})


async def pause_plan(app: Application, chat_id: int) -> None:
    """Stops a chat's daily pushes; its plan and progress stay for a later /subscribe."""
    await services.study_store(app).set_active(chat_id, False)
    unschedule_job(app, chat_id)


def unschedule_job(app: Application, chat_id: int) -> None:
    if app.job_queue is None:
        return
    for job in app.job_queue.get_jobs_by_name(job_name(chat_id)):
        job.schedule_removal()


async def daily_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = context.job.chat_id
    plan = await services.study_store(context.application).plan(chat_id)
    if plan is None or not plan.active:
        unschedule_job(context.application, chat_id)
        return
    await push_next(context.application, plan, "scheduled")


async def restore_jobs(app: Application) -> None:
    """At start-up: one job per active plan; today's missed pushes follow in the background.

    The catch-up runs as a job as soon as the JobQueue has started, not here: start-up (and
    so answering members) does not wait for hundreds of rate-limited sends, and a push time
    that passes while the bot starts is still caught (APScheduler computes a job's first run
    when it starts, so such a push would be neither missed at a check here nor run).
    """
    for plan in await services.study_store(app).active_plans():
        schedule_job(app, plan)
    app.bot_data[CATCH_UP_DONE_KEY] = asyncio.Event()
    if app.job_queue is not None:
        # A time already past means "as soon as the JobQueue starts", whatever its clock.
        app.job_queue.run_once(_catch_up_job, when=_AS_SOON_AS_STARTED, name="catch-up",
                               job_kwargs={"misfire_grace_time": None})


async def _catch_up_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        await catch_up(context.application)
    finally:
        context.application.bot_data[CATCH_UP_DONE_KEY].set()


async def catch_up(app: Application) -> None:
    """Sends each active chat's missed push of today; one chat's failure skips only it."""
    store = services.study_store(app)
    now = now_of(app)
    plans = await store.active_plans()
    days = {plan.chat_id: now.astimezone(zone(plan.timezone)).date() for plan in plans}
    pushed = await store.chats_with_scheduled_push(set(days.values()))
    for plan in plans:
        try:
            if missed_push_due(plan, now, (plan.chat_id, days[plan.chat_id]) in pushed):
                log.info("sending the push chat %s missed while the bot was down",
                         plan.chat_id)
                await push_next(app, plan, "scheduled")
        except Exception:
            log.exception("catch-up push for chat %s failed", plan.chat_id)


async def push_next(app: Application, plan: Plan, kind: str) -> None:
    """Sends the plan's next passage.

    The plan is read again first: a catch-up of many chats takes a while, and an admin may
    have stopped or switched the plan since the list was read.
    """
    library: Library = services.knowledge(app).library
    store = services.study_store(app)
    plan = await store.plan(plan.chat_id)
    if plan is None or (kind == "scheduled" and not plan.active):
        return
    if library.lecture(plan.lecture_id) is None:
        await _lecture_gone(app, plan)
        return
    progress = next_passage(library, plan)
    if progress.passage is None:
        return
    moved = plan.last_passage_id is not None and library.passage(plan.last_passage_id) is None
    local_date = now_of(app).astimezone(zone(plan.timezone)).date()
    push = await store.claim_push(plan.chat_id, local_date, progress.passage.passage_id, kind)
    if push is None:
        return
    header = texts.PUSH_HEADER.format(number=progress.number, total=progress.total,
                                      citation=progress.passage.citation)
    text = passage_message(header, progress.passage)
    message = await _send(app, plan.chat_id, text, checkin_keyboard(push.push_id, 0),
                          ParseMode.HTML)
    if message is None:
        return
    await store.complete_push(push.push_id, message.message_id, message.chat_id,
                              progress.passage.passage_id)
    await notify_listeners(app, PUSH_DELIVERED_LISTENERS,
                           replace(push, chat_id=message.chat_id, message_id=message.message_id))
    if moved:
        await _send(app, message.chat_id, texts.PLAN_PASSAGE_MOVED, None)
    if progress.number == progress.total:
        await _send(app, message.chat_id,
                    texts.LECTURE_FINISHED.format(lecture=progress.passage.lecture_title),
                    finished_keyboard())
    elif kind == "manual":
        await _send(app, message.chat_id, texts.PUSH_MANUAL_NOTE, None)


async def notify_listeners(app: Application, key: str, *args) -> None:
    """Calls the listeners registered under `key`; one that fails is logged, never in the way."""
    for listener in list(app.bot_data.get(key, ())):
        try:
            await listener(app, *args)
        except Exception:
            log.exception("%s: listener %s failed", key, getattr(listener, "__name__", listener))


async def _lecture_gone(app: Application, plan: Plan) -> None:
    """The plan's lecture was retired: pause the plan and tell the chat once."""
    await pause_plan(app, plan.chat_id)
    await _send(app, plan.chat_id, texts.PLAN_LECTURE_GONE.format(file=plan.lecture_id), None)


async def _send(app: Application, chat_id: int, text: str,
                keyboard: InlineKeyboardMarkup | None,
                parse_mode: ParseMode | None = None) -> Message | None:
    """Sends to a chat, following a supergroup migration; None if the chat is gone."""
    try:
        return await app.bot.send_message(chat_id, text, reply_markup=keyboard,
                                          parse_mode=parse_mode)
    except ChatMigrated as migrated:
        if not await move_chat(app, chat_id, migrated.new_chat_id):
            return None  # the supergroup already has a plan of its own: leave it be
        return await _send(app, migrated.new_chat_id, text, keyboard, parse_mode)
    except Forbidden as error:
        log.warning("chat %s blocked or removed the bot (%s); plan paused", chat_id, error)
        await pause_plan(app, chat_id)
        return None
    except TelegramError as error:
        log.error("push to chat %s failed: %s", chat_id, error)
        return None


async def move_chat(app: Application, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup: the plan, its history and its job move along.

    Returns False if the supergroup already had a plan, which then wins (the old one is
    paused).
    """
    store = services.study_store(app)
    moved = await store.migrate_chat(old_chat_id, new_chat_id)
    unschedule_job(app, old_chat_id)
    plan = await store.plan(new_chat_id)
    if plan is not None:
        schedule_job(app, plan)
    app.migrate_chat_data(old_chat_id=old_chat_id, new_chat_id=new_chat_id)
    return moved


def checkin_keyboard(push_id: int, count: int) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(texts.BUTTON_CHECK_IN.format(count=count),
                                  callback_data=f"{CHECK_IN_PREFIX}{push_id}")
    return InlineKeyboardMarkup([[button]])


def finished_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_RESTART, callback_data=RESTART_DATA),
        InlineKeyboardButton(texts.BUTTON_STOP, callback_data=STOP_DATA),
    ]])

