"""What the running bot keeps in `Application.bot_data`, and one accessor for each.

Handlers and the feature packages' Telegram helpers reach the knowledge, the settings, the
clock and the stores only through these, so the keys are written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram.ext import Application

if TYPE_CHECKING:  # only for annotations: features import this module, not the reverse
    from bot.asking.store import QuestionLog
    from bot.config import Settings
    from bot.core.knowledge import KnowledgeBase
    from bot.members.store import MemberDirectory
    from bot.quiz.store import QuizStore
    from bot.records.report import QuizResults
    from bot.records.store import RecordsStore
    from bot.stores import Stores
    from bot.study.store import StudyStore
    from bot.teach.store import TeachStore
    from bot.writebehind import WriteBehind

KNOWLEDGE_KEY = "knowledge"
SETTINGS_KEY = "settings"
STORES_KEY = "stores"
CLOCK_KEY = "clock"
# The quiz feature, when installed, puts its QuizResults callable here for the records.
QUIZ_RESULTS_KEY = "quiz_results"


def knowledge(app: Application) -> KnowledgeBase:
    return app.bot_data[KNOWLEDGE_KEY]


def settings(app: Application) -> Settings:
    return app.bot_data[SETTINGS_KEY]


def stores(app: Application) -> Stores:
    return app.bot_data[STORES_KEY]


def study_store(app: Application) -> StudyStore:
    return stores(app).study


def question_log(app: Application) -> QuestionLog:
    return stores(app).questions


def deferred(app: Application) -> WriteBehind:
    """Records written after the reply: the question log, member sightings."""
    return stores(app).deferred


def members(app: Application) -> MemberDirectory:
    return stores(app).members


def quiz_store(app: Application) -> QuizStore:
    return stores(app).quiz


def records(app: Application) -> RecordsStore:
    return stores(app).records


def quiz_results(app: Application) -> QuizResults | None:
    """Per-day 每日一题 counts for the records, or None while no quiz is installed."""
    return app.bot_data.get(QUIZ_RESULTS_KEY)
def teach_store(app: Application) -> TeachStore:
    return stores(app).teach


def remove_jobs(app: Application, name: str) -> None:
    """Removes the JobQueue's jobs of that name (a chat's daily push, quiz or reminder)."""
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name(name):
            job.schedule_removal()


def job_current(app: Application, name: str, signature: object) -> bool:
    """Is the one job of that name already scheduled as `signature` (its data) says?"""
    jobs = app.job_queue.get_jobs_by_name(name) if app.job_queue is not None else ()
    return len(jobs) == 1 and jobs[0].data == signature


def sync_jobs(app: Application, prefix: str,
              wanted: Mapping[str, tuple[object, Callable[[], None]]]) -> None:
    """One feature's jobs (names starting with `prefix`) as the database has them: `wanted`
    maps each job's name to its signature and how to schedule it. A job no longer wanted
    goes; one whose signature changed is scheduled again; the others stay, so none misses
    its run."""
    if app.job_queue is None:
        return
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith(prefix) and job.name not in wanted:
            job.schedule_removal()
    for name, (signature, schedule) in wanted.items():
        if not job_current(app, name, signature):
            schedule()


def now(app: Application) -> datetime:
    """The current time: the wall clock, or the fake clock a test installed."""
    clock: Callable[[], datetime] = app.bot_data.get(CLOCK_KEY) or (lambda: datetime.now(UTC))
    return clock()
