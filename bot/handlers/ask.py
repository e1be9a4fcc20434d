"""Asking: questions in private chats, /ask and mentions and replies in groups, inline mode.

Every answer is one message (split only if Telegram's limit forces it) with a keyboard:
更多 (the next result), 上一段/下一段 (reading order) and 👍/👎. Buttons carry passage
references in their callback data (see bot.core.navigation), so they work after a restart.
"""

from __future__ import annotations

import logging
from uuid import uuid4

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import services, texts
from bot.asking.store import question_record
from bot.core.answer import Answer, AnswerKind
from bot.core.lectures import Lecture, Library, Passage
from bot.core.navigation import lecture_key, neighbours, passage_ref, resolve_ref
from bot.core.render import (
    MAX_MESSAGE_LENGTH,
    closest_passages,
    html_chunks,
    lecture_html,
    passage_html,
    replies,
)
from bot.handlers.common import (
    answer_query,
    command,
    editable_message,
    knowledge_of,
    reply_chunks,
    shows_button,
    soft_call,
)
from bot.isolation.budget import RequestBudget, Verdict
from bot.stores import QUESTION
from bot.teach import scoped

log = logging.getLogger(__name__)

MORE_PREFIX, SHOW_PREFIX, FEEDBACK_PREFIX = "m:", "p:", "f:"
# 阅读 under a refusal (the passage as a new message) and 全文 (the whole lecture).
READ_PREFIX, FULL_TEXT_PREFIX = "rd:", "ft:"
# 上一页/下一页 under a page of the whole lecture: "fp:<lecture key>:<page>".
FULL_TEXT_PAGE_PREFIX = "fp:"
# Room kept on each page of 全文 for its position line ("第 2/22 页").
PAGE_POSITION_ROOM = 40
# 全文: the same member opening the same lecture in a chat again within this time gets a
# pointer to the pages already sent; a chat opens at most FULL_TEXTS_PER_CHAT in the window.
FULL_TEXT_REPEAT_S = 600.0
FULL_TEXTS_PER_CHAT, FULL_TEXT_WINDOW_S = 3, 60.0
_FULL_TEXT_BUDGET_KEY = "full_text_budget"
# Results offered behind 更多: as many refs as fit in 64 bytes of callback data.
MORE_RESULTS = 4
# Inline results: as many as a phone shows without scrolling, each with a one-line preview.
INLINE_RESULTS = 5
INLINE_DESCRIPTION_CHARS = 100
# Candidate passages kept with a logged question: what an admin reviewing it picks from.
LOGGED_CANDIDATES = 3

_MEDIA = (filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO
          | filters.VIDEO_NOTE | filters.ANIMATION | filters.Document.ALL | filters.LOCATION
          | filters.CONTACT | filters.POLL | filters.Dice.ALL)


def register(app: Application) -> None:
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    group_text = filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND
    app.add_handler(command("ask", ask_command))
    app.add_handler(MessageHandler(private_text & filters.UpdateType.MESSAGE, ask_private))
    app.add_handler(MessageHandler(group_text & filters.UpdateType.MESSAGE, ask_in_group))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & _MEDIA
                                   & filters.UpdateType.MESSAGE, text_only_hint))
    app.add_handler(CallbackQueryHandler(more_results, pattern=f"^{MORE_PREFIX}"))
    app.add_handler(CallbackQueryHandler(show_passage, pattern=f"^{SHOW_PREFIX}"))
    app.add_handler(CallbackQueryHandler(feedback, pattern=f"^{FEEDBACK_PREFIX}"))
    app.add_handler(CallbackQueryHandler(read_passage, pattern=f"^{READ_PREFIX}"))
    app.add_handler(CallbackQueryHandler(full_text, pattern=f"^{FULL_TEXT_PREFIX}"))
    app.add_handler(CallbackQueryHandler(full_text_page, pattern=f"^{FULL_TEXT_PAGE_PREFIX}"))
    app.bot_data[_FULL_TEXT_BUDGET_KEY] = RequestBudget(FULL_TEXT_REPEAT_S, FULL_TEXTS_PER_CHAT,
                                                        FULL_TEXT_WINDOW_S)
    app.add_handler(InlineQueryHandler(inline_query))
    # Last: every feature's commands are registered before this catches the rest. In groups
    # an unknown command is left alone: it may be meant for another bot.
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND
                                   & filters.UpdateType.MESSAGE, unknown_command))


async def ask_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if _sent_through_our_inline_mode(message, context.bot.id):
        return  # a passage the user just shared from the inline results, not a question
    await answer_question(message, message.text, context)


def _sent_through_our_inline_mode(message: Message, bot_id: int) -> bool:
    return message.via_bot is not None and message.via_bot.id == bot_id


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    question = " ".join(context.args or [])
    if not question.strip():
        await message.reply_text(texts.ASK_USAGE.format(example=texts.EXAMPLE_QUESTIONS[0]))
        return
    await answer_question(message, question, context)


async def ask_in_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups the bot answers only when addressed: a mention or a reply to its message."""
    message = update.effective_message
    question = _addressed_question(message, context.bot.username, context.bot.id)
    if question is None:
        return
    await answer_question(message, question, context)


def _addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    mention = f"@{username}".lower()
    for entity, text in message.parse_entities([MessageEntity.MENTION]).items():
        if text.lower() == mention:
            start, end = entity.offset, entity.offset + entity.length
            utf16 = message.text.encode("utf-16-le")
            return (utf16[:start * 2] + utf16[end * 2:]).decode("utf-16-le").strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id \
            and not _is_daily_push(replied):
        return message.text
    return None


def _is_daily_push(message: Message) -> bool:
    """Members answer the daily passage with "学习了" or "打卡": that is not a question."""
    return (message.text or "").startswith(texts.PUSH_TITLE)


async def answer_question(message: Message, question: str,
                          context: ContextTypes.DEFAULT_TYPE) -> Answer:
    """Replies to a message: one reply for each question it asks (at most three), never
    the same reply twice (two long questions that differ only after the words a reply echoes
    may be answered alike)."""
    knowledge = knowledge_of(context)
    # What this group's own admins taught answers here, and nowhere else.
    own_links = await scoped.chat_links(context.application, message.chat_id)
    answer = knowledge.answer(question, top_k=MORE_RESULTS + 1, chat_links=own_links)
    sent: set[tuple[str, ...]] = set()
    for reply in replies(answer):
        # Queued, not awaited: the reply never waits for the database, and a failed send
        # still logs what the member asked. The write starts while the reply is sent.
        _log(context, message, reply)
        chunks = html_chunks(reply, knowledge.library)
        if tuple(chunks) in sent:
            continue
        sent.add(tuple(chunks))
        await reply_chunks(message, chunks, answer_keyboard(reply, knowledge.library))
        log.info("question in chat %s answered: %s%s", message.chat_id, reply.kind.value,
                 f" ({reply.best.passage.passage_id})" if reply.best else "")
    return answer


def _log(context: ContextTypes.DEFAULT_TYPE, message: Message, answer: Answer) -> None:
    if answer.kind in (AnswerKind.SMALL_TALK, AnswerKind.NO_QUESTION):
        return
    best = answer.best.passage.passage_id if answer.answered and answer.best else None
    services.deferred(context.application).submit(QUESTION, question_record(
        message.chat_id, answer.question, answer.answered, best,
        user_id=message.from_user.id if message.from_user else None,
        reply_kind=answer.kind.value,
        candidates=[hit.passage.passage_id for hit in answer.hits[:LOGGED_CANDIDATES]],
        at=services.now(context.application)))


def answer_keyboard(answer: Answer, library: Library) -> InlineKeyboardMarkup | None:
    """Under an answer: more results, reading and feedback; under the closest paragraph:
    reading and feedback; under a refusal that names paragraphs: a button to read each."""
    if answer.best is None:
        return None
    if answer.answered:
        shown = answer.best.passage
        rest = [hit.passage for hit in answer.hits[1:MORE_RESULTS + 1]]
        return passage_keyboard(shown, library, rest)
    if answer.kind == AnswerKind.CLOSEST:
        return passage_keyboard(answer.best.passage, library, [])
    if answer.kind == AnswerKind.NOT_COVERED:
        return _read_buttons(closest_passages(answer))
    return None


def _read_buttons(passages: list[Passage]) -> InlineKeyboardMarkup | None:
    if not passages:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        texts.BUTTON_READ.format(citation=_short_citation(p)),
        callback_data=READ_PREFIX + passage_ref(p))] for p in passages])


def _short_citation(passage: Passage) -> str:
    return f"{passage.section_label} · 第{passage.paragraph_no}段"


def passage_keyboard(shown: Passage, library: Library,
                     more: list[Passage]) -> InlineKeyboardMarkup:
    before, after = neighbours(library, shown)
    rows = []
    if more:
        data = MORE_PREFIX + ",".join(passage_ref(p) for p in more)
        rows.append([InlineKeyboardButton(texts.BUTTON_MORE, callback_data=data)])
    reading = []
    if before:
        reading.append(InlineKeyboardButton(texts.BUTTON_PREVIOUS,
                                            callback_data=SHOW_PREFIX + passage_ref(before)))
    if after:
        reading.append(InlineKeyboardButton(texts.BUTTON_NEXT,
                                            callback_data=SHOW_PREFIX + passage_ref(after)))
    reading.append(InlineKeyboardButton(
        texts.BUTTON_FULL_TEXT, callback_data=FULL_TEXT_PREFIX + lecture_key(shown.lecture_id)))
    rows.append(reading)
    ref = passage_ref(shown)
    rows.append([InlineKeyboardButton(texts.BUTTON_LIKE, callback_data=f"{FEEDBACK_PREFIX}+{ref}"),
                 InlineKeyboardButton(texts.BUTTON_DISLIKE,
                                      callback_data=f"{FEEDBACK_PREFIX}-{ref}")])
    return InlineKeyboardMarkup(rows)


async def more_results(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    library = knowledge_of(context).library
    refs = query.data.removeprefix(MORE_PREFIX).split(",")
    passages = [p for p in (resolve_ref(library, ref) for ref in refs) if p is not None]
    if not passages:
        await query.answer(texts.NO_MORE_RESULTS)
        return
    await query.answer()
    await _show(query.message, passages[0], library, passages[1:])


async def show_passage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    library = knowledge_of(context).library
    passage = resolve_ref(library, query.data.removeprefix(SHOW_PREFIX))
    if passage is None:
        await query.answer(texts.PASSAGE_GONE, show_alert=True)
        return
    await query.answer()
    await _show(query.message, passage, library, [])


async def _show(message: Message | None, passage: Passage, library: Library,
                more: list[Passage]) -> None:
    """Shows a passage in place of the message the button was under."""
    if message is None or not isinstance(message, Message):
        return
    await message.edit_text(passage_html(passage, library), parse_mode=ParseMode.HTML,
                            reply_markup=passage_keyboard(passage, library, more))


async def read_passage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """阅读 under a refusal: the paragraph as a new message, the refusal stays readable."""
    query = update.callback_query
    library = knowledge_of(context).library
    passage = resolve_ref(library, query.data.removeprefix(READ_PREFIX))
    message = editable_message(query)
    if passage is None or message is None:
        await query.answer(texts.PASSAGE_GONE, show_alert=True)
        return
    await query.answer()
    await message.reply_html(passage_html(passage, library),
                             reply_markup=passage_keyboard(passage, library, []))


async def full_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """全文: the whole lecture as one message of pages, turned with 上一页/下一页.

    A member pressing it again (or a chat pressing it often) gets a short note, not the
    lecture again: one lecture is never dozens of messages."""
    query = update.callback_query
    library = knowledge_of(context).library
    key = query.data.removeprefix(FULL_TEXT_PREFIX)
    lecture = _lecture_by_key(library, key)
    message = editable_message(query)
    if lecture is None or message is None:
        await query.answer(texts.PASSAGE_GONE, show_alert=True)
        return
    budget: RequestBudget = context.bot_data[_FULL_TEXT_BUDGET_KEY]
    verdict = budget.allow(message.chat_id, query.from_user.id, key)
    if verdict != Verdict.ALLOWED:
        await answer_query(query, texts.FULL_TEXT_ALREADY_SENT if verdict == Verdict.REPEATED
                           else texts.TOO_MANY_REQUESTS, show_alert=True)
        return
    await answer_query(query)
    page, keyboard = _full_text_page(lecture, library, 0)
    try:
        await message.reply_html(page, reply_markup=keyboard)
    except TelegramError:
        budget.forget(message.chat_id, query.from_user.id, key)  # pressing again may work
        raise


async def full_text_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """上一页/下一页: another page of the lecture, in place of the one shown."""
    query = update.callback_query
    library = knowledge_of(context).library
    key, _, number = query.data.removeprefix(FULL_TEXT_PAGE_PREFIX).partition(":")
    lecture = _lecture_by_key(library, key)
    message = editable_message(query)
    # Only a page's own buttons turn it: forged on another message (a push), it would put a
    # lecture page in that message's place.
    if lecture is None or message is None or not number.isdecimal() or len(number) > 6 \
            or not shows_button(query):
        await answer_query(query, texts.BUTTON_EXPIRED, show_alert=True)
        return
    await answer_query(query)
    page, keyboard = _full_text_page(lecture, library, int(number))
    await soft_call("editMessageText", message.edit_text(page, parse_mode=ParseMode.HTML,
                                                         reply_markup=keyboard))


def _lecture_by_key(library: Library, key: str) -> Lecture | None:
    return next((lec for lec in library.lectures if lecture_key(lec.lecture_id) == key), None)


def _full_text_page(lecture: Lecture, library: Library,
                    index: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page `index` (clamped) of the lecture, with its position and the buttons to turn."""
    pages = lecture_html(lecture, library, MAX_MESSAGE_LENGTH - PAGE_POSITION_ROOM)
    index = min(max(index, 0), len(pages) - 1)
    if len(pages) == 1:
        return pages[0], None
    text = pages[index] + "\n\n" + texts.PAGE_POSITION.format(page=index + 1, pages=len(pages))
    key = lecture_key(lecture.lecture_id)
    turn = []
    if index > 0:
        turn.append(InlineKeyboardButton(
            texts.BUTTON_PREVIOUS_PAGE, callback_data=f"{FULL_TEXT_PAGE_PREFIX}{key}:{index - 1}"))
    if index < len(pages) - 1:
        turn.append(InlineKeyboardButton(
            texts.BUTTON_NEXT_PAGE, callback_data=f"{FULL_TEXT_PAGE_PREFIX}{key}:{index + 1}"))
    return text, InlineKeyboardMarkup([turn])


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    data = query.data.removeprefix(FEEDBACK_PREFIX)
    # A vote is recorded only from a 👍/👎 the bot put on that very message: a forged one
    # would fill the chat's review queue with 👎 on paragraphs nobody was shown.
    if not data or data[0] not in "+-" or not shows_button(query):
        await query.answer(texts.BUTTON_EXPIRED)
        return
    passage = resolve_ref(knowledge_of(context).library, data[1:])
    if passage is None or update.effective_chat is None:
        await query.answer(texts.BUTTON_EXPIRED)
        return
    await services.question_log(context.application).add_feedback(update.effective_chat.id,
                                                     passage.passage_id, query.from_user.id,
                                                     1 if data[0] == "+" else -1)
    await query.answer(texts.FEEDBACK_THANKS)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def text_only_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.TEXT_ONLY)


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    knowledge = knowledge_of(context)
    if not query.query.strip():
        await query.answer([], cache_time=0, button=_open_chat_button(texts.INLINE_TYPE_QUESTION))
        return
    answer = knowledge.answer(query.query, top_k=INLINE_RESULTS)
    results = []
    if answer.answered:
        for hit in answer.hits[:INLINE_RESULTS]:
            results.append(InlineQueryResultArticle(
                id=str(uuid4()), title=hit.passage.citation,
                description=hit.passage.text[:INLINE_DESCRIPTION_CHARS],
                input_message_content=InputTextMessageContent(
                    passage_html(hit.passage, knowledge.library, hit.matched_sentences),
                    parse_mode=ParseMode.HTML)))
    button = None if results else _open_chat_button(texts.INLINE_NO_RESULT)
    await query.answer(results, cache_time=0, button=button)


def _open_chat_button(text: str) -> InlineQueryResultsButton:
    """Above the (empty) results: opens a private chat with the bot, which explains itself."""
    return InlineQueryResultsButton(text=text, start_parameter="help")

