"""Daily study rules as plain functions: which passage comes next, when a push is due.

No Telegram and no storage: the handlers feed in a Library, a Plan and the current time.
Weekdays use python-telegram-bot's JobQueue numbering (0 = Sunday … 6 = Saturday).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.lectures import Lecture, Library, Passage
from bot.study.store import Plan

EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
WORKDAYS = (1, 2, 3, 4, 5)
DEFAULT_TIME = "08:00"
WEEKDAY_WORDS = {"每天": EVERY_DAY, "每日": EVERY_DAY, "天天": EVERY_DAY, "daily": EVERY_DAY,
                 "工作日": WORKDAYS, "周一到周五": WORKDAYS, "weekdays": WORKDAYS}
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def parse_time(text: str) -> time | None:
    """"8:00" / "08:30" / "20：15" → time; None for anything else (25:61, abc)."""
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_weekdays(text: str) -> tuple[int, ...] | None:
    return WEEKDAY_WORDS.get(text.strip().lower())


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def ptb_weekday(day: date) -> int:
    """Python's Monday=0 → JobQueue's Sunday=0."""
    return (day.weekday() + 1) % 7


def local_now(plan: Plan, now: datetime) -> datetime:
    return now.astimezone(zone(plan.timezone))


def scheduled_today(plan: Plan, now: datetime) -> datetime | None:
    """Today's push time in the plan's zone, or None if today is not a study day."""
    local = local_now(plan, now)
    if ptb_weekday(local.date()) not in plan.weekdays:
        return None
    at = parse_time(plan.time_of_day) or time(8)
    return datetime.combine(local.date(), at, tzinfo=local.tzinfo)


def passed_today(time_of_day: str | None, local: datetime) -> bool:
    """Has today's HH:MM come, at the local time `local`? (A time that does not parse never
    has.)"""
    at = parse_time(time_of_day or "")
    return at is not None and local >= datetime.combine(local.date(), at, tzinfo=local.tzinfo)


def missed_push_due(plan: Plan, now: datetime, already_pushed_today: bool) -> bool:
    """Was today's push due while the bot was down? (It is then sent once, at start-up.)

    Not if today is no study day, the time has not come, it was already sent, or the
    schedule was set after today's time (a new schedule first fires on the next study day).
    """
    due = scheduled_today(plan, now)
    if due is None or already_pushed_today or local_now(plan, now) < due:
        return False
    return plan.schedule_set_at.astimezone(due.tzinfo) <= due


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Progress:
    passage: Passage | None
    number: int
    total: int

    @property
    def finished(self) -> bool:
        return self.passage is None


def next_passage(library: Library, plan: Plan) -> Progress:
    """The passage after the last one pushed; a vanished passage is skipped past by order."""
    lecture = library.lecture(plan.lecture_id)
    if lecture is None or not lecture.passages:
        return Progress(None, 0, 0)
    passages = lecture.passages
    total = len(passages)
    if plan.last_passage_id is None:
        return Progress(passages[0], 1, total)
    ids = [p.passage_id for p in passages]
    if plan.last_passage_id in ids:
        position = ids.index(plan.last_passage_id) + 1
    else:
        position = _position_after_vanished(passages, plan.last_passage_id)
    if position >= total:
        return Progress(None, total, total)
    return Progress(passages[position], position + 1, total)


def _position_after_vanished(passages: tuple[Passage, ...], passage_id: str) -> int:
    """A pushed passage no longer exists: continue with the first one after its place."""
    section, paragraph = _numbers(passage_id)
    for i, passage in enumerate(passages):
        if (passage.section_no, passage.paragraph_no) > (section, paragraph):
            return i
    return len(passages)


def _numbers(passage_id: str) -> tuple[int, int]:
    match = re.search(r":(\d+)\.(\d+)$", passage_id)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def passage_number(library: Library, passage: Passage) -> tuple[int, int]:
    lecture = library.lecture(passage.lecture_id)
    if lecture is None:
        return 0, 0
    ids = [p.passage_id for p in lecture.passages]
    return ids.index(passage.passage_id) + 1, len(ids)


def find_lecture(library: Library, name: str) -> Lecture | list[Lecture] | None:
    """A lecture by title or file name, or any unambiguous part of either.

    Returns the lecture, a list of candidates if the name is ambiguous, or None.
    """
    wanted = name.strip().lower()
    if not wanted:
        return None
    for lecture in library.lectures:
        if wanted in (lecture.title.lower(), lecture.lecture_id.lower(), lecture.path.name.lower()):
            return lecture
    matches = [lecture for lecture in library.lectures
               if wanted in lecture.title.lower() or wanted in lecture.path.name.lower()]
    if len(matches) == 1:
        return matches[0]
    return matches or None


def default_lecture(library: Library) -> Lecture | None:
    """The first lecture in file-name order that has passages."""
    return next((lecture for lecture in library.lectures if lecture.passages), None)


# Telegram's refusals (a 5xx, a flood limit past the rate limiter's own retries) are retried:
# the first retry after 20 s (the issue asks for one within 30 s; a 5xx is usually over by
# then), then at doubling intervals up to 15 minutes, for an hour after the first refusal —
# long enough for an outage of Telegram's, short enough that admins hear of it the same morning.
FIRST_RETRY_SECONDS = 20
MAX_RETRY_INTERVAL_SECONDS = 15 * 60
RETRY_WINDOW = timedelta(hours=1)


def retry_delay(failed_attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the `failed_attempts`-th refusal; never less than Telegram's
    own retry_after."""
    backoff = min(FIRST_RETRY_SECONDS * 2 ** max(failed_attempts - 1, 0),
                  MAX_RETRY_INTERVAL_SECONDS)
    return timedelta(seconds=max(backoff, retry_after or 0))
