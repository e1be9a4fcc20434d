"""The follow-up a member gets when an admin links the question they asked in private.

"您之前问的 … ,讲稿中相关的是这一段:" with the paragraph and its citation. The follow-up is
owed in the database before it is sent (bot.teach.store), so a failed send or a kill loses
nothing: a send that may work later (network, flood limit) is retried by a repeating job; one
that never will (the member blocked the bot, the paragraph is gone) is given up. A member
gets at most one follow-up per question: a send that left but got no answer may have
arrived, so it is not repeated (`outcome_unknown`; a connection or pool timeout sent nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot import services, texts
from bot.cluster import coordination
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Passage
from bot.core.links import linked_hit
from bot.core.render import passage_message
from bot.outcome import outcome_unknown
from bot.teach.store import FollowUp

log = logging.getLogger(__name__)

# A follow-up that failed for a reason that may pass is tried again this often (seconds),
# up to this many sends in all: long enough for an outage, short of pestering a day later.
RETRY_INTERVAL_S = 600
MAX_ATTEMPTS = 5
# Follow-ups sent per retry run; the rest wait for the next run.
RETRY_BATCH = 50
RETRY_JOB_NAME = "teach:follow-ups"


def schedule_retries(app: Application) -> None:
    if app.job_queue is not None and not app.job_queue.get_jobs_by_name(RETRY_JOB_NAME):
        app.job_queue.run_repeating(retry_follow_ups, interval=RETRY_INTERVAL_S,
                                    first=RETRY_INTERVAL_S, name=RETRY_JOB_NAME)


@coordination.scheduler_only
async def retry_follow_ups(context: ContextTypes.DEFAULT_TYPE) -> None:
    store = services.teach_store(context.application)
    for follow_up in await store.pending_follow_ups(RETRY_BATCH):
        await send_follow_up(context.application, follow_up)


async def send_follow_ups(app: Application, follow_ups: Sequence[FollowUp]) -> None:
    for follow_up in follow_ups:
        await send_follow_up(app, follow_up)


async def send_follow_up(app: Application, follow_up: FollowUp) -> None:
    store = services.teach_store(app)
    knowledge = services.knowledge(app)
    passage = knowledge.library.passage(follow_up.passage_id)
    if passage is None:  # the lecture changed since: the link now answers the question anyway
        await store.follow_up_done(follow_up.follow_up_id, sent=False)
        return
    try:
        await app.bot.send_message(follow_up.chat_id,
                                   follow_up_html(follow_up.question, passage, knowledge),
                                   parse_mode=ParseMode.HTML)
    except (Forbidden, BadRequest) as error:
        log.info("follow-up %s given up: %s", follow_up.follow_up_id, error)
        await store.follow_up_done(follow_up.follow_up_id, sent=False)
    except TelegramError as error:
        # Only a request that left may have arrived: a connection or pool timeout (also
        # TimedOut) sent nothing and is retried like any other passing failure.
        if outcome_unknown(error):
            log.warning("follow-up %s may have arrived: %s", follow_up.follow_up_id, error)
            await store.follow_up_done(follow_up.follow_up_id, sent=True)
            return
        log.warning("follow-up %s not sent, will retry: %s", follow_up.follow_up_id, error)
        await store.follow_up_attempted(follow_up.follow_up_id, MAX_ATTEMPTS)
    else:
        await store.follow_up_done(follow_up.follow_up_id, sent=True)


def follow_up_html(question: str, passage: Passage, knowledge: KnowledgeBase) -> str:
    header = (texts.FOLLOW_UP.format(question=texts.echoed(question)) + "\n"
              + texts.ANSWER_HEADER.format(citation=passage.citation))
    hit = linked_hit(passage, (), knowledge.index.tokenizer, (question,))
    return passage_message(header, passage, hit.matched_sentences)
