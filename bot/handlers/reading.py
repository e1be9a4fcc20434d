"""Reading: /start and /help, /toc (the table of contents), /read <节或段> with paging."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.core.lectures import Lecture
from bot.core.navigation import find_passage, find_withheld, passage_ref
from bot.core.render import help_text, passage_html, toc_text, withheld_section_text
from bot.handlers.ask import SHOW_PREFIX, passage_keyboard
from bot.handlers.common import command, knowledge_of
from bot.study.rules import find_lecture


def register(app: Application) -> None:
    app.add_handler(command(["start", "help"], show_help))
    app.add_handler(command("toc", show_toc))
    app.add_handler(command("read", read))


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(help_text())


async def show_toc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(toc_text(knowledge_of(context).library))


async def read(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    library = knowledge_of(context).library
    args = context.args or []
    if not args:
        await message.reply_text(texts.READ_USAGE)
        return
    selector = " ".join(args)
    lecture = find_lecture(library, " ".join(args[:-1])) if len(args) > 1 else None
    named = lecture if isinstance(lecture, Lecture) else None
    passage = find_passage(library, args[-1], named)
    withheld = find_withheld(library, args[-1], named) if passage is None else None
    if withheld is not None and (len(args) == 1 or named is not None):
        await message.reply_text(withheld_section_text(*withheld),
                                 reply_markup=_sections_keyboard(withheld[0]))
        return
    if passage is None or (len(args) > 1 and not isinstance(lecture, Lecture)):
        await message.reply_text(texts.READ_NOT_FOUND.format(selector=texts.echoed(selector)))
        return
    await message.reply_html(passage_html(passage, library),
                             reply_markup=passage_keyboard(passage, library, []))


def _sections_keyboard(lecture: Lecture) -> InlineKeyboardMarkup:
    """One button per section that exists, opening its first paragraph in place."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        section.label, callback_data=SHOW_PREFIX + passage_ref(section.passages[0]))]
        for section in lecture.sections if section.passages])
