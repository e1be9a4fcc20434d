"""每日一题: quiz polls with the daily push (or at /quiztime), answers and points, /me, /rank,
/quiz for practice in private and, for global admins, /quiz 讲稿名 to preview and drop questions.

Polls are Telegram quiz polls, not anonymous, so each answer arrives as a `poll_answer` update;
it carries no chat, so every poll is stored (chat, question, right option) when it is sent.
A poll whose sendPoll got no answer (a timeout) may be in the chat all the same: its answers
are kept and scored once a `poll` update shows which claimed quiz it is (bot/quiz/matching.py).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Poll, Update
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, ChatMigrated, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    PollAnswerHandler,
    PollHandler,
)

from bot import services, texts
from bot.cluster import coordination
from bot.core.lectures import Lecture
from bot.handlers.common import command, editable_message, knowledge_of
from bot.handlers.permissions import refuse_unless_admin, refuse_unless_global_admin
from bot.members.store import Sighting
from bot.outcome import outcome_unknown
from bot.quiz.bank import LectureQuiz, QuizBank, drop_question
from bot.quiz.generation import Question
from bot.quiz.scoring import (
    CHECK_IN_POINTS,
    CORRECT_ANSWER_POINTS,
    DAILY_POINTS_CAP,
    LEADERBOARD_SIZE,
)
from bot.quiz.store import OFF, TIMED, WITH_PUSH, QuizSchedule, ScoredAnswer, Voter
from bot.study.delivery import (
    CATCH_UP_DONE_KEY,
    CHAT_MOVED_LISTENERS,
    CHECKED_IN_LISTENERS,
    DAILY_MISFIRE_GRACE_SECONDS,
    PUSH_DELIVERED_LISTENERS,
    local_today,
    move_chat,
)
from bot.study.rules import (
    find_lecture,
    format_time,
    parse_time,
    passed_today,
    week_start,
    zone,
)
from bot.study.store import Push

log = logging.getLogger(__name__)

BANK_KEY = "quiz_bank"
DROP_PREFIX, PAGE_PREFIX = "qd:", "qp:"
# Questions on one preview page: five questions with four options fit one phone screen.
PREVIEW_PAGE_SIZE = 5
OPTION_MARKS = ("✅", "▫️")


def register(app: Application) -> None:
    app.add_handler(command("quiz", quiz_command))
    app.add_handler(command("me", show_me))
    app.add_handler(command("rank", show_rank))
    app.add_handler(command("quiztime", set_quiz_time))
    app.add_handler(PollAnswerHandler(poll_answered))
    app.add_handler(PollHandler(poll_changed))
    app.add_handler(CallbackQueryHandler(drop_pressed, pattern=f"^{DROP_PREFIX}"))
    app.add_handler(CallbackQueryHandler(page_pressed, pattern=f"^{PAGE_PREFIX}"))
    app.bot_data.setdefault(PUSH_DELIVERED_LISTENERS, []).append(on_push_delivered)
    app.bot_data.setdefault(CHECKED_IN_LISTENERS, []).append(on_checked_in)
    app.bot_data.setdefault(CHAT_MOVED_LISTENERS, []).append(on_chat_moved)
    coordination.on_change(app, coordination.SCHEDULES, sync_quiz_jobs)
    coordination.on_takeover(app, start_quiz_catch_up)
    coordination.on_change(app, coordination.QUIZ_BANK, _forget_bank)


async def _forget_bank(app: Application) -> None:
    """Another instance dropped a question: the bank is read again on its next use."""
    app.bot_data.pop(BANK_KEY, None)

async def prepare(app: Application) -> None:
    """Start-up: the quiz jobs from the database and today's missed quizzes. The questions
    load on first use: generating them holds the GIL for seconds, which start-up must not."""
    for schedule in await services.quiz_store(app).timed_schedules():
        schedule_quiz_job(app, schedule)
    await start_quiz_catch_up(app)


# --- the bank of questions ----------------------------------------------------------------

async def quiz_bank(app: Application) -> QuizBank:
    """The questions of the current lectures, loaded (off the event loop) once per knowledge
    base: a /reload or a published lecture gets its questions on the next use."""
    cached = _bank_loading(app)
    try:
        return await asyncio.shield(cached[1])
    except Exception:
        if app.bot_data.get(BANK_KEY) is cached:
            del app.bot_data[BANK_KEY]  # the next use tries again
        raise


def _bank_loading(app: Application) -> tuple[object, asyncio.Future[QuizBank]]:
    """The (knowledge, loading bank) pair for the current knowledge, started if need be."""
    knowledge = services.knowledge(app)
    cached = app.bot_data.get(BANK_KEY)
    if cached is None or cached[0] is not knowledge:
        loading = asyncio.ensure_future(asyncio.to_thread(
            QuizBank.load, knowledge.library, knowledge.index.tokenizer))
        loading.add_done_callback(_log_failure)
        cached = (knowledge, loading)
        app.bot_data[BANK_KEY] = cached
    return cached


def _log_failure(loading: asyncio.Future) -> None:
    if not loading.cancelled() and loading.exception() is not None:
        log.error("the quiz questions could not be loaded", exc_info=loading.exception())


def least_asked(questions: list[Question], asked: dict[str, int]) -> Question | None:
    """The question the chat has seen least often (the first of those, in file order)."""
    return min(questions, key=lambda q: asked.get(q.key, 0), default=None)


# --- sending polls ----------------------------------------------------------------------

async def send_quiz(app: Application, chat_id: int, question: Question, study_date: date,
                    push_id: int | None = None, follow_migration: bool = True) -> bool:
    """Sends the question as a quiz poll; at most once per push. True if Telegram confirmed
    it; a poll whose outcome is unknown keeps its claim and is never sent again. A group that
    became a supergroup unseen (the quiz is the first to learn it) is moved, every feature
    with it, and the poll goes to the supergroup."""
    store = services.quiz_store(app)
    quiz_id = await store.claim_quiz(chat_id, push_id, study_date, question)
    if quiz_id is None:
        return False
    try:
        message = await app.bot.send_poll(
            chat_id, question.question, list(question.options), is_anonymous=False,
            type=Poll.QUIZ, correct_option_ids=[question.correct],
            explanation=question.explanation)
    except ChatMigrated as migrated:
        await store.forget_quiz(quiz_id)
        # As the push does: a supergroup with a plan of its own keeps it, and gets no quiz
        # on the old group's passage.
        if not follow_migration or not await move_chat(app, chat_id, migrated.new_chat_id):
            log.warning("quiz poll to chat %s not sent: it became supergroup %s, which has "
                        "its own plan", chat_id, migrated.new_chat_id)
            return False
        log.info("chat %s became supergroup %s: moved, quiz sent there", chat_id,
                 migrated.new_chat_id)
        return await send_quiz(app, migrated.new_chat_id, question, study_date, push_id,
                               follow_migration=False)
    except TelegramError as error:
        if outcome_unknown(error):
            log.warning("quiz %s to chat %s: no answer from Telegram (%s); kept as maybe sent",
                        quiz_id, chat_id, error)
            return False
        log.warning("quiz poll to chat %s failed: %s", chat_id, error)
        await store.forget_quiz(quiz_id)
        return False
    await _note_counted(app, await store.complete_quiz(quiz_id, message.poll.id, message.chat_id,
                                                  message.message_id, local_today(app)))
    return True


async def quiz_pushes(app: Application, chat_id: int, pushes: list[tuple[int, str]],
                      study_date: date) -> None:
    """The quiz of each pushed passage: a question on it the chat has seen least."""
    if not pushes:
        return
    bank = await quiz_bank(app)
    asked = await services.quiz_store(app).asked_counts(chat_id)
    for push_id, passage_id in pushes:
        question = least_asked(bank.for_passage(passage_id), asked)
        if question is None:
            log.info("no quiz question for %s: nothing sent to chat %s", passage_id, chat_id)
            continue
        await send_quiz(app, chat_id, question, study_date, push_id)


async def on_push_delivered(app: Application, push: Push) -> None:
    store = services.quiz_store(app)
    await store.record_push(push.push_id, push.chat_id, push.local_date, push.passage_id)
    if (await store.schedule(push.chat_id)).mode != WITH_PUSH:
        return
    # Called again at each start for the day's pushes: one that has its quiz needs nothing,
    # not even the questions loaded.
    unquizzed = await store.unquizzed_pushes(push.chat_id, push.local_date)
    await quiz_pushes(app, push.chat_id, [p for p in unquizzed if p[0] == push.push_id],
                      push.local_date)


async def on_checked_in(app: Application, push: Push, user_id: int) -> None:
    await services.quiz_store(app).award_check_in(push.chat_id, user_id, push.push_id,
                                                  push.local_date, local_today(app))


# --- the quiz time (/quiztime) -------------------------------------------------------------

def quiz_job_name(chat_id: int) -> str:
    return f"quiz:{chat_id}"


def schedule_quiz_job(app: Application, schedule: QuizSchedule) -> None:
    """One daily job per chat with a quiz time, named after the chat; none otherwise."""
    unschedule_quiz_job(app, schedule.chat_id)
    at = parse_time(schedule.time_of_day or "")
    if app.job_queue is None or schedule.mode != TIMED or at is None:
        return
    timezone = zone(services.settings(app).timezone)
    app.job_queue.run_daily(_quiz_job, time=at.replace(tzinfo=timezone),
                            name=quiz_job_name(schedule.chat_id), chat_id=schedule.chat_id,
                            data=schedule.time_of_day,
                            job_kwargs={"misfire_grace_time": DAILY_MISFIRE_GRACE_SECONDS})


def unschedule_quiz_job(app: Application, chat_id: int) -> None:
    services.remove_jobs(app, quiz_job_name(chat_id))
    coordination.schedules_changed(app)


async def sync_quiz_jobs(app: Application) -> None:
    """The quiz jobs as the database has the quiz times (another instance may have set
    them); a job whose time did not change stays."""
    schedules = await services.quiz_store(app).timed_schedules()
    services.sync_jobs(app, quiz_job_name(""), {
        quiz_job_name(schedule.chat_id): (schedule.time_of_day,
                                          functools.partial(schedule_quiz_job, app, schedule))
        for schedule in schedules})


async def start_quiz_catch_up(app: Application) -> None:
    """This instance took the scheduler over: today's missed quiz times, once."""
    if app.job_queue is not None:
        app.job_queue.run_once(_catch_up_job, when=0, name="quiz-catch-up")


async def on_chat_moved(app: Application, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup (its quiz time already moved, or the supergroup's own
    won): the quiz job follows the database."""
    unschedule_quiz_job(app, old_chat_id)
    schedule_quiz_job(app, await services.quiz_store(app).schedule(new_chat_id))


@coordination.scheduler_only
async def _quiz_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_timed_quiz(context.application, context.job.chat_id)


async def send_timed_quiz(app: Application, chat_id: int) -> None:
    """At the chat's quiz time: the quiz of each of today's pushes that has none yet."""
    today = local_today(app)
    pushes = await services.quiz_store(app).unquizzed_pushes(chat_id, today)
    await quiz_pushes(app, chat_id, pushes, today)


@coordination.scheduler_only
async def _catch_up_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """After downtime: a quiz time that passed today while the bot was down is sent once."""
    app = context.application
    # The study catch-up first announces today's deliveries again (a kill may have cut off
    # their record here), so that the day's pushes are known when the quiz times are.
    study_caught_up = app.bot_data.get(CATCH_UP_DONE_KEY)
    if study_caught_up is not None:
        await study_caught_up.wait()
    now = services.now(app).astimezone(zone(services.settings(app).timezone))
    for schedule in await services.quiz_store(app).timed_schedules():
        if not passed_today(schedule.time_of_day, now):
            continue
        try:
            await send_timed_quiz(app, schedule.chat_id)
        except Exception:
            log.exception("catch-up quiz for chat %s failed", schedule.chat_id)


async def set_quiz_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_admin(update, context):
        return
    message, chat_id = update.effective_message, update.effective_chat.id
    store = services.quiz_store(context.application)
    args = context.args or []
    if not args:
        current = await store.schedule(chat_id)
        await message.reply_text(texts.QUIZTIME_CURRENT.format(setting=_setting(current))
                                 + "\n" + texts.QUIZTIME_USAGE)
        return
    schedule = _parse_quiz_time(chat_id, args)
    if schedule is None:
        await message.reply_text(texts.QUIZTIME_USAGE)
        return
    await store.set_schedule(chat_id, schedule.mode, schedule.time_of_day)
    schedule_quiz_job(context.application, schedule)
    await message.reply_text(texts.QUIZTIME_SET.format(setting=_setting(schedule)))


def _parse_quiz_time(chat_id: int, args: list[str]) -> QuizSchedule | None:
    if len(args) != 1:
        return None
    word = args[0].strip().lower()
    if word in texts.QUIZTIME_WORDS_WITH_PUSH:
        return QuizSchedule(chat_id, WITH_PUSH, None)
    if word in texts.QUIZTIME_WORDS_OFF:
        return QuizSchedule(chat_id, OFF, None)
    at = parse_time(word)
    return QuizSchedule(chat_id, TIMED, format_time(at)) if at else None


def _setting(schedule: QuizSchedule) -> str:
    if schedule.mode == TIMED:
        return texts.QUIZTIME_AT.format(time=schedule.time_of_day)
    return texts.QUIZTIME_OFF if schedule.mode == OFF else texts.QUIZTIME_WITH_PUSH


# --- answers and points ------------------------------------------------------------------

async def poll_answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A member answered a quiz poll: points once, for a right first answer, within the cap."""
    answer = update.poll_answer
    user = answer.user
    if user is None or not answer.option_ids:
        return  # an anonymous admin voting as the chat, or a vote taken back
    app = context.application
    voter = Voter(user.id, user.first_name or "", user.last_name or "", user.username,
                  user.is_bot)
    scored = await services.quiz_store(app).answer_poll(answer.poll_id, voter,
                                                        answer.option_ids[0], local_today(app))
    if not scored:
        log.info("poll %s is not known yet: the answer of user %s is kept", answer.poll_id,
                 user.id)
    await _note_counted(app, scored)


async def poll_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram reports a poll's new state (a vote): a poll whose sendPoll got no answer is
    recognised, and the answers kept for it count."""
    poll = update.poll
    if poll.type != Poll.QUIZ:
        return
    app = context.application
    await _note_counted(app, await services.quiz_store(app).poll_seen(
        poll.id, poll.question, tuple(option.text for option in poll.options),
        local_today(app)))


async def _note_counted(app: Application, scored: list[ScoredAnswer]) -> None:
    """Logs the answers just counted and remembers each voter in the poll's chat."""
    for answer in scored:
        quiz, voter, result = answer.quiz, answer.voter, answer.result
        log.info("quiz %s: user %s answered (first=%s, right=%s, +%d)", quiz.quiz_id,
                 voter.user_id, result.first, result.correct, result.points)
        if not voter.is_bot:  # a poll answer has no chat: the board still needs the name
            await services.members(app).saw(Sighting(quiz.chat_id, voter.user_id,
                                                     voter.first_name, voter.last_name,
                                                     voter.username))


async def show_me(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    app, chat_id = context.application, update.effective_chat.id
    today = local_today(app)
    standing = await services.quiz_store(app).standing(chat_id, update.effective_user.id,
                                                       week_start(today), today)
    rank = (texts.QUIZ_ME_RANK.format(rank=standing.rank) if standing.rank
            else texts.QUIZ_ME_NO_RANK)
    await update.effective_message.reply_text(texts.QUIZ_ME.format(
        week=standing.week_points, rank=rank, total=standing.total_points,
        streak=standing.streak, answer_points=CORRECT_ANSWER_POINTS,
        study_points=CHECK_IN_POINTS, cap=DAILY_POINTS_CAP))


async def show_rank(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    app, chat_id = context.application, update.effective_chat.id
    board = await services.quiz_store(app).weekly_board(chat_id, week_start(local_today(app)))
    if not board:
        await update.effective_message.reply_text(texts.QUIZ_RANK_EMPTY)
        return
    top = board[:LEADERBOARD_SIZE]
    names = await services.members(app).names(chat_id, [s.user_id for s in top])
    lines = [texts.QUIZ_RANK_TITLE.format(size=LEADERBOARD_SIZE)]
    lines += [texts.QUIZ_RANK_ITEM.format(rank=s.rank, name=names[s.user_id], points=s.points)
              for s in top]
    mine = next((s for s in board if s.user_id == update.effective_user.id), None)
    lines.append(texts.QUIZ_RANK_MINE.format(rank=mine.rank, points=mine.points) if mine
                 else texts.QUIZ_RANK_NOT_MINE)
    await update.effective_message.reply_text("\n".join(lines))


# --- /quiz: practice, and the admins' preview ----------------------------------------------

async def quiz_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if chat.type != ChatType.PRIVATE:
        await message.reply_text(texts.QUIZ_PRIVATE_ONLY)
        return
    name = " ".join(context.args or []).strip()
    lecture = None
    if name:
        found = find_lecture(knowledge_of(context).library, name)
        if not isinstance(found, Lecture):
            await message.reply_text(texts.LECTURE_UNKNOWN.format(
                name=texts.echoed(name), lectures=_lecture_list(context)))
            return
        lecture = found
        admins = services.settings(context.application).admin_ids
        if update.effective_user.id in admins:
            await _send_preview(update, context, lecture, page=0)
            return
    await _practice(update, context, lecture)


def _lecture_list(context: ContextTypes.DEFAULT_TYPE) -> str:
    return "\n".join(texts.LECTURE_ITEM.format(title=lec.title, file=lec.path.name)
                     for lec in knowledge_of(context).library.lectures)


async def _practice(update: Update, context: ContextTypes.DEFAULT_TYPE,
                    lecture: Lecture | None) -> None:
    """One more question for the member: one he has not answered anywhere (here or in a
    group's daily quiz) first, then the one this chat has seen least."""
    app, chat_id = context.application, update.effective_chat.id
    bank = await quiz_bank(app)
    if lecture is None:
        questions = bank.askable()
    else:
        quiz = bank.lecture(lecture.lecture_id)
        questions = list(quiz.askable) if quiz else []
    store = services.quiz_store(app)
    user = update.effective_user
    answered = await store.answered_keys(user.id) if user else set()
    unanswered = [q for q in questions if q.key not in answered]
    question = least_asked(unanswered or questions, await store.asked_counts(chat_id))
    if question is None:
        await update.effective_message.reply_text(
            texts.QUIZ_NONE_FOR_LECTURE.format(lecture=lecture.title) if lecture
            else texts.QUIZ_NONE)
        return
    await send_quiz(app, chat_id, question, local_today(app))


def _lecture_tag(lecture_id: str) -> str:
    """A lecture in 64 bytes of button data, whatever the length of its file name."""
    return hashlib.sha1(lecture_id.encode("utf-8")).hexdigest()[:10]


def preview_page(quiz: LectureQuiz, title: str, page: int
                 ) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of a lecture's questions with a drop button for each, and paging."""
    askable = quiz.askable
    pages = max(1, -(-len(askable) // PREVIEW_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = askable[page * PREVIEW_PAGE_SIZE:(page + 1) * PREVIEW_PAGE_SIZE]
    parts = [texts.QUIZ_PREVIEW_TITLE.format(
        lecture=title, page=page + 1, pages=pages, count=len(askable),
        dropped=len(quiz.questions) - len(askable), file=quiz.path.name)]
    if quiz.problems:
        parts.append(texts.QUIZ_PREVIEW_PROBLEMS.format(problems="\n".join(quiz.problems[:5])))
    if not askable:
        parts.append(texts.QUIZ_PREVIEW_EMPTY.format(lecture=title))
    first = page * PREVIEW_PAGE_SIZE + 1
    for number, question in enumerate(shown, start=first):
        options = "\n".join(texts.QUIZ_PREVIEW_OPTION.format(
            mark=OPTION_MARKS[0] if i == question.correct else OPTION_MARKS[1], option=option)
            for i, option in enumerate(question.options))
        parts.append(texts.QUIZ_PREVIEW_ITEM.format(number=number, question=question.question,
                                                    options=options))
    drops = [InlineKeyboardButton(texts.BUTTON_QUIZ_DROP.format(number=number),
                                  callback_data=f"{DROP_PREFIX}{q.key}:{page}")
             for number, q in enumerate(shown, start=first)]
    tag = _lecture_tag(quiz.lecture_id)
    paging = [InlineKeyboardButton(label, callback_data=f"{PAGE_PREFIX}{tag}:{target}")
              for label, target in ((texts.BUTTON_QUIZ_PREVIOUS, page - 1),
                                    (texts.BUTTON_QUIZ_NEXT, page + 1)) if 0 <= target < pages]
    rows = [drops[i:i + 2] for i in range(0, len(drops), 2)] + ([paging] if paging else [])
    return "\n\n".join(parts), InlineKeyboardMarkup(rows) if rows else None


async def _send_preview(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        lecture: Lecture, page: int) -> None:
    quiz = (await quiz_bank(context.application)).lecture(lecture.lecture_id)
    if quiz is None:
        await update.effective_message.reply_text(
            texts.QUIZ_NONE_FOR_LECTURE.format(lecture=lecture.title))
        return
    text, keyboard = preview_page(quiz, lecture.title, page)
    await update.effective_message.reply_text(text[:MessageLimit.MAX_TEXT_LENGTH],
                                              reply_markup=keyboard)


async def _show_page(update: Update, context: ContextTypes.DEFAULT_TYPE, lecture_id: str,
                     page: int) -> None:
    """Redraws the preview message under the pressed button."""
    query = update.callback_query
    bank = await quiz_bank(context.application)
    quiz = bank.lecture(lecture_id)
    lecture = knowledge_of(context).library.lecture(lecture_id)
    message = editable_message(query)
    if quiz is None or lecture is None or message is None:
        return
    text, keyboard = preview_page(quiz, lecture.title, page)
    try:
        await message.edit_text(text[:MessageLimit.MAX_TEXT_LENGTH], reply_markup=keyboard)
    except BadRequest as error:  # not modified: two presses on the same page
        log.debug("preview not redrawn: %s", error)


async def page_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context):
        return
    query = update.callback_query
    tag, _, page = query.data.removeprefix(PAGE_PREFIX).partition(":")
    lecture = next((lec for lec in knowledge_of(context).library.lectures
                    if _lecture_tag(lec.lecture_id) == tag), None)
    if lecture is None or not (page.isascii() and page.isdigit()):  # not "²"
        await query.answer(texts.BUTTON_EXPIRED)
        return
    await query.answer()
    await _show_page(update, context, lecture.lecture_id, int(page))


async def drop_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await refuse_unless_global_admin(update, context):
        return
    query, app = update.callback_query, context.application
    key, _, page = query.data.removeprefix(DROP_PREFIX).partition(":")
    found = (await quiz_bank(app)).find(key)
    dropped = found is not None and await asyncio.to_thread(drop_question, found[0].path, key)
    if not dropped:
        await query.answer(texts.QUIZ_DROP_GONE, show_alert=True)
        return
    app.bot_data.pop(BANK_KEY, None)  # read the file again on the next use
    await coordination.announce(app, coordination.QUIZ_BANK)  # and so do the other instances
    await query.answer(texts.QUIZ_DROPPED, show_alert=True)
    number = int(page) if page.isascii() and page.isdigit() else 0
    await _show_page(update, context, found[0].lecture_id, number)
