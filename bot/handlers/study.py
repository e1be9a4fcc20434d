"""Daily study commands: /subscribe /schedule /unsubscribe /push /plan /today,
the ✅ 已学习 button, the end-of-lecture choice, and chat lifecycle (migration, removal)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import timedelta

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import services, texts
from bot.cluster import coordination
from bot.core.lectures import Lecture, Library
from bot.core.navigation import lecture_key
from bot.core.render import passage_message
from bot.handlers import members
from bot.handlers.common import (
    answer_query,
    command,
    editable_message,
    knowledge_of,
    shows_button,
    soft_call,
    stored_id,
)
from bot.handlers.permissions import (
    may_manage_chat,
    may_study_in,
    refuse,
    refuse_unless_admin,
    refuse_unless_pressed_in_private,
)
from bot.study.alerts import RESEND_PREFIX
from bot.study.counter import show_count
from bot.study.delivery import (
    CHECK_IN_PREFIX,
    CHECKED_IN_LISTENERS,
    CHOOSE_LECTURE_PREFIX,
    RESTART_DATA,
    STOP_DATA,
    Outcome,
    checkin_keyboard,
    choose_lecture_keyboard,
    local_today,
    move_chat,
    notify_listeners,
    now_of,
    pause_plan,
    push_next,
    resend,
    schedule_job,
    start_catch_up,
    sync_jobs,
)
from bot.study.rules import (
    DEFAULT_TIME,
    EVERY_DAY,
    WORKDAYS,
    default_lecture,
    find_lecture,
    format_time,
    next_passage,
    parse_time,
    parse_weekdays,
    passage_number,
    scheduled_today,
    week_start,
    zone,
)
from bot.study.store import Plan, Push

log = logging.getLogger(__name__)

# A repeated ✅ press makes good the point of a push this recent (today, yesterday): what a
# kill cut off between the check-in and its point.
HEALED_DAYS = timedelta(days=1)


def register(app: Application) -> None:
    app.add_handler(command("subscribe", subscribe))
    app.add_handler(command("schedule", schedule))
    app.add_handler(command("unsubscribe", unsubscribe))
    app.add_handler(command("push", push_now))
    app.add_handler(command("plan", show_plan))
    app.add_handler(command("today", today))
    app.add_handler(CallbackQueryHandler(check_in, pattern=f"^{CHECK_IN_PREFIX}"))
    app.add_handler(CallbackQueryHandler(end_of_lecture, pattern=f"^({RESTART_DATA}|{STOP_DATA})$"))
    app.add_handler(CallbackQueryHandler(send_now, pattern=f"^{RESEND_PREFIX}"))
    app.add_handler(CallbackQueryHandler(choose_lecture, pattern=f"^{CHOOSE_LECTURE_PREFIX}"))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, chat_migrated))
    app.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    # Another instance changed a plan: the scheduler's jobs follow; a new scheduler catches up.
    coordination.on_change(app, coordination.SCHEDULES, sync_jobs)
    coordination.on_takeover(app, start_catch_up)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    message, chat_id = update.effective_message, update.effective_chat.id
    library = knowledge_of(context).library
    lecture = await _lecture_from_args(update, context, library)
    if lecture is None:
        return
    store = services.study_store(context.application)
    plan = await store.plan(chat_id)
    if plan is not None and plan.active and plan.lecture_id == lecture.lecture_id:
        await message.reply_text(texts.ALREADY_SUBSCRIBED.format(lecture=lecture.title))
        return
    keep_position = plan is not None and plan.lecture_id == lecture.lecture_id
    settings = services.settings(context.application)
    new_plan = Plan(chat_id=chat_id, lecture_id=lecture.lecture_id,
                    last_passage_id=plan.last_passage_id if keep_position else None,
                    time_of_day=plan.time_of_day if plan else DEFAULT_TIME,
                    weekdays=plan.weekdays if plan else EVERY_DAY,
                    timezone=plan.timezone if plan else settings.timezone,
                    schedule_set_at=now_of(context.application), active=True)
    await store.save_plan(new_plan)
    schedule_job(context.application, new_plan)
    await message.reply_text(texts.SUBSCRIBED.format(
        lecture=lecture.title, days=_days_label(new_plan.weekdays),
        time=new_plan.time_of_day, total=len(lecture.passages)))


async def _lecture_from_args(update: Update, context: ContextTypes.DEFAULT_TYPE,
                             library: Library) -> Lecture | None:
    """The lecture named in the command's arguments (default: the first); replies if none."""
    name = " ".join(context.args or []).strip()
    found = find_lecture(library, name) if name else default_lecture(library)
    if isinstance(found, Lecture):
        return found
    listing = "\n".join(texts.LECTURE_ITEM.format(title=lec.title, file=lec.path.name)
                        for lec in (found or library.lectures))
    template = texts.LECTURE_AMBIGUOUS if isinstance(found, list) else texts.LECTURE_UNKNOWN
    if not library.lectures:
        await update.effective_message.reply_text(texts.NO_LECTURES)
    else:
        await update.effective_message.reply_text(template.format(name=texts.echoed(name),
                                                                  lectures=listing))
    return None


async def _plan_or_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Plan | None:
    plan = await services.study_store(context.application).plan(update.effective_chat.id)
    if plan is None:
        await update.effective_message.reply_text(texts.NO_PLAN)
    return plan


async def schedule(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    args = context.args or []
    at = parse_time(args[0]) if args else None
    weekdays = parse_weekdays(args[1]) if len(args) > 1 else ()
    if at is None or weekdays is None or len(args) > 2:
        await update.effective_message.reply_text(texts.SCHEDULE_USAGE)
        return
    plan = await _plan_or_hint(update, context)
    if plan is None:
        return
    now = now_of(context.application)
    updated = replace(plan, time_of_day=format_time(at), weekdays=weekdays or plan.weekdays,
                      schedule_set_at=now, active=True)
    await services.study_store(context.application).save_plan(updated)
    schedule_job(context.application, updated)
    reply = texts.SCHEDULE_SET.format(days=_days_label(updated.weekdays), time=format_time(at))
    due = scheduled_today(updated, now)
    if due is not None and now >= due:
        reply += texts.SCHEDULE_TOMORROW
    await update.effective_message.reply_text(reply)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    plan = await _plan_or_hint(update, context)
    if plan is None:
        return
    await pause_plan(context.application, plan.chat_id)
    await update.effective_message.reply_text(texts.UNSUBSCRIBED)


async def _plan_and_lecture(update: Update, context: ContextTypes.DEFAULT_TYPE
                            ) -> tuple[Plan, Lecture] | None:
    """The chat's plan and its lecture; replies with the reason if either is missing."""
    plan = await _plan_or_hint(update, context)
    if plan is None:
        return None
    library = knowledge_of(context).library
    lecture = library.lecture(plan.lecture_id)
    if lecture is None:
        keyboard = choose_lecture_keyboard(library)
        text = texts.PLAN_LECTURE_RETIRED if keyboard else texts.PLAN_LECTURE_GONE
        await update.effective_message.reply_text(text.format(file=plan.lecture_id),
                                                  reply_markup=keyboard)
        return None
    return plan, lecture


async def push_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    found = await _plan_and_lecture(update, context)
    if found is None:
        return
    plan, lecture = found
    library = knowledge_of(context).library
    if next_passage(library, plan).passage is None:
        await update.effective_message.reply_text(
            texts.NOTHING_TO_PUSH.format(lecture=lecture.title))
        return
    if await push_next(context.application, plan, "manual") == Outcome.BUSY:
        await update.effective_message.reply_text(texts.PUSH_BUSY)


async def show_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await _switch_lecture(update, context)
        return
    found = await _plan_and_lecture(update, context)
    if found is None:
        return
    plan, lecture = found
    library = knowledge_of(context).library
    progress = next_passage(library, plan)
    done = progress.total if progress.finished else progress.number - 1
    upcoming = (texts.PLAN_DONE if progress.passage is None
                else texts.PLAN_NEXT.format(citation=progress.passage.citation))
    await update.effective_message.reply_text(texts.PLAN_SUMMARY.format(
        lecture=lecture.title, days=_days_label(plan.weekdays), time=plan.time_of_day,
        timezone=texts.timezone_name(plan.timezone),
        state="" if plan.active else texts.PLAN_PAUSED, done=done, total=progress.total,
        next=upcoming))


async def _switch_lecture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    lecture = await _lecture_from_args(update, context, knowledge_of(context).library)
    if lecture is None:
        return
    plan = await _plan_or_hint(update, context)
    if plan is None:
        return
    await _switch_plan(context.application, plan, lecture)
    await update.effective_message.reply_text(texts.PLAN_SWITCHED.format(lecture=lecture.title))


async def _switch_plan(app: Application, plan: Plan, lecture: Lecture) -> None:
    """The plan goes on with another lecture, from its first paragraph."""
    switched = replace(plan, lecture_id=lecture.lecture_id, last_passage_id=None,
                       active=True)
    await services.study_store(app).save_plan(switched)
    schedule_job(app, switched)


async def choose_lecture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under "the plan's lecture was retired": the plan goes on with this one."""
    if not await refuse_unless_admin(update, context):
        return
    query = update.callback_query
    key = query.data.removeprefix(CHOOSE_LECTURE_PREFIX)
    lecture = next((lec for lec in knowledge_of(context).library.lectures
                    if lecture_key(lec.lecture_id) == key), None)
    plan = await services.study_store(context.application).plan(update.effective_chat.id)
    if lecture is None or plan is None:
        await answer_query(query, texts.BUTTON_EXPIRED)
        return
    await answer_query(query)  # the switch is made whatever Telegram answers
    await _switch_plan(context.application, plan, lecture)
    reply = texts.PLAN_SWITCHED.format(lecture=lecture.title)
    message = editable_message(query)
    if message is not None:
        await soft_call("editMessageText", message.edit_text(reply))
    else:
        await context.bot.send_message(update.effective_chat.id, reply)


async def today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    store = services.study_store(context.application)
    push = await store.latest_push(update.effective_chat.id)
    library = knowledge_of(context).library
    passage = library.passage(push.passage_id) if push else None
    if push is None or passage is None:
        await update.effective_message.reply_text(texts.NOTHING_PUSHED)
        return
    number, total = passage_number(library, passage)
    header = texts.PUSH_HEADER.format(number=number, total=total, citation=passage.citation)
    count = await store.checkin_count(push.push_id)
    sent = await update.effective_message.reply_html(
        passage_message(header, passage), reply_markup=checkin_keyboard(push.push_id, count))
    # Its ✅ counts like the push's own (check_in accepts the messages recorded here).
    await store.record_copy(push.push_id, sent.chat_id, sent.message_id)


async def stats_text(app: Application, chat_id: int) -> str:
    """The counts /stats shows: check-ins today and this week, votes, common questions.

    /stats itself belongs to the records (bot/handlers/records.py), which add names and a chart.
    """
    store = services.study_store(app)
    plan = await store.plan(chat_id)
    tz = zone(plan.timezone if plan else services.settings(app).timezone)
    today = now_of(app).astimezone(tz).date()  # in the chat's plan's zone
    checkins = await store.checkin_stats(chat_id, today, week_start(today))
    questions = await services.question_log(app).stats(chat_id)
    return texts.STATS.format(
        today=checkins.today, week=checkins.week,
        members=checkins.members_week, likes=questions.likes, dislikes=questions.dislikes,
        top=_question_list(questions.top_questions),
        unanswered=_question_list(questions.unanswered))


def _question_list(rows: tuple[tuple[str, int], ...]) -> str:
    if not rows:
        return texts.STATS_NONE
    return "\n".join(texts.STATS_ITEM.format(text=text[:texts.MAX_LISTED_QUESTION_CHARS], count=n)
                     for text, n in rows)


async def _push_of_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          prefix: str) -> Push | None:
    """The push a button names (`<prefix><push id>`); an unknown one expires the button."""
    query = update.callback_query
    push_id = stored_id(query.data.removeprefix(prefix))
    push = (await services.study_store(context.application).push(push_id)
            if push_id is not None else None)
    if push is None:
        await answer_query(query, texts.BUTTON_EXPIRED)
    return push


async def _may_check_in(update: Update, context: ContextTypes.DEFAULT_TYPE, push: Push) -> bool:
    """Clients can send any callback data: a ✅ counts only on the push's own message (or a
    copy the bot sent: /today, a private reminder) in the chat it went to, pressed by someone
    who may study there. A refusal is logged and answered; it changes nothing."""
    query = update.callback_query
    message, user_id = query.message, query.from_user.id
    placed = message is not None and (
        await services.study_store(context.application).carries_button(
            push, message.chat.id, message.message_id)
        # A push whose send timed out (state unknown) has no message id on record: its
        # message is known by the button Telegram shows on it, in the push's chat.
        or (push.message_id is None and message.chat.id == push.chat_id
            and shows_button(query)))
    allowed = placed and await may_study_in(context, message.chat.id, user_id)
    if not allowed:
        log.warning("check-in refused: user %s pressed push %s (chat %s) on message %s of "
                    "chat %s", user_id, push.push_id, push.chat_id,
                    message.message_id if message else None,
                    message.chat.id if message else None)
        await answer_query(query, texts.CHECK_IN_REFUSED, show_alert=True)
    return allowed


async def check_in(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    store = services.study_store(context.application)
    push = await _push_of_button(update, context, CHECK_IN_PREFIX)
    if push is None or not await _may_check_in(update, context, push):
        return
    await members.remember(context.application, query.message.chat.id, query.from_user)
    before = await store.checkin_count(push.push_id)
    count = await store.check_in(push, query.from_user.id, now_of(context.application))
    # Everything the check-in earns is recorded before the answer, which may fail; and again
    # on a later press of a recent push: a kill after the check-in and before its point is
    # made good (the listeners record once per member and push). Not for older pushes: their
    # check-ins may predate the points altogether.
    if count > before or push.local_date >= local_today(context.application) - HEALED_DAYS:
        await notify_listeners(context.application, CHECKED_IN_LISTENERS, push,
                               query.from_user.id)
    await answer_query(query, texts.CHECKED_IN if count > before else texts.ALREADY_CHECKED_IN)
    message = editable_message(query)
    if count != before and message is not None:
        await show_count(context.application, message, push.push_id)


_RESEND_REPLIES = {
    Outcome.DELIVERED: texts.RESEND_DONE,
    Outcome.ALREADY_SENT: texts.RESEND_ALREADY_SENT,
    Outcome.BUSY: texts.RESEND_BUSY,
    Outcome.RETRYING: texts.RESEND_RETRYING,
    Outcome.FAILED: texts.RESEND_FAILED,
    Outcome.UNKNOWN: texts.RESEND_UNKNOWN,
    Outcome.FORBIDDEN: texts.RESEND_FORBIDDEN,
    Outcome.SKIPPED: texts.BUTTON_EXPIRED,
}


async def send_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The 立即发送 button under an admin's report of a failed or unknown push."""
    query = update.callback_query
    push = await _push_of_button(update, context, RESEND_PREFIX)
    if push is None:
        return
    if not await may_manage_chat(context, query.from_user.id, push.chat_id):
        await refuse(update, texts.NOT_ALLOWED)
        return
    if not await refuse_unless_pressed_in_private(update):  # alerts go to admins in private
        return
    await answer_query(query)  # the resend is made whatever Telegram answers
    reply = _RESEND_REPLIES[await resend(context.application, push.push_id)]
    message = editable_message(query)
    if message is not None:
        with contextlib.suppress(BadRequest):  # the same reply twice: "not modified"
            await message.edit_text(f"{message.text}\n\n{reply}")
        return
    await context.bot.send_message(query.from_user.id, reply)


async def end_of_lecture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    query = update.callback_query
    store = services.study_store(context.application)
    plan = await store.plan(update.effective_chat.id)
    if plan is None:
        await query.answer(texts.BUTTON_EXPIRED)
        return
    await answer_query(query)
    if query.data == RESTART_DATA:
        restarted = replace(plan, last_passage_id=None, active=True)
        await store.save_plan(restarted)
        schedule_job(context.application, restarted)
        lecture = knowledge_of(context).library.lecture(plan.lecture_id)
        reply = texts.RESTARTED.format(lecture=lecture.title if lecture else plan.lecture_id)
    else:
        await pause_plan(context.application, plan.chat_id)
        reply = texts.STOPPED
    message = editable_message(query)
    if message is not None:
        await message.edit_text(reply)
    elif query.message is not None:
        await context.bot.send_message(query.message.chat.id, reply)


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup. Telegram says so in the old chat (migrate_to) and in the
    new one (migrate_from): the first to arrive moves the chat, the other finds it moved."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        await move_chat(context.application, message.chat_id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await move_chat(context.application, message.migrate_from_chat_id, message.chat_id)


async def membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was removed from a chat: pause its plan instead of failing every day."""
    change: ChatMemberUpdated = update.my_chat_member
    if change.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await pause_plan(context.application, change.chat.id)


def _days_label(weekdays: tuple[int, ...]) -> str:
    if tuple(sorted(weekdays)) == EVERY_DAY:
        return texts.DAYS_EVERY_DAY
    if tuple(sorted(weekdays)) == WORKDAYS:
        return texts.DAYS_WORKDAYS
    return texts.DAYS_CUSTOM.format(days="、".join(texts.WEEKDAY_NAMES[d] for d in weekdays))

