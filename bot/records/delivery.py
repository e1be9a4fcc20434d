"""Reminders and what the records ask Telegram: a group's title and size.

One JobQueue job per group with a reminder time, named `remind:{chat_id}`, rebuilt from the
database at start-up. At that time every member on the roster who has not studied today's
passage, can be written to privately and did not turn reminders off gets one private
message with the passage and its ✅ button. Each reminder is claimed in the database before
it is sent: at most one a day per member, however often the bot restarts, and a member who
blocked the bot costs one failed call, never a retry loop.
"""

from __future__ import annotations

import functools
import html
import logging

from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot import services, texts
from bot.cluster import coordination
from bot.core.render import MAX_MESSAGE_LENGTH, passage_message
from bot.records.report import chat_zone, current_roster
from bot.records.rules import to_remind
from bot.records.store import GroupInfo, ReminderTime
from bot.study.delivery import checkin_keyboard
from bot.study.rules import parse_time, passed_today, zone

log = logging.getLogger(__name__)

# APScheduler skips a run more than 1 s late by default; a reminder an hour late is still
# worth sending, and the claim in the database prevents doubles.
REMINDER_MISFIRE_GRACE_SECONDS = 3600


def reminder_job_name(chat_id: int) -> str:
    return f"remind:{chat_id}"


def schedule_reminder(app: Application, reminder: ReminderTime) -> None:
    """(Re)creates the group's one daily reminder job."""
    unschedule_reminder(app, reminder.chat_id)
    at = parse_time(reminder.time_of_day)
    if app.job_queue is None or at is None:
        return
    app.job_queue.run_daily(reminder_job, time=at.replace(tzinfo=zone(reminder.timezone)),
                            name=reminder_job_name(reminder.chat_id), chat_id=reminder.chat_id,
                            data=(reminder.time_of_day, reminder.timezone),
                            job_kwargs={"misfire_grace_time": REMINDER_MISFIRE_GRACE_SECONDS})


def unschedule_reminder(app: Application, chat_id: int) -> None:
    services.remove_jobs(app, reminder_job_name(chat_id))
    coordination.schedules_changed(app)


async def sync_reminders(app: Application) -> None:
    """The reminder jobs as the database has the reminder times (another instance may have
    set them); a job whose time did not change stays."""
    reminders = await services.records(app).reminder_times()
    services.sync_jobs(app, reminder_job_name(""), {
        reminder_job_name(reminder.chat_id): ((reminder.time_of_day, reminder.timezone),
                                              functools.partial(schedule_reminder, app, reminder))
        for reminder in reminders})


async def move_reminder(app: Application, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup (its reminder time already moved, or the supergroup's own
    won): the reminder job follows the database."""
    unschedule_reminder(app, old_chat_id)
    reminder = await services.records(app).reminder_time(new_chat_id)
    if reminder is not None:
        schedule_reminder(app, reminder)


async def restore_reminders(app: Application) -> None:
    """At start-up: one job per group with a reminder time."""
    for reminder in await services.records(app).reminder_times():
        schedule_reminder(app, reminder)


async def send_missed_reminders(app: Application) -> None:
    """This instance took the scheduler over: today's reminder times that passed while no
    instance was the scheduler are sent now (each member's claim keeps it to once a day)."""
    for reminder in await services.records(app).reminder_times():
        if not passed_today(reminder.time_of_day,
                            services.now(app).astimezone(zone(reminder.timezone))):
            continue
        try:
            await send_reminders(app, reminder.chat_id)
        except Exception:
            log.exception("missed reminders of chat %s not sent", reminder.chat_id)


@coordination.scheduler_only
async def reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_reminders(context.application, context.job.chat_id)


async def send_reminders(app: Application, chat_id: int) -> list[int]:
    """Reminds today's non-studying members of the group; returns whom it reached."""
    stores = services.stores(app)
    tz = await chat_zone(stores, chat_id, services.settings(app).timezone)
    today = services.now(app).astimezone(tz).date()
    pushes = await stores.study.pushes_between(chat_id, today, today)
    passage = services.knowledge(app).library.passage(pushes[-1].passage_id) if pushes \
        else None
    if passage is None:
        return []  # nothing pushed today (or its passage is gone): nothing to remind of
    studied = {c.user_id for c in await stores.study.checkins_between(chat_id, today, today)}
    roster = await current_roster(stores, chat_id)
    user_ids = [p.user_id for p in roster.persons if p.user_id is not None]
    targets = to_remind(roster, studied, await stores.records.opted_out(user_ids),
                        await stores.members.with_private_chat(user_ids))
    group = await group_info(app, chat_id)
    header = f"{texts.RECORDS_REMINDER.format(group=group.title)}\n{passage.citation}"
    footer = f"\n\n{html.escape(texts.RECORDS_REMINDER_FOOTER)}"
    text = passage_message(header, passage, limit=MAX_MESSAGE_LENGTH - len(footer)) + footer
    keyboard = checkin_keyboard(pushes[-1].push_id, len(studied))
    reached = []
    for user_id in targets:
        if not await stores.records.claim_reminder(chat_id, user_id, today):
            continue
        try:
            sent = await app.bot.send_message(user_id, text, parse_mode=ParseMode.HTML,
                                              reply_markup=keyboard)
            reached.append(user_id)
            # Its ✅ counts for the group's push, pressed by this member in private.
            await stores.study.record_copy(pushes[-1].push_id, sent.chat_id, sent.message_id)
        except Forbidden as error:
            log.info("reminder to %s not delivered (%s)", user_id, error)
        except TelegramError as error:
            log.warning("reminder to %s failed: %s", user_id, error)
    return reached


async def group_info(app: Application, chat_id: int) -> GroupInfo:
    """The group's title and size: asked from Telegram (and remembered), or as last known."""
    store = services.records(app)
    try:
        chat = await app.bot.get_chat(chat_id)
        # A private chat (a member's own plan) has no roster to compare a count with.
        count = None if chat.type == ChatType.PRIVATE \
            else await app.bot.get_chat_member_count(chat_id)
    except TelegramError as error:
        log.warning("could not ask Telegram about group %s: %s", chat_id, error)
        known = await store.group(chat_id)
        return known or GroupInfo(chat_id, str(chat_id), None)
    title = chat.title or chat.effective_name or str(chat_id)
    await store.saw_group(chat_id, title, count)
    return GroupInfo(chat_id, title, count)
