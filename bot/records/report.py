"""A group's month of study as plain data (MonthRecord), gathered from every feature's store.

The workbook, the chart and /stats are drawn from a MonthRecord; the bot and the command
line build it the same way, so `/export` and `lecture-bot export` give the same file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from bot import texts
from bot.core.lectures import Library
from bot.records.rules import (
    DayMarks,
    Person,
    Roster,
    build_roster,
    day_marks,
    last_day,
    month_bounds,
)
from bot.records.store import member_key
from bot.stores import Stores
from bot.study.rules import zone


@dataclass(frozen=True)
class QuizDay:
    """每日一题 on one day: how many answers, how many right."""

    answered: int
    correct: int


# What the quiz feature offers the records, if it is installed: for a chat and the days from
# `first` to `last` inclusive, the quiz counts of each day that had a quiz.
QuizResults = Callable[[int, date, date], Awaitable[Mapping[date, QuizDay]]]
# The same as (answers, right answers) pairs, as a store can give them without knowing QuizDay.
QuizCounts = Callable[[int, date, date], Awaitable[Mapping[date, tuple[int, int]]]]


def quiz_results_of(daily_counts: QuizCounts) -> QuizResults:
    """QuizResults from a store method such as QuizStore.daily_results."""
    async def results(chat_id: int, first: date, last: date) -> Mapping[date, QuizDay]:
        counts = await daily_counts(chat_id, first, last)
        return {day: QuizDay(answered, correct) for day, (answered, correct) in counts.items()}

    return results


@dataclass(frozen=True)
class StudyDay:
    marks: DayMarks
    citations: tuple[str, ...]
    questions: int
    quiz: QuizDay | None = None

    @property
    def day(self) -> date:
        return self.marks.day


@dataclass(frozen=True)
class AskedQuestion:
    asked_at: datetime  # in the group's time zone
    asker: str
    text: str
    answered: bool


@dataclass(frozen=True)
class MonthRecord:
    chat_id: int
    title: str
    month: date
    persons: tuple[Person, ...]
    days: tuple[StudyDay, ...]
    questions: tuple[AskedQuestion, ...] = ()
    absences: Mapping[tuple[date, str], str] = field(default_factory=dict)
    has_quiz: bool = False
    member_count: int | None = None  # Telegram's count, when known

    def mark(self, person: Person, day: StudyDay) -> str:
        """✓ studied that day, 补 with the date it was made up, blank for absent."""
        if person.user_id in day.marks.on_time:
            return texts.RECORDS_MARK_STUDIED
        made_up = day.marks.made_up.get(person.user_id) if person.user_id is not None else None
        return texts.RECORDS_MARK_MADE_UP.format(date=short_date(made_up)) if made_up else ""

    def studied(self, day: StudyDay) -> list[Person]:
        return [p for p in self.persons if p.user_id in day.marks.on_time]

    def not_studied(self, day: StudyDay) -> list[Person]:
        return [p for p in self.persons if p.user_id not in day.marks.on_time]

    def made_up_count(self, day: StudyDay) -> int:
        return sum(1 for p in self.persons if p.user_id in day.marks.made_up)

    def rate(self, day: StudyDay) -> float:
        """The share of the roster that studied on the day (0 for an empty roster)."""
        return len(day.marks.on_time & self._user_ids) / len(self.persons) if self.persons \
            else 0.0

    def reason(self, day: StudyDay, person: Person) -> str:
        return self.absences.get((day.day, person.key), "")

    @property
    def _user_ids(self) -> frozenset[int]:
        return frozenset(p.user_id for p in self.persons if p.user_id is not None)


def short_date(day: date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


async def current_roster(stores: Stores, chat_id: int) -> Roster:
    """The group's roster; imported names newly matched to members are linked and stored."""
    members = await stores.members.members(chat_id)
    roster = build_roster(members, await stores.records.roster(chat_id))
    for entry, user_id in roster.new_matches:
        await stores.records.matched(chat_id, entry, user_id)
        await stores.members.set_roster_name(chat_id, user_id, entry.name)
    return roster


async def chat_zone(stores: Stores, chat_id: int, default_timezone: str) -> tzinfo:
    """The group's time zone: its study plan's, else the bot's."""
    plan = await stores.study.plan(chat_id)
    return zone(plan.timezone if plan else default_timezone)


async def month_record(stores: Stores, library: Library, chat_id: int, month: date,
                       default_timezone: str, quiz: QuizResults | None = None) -> MonthRecord:
    """Everything the 台账 shows for one group and month."""
    tz = await chat_zone(stores, chat_id, default_timezone)
    first, last = month, last_day(month)
    pushes = await stores.study.pushes_between(chat_id, first, last)
    checkins = await stores.study.checkins_between(chat_id, first, last)
    start, end = month_bounds(month, tz)
    logged = await stores.questions.questions_between(chat_id, start, end)
    roster = await current_roster(stores, chat_id)
    quiz_days = await quiz(chat_id, first, last) if quiz is not None else {}
    # Someone who studied or asked but is no longer among the members still counts.
    others = {c.user_id for c in checkins} | {q.user_id for q in logged if q.user_id}
    others -= {p.user_id for p in roster.persons}
    names = await stores.members.names(chat_id, sorted(others))
    persons = roster.persons + tuple(Person(member_key(u), names[u], u) for u in sorted(others))
    askers = await stores.members.names(chat_id, sorted({q.user_id for q in logged
                                                          if q.user_id}))
    questions = tuple(AskedQuestion(q.asked_at.astimezone(tz), askers.get(q.user_id, ""),
                                    q.text, q.answered) for q in logged)
    asked_on: dict[date, int] = {}
    for question in questions:
        asked_on[question.asked_at.date()] = asked_on.get(question.asked_at.date(), 0) + 1
    days = tuple(StudyDay(marks, _citations(library, marks.passage_ids),
                          asked_on.get(marks.day, 0), quiz_days.get(marks.day))
                 for marks in day_marks(pushes, checkins, tz))
    group = await stores.records.group(chat_id)
    return MonthRecord(chat_id=chat_id, title=group.title if group else str(chat_id),
                       month=month, persons=persons, days=days, questions=questions,
                       absences=await stores.records.absences(chat_id, first, last),
                       has_quiz=bool(quiz_days),
                       member_count=group.member_count if group else None)


def _citations(library: Library, passage_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Each passage's citation; a passage since removed from the lecture by its id."""
    found = (library.passage(pid) for pid in passage_ids)
    return tuple(p.citation if p else pid for p, pid in zip(found, passage_ids, strict=True))
