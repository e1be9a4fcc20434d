"""Reading: /start and /help, /toc (the table of contents), /read <节或段> with paging."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.handlers.ask import passage_keyboard
from bot.handlers.common import command, knowledge_of
from bot.navigation import find_passage
from bot.render import help_text, passage_html, toc_text


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
    selector = " ".join(context.args or []).strip()
    if not selector:
        await message.reply_text(texts.READ_USAGE)
        return
    passage = find_passage(library, selector)
    if passage is None:
        await message.reply_text(texts.READ_NOT_FOUND.format(selector=selector[:50]))
        return
    await message.reply_html(passage_html(passage, library),
                             reply_markup=passage_keyboard(passage, library, []))
