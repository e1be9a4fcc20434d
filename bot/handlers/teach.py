"""Teaching the bot from the chat: /review, /questions and questions-file uploads.

/review shows, one at a time, what the bot did not answer well (bot.teach.queue), with the
top candidate paragraphs: "是这一段" links the question to one, "阅读" shows a candidate
in full first, "讲稿没讲" makes the bot refuse it, "跳过" leaves it for later. Bot admins
review every chat's questions, and their choices go to the lecture's questions file (every
chat, at once); a group's admins review their group's, and their choices answer in that group
only (bot.teach.scoped) until a bot admin adopts one. Buttons carry the review's scope and
the item's handle, so a review survives a restart; every press checks the presser's rights
and the chat again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import services, texts
from bot.cluster import coordination
from bot.core.lectures import Passage
from bot.core.links import LINKS_SUFFIX, QuestionMatcher, clean_question, links_path
from bot.core.navigation import passage_ref, resolve_ref
from bot.core.render import passage_message
from bot.handlers.common import (
    answer_query,
    command,
    editable_message,
    knowledge_of,
    soft_call,
    stored_id,
)
from bot.handlers.lectures import links_follow_edits, refresh_links
from bot.handlers.permissions import (
    is_bot_admin,
    is_group_admin,
    may_manage,
    pressed_in_private,
    refuse,
    refuse_unless_global_admin,
)
from bot.study.delivery import CHAT_MOVED_LISTENERS
from bot.study.rules import find_lecture
from bot.teach import linkfile, review, scoped
from bot.teach.followups import schedule_retries, send_follow_ups
from bot.teach.queue import (
    UNANSWERED_KINDS,
    Occurrence,
    ReviewItem,
    candidates,
    occurrences,
    review_queue,
)
from bot.teach.store import Decision, GroupLink

log = logging.getLogger(__name__)

# Button data: rv:<action>:<scope>:<item handle>[:<passage ref>] (under Telegram's 64 bytes).
REVIEW_PREFIX = "rv:"
PICK, READ, NOT_COVERED, SKIP, BACK = "p", "r", "n", "s", "b"
# Scopes: every chat (bot admins), the groups the reviewer administers (in private), or a
# group's id (a review inside that group).
ALL_CHATS, MY_GROUPS = "a", "g"
# Occurrences of each kind read per review: the newest; older ones come up as these are done.
REVIEW_WINDOW = 500
# Group titles looked up (getChat) for the review's "chat" line, once per group and process.
CHAT_TITLES_KEY = "teach_chat_titles"
# The wordings' shapes, kept between review screens (a screen needs every waiting wording's);
# forgotten past this many, a few times the window, and when the lexicon is reloaded.
SHAPES_KEY = "teach_shapes"
MAX_REMEMBERED_SHAPES = 5000
UPLOAD_NAME_EXAMPLE = f"party-lecture{LINKS_SUFFIX}"


def register(app: Application) -> None:
    app.add_handler(command("review", review_command))
    app.add_handler(command("questions", questions_command))
    # Before the lecture uploads' handler, which takes every other document.
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.Document.FileExtension("tsv")
                                   & filters.UpdateType.MESSAGE, questions_upload))
    app.add_handler(CallbackQueryHandler(review_button, pattern=f"^{REVIEW_PREFIX}"))
    app.bot_data.setdefault(CHAT_MOVED_LISTENERS, []).append(group_moved)
    coordination.on_change(app, coordination.LINKS, _follow_links)


async def _follow_links(app: Application) -> None:
    """Another instance taught: the questions files and every group's links are read again."""
    scoped.forget_all(app)
    await refresh_links(app)

async def group_moved(app: Application, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: what its admins taught goes on answering there."""
    if old_chat_id < 0 and new_chat_id < 0:
        await services.teach_store(app).move_group_marks(old_chat_id, new_chat_id)
    scoped.forget(app, (old_chat_id, new_chat_id))
    await coordination.announce(app, coordination.LINKS)


async def prepare(app: Application) -> None:
    """Start-up, once the knowledge and the stores are loaded: links record the paragraphs
    they point to (so later edits are followed), and owed follow-ups are retried."""
    knowledge = services.knowledge(app)
    app.bot_data[services.KNOWLEDGE_KEY] = await links_follow_edits(knowledge, None)
    schedule_retries(app)


@dataclass(frozen=True)
class Scope:
    code: str
    chat_ids: frozenset[int] | None  # None: every chat


# --- /review ---------------------------------------------------------------------------------


async def review_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    scope = await _command_scope(update, context)
    if scope is None:
        await refuse(update, texts.REVIEW_NOT_ALLOWED)
        return
    items = await _queue(context, scope, update.effective_user.id)
    text, keyboard = await _item_message(context, scope, items, update.effective_user.id)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def _command_scope(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Scope | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    if chat.type == ChatType.PRIVATE:
        return await _scope(context, ALL_CHATS if is_bot_admin(context, user.id) else MY_GROUPS,
                            user.id)
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and await may_manage(update, context):
        return Scope(str(chat.id), frozenset({chat.id}))
    return None


async def _scope(context: ContextTypes.DEFAULT_TYPE, code: str, user_id: int) -> Scope | None:
    """The scope a button or command names, if this user may review it."""
    if code == ALL_CHATS:
        return Scope(code, None) if is_bot_admin(context, user_id) else None
    if code == MY_GROUPS:
        groups = await _administered_groups(context, user_id)
        return Scope(code, groups) if groups else None
    group = stored_id(code.removeprefix("-")) if code.startswith("-") else None
    if group is None:  # a review inside a chat is a group's review: a negative id
        return None
    chat_id = -group
    if is_bot_admin(context, user_id) or await is_group_admin(context, chat_id, user_id):
        return Scope(code, frozenset({chat_id}))
    return None


async def _administered_groups(context: ContextTypes.DEFAULT_TYPE,
                               user_id: int) -> frozenset[int]:
    """The groups with questions to review whose admin this user is."""
    groups = {o.chat_id for o in await _occurrences(context, None) if o.chat_id < 0}
    return frozenset([chat_id for chat_id in sorted(groups)
                      if await is_group_admin(context, chat_id, user_id)])


async def _occurrences(context: ContextTypes.DEFAULT_TYPE,
                       chat_ids: frozenset[int] | None) -> list[Occurrence]:
    log_ = services.question_log(context.application)
    return occurrences(await log_.questions_of_kinds(UNANSWERED_KINDS, chat_ids, REVIEW_WINDOW),
                       await log_.dislikes(chat_ids, REVIEW_WINDOW))


async def _queue(context: ContextTypes.DEFAULT_TYPE, scope: Scope,
                 reviewer_id: int) -> list[ReviewItem]:
    found = await _occurrences(context, scope.chat_ids)
    # A group's own decisions hide its items from its admins; a bot admin still sees them,
    # to adopt them for every chat or decide otherwise.
    groups = () if is_bot_admin(context, reviewer_id) or scope.chat_ids is None \
        else scope.chat_ids
    marked = await services.teach_store(context.application).marked(
        [o.key for o in found], reviewer_id, groups)
    knowledge = knowledge_of(context)
    tokenizer = knowledge.index.tokenizer
    owner, shapes = context.application.bot_data.get(SHAPES_KEY, (None, {}))
    if owner is not tokenizer or len(shapes) > MAX_REMEMBERED_SHAPES:
        shapes = {}
        context.application.bot_data[SHAPES_KEY] = (tokenizer, shapes)
    own_links = {chat_id: index for chat_id in {o.chat_id for o in found if o.chat_id < 0}
                 if (index := await scoped.chat_links(context.application, chat_id))}
    # Grouping splits every new wording into words: CPU work, off the event loop.
    return await asyncio.to_thread(review_queue, found, marked, knowledge.links.index,
                                   QuestionMatcher(tokenizer), shapes, own_links)


async def _item_message(context: ContextTypes.DEFAULT_TYPE, scope: Scope,
                        items: list[ReviewItem], reviewer_id: int, note: str = "",
                        item: ReviewItem | None = None
                        ) -> tuple[str, InlineKeyboardMarkup | None]:
    """The first item (or `item`) with its buttons; "nothing to review" if there is none.
    A bot admin also sees what a group's admins chose for it, with a button to adopt it."""
    prefix = f"{note}\n\n" if note else ""
    if not items:
        return prefix + texts.REVIEW_EMPTY, None
    item = item or items[0]
    passages = await _candidates(context, item)
    chat = await _chat_label(context, item)
    text = review.item_text(item, len(items), chat, passages)
    rows = [[_button(texts.BUTTON_REVIEW_PICK.format(number=n), PICK, scope, item, p),
             _button(texts.BUTTON_REVIEW_READ.format(number=n), READ, scope, item, p)]
            for n, p in enumerate(passages, start=1)]
    rows.append([_button(texts.BUTTON_REVIEW_NOT_COVERED, NOT_COVERED, scope, item),
                 _button(texts.BUTTON_REVIEW_SKIP, SKIP, scope, item)])
    choices = await _group_choices(context, item) if is_bot_admin(context, reviewer_id) \
        else []
    if choices:  # the newest group's choice is offered; the buttons above decide otherwise
        link = choices[0]
        passage = knowledge_of(context).library.passage(f"{link.lecture_id}:{link.ref}")
        choice = passage.citation if passage else texts.REVIEW_GROUP_CHOICE_NOT_COVERED
        text += "\n\n" + texts.REVIEW_GROUP_CHOICE.format(
            group=await _group_title(context, link.chat_id), choice=choice)
        rows.insert(0, [_button(texts.BUTTON_REVIEW_ADOPT, PICK if passage else NOT_COVERED,
                                scope, item, passage)])
    return prefix + text, InlineKeyboardMarkup(rows)


async def _group_choices(context: ContextTypes.DEFAULT_TYPE, item: ReviewItem
                         ) -> list[GroupLink]:
    """What the admins of the item's groups taught for one of its wordings, newest first."""
    groups = [chat_id for chat_id in item.chat_ids if chat_id < 0]
    wordings = {clean_question(o.question.text) for o in item.occurrences} \
        | {clean_question(item.question)}
    found = await services.teach_store(context.application).group_links(groups)
    return [link for link in reversed(found) if link.question in wordings]


def _button(label: str, action: str, scope: Scope, item: ReviewItem,
            passage: Passage | None = None) -> InlineKeyboardButton:
    data = f"{REVIEW_PREFIX}{action}:{scope.code}:{item.newest.handle}"
    return InlineKeyboardButton(label, callback_data=data + (f":{passage_ref(passage)}"
                                                             if passage else ""))


async def _candidates(context: ContextTypes.DEFAULT_TYPE, item: ReviewItem) -> list[Passage]:
    knowledge = knowledge_of(context)
    return await asyncio.to_thread(candidates, item, knowledge.library, knowledge.index)


async def _chat_label(context: ContextTypes.DEFAULT_TYPE, item: ReviewItem) -> str:
    """Where the newest wording was asked: 私聊 or the group's title (never who asked)."""
    chat_id = item.newest.chat_id
    label = texts.REVIEW_PRIVATE_CHAT if chat_id > 0 else await _group_title(context, chat_id)
    others = len(item.chat_ids) - 1
    return label + (texts.REVIEW_MORE_CHATS.format(count=others + 1) if others else "")


async def _group_title(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> str:
    titles: dict[int, str] = context.application.bot_data.setdefault(CHAT_TITLES_KEY, {})
    if chat_id not in titles:
        chat = await soft_call("getChat", context.bot.get_chat(chat_id))
        if chat is None or not chat.title:
            return texts.REVIEW_UNKNOWN_CHAT.format(chat_id=chat_id)
        titles[chat_id] = chat.title
    return texts.REVIEW_GROUP_CHAT.format(title=titles[chat_id])


# --- the review's buttons --------------------------------------------------------------------


async def review_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = query.data.removeprefix(REVIEW_PREFIX).split(":", 3)
    if len(parts) < 3 or parts[0] not in (PICK, READ, NOT_COVERED, SKIP, BACK):
        await query.answer(texts.BUTTON_EXPIRED)
        return
    action, code, handle = parts[:3]
    ref = parts[3] if len(parts) > 3 else ""
    scope = await _scope(context, code, update.effective_user.id)
    if scope is None:
        await refuse(update, texts.REVIEW_NOT_ALLOWED)
        return
    if not _pressed_where_reviewed(update, scope):
        await refuse(update, texts.REVIEW_NOT_HERE)
        return
    items = await _queue(context, scope, update.effective_user.id)
    item = next((i for i in items if i.has(handle)), None)
    if item is None:
        await query.answer(texts.REVIEW_GONE)
        await _edit(query, *await _item_message(context, scope, items, update.effective_user.id))
        return
    if action == BACK:
        await query.answer()
        await _edit(query, *await _item_message(context, scope, items,
                                                update.effective_user.id, item=item))
    elif action == READ:
        await _read(update, context, scope, item, ref)
    else:
        await _decide(update, context, scope, item, action, ref)


def _pressed_where_reviewed(update: Update, scope: Scope) -> bool:
    """A group's review is shown in that group; every other in the reviewer's private chat."""
    if scope.code in (ALL_CHATS, MY_GROUPS):
        return pressed_in_private(update)
    message = update.callback_query.message
    return message is not None and str(message.chat.id) == scope.code


async def _read(update: Update, context: ContextTypes.DEFAULT_TYPE, scope: Scope,
                item: ReviewItem, ref: str) -> None:
    """A candidate in full, with 是这一段 and 返回 (to the item)."""
    query = update.callback_query
    passage = resolve_ref(knowledge_of(context).library, ref)
    if passage is None:
        await query.answer(texts.PASSAGE_GONE, show_alert=True)
        return
    await query.answer()
    passages = await _candidates(context, item)
    number = next((n for n, p in enumerate(passages, start=1)
                   if p.passage_id == passage.passage_id), 1)
    header = (texts.REVIEW_READING.format(number=number,
                                          question=review.shown_question(item.question))
              + "\n" + texts.ANSWER_HEADER.format(citation=passage.citation))
    keyboard = InlineKeyboardMarkup([[
        _button(texts.BUTTON_REVIEW_PICK.format(number=number), PICK, scope, item, passage),
        _button(texts.BUTTON_REVIEW_BACK, BACK, scope, item)]])
    await _edit(query, passage_message(header, passage), keyboard, ParseMode.HTML)


async def _decide(update: Update, context: ContextTypes.DEFAULT_TYPE, scope: Scope,
                  item: ReviewItem, action: str, ref: str) -> None:
    query = update.callback_query
    reviewer = update.effective_user.id
    knowledge = knowledge_of(context)
    store = services.teach_store(context.application)
    keys = [o.key for o in item.occurrences]
    if action == SKIP:
        await answer_query(query)
        await store.decide(keys, Decision.SKIPPED, reviewer)
        await _show_next(context, query, scope, reviewer, texts.REVIEW_SKIPPED)
        return
    passage = resolve_ref(knowledge.library, ref) if action == PICK else None
    choice = review.choice_for(knowledge, passage, await _candidates(context, item))
    if choice is None or (action == PICK and passage is None):
        await query.answer(texts.PASSAGE_GONE, show_alert=True)
        return
    await answer_query(query)  # the admin's choice is kept whatever Telegram answers
    if not is_bot_admin(context, reviewer):
        await _decide_for_groups(context, query, scope, item, choice, reviewer)
        return
    try:
        await asyncio.to_thread(review.write_choice, knowledge, item.question, choice)
    except (OSError, linkfile.LinksFileError) as error:
        log.error("link not written for %r: %s", item.question, error)
        reason = error if isinstance(error, linkfile.LinksFileError) else texts.LINKS_WRITE_FAILED
        await _edit(query, texts.REVIEW_SAVE_FAILED.format(reason=reason), None)
        return
    knowledge = await refresh_links(context.application)
    if passage is None:
        await store.decide(keys, Decision.NOT_COVERED, reviewer)
        note = texts.REVIEW_MARKED_NOT_COVERED.format(
            question=review.shown_question(item.question))
        owed = []
    else:
        owed = await store.decide(keys, Decision.LINKED, reviewer, passage.passage_id,
                                  review.follow_ups(item, passage, knowledge))
        note = texts.REVIEW_LINKED.format(question=review.shown_question(item.question),
                                          citation=passage.citation)
    await _show_next(context, query, scope, reviewer, note)
    if owed:
        context.application.create_task(send_follow_ups(context.application, owed),
                                        update=update)


async def _decide_for_groups(context: ContextTypes.DEFAULT_TYPE, query, scope: Scope,
                             item: ReviewItem, choice: review.Choice, reviewer: int) -> None:
    """A group admin's 是这一段 or 讲稿没讲: the item's groups (those in the review's scope)
    answer so from now on; no other chat, and no questions file, changes."""
    groups = sorted({o.chat_id for o in item.occurrences if o.chat_id < 0
                     and (scope.chat_ids is None or o.chat_id in scope.chat_ids)})
    question = clean_question(item.question)
    links = [GroupLink(chat_id, question, choice.lecture.lecture_id, choice.ref, reviewer)
             for chat_id in groups]
    marks = [(o.key, o.chat_id) for o in item.occurrences if o.chat_id in groups]
    decision = Decision.LINKED if choice.passage else Decision.NOT_COVERED
    await services.teach_store(context.application).decide_for_groups(marks, decision, links)
    scoped.forget(context.application, groups)
    await coordination.announce(context.application, coordination.LINKS)
    log.info("group admin %s taught %r -> %s:%s for groups %s", reviewer, question,
             choice.lecture.lecture_id, choice.ref, groups)
    shown = review.shown_question(item.question)
    note = (texts.REVIEW_LINKED_GROUP.format(question=shown, citation=choice.passage.citation)
            if choice.passage else texts.REVIEW_MARKED_NOT_COVERED_GROUP.format(question=shown))
    await _show_next(context, query, scope, reviewer, note)


async def _show_next(context: ContextTypes.DEFAULT_TYPE, query, scope: Scope, reviewer: int,
                     note: str) -> None:
    items = await _queue(context, scope, reviewer)
    await _edit(query, *await _item_message(context, scope, items, reviewer, note))


async def _edit(query, text: str, keyboard: InlineKeyboardMarkup | None,
                parse_mode: str | None = None) -> None:
    """Shows the next screen in place of the review message (if it can still be edited)."""
    message = editable_message(query)
    if message is None:
        return
    await soft_call("editMessageText", message.edit_text(text, parse_mode=parse_mode,
                                                         reply_markup=keyboard))


# --- /questions and uploads --------------------------------------------------------------------


async def questions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends a lecture's questions file (its header alone if it has no links yet)."""
    if not await refuse_unless_global_admin(update, context):
        return
    message = update.effective_message
    knowledge = knowledge_of(context)
    name = " ".join(context.args or []).strip()
    lectures = knowledge.library.lectures
    found = find_lecture(knowledge.library, name) if name else \
        (lectures[0] if len(lectures) == 1 else None)
    if found is None or isinstance(found, list):
        await message.reply_text(texts.QUESTIONS_USAGE)
        return
    data = await asyncio.to_thread(linkfile.download, knowledge.folder, found)
    resolved = knowledge.links.for_lecture(found.lecture_id)
    caption = texts.QUESTIONS_CAPTION.format(title=found.title,
                                             count=len(resolved.links) if resolved else 0)
    try:
        await message.reply_document(document=data,
                                     filename=links_path(knowledge.folder,
                                                         found.lecture_id).name,
                                     caption=caption)
    except TelegramError as error:
        log.warning("questions file not sent: %s", error)
        await soft_call("sendMessage", message.reply_text(texts.QUESTIONS_SEND_FAILED))


async def questions_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A bot admin sends a lecture's questions file back: it replaces the lecture's."""
    if not await refuse_unless_global_admin(update, context):
        return
    message = update.effective_message
    document = message.document
    name = document.file_name or ""
    knowledge = knowledge_of(context)
    if not name.lower().endswith(LINKS_SUFFIX):
        await message.reply_text(texts.QUESTIONS_UPLOAD_NAME.format(
            example=UPLOAD_NAME_EXAMPLE))
        return
    stem = name[:-len(LINKS_SUFFIX)]
    lecture = knowledge.library.lecture(stem)
    if lecture is None:
        await message.reply_text(texts.QUESTIONS_UPLOAD_NO_LECTURE.format(
            stem=texts.echoed(stem)))
        return
    if document.file_size and document.file_size > linkfile.MAX_LINKS_FILE_BYTES:
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.LINKS_FILE_TOO_LARGE
                                 .format(kilobytes=linkfile.MAX_LINKS_FILE_BYTES >> 10)))
        return
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
        resolved = await asyncio.to_thread(linkfile.replace_links, knowledge.folder, lecture,
                                           data)
    except linkfile.LinksFileError as error:
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=error))
        return
    except TelegramError as error:
        log.warning("could not download %s: %s", name, error)
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.UPLOAD_DOWNLOAD_FAILED))
        return
    except OSError as error:
        log.error("questions file %s not saved: %s", name, error)
        await message.reply_text(texts.UPLOAD_REFUSED.format(reason=texts.LINKS_WRITE_FAILED))
        return
    await refresh_links(context.application)
    await message.reply_text(review.upload_report(lecture.title, resolved))
