"""Sending the daily passage: jobs, the push itself, retries, catch-up after downtime.

One JobQueue job per chat, named `daily:{chat_id}`, rebuilt from the database at start-up.
A push is recorded as `sending` before it is sent and settles in one of the states of
`PushState`, each in one transaction with the plan's advance:

- delivered: Telegram returned the message; the plan advances (`_delivered`, the one place);
- unknown: the request left but no answer came (a timeout, or the process was killed, found
  at start-up); the plan advances as if delivered, admins are told and may resend it with a
  button, it is never resent on its own;
- retrying: Telegram refused it (5xx, a flood limit past the rate limiter's retries); another
  attempt follows with backoff (`rules.retry_delay`) for an hour, then
- failed: admins are told, with a button to send it now. A 403 (the bot was removed or
  blocked) fails at once, pauses the plan and tells the bot admins.

A scheduled push goes out at most once a day however often the bot restarts (one row per chat
and day); a chat has at most one push sending or retrying, so no passage is sent twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes

from bot import services, texts
from bot.cluster import coordination
from bot.core.lectures import Library, lecture_of
from bot.core.navigation import lecture_key
from bot.core.render import whole_passage_message
from bot.outcome import outcome_unknown
from bot.study import alerts
from bot.study.rules import (
    RETRY_WINDOW,
    missed_push_due,
    next_passage,
    parse_time,
    passage_number,
    retry_delay,
    zone,
)
from bot.study.store import Plan, Push, PushState

log = logging.getLogger(__name__)

CHECK_IN_PREFIX = "c:"
# The buttons under "the plan's lecture was retired": `sw:<lecture key>` switches the plan.
CHOOSE_LECTURE_PREFIX = "sw:"
# At most this many lectures are offered as buttons (the others by /plan 讲稿名).
MAX_LECTURE_BUTTONS = 20
# Set once the start-up catch-up has run (tests and health checks wait for it).
CATCH_UP_DONE_KEY = "catch_up_done"
_PUSH_SLOTS_KEY = "push_slots"
# How often the scheduler looks for what a dead instance left half done.
SWEEP_INTERVAL_S = 60
SWEEP_JOB_NAME = "study:sweep"
PUSH_SLOTS = 8
# Other features (a daily quiz, …) follow delivered pushes: a list of
# `async def listener(app, push) -> None` under this bot_data key, called for each push that
# Telegram confirmed (not for unknown outcomes) once it is recorded, and again at the next
# start for the day's pushes, so that a kill in between is made good: a listener acts once
# per push however often it is called. A listener's exception is logged and never affects
# the delivery or the other listeners.
PUSH_DELIVERED_LISTENERS = "push_delivered_listeners"
# APScheduler skips a run that starts more than 1 s late by default; a push an hour late (a
# busy loop, a suspended machine) is still wanted, and the database claim prevents doubles.
DAILY_MISFIRE_GRACE_SECONDS = 3600
_AS_SOON_AS_STARTED = datetime(2000, 1, 1, tzinfo=UTC)
RESTART_DATA, STOP_DATA = "e:restart", "e:stop"
# CHECKED_IN_LISTENERS: `async def listener(app, push, user_id)` after each ✅ 已学习 press of a
# checked-in member (the daily quiz awards study points), a repeated one too, so that what a
# kill cut off is made good: listeners record once per member and push. Called like
# PUSH_DELIVERED_LISTENERS.
CHECKED_IN_LISTENERS = "checked_in_listeners"
# CHAT_MOVED_LISTENERS: `async def listener(app, old_chat_id, new_chat_id)` once a group that
# became a supergroup has its rows moved (every schema's, in one transaction): each feature
# moves its own jobs. Called like PUSH_DELIVERED_LISTENERS, possibly twice for one move.
CHAT_MOVED_LISTENERS = "chat_moved_listeners"
# Errors recorded on a push that was not refused by Telegram itself.
PLAN_CHANGED = "plan changed"
PASSAGE_GONE = "passage gone"
# The passage does not fit one message with its header: it is not sent cut short.
PASSAGE_TOO_LONG = texts.PUSH_PASSAGE_TOO_LONG
CHAT_MOVED = "chat moved"
INTERNAL_ERROR = "internal error"


class Outcome(StrEnum):
    """What one attempt (or a request for one) came to."""

    DELIVERED = "delivered"
    UNKNOWN = "unknown"
    RETRYING = "retrying"
    FAILED = "failed"
    FORBIDDEN = "forbidden"
    SKIPPED = "skipped"  # nothing to send (no plan, lecture or passage any more)
    BUSY = "busy"  # the chat has a push sending or retrying
    ALREADY_SENT = "already sent"  # a resend of a passage the chat already got


def now_of(app: Application) -> datetime:
    return services.now(app)


def local_today(app: Application) -> date:
    """Today in the bot's time zone (BOT_TIMEZONE), by the bot's clock."""
    return now_of(app).astimezone(zone(services.settings(app).timezone)).date()


def job_name(chat_id: int) -> str:
    return f"daily:{chat_id}"


def retry_job_name(push_id: int) -> str:
    return f"retry:{push_id}"


def schedule_job(app: Application, plan: Plan) -> None:
    """(Re)creates the chat's one daily job from its plan; an inactive plan gets none."""
    unschedule_job(app, plan.chat_id)
    if not plan.active or app.job_queue is None:
        return
    at = (parse_time(plan.time_of_day) or parse_time("08:00")).replace(tzinfo=zone(plan.timezone))
    app.job_queue.run_daily(daily_job, time=at, days=plan.weekdays,
                            name=job_name(plan.chat_id), chat_id=plan.chat_id,
                            data=_job_signature(plan),
                            job_kwargs={"misfire_grace_time": DAILY_MISFIRE_GRACE_SECONDS})


def _job_signature(plan: Plan) -> tuple:
    return plan.time_of_day, tuple(plan.weekdays), plan.timezone


async def sync_jobs(app: Application) -> None:
    """The daily jobs as the database has the plans (another instance may have changed
    them): only a job whose time changed is replaced, so none misses its run."""
    plans = await services.study_store(app).active_plans()
    services.sync_jobs(app, job_name(""), {
        job_name(plan.chat_id): (_job_signature(plan), functools.partial(schedule_job, app, plan))
        for plan in plans})


async def pause_plan(app: Application, chat_id: int) -> None:
    """Stops a chat's daily pushes; its plan and progress stay for a later /subscribe."""
    await services.study_store(app).set_active(chat_id, False)
    unschedule_job(app, chat_id)


def unschedule_job(app: Application, chat_id: int) -> None:
    services.remove_jobs(app, job_name(chat_id))
    coordination.schedules_changed(app)


@coordination.scheduler_only
async def daily_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = context.job.chat_id
    plan = await services.study_store(context.application).plan(chat_id)
    if plan is None or not plan.active:
        unschedule_job(context.application, chat_id)
        return
    async with _push_slots(context.application):
        await push_next(context.application, plan, "scheduled")


def _push_slots(app: Application) -> asyncio.Semaphore:
    """Chats whose time is the same minute are pushed a few at a time, not all claimed at
    once: a push is claimed before it is sent, and a kill leaves every claimed one of unknown
    fate (told to the admins, not sent again). Telegram's overall limit (30 a second) is the
    pace either way; a few slots keep one flood-limited chat from holding the rest."""
    return app.bot_data.setdefault(_PUSH_SLOTS_KEY, asyncio.Semaphore(PUSH_SLOTS))


async def restore_jobs(app: Application) -> None:
    """At start-up: settle pushes a killed process left mid-request, one job per active plan;
    retries, reports to admins and today's missed pushes follow in the background.

    The catch-up runs as a job as soon as the JobQueue has started, not here: start-up (and
    so answering members) does not wait for hundreds of rate-limited sends, and a push time
    that passes while the bot starts is still caught (APScheduler computes a job's first run
    when it starts, so such a push would be neither missed at a check here nor run).
    """
    store = services.study_store(app)
    for plan in await store.active_plans():
        schedule_job(app, plan)
    schedule_sweep(app)
    await start_catch_up(app)


def schedule_sweep(app: Application) -> None:
    if app.job_queue is not None and not app.job_queue.get_jobs_by_name(SWEEP_JOB_NAME):
        app.job_queue.run_repeating(_sweep_job, interval=SWEEP_INTERVAL_S,
                                    first=SWEEP_INTERVAL_S, name=SWEEP_JOB_NAME)


@coordination.scheduler_only
async def _sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """What a dead instance left: a manual push or retry it had in flight (it is settled and
    its admins told; the chat's next push is no longer refused as busy) and the retries its
    memory held (scheduled here)."""
    app = context.application
    for push in await settle_interrupted(app):
        await alerts.report(app, push)
    jobs = app.job_queue
    for push in await services.study_store(app).orphaned_retries(
            await coordination.live_instances(app)):
        if jobs is not None and not jobs.get_jobs_by_name(retry_job_name(push.push_id)):
            due = push.next_attempt_at or now_of(app)
            schedule_retry(app, push.push_id, max(due - now_of(app), timedelta(0)))

async def start_catch_up(app: Application) -> None:
    """Retries, reports and today's missed pushes, in the background: at start-up, and when
    this instance takes the scheduler over from one that died."""
    app.bot_data[CATCH_UP_DONE_KEY] = asyncio.Event()
    if app.job_queue is not None:
        # A time already past means "as soon as the JobQueue starts", whatever its clock.
        app.job_queue.run_once(_catch_up_job, when=_AS_SOON_AS_STARTED, name="catch-up",
                               job_kwargs={"misfire_grace_time": None})


async def _catch_up_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    if not coordination.is_scheduler(app):  # the scheduler instance catches up
        app.bot_data[CATCH_UP_DONE_KEY].set()
        return
    try:
        await settle_interrupted(app)
        await resume_retries(app)
        await alerts.report_pending(app)
        await announce_todays_deliveries(app)
        await catch_up(app)
    finally:
        app.bot_data[CATCH_UP_DONE_KEY].set()


async def settle_interrupted(app: Application) -> list[Push]:
    """Pushes a killed process left mid-request (this one before its restart, or a dead
    instance) become unknown, to be told to their admins; nothing is sent twice."""
    live = await coordination.live_instances(app)
    settled = await services.study_store(app).interrupted_pushes(live)
    for push in settled:
        log.warning("push %s to chat %s was cut off mid-request: outcome unknown",
                    push.push_id, push.chat_id)
    return settled


async def resume_retries(app: Application) -> None:
    """Pushes that were waiting for a retry when the bot stopped get it (at once if due)."""
    now = now_of(app)
    for push in await services.study_store(app).pushes_in_state(PushState.RETRYING):
        due = push.next_attempt_at or now
        schedule_retry(app, push.push_id, max(due - now, timedelta(0)))


async def announce_todays_deliveries(app: Application) -> None:
    """Today's delivered pushes go to PUSH_DELIVERED_LISTENERS again: a kill between a push's
    delivery and its listeners left the day without its quiz and its study day unrecorded."""
    store = services.study_store(app)
    now = now_of(app)
    for plan in await store.active_plans():
        today = now.astimezone(zone(plan.timezone)).date()
        for push in await store.pushes_between(plan.chat_id, today, today):
            if push.state == PushState.DELIVERED:
                await notify_listeners(app, PUSH_DELIVERED_LISTENERS, push)


async def catch_up(app: Application) -> None:
    """Sends each active chat's missed push of today; one chat's failure skips only it.

    A chat that has today's push in any state is skipped: delivered, unknown (admins were
    told), retrying (its retry is scheduled) or failed (admins were told).
    """
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


async def push_next(app: Application, plan: Plan, kind: str) -> Outcome:
    """Sends the plan's next passage.

    The plan is read again first: a catch-up of many chats takes a while, and an admin may
    have stopped or switched the plan since the list was read.
    """
    library: Library = services.knowledge(app).library
    store = services.study_store(app)
    plan = await store.plan(plan.chat_id)
    if plan is None or (kind == "scheduled" and not plan.active):
        return Outcome.SKIPPED
    if library.lecture(plan.lecture_id) is None:
        await _lecture_gone(app, plan)
        return Outcome.SKIPPED
    progress = next_passage(library, plan)
    if progress.passage is None:
        return Outcome.SKIPPED
    moved = plan.last_passage_id is not None and library.passage(plan.last_passage_id) is None
    local_date = now_of(app).astimezone(zone(plan.timezone)).date()
    push = await store.claim_push(plan.chat_id, local_date, progress.passage.passage_id, kind,
                                  plan.last_passage_id)
    if push is None:
        return Outcome.BUSY
    outcome = await _attempt(app, push)
    if outcome not in (Outcome.DELIVERED, Outcome.UNKNOWN):
        return outcome
    chat_id = (await store.push(push.push_id)).chat_id  # a group may have become a supergroup
    if moved:
        await _send_note(app, chat_id, texts.PLAN_PASSAGE_MOVED, None)
    if progress.number == progress.total:
        await _send_note(app, chat_id,
                         texts.LECTURE_FINISHED.format(lecture=progress.passage.lecture_title),
                         finished_keyboard())
    elif kind == "manual":
        await _send_note(app, chat_id, texts.PUSH_MANUAL_NOTE, None)
    return outcome


async def resend(app: Application, push_id: int) -> Outcome:
    """An admin's "send now" for a failed or unknown push: one more round of attempts,
    unless the chat already got that passage from a later push."""
    store = services.study_store(app)
    push = await store.push(push_id)
    if push is None:
        return Outcome.SKIPPED
    if push.state == PushState.DELIVERED or await store.delivered_later(push):
        return Outcome.ALREADY_SENT
    push = await store.begin_attempt(push_id, (PushState.FAILED, PushState.UNKNOWN),
                                     fresh=True)
    if push is None:
        return Outcome.BUSY
    return await _attempt(app, push)


def schedule_retry(app: Application, push_id: int, delay: timedelta) -> None:
    if app.job_queue is None:
        return
    app.job_queue.run_once(_retry_job, when=delay, data=push_id,
                           name=retry_job_name(push_id),
                           job_kwargs={"misfire_grace_time": None})


async def _retry_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    store = services.study_store(app)
    push = await store.begin_attempt(context.job.data, (PushState.RETRYING,))
    if push is None:
        return  # an admin's button or another retry got there first
    plan = await store.plan(push.chat_id)
    if plan is None or not plan.active or plan.lecture_id != lecture_of(push.passage_id):
        await store.mark_failed(push, PLAN_CHANGED, report=False)  # the admins changed it
        return
    await _attempt(app, push)


async def _attempt(app: Application, push: Push) -> Outcome:
    """Sends a claimed push (state `sending`) and settles it by what Telegram answered."""
    message = await _push_message(app, push)
    if message is None:
        await services.study_store(app).mark_failed(push, PASSAGE_GONE, report=False)
        return Outcome.SKIPPED
    text, keyboard = message
    if text is None:  # never delivered as a header alone: the plan stays where it is
        await services.study_store(app).mark_failed(push, PASSAGE_TOO_LONG)
        await alerts.report(app, replace(push, state=PushState.FAILED, error=PASSAGE_TOO_LONG))
        return Outcome.SKIPPED
    try:
        sent = await _send(app, push.chat_id, text, keyboard, ParseMode.HTML)
    except TelegramError as error:
        return await _settle_refusal(app, push, error)
    except Exception:  # e.g. moving a migrated chat failed: nothing was delivered
        await services.study_store(app).mark_failed(push, INTERNAL_ERROR)
        await alerts.report(app, replace(push, state=PushState.FAILED, error=INTERNAL_ERROR))
        raise
    return await _delivered(app, push, sent)


async def _settle_refusal(app: Application, push: Push, error: TelegramError) -> Outcome:
    """Settles a push Telegram did not confirm, by the kind of error."""
    if isinstance(error, Forbidden):
        return await _forbidden(app, push, error)
    if isinstance(error, ChatMigrated):  # the supergroup has a plan of its own: left be
        await services.study_store(app).mark_failed(push, CHAT_MOVED, report=False)
        return Outcome.SKIPPED
    if isinstance(error, BadRequest):  # the same request would be refused again: no retries
        return await _failed(app, push, error)
    if outcome_unknown(error):
        return await _unknown(app, push, error)
    return await _refused(app, push, error)


async def _push_message(app: Application, push: Push
                        ) -> tuple[str | None, InlineKeyboardMarkup] | None:
    """The push's text (None if the passage cannot go out whole) and its keyboard; None if
    the passage is gone."""
    library = services.knowledge(app).library
    passage = library.passage(push.passage_id)
    if passage is None:
        return None
    number, total = passage_number(library, passage)
    header = texts.PUSH_HEADER.format(number=number, total=total, citation=passage.citation)
    count = await services.study_store(app).checkin_count(push.push_id)
    return whole_passage_message(header, passage), checkin_keyboard(push.push_id, count)


async def _delivered(app: Application, push: Push, message: Message) -> Outcome:
    """The one place a push becomes delivered: recorded with the plan's advance, then the
    listeners of PUSH_DELIVERED_LISTENERS are called."""
    await services.study_store(app).mark_delivered(push, message.message_id, message.chat_id)
    log.info("push %s (%s) delivered to chat %s: %s", push.push_id, push.kind,
             message.chat_id, push.passage_id)
    await notify_listeners(app, PUSH_DELIVERED_LISTENERS,
                           replace(push, state=PushState.DELIVERED,
                                   message_id=message.message_id, chat_id=message.chat_id))
    return Outcome.DELIVERED


async def notify_listeners(app: Application, key: str, *args) -> None:
    """Calls the listeners registered under `key`; one that fails is logged, never in the way."""
    for listener in list(app.bot_data.get(key, ())):
        try:
            await listener(app, *args)
        except Exception:
            log.exception("%s: listener %s failed", key, getattr(listener, "__name__", listener))


async def _unknown(app: Application, push: Push, error: TelegramError) -> Outcome:
    log.warning("push %s to chat %s: no answer from Telegram (%s); counted as delivered",
                push.push_id, push.chat_id, error)
    await services.study_store(app).mark_unknown(push, _describe(error))
    await alerts.report(app, replace(push, state=PushState.UNKNOWN, error=_describe(error)))
    return Outcome.UNKNOWN


async def _refused(app: Application, push: Push, error: TelegramError) -> Outcome:
    """Telegram refused: retry with backoff until an hour after the first refusal."""
    now = now_of(app)
    give_up_at = push.give_up_at or now + RETRY_WINDOW
    retry_after = error.retry_after if isinstance(error, RetryAfter) else None
    seconds = retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
    delay = retry_delay(push.attempts, seconds)
    if now + delay > give_up_at:
        return await _failed(app, push, error)
    log.warning("push %s to chat %s refused (%s); retry in %s", push.push_id, push.chat_id,
                error, delay)
    await services.study_store(app).mark_retrying(push, _describe(error), now + delay,
                                                  give_up_at)
    schedule_retry(app, push.push_id, delay)
    return Outcome.RETRYING


async def _failed(app: Application, push: Push, error: TelegramError) -> Outcome:
    log.error("push %s to chat %s failed for good: %s", push.push_id, push.chat_id, error)
    await services.study_store(app).mark_failed(push, _describe(error))
    await alerts.report(app, replace(push, state=PushState.FAILED, error=_describe(error)))
    return Outcome.FAILED


async def _forbidden(app: Application, push: Push, error: Forbidden) -> Outcome:
    log.warning("chat %s blocked or removed the bot (%s); plan paused", push.chat_id, error)
    await pause_plan(app, push.chat_id)
    await services.study_store(app).mark_failed(push, alerts.FORBIDDEN)
    await alerts.report(app, replace(push, state=PushState.FAILED, error=alerts.FORBIDDEN))
    return Outcome.FORBIDDEN


def _describe(error: TelegramError) -> str:
    return f"{type(error).__name__}: {error.message}"


async def lecture_retired(app: Application, lecture_id: str) -> list[int]:
    """A lecture was retired: every active plan that used it is paused and its chat told at
    once (its admins are there), with a button for each lecture to choose instead. Returns
    the chats told."""
    plans = [plan for plan in await services.study_store(app).active_plans()
             if plan.lecture_id == lecture_id]
    for plan in plans:
        await _lecture_gone(app, plan)
    if plans:
        log.info("lecture %s retired: the plans of chats %s paused, their admins asked to "
                 "choose another", lecture_id, [plan.chat_id for plan in plans])
    return [plan.chat_id for plan in plans]


async def _lecture_gone(app: Application, plan: Plan) -> None:
    """The plan's lecture was retired: pause the plan and tell the chat once, offering the
    lectures there are."""
    await pause_plan(app, plan.chat_id)
    keyboard = choose_lecture_keyboard(services.knowledge(app).library)
    text = texts.PLAN_LECTURE_RETIRED if keyboard else texts.PLAN_LECTURE_GONE
    await _send_note(app, plan.chat_id, text.format(file=plan.lecture_id), keyboard)


def choose_lecture_keyboard(library: Library) -> InlineKeyboardMarkup | None:
    """A button per lecture (the first MAX_LECTURE_BUTTONS): the plan goes on with it."""
    rows = [[InlineKeyboardButton(texts.BUTTON_CHOOSE_LECTURE.format(title=lecture.title),
                                  callback_data=CHOOSE_LECTURE_PREFIX
                                  + lecture_key(lecture.lecture_id))]
            for lecture in library.lectures[:MAX_LECTURE_BUTTONS]]
    return InlineKeyboardMarkup(rows) if rows else None


async def _send(app: Application, chat_id: int, text: str,
                keyboard: InlineKeyboardMarkup | None,
                parse_mode: ParseMode | None = None) -> Message:
    """Sends to a chat, following a supergroup migration; raises what Telegram raised.

    Raises ChatMigrated if the supergroup already has a plan of its own (it is left be)."""
    try:
        return await app.bot.send_message(chat_id, text, reply_markup=keyboard,
                                          parse_mode=parse_mode)
    except ChatMigrated as migrated:
        if not await move_chat(app, chat_id, migrated.new_chat_id):
            raise
        return await _send(app, migrated.new_chat_id, text, keyboard, parse_mode)


async def _send_note(app: Application, chat_id: int, text: str,
                     keyboard: InlineKeyboardMarkup | None) -> None:
    """A message beside the push (the lecture finished, …): best effort, a 403 pauses."""
    try:
        await _send(app, chat_id, text, keyboard)
    except Forbidden as error:
        log.warning("chat %s blocked or removed the bot (%s); plan paused", chat_id, error)
        await pause_plan(app, chat_id)
    except TelegramError as error:
        log.error("note to chat %s failed: %s", chat_id, error)


async def move_chat(app: Application, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup: the plan, its history and its job move along, and every
    other feature's rows; the listeners of CHAT_MOVED_LISTENERS move their jobs.

    Returns False if the supergroup already had a plan, which then wins (the old one is
    paused). Moving again changes nothing (and returns False): Telegram announces a
    migration in both chats.
    """
    store = services.study_store(app)
    moved = await store.migrate_chat(old_chat_id, new_chat_id)
    unschedule_job(app, old_chat_id)
    plan = await store.plan(new_chat_id)
    if plan is not None:
        schedule_job(app, plan)
    # Moving again, PTB would replace the new chat's data with the old id's, a new empty dict.
    if old_chat_id in app.chat_data:
        app.migrate_chat_data(old_chat_id=old_chat_id, new_chat_id=new_chat_id)
    await notify_listeners(app, CHAT_MOVED_LISTENERS, old_chat_id, new_chat_id)
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
