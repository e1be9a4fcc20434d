"""Links a group's own admins taught: they answer in that group only.

Who teaches what: a bot admin (BOT_ADMIN_IDS) writes the lecture's shared questions file, for
every chat; a group's admins, in their /review, teach their group alone (bot.teach.store's
`group_links`), and a bot admin may adopt such a link for everyone in their own /review. So a
stranger who makes a group of his own changes only that group's answers.

Each group's links are read once and kept as a LinkIndex beside the knowledge they were built
for (a reload or a new link builds them again).
"""

from __future__ import annotations

import asyncio
import logging

from telegram.ext import Application

from bot import services
from bot.core.knowledge import KnowledgeBase
from bot.core.links import NOT_COVERED_REF, Link, LinkIndex
from bot.storage import DatabaseError
from bot.teach.store import GroupLink

log = logging.getLogger(__name__)

_CACHE_KEY = "teach_group_links"
# Groups whose links are kept in memory; past this many the cache starts again (a few
# hundred groups with a handful of links each is well under a megabyte).
MAX_CACHED_GROUPS = 2000


def usable_links(knowledge: KnowledgeBase, found: list[GroupLink]) -> list[Link]:
    """The group's links whose paragraph still exists (a refusal always does)."""
    links = []
    for n, link in enumerate(found, start=1):
        if link.ref != NOT_COVERED_REF \
                and knowledge.library.passage(f"{link.lecture_id}:{link.ref}") is None:
            continue
        links.append(Link(link.question, link.lecture_id, link.ref, n, link.ref))
    return links


async def chat_links(app: Application, chat_id: int) -> LinkIndex | None:
    """The links that chat's admins taught (None for a private chat or a group without)."""
    if chat_id >= 0:
        return None
    knowledge = services.knowledge(app)
    cache: dict[int, tuple[KnowledgeBase, LinkIndex | None]] = \
        app.bot_data.setdefault(_CACHE_KEY, {})
    cached = cache.get(chat_id)
    if cached is not None and cached[0] is knowledge:
        return cached[1]
    try:
        found = await services.teach_store(app).group_links([chat_id])
    except DatabaseError as error:  # answered with the shared links alone meanwhile
        log.error("group links of %s not read: %s", chat_id, error)
        return None
    links = usable_links(knowledge, found)
    index = (await asyncio.to_thread(LinkIndex, links, knowledge.index.tokenizer)
             if links else None)
    if len(cache) >= MAX_CACHED_GROUPS:
        cache.clear()
    cache[chat_id] = (knowledge, index)
    return index


def forget_all(app: Application) -> None:
    app.bot_data.pop(_CACHE_KEY, None)


def forget(app: Application, chat_ids) -> None:
    """The groups' links changed: read again at their next question."""
    cache = app.bot_data.get(_CACHE_KEY, {})
    for chat_id in chat_ids:
        cache.pop(chat_id, None)
