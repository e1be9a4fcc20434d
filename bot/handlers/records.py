"""Records (学习台账) commands: /export /stats /roster /absent /remind /myname.

Thin glue: parse, call bot/records, send. The workbook and the chart are built on a worker
thread; every send that fails is logged and, where someone waits for it, answered in Chinese.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatType, MessageLimit
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import services, texts
from bot.cluster import coordination
from bot.core.render import telegram_length
from bot.handlers.common import answer_query, command, editable_message, soft_call, stored_id
from bot.handlers.permissions import is_bot_admin, is_group_admin, refuse_unless_admin
from bot.handlers.study import stats_text
from bot.members.store import MAX_NAME_CHARS
from bot.records import claims
from bot.records.chart import ChartDay, render_chart
from bot.records.delivery import (
    group_info,
    move_reminder,
    schedule_reminder,
    send_missed_reminders,
    sync_reminders,
    unschedule_reminder,
)
from bot.records.report import MonthRecord, chat_zone, current_roster, month_record, short_date
from bot.records.roster import MAX_ROSTER_BYTES, RosterError, accepts, read_roster
from bot.records.rules import (
    Person,
    find_person,
    is_chat_id,
    month_of,
    parse_day,
    parse_export_args,
    parse_month,
)
from bot.records.store import GroupInfo, NameClaim, ReminderTime
from bot.records.workbook import file_name, month_label, workbook_bytes
from bot.study.delivery import CHAT_MOVED_LISTENERS
from bot.study.rules import format_time, parse_time

log = logging.getLogger(__name__)

# /roster with a file: the caption starts with the command (CommandHandler reads only texts).
_ROSTER_CAPTION = r"^/roster(@\w+)?(\s|$)"
# Name lists in /stats stop here and say how many more: a phone screen, not the whole roster.
MAX_LISTED_NAMES = 60
REMINDERS_OFF, REMINDERS_ON = "off", "on"
# 确认/拒绝 under a /myname claim of a roster name: nm:<y|n>:<claim id>.
CLAIM_PREFIX = "nm:"


def register(app: Application) -> None:
    app.add_handler(command("export", export))
    app.add_handler(command("stats", stats))
    app.add_handler(command("roster", show_roster))
    app.add_handler(MessageHandler(filters.Document.ALL & filters.CaptionRegex(_ROSTER_CAPTION)
                                   & filters.UpdateType.MESSAGE, import_roster))
    app.add_handler(command("absent", absent))
    app.add_handler(command("remind", remind))
    app.add_handler(command("myname", my_name))
    app.add_handler(CallbackQueryHandler(claim_pressed, pattern=f"^{CLAIM_PREFIX}"))
    app.bot_data.setdefault(CHAT_MOVED_LISTENERS, []).append(move_reminder)
    coordination.on_change(app, coordination.SCHEDULES, sync_reminders)
    coordination.on_takeover(app, send_missed_reminders)


def _in_group(update: Update) -> bool:
    return update.effective_chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _today(app: Application, tz: tzinfo) -> date:
    return services.now(app).astimezone(tz).date()


# --- /export ---------------------------------------------------------------------------


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    request = parse_export_args(context.args or [])
    if _in_group(update):
        if not await refuse_unless_admin(update, context):
            return
        if request.group:
            await message.reply_text(texts.RECORDS_EXPORT_USAGE)
            return
        chat_id = update.effective_chat.id
    else:
        chat_id = await _chosen_group(update, context, request.group)
        if chat_id is None:
            return
    app = context.application
    tz = await chat_zone(services.stores(app), chat_id, services.settings(app).timezone)
    month = parse_month(request.month_text) if request.month_text else month_of(_today(app, tz))
    if month is None:
        await message.reply_text(texts.RECORDS_BAD_MONTH.format(
            text=texts.echoed(request.month_text)))
        return
    await group_info(app, chat_id)
    record = await _month_record(app, chat_id, month)
    data = await asyncio.to_thread(workbook_bytes, record)
    name = file_name(record.title, month_label(record))
    caption = texts.RECORDS_EXPORT_CAPTION.format(
        title=record.title, month=month_label(record), days=len(record.days),
        count=len(record.persons))[:MessageLimit.CAPTION_LENGTH]
    try:
        await message.reply_document(InputFile(data, filename=name), caption=caption)
    except TelegramError as error:
        log.error("sending the records of %s failed: %s", chat_id, error)
        await _soft_reply(message, texts.RECORDS_EXPORT_FAILED)


async def _month_record(app: Application, chat_id: int, month: date) -> MonthRecord:
    return await month_record(services.stores(app), services.knowledge(app).library, chat_id,
                              month, services.settings(app).timezone, services.quiz_results(app))


async def _chosen_group(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        wanted: str) -> int | None:
    """The group a private /export names, among those the user manages; replies if unclear."""
    message = update.effective_message
    groups = await _managed_groups(context, update.effective_user.id)
    if not groups:
        await message.reply_text(texts.RECORDS_NO_GROUPS)
        return None
    candidates = [g for g in groups if _names_group(wanted, g)] if wanted else groups
    if len(candidates) == 1:
        return candidates[0].chat_id
    if not candidates:
        await message.reply_text(texts.RECORDS_UNKNOWN_GROUP.format(
            name=texts.echoed(wanted), groups=_group_list(groups)))
    else:
        await message.reply_text(texts.RECORDS_WHICH_GROUP.format(
            example=candidates[0].chat_id, groups=_group_list(candidates)))
    return None


def _names_group(wanted: str, group: GroupInfo) -> bool:
    """A group is named by its id, or by any part of its title."""
    if is_chat_id(wanted):
        return group.chat_id == int(wanted)
    return wanted.lower() in group.title.lower()


async def _managed_groups(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> list[GroupInfo]:
    """Groups the bot knows where this user is a Telegram admin (every group for a global
    admin), with their titles."""
    app = context.application
    members = services.members(app)
    if user_id in services.settings(app).admin_ids:
        chat_ids = set(await members.group_ids())
        chat_ids |= {g.chat_id for g in await services.records(app).groups()}
    else:
        chat_ids = {chat_id for chat_id in await members.groups_of(user_id)
                    if await is_group_admin(context, chat_id, user_id)}
    known = {g.chat_id: g for g in await services.records(app).groups()}
    groups = [known.get(chat_id) or await group_info(app, chat_id) for chat_id in chat_ids]
    return sorted(groups, key=lambda g: (g.title, g.chat_id))


def _group_list(groups: list[GroupInfo]) -> str:
    return "\n".join(texts.RECORDS_GROUP_ITEM.format(title=g.title, chat_id=g.chat_id)
                     for g in groups)


# --- /stats ----------------------------------------------------------------------------


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Counts, today's names (studied / not yet), and the month's chart as a photo."""
    if not await refuse_unless_admin(update, context):
        return
    app, message = context.application, update.effective_message
    chat_id = update.effective_chat.id
    group = await group_info(app, chat_id)
    tz = await chat_zone(services.stores(app), chat_id, services.settings(app).timezone)
    today = _today(app, tz)
    record = await _month_record(app, chat_id, month_of(today))
    text = await stats_text(app, chat_id) + _today_names(record, today)
    text += texts.RECORDS_STATS_ROSTER.format(count=len(record.persons),
                                              member_count=_member_count(group))
    for chunk in _chunks(text):
        await message.reply_text(chunk)
    try:
        chart = await asyncio.to_thread(render_chart, record.title, record.month,
                                        _chart_days(record))
        await message.reply_photo(chart, caption=texts.RECORDS_CHART_CAPTION.format(
            month=month_label(record)))
    except Exception:  # the names and counts were sent; a chart that fails costs only itself
        log.exception("the chart for %s was not drawn or sent", chat_id)


def _today_names(record: MonthRecord, today) -> str:
    day = next((d for d in record.days if d.day == today), None)
    if day is None:
        return texts.RECORDS_STATS_NO_PUSH_TODAY
    studied, missing = record.studied(day), record.not_studied(day)
    return texts.RECORDS_STATS_TODAY.format(
        date=short_date(today), count=len(studied), names=_names(studied),
        missing=len(missing), missing_names=_names(missing))


def _names(persons: list[Person]) -> str:
    if not persons:
        return texts.RECORDS_NAMES_NONE
    shown = "、".join(p.name for p in persons[:MAX_LISTED_NAMES])
    more = len(persons) - MAX_LISTED_NAMES
    return shown + (texts.RECORDS_NAMES_MORE.format(count=len(persons)) if more > 0 else "")


def _member_count(group: GroupInfo) -> str:
    if group.member_count is None:
        return ""
    return texts.RECORDS_ROSTER_MEMBER_COUNT.format(count=group.member_count)


def _chart_days(record: MonthRecord) -> list[ChartDay]:
    return [ChartDay(day.day, record.rate(day),
                     day.quiz.correct / day.quiz.answered
                     if day.quiz and day.quiz.answered else None)
            for day in record.days]


def _chunks(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Plain text cut at line ends into messages Telegram accepts (it counts UTF-16 units)."""
    piece = limit // 2  # a character is at most two UTF-16 units: a cut line always fits
    lines = [line[start:start + piece] for line in text.split("\n")
             for start in range(0, max(len(line), 1), piece)]
    chunks, current = [], ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if current and telegram_length(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current.strip():
        chunks.append(current)
    return chunks


# --- /roster -----------------------------------------------------------------------------


async def show_roster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _group_admin(update, context):
        return
    app, chat_id = context.application, update.effective_chat.id
    group = await group_info(app, chat_id)
    roster = await current_roster(services.stores(app), chat_id)
    names = [p.name + ("" if p.matched else texts.RECORDS_ROSTER_UNMATCHED)
             for p in roster.persons]
    text = texts.RECORDS_ROSTER_SHOW.format(count=len(names), member_count=_member_count(group),
                                            names="、".join(names) or texts.RECORDS_NAMES_NONE)
    for chunk in _chunks(text + "\n\n" + texts.RECORDS_ROSTER_USAGE):
        await update.effective_message.reply_text(chunk)


async def import_roster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _group_admin(update, context):
        return
    message, app = update.effective_message, context.application
    document = message.document
    name = document.file_name or ""
    if not accepts(name) or (document.file_size or 0) > MAX_ROSTER_BYTES:
        reason = texts.RECORDS_ROSTER_WRONG_KIND if not accepts(name) else \
            texts.RECORDS_ROSTER_TOO_LARGE.format(kilobytes=MAX_ROSTER_BYTES // 1024)
        await message.reply_text(texts.RECORDS_ROSTER_BAD_FILE.format(reason=reason))
        return
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
        entries = await asyncio.to_thread(read_roster, name, data)
    except RosterError as error:
        await message.reply_text(texts.RECORDS_ROSTER_BAD_FILE.format(reason=error))
        return
    except TelegramError as error:
        log.warning("could not download roster %s: %s", name, error)
        await message.reply_text(texts.RECORDS_ROSTER_BAD_FILE.format(
            reason=texts.UPLOAD_DOWNLOAD_FAILED))
        return
    if not entries:
        await message.reply_text(texts.RECORDS_ROSTER_EMPTY)
        return
    chat_id = update.effective_chat.id
    await services.records(app).replace_roster(chat_id, entries)
    roster = await current_roster(services.stores(app), chat_id)
    imported = roster.persons[:len(entries)]
    await message.reply_text(texts.RECORDS_ROSTER_IMPORTED.format(
        count=len(entries), matched=sum(1 for p in imported if p.matched)))


async def _group_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Roster and absences belong to a group: only there, only its admins."""
    if not _in_group(update):
        await update.effective_message.reply_text(texts.RECORDS_IN_GROUP_ONLY)
        return False
    return await refuse_unless_admin(update, context)


# --- /absent -------------------------------------------------------------------------------


async def absent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/absent [日期] 姓名 原因: why someone did not study (today by default)."""
    if not await _group_admin(update, context):
        return
    app, message, chat_id = context.application, update.effective_message, \
        update.effective_chat.id
    stores = services.stores(app)
    tz = await chat_zone(stores, chat_id, services.settings(app).timezone)
    args = context.args or []
    today = _today(app, tz)
    day = parse_day(args[0], today) if args else None
    rest = " ".join(args[1:] if day else args)
    if not rest:
        await message.reply_text(texts.RECORDS_ABSENT_USAGE)
        return
    roster = await current_roster(stores, chat_id)
    found = find_person(roster.persons, rest)
    if found is None:
        await message.reply_text(texts.RECORDS_ABSENT_UNKNOWN.format(
            name=texts.echoed(rest.split()[0])))
        return
    person, reason = found
    if not reason:
        await message.reply_text(texts.RECORDS_ABSENT_USAGE)
        return
    day = day or today
    studied = {c.user_id for c in await stores.study.checkins_between(chat_id, day, day)}
    if person.user_id is not None and person.user_id in studied:
        await message.reply_text(texts.RECORDS_ABSENT_STUDIED.format(
            name=person.name, date=day.isoformat()))
        return
    await stores.records.note_absence(chat_id, day, person.key, reason,
                                      update.effective_user.id)
    await message.reply_text(texts.RECORDS_ABSENT_NOTED.format(
        name=person.name, date=day.isoformat(), reason=texts.echoed(reason)))


# --- /remind ---------------------------------------------------------------------------------


async def remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group (admins): /remind HH:MM or off. In private (anyone): /remind off or on."""
    message = update.effective_message
    word = " ".join(context.args or []).strip().lower()
    if update.effective_chat.type == ChatType.PRIVATE:
        if word not in (REMINDERS_OFF, REMINDERS_ON):
            await message.reply_text(texts.RECORDS_REMIND_USAGE)
            return
        await services.records(context.application).set_opted_out(
            update.effective_user.id, word == REMINDERS_OFF)
        await message.reply_text(texts.RECORDS_REMIND_MEMBER_OFF if word == REMINDERS_OFF
                                 else texts.RECORDS_REMIND_MEMBER_ON)
        return
    if not await _group_admin(update, context):
        return
    await _set_group_reminder(update, context, word)


async def _set_group_reminder(update: Update, context: ContextTypes.DEFAULT_TYPE,
                              word: str) -> None:
    app, message, chat_id = context.application, update.effective_message, \
        update.effective_chat.id
    store = services.records(app)
    if not word:
        current = await store.reminder_time(chat_id)
        await message.reply_text(texts.RECORDS_REMIND_SHOW.format(time=current.time_of_day)
                                 if current else texts.RECORDS_REMIND_NONE)
        return
    if word == REMINDERS_OFF:
        await store.set_reminder_time(chat_id, None, "")
        unschedule_reminder(app, chat_id)
        await message.reply_text(texts.RECORDS_REMIND_GROUP_OFF)
        return
    at = parse_time(word)
    if at is None:
        await message.reply_text(texts.RECORDS_REMIND_USAGE)
        return
    plan = await services.study_store(app).plan(chat_id)
    reminder = ReminderTime(chat_id, format_time(at),
                            plan.timezone if plan else services.settings(app).timezone)
    await store.set_reminder_time(chat_id, reminder.time_of_day, reminder.timezone)
    schedule_reminder(app, reminder)
    await message.reply_text(texts.RECORDS_REMIND_SET.format(time=reminder.time_of_day))


# --- /myname ---------------------------------------------------------------------------------


async def my_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The name a member wants on the records, in this chat and every group they are in.
    A roster name is claimed, not taken (bot.records.claims)."""
    message, user = update.effective_message, update.effective_user
    name = " ".join(" ".join(context.args or []).split())
    if not name or user is None:
        await message.reply_text(texts.RECORDS_MYNAME_USAGE)
        return
    name = name[:MAX_NAME_CHARS]
    stores = services.stores(context.application)
    chats = {update.effective_chat.id, *await stores.members.groups_of(user.id)}
    results = [await claims.claim_name(stores, chat_id, user.id, user.username, name)
               for chat_id in sorted(chats)]
    replies = []
    for outcome, text in ((claims.Claimed.TAKEN, texts.RECORDS_MYNAME_TAKEN),
                          (claims.Claimed.PENDING, texts.RECORDS_MYNAME_PENDING),
                          (claims.Claimed.LINKED, texts.RECORDS_MYNAME_LINKED)):
        if any(r.outcome == outcome for r in results):
            replies.append(text.format(name=name))
    for result in results:
        if result.claim is not None:
            await _ask_admins(context, result.claim, user.full_name or str(user.id))
    if any(r.outcome == claims.Claimed.OWN_NAME for r in results) or not replies:
        chosen = await stores.members.member(update.effective_chat.id, user.id)
        replies.insert(0, texts.RECORDS_MYNAME_SET.format(
            name=chosen.name if chosen else name))
    await message.reply_text("\n".join(replies))


async def _ask_admins(context: ContextTypes.DEFAULT_TYPE, claim: NameClaim,
                      member: str) -> None:
    """The claim, with 确认/拒绝 for the group's admins, in that group."""
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_CLAIM_CONFIRM,
                             callback_data=f"{CLAIM_PREFIX}y:{claim.claim_id}"),
        InlineKeyboardButton(texts.BUTTON_CLAIM_REFUSE,
                             callback_data=f"{CLAIM_PREFIX}n:{claim.claim_id}")]])
    try:
        await context.bot.send_message(
            claim.chat_id, texts.RECORDS_CLAIM_ASK.format(member=member, name=claim.name),
            reply_markup=keyboard)
    except TelegramError as error:
        log.warning("name claim %s not shown in chat %s: %s", claim.claim_id, claim.chat_id,
                    error)


async def claim_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """确认/拒绝 under a name claim: the group's admins only, in that group only."""
    query = update.callback_query
    verdict, _, raw = query.data.removeprefix(CLAIM_PREFIX).partition(":")
    claim_id = stored_id(raw)
    stores = services.stores(context.application)
    claim = await stores.records.name_claim(claim_id) if claim_id is not None else None
    if claim is None or verdict not in ("y", "n"):
        await answer_query(query, texts.BUTTON_EXPIRED)
        return
    admin_id = query.from_user.id
    in_its_group = query.message is not None and query.message.chat.id == claim.chat_id
    if not in_its_group or not (is_bot_admin(context, admin_id)
                                or await is_group_admin(context, claim.chat_id, admin_id)):
        log.warning("name claim %s: press by %s refused (not an admin there)", claim.claim_id,
                    admin_id)
        await answer_query(query, texts.RECORDS_CLAIM_ONLY_ADMINS, show_alert=True)
        return
    confirmed = verdict == "y"
    if not await claims.decide_claim(stores, claim, confirmed, admin_id):
        await answer_query(query, texts.RECORDS_CLAIM_SETTLED, show_alert=True)
        return
    await answer_query(query)
    member = await stores.members.member(claim.chat_id, claim.user_id)
    shown = (f"{member.first_name} {member.last_name}".strip() if member else "") \
        or str(claim.user_id)
    text = (texts.RECORDS_CLAIM_CONFIRMED if confirmed else texts.RECORDS_CLAIM_REFUSED)
    message = editable_message(query)
    if message is not None:
        await soft_call("editMessageText",
                        message.edit_text(text.format(member=shown, name=claim.name)))


async def _soft_reply(message: Message, text: str) -> None:
    try:
        await message.reply_text(text)
    except TelegramError as error:
        log.warning("could not reply: %s", error)
