"""Points, the daily cap, streaks and the weekly board, on a throwaway database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.quiz.generation import Question
from bot.quiz.scoring import DAILY_POINTS_CAP, ranked, streak
from bot.stores import Stores

GROUP, OTHER_GROUP = -100, -200
ALICE, BOB = 1, 2
MONDAY = date(2026, 11, 23)


def _question(n: int) -> Question:
    return Question(f"lecture:1.{n}", "h", f"题目{n}", ("甲", "乙"), 0, "解析")


@pytest.fixture
async def stores(database_target):
    opened = await Stores.open(database_target)
    yield opened
    await opened.close()


async def _sent(stores, chat_id: int, n: int, day: date = MONDAY, push_id: int | None = None):
    quiz_id = await stores.quiz.claim_quiz(chat_id, push_id, day, _question(n))
    await stores.quiz.complete_quiz(quiz_id, f"poll-{chat_id}-{n}", chat_id, n, day)
    return await stores.quiz.sent_quiz(f"poll-{chat_id}-{n}")


async def test_a_right_first_answer_earns_points_once_and_a_wrong_one_none(stores):
    quiz = await _sent(stores, GROUP, 1)
    first = await stores.quiz.answer(quiz, ALICE, 0, MONDAY)
    again = await stores.quiz.answer(quiz, ALICE, 0, MONDAY)
    wrong = await stores.quiz.answer(quiz, BOB, 1, MONDAY)
    assert (first.first, first.correct, first.points) == (True, True, 2)
    assert (again.first, again.points) == (False, 0)
    assert (wrong.first, wrong.correct, wrong.points) == (True, False, 0)
    board = await stores.quiz.weekly_board(GROUP, MONDAY)
    assert [(s.user_id, s.points, s.rank) for s in board] == [(ALICE, 2, 1)]


async def test_points_are_capped_per_day_and_kept_per_group(stores):
    earned = [(await stores.quiz.answer(await _sent(stores, GROUP, n), ALICE, 0, MONDAY)).points
              for n in range(6)]
    assert sum(earned) == DAILY_POINTS_CAP and earned[-1] == 0
    assert await stores.quiz.award_check_in(GROUP, ALICE, 99, MONDAY, MONDAY) == 0
    tuesday = MONDAY + timedelta(days=1)
    assert await stores.quiz.award_check_in(GROUP, ALICE, 100, tuesday, tuesday) == 1
    assert await stores.quiz.award_check_in(GROUP, ALICE, 100, tuesday, tuesday) == 0, "once"
    other = await stores.quiz.answer(await _sent(stores, OTHER_GROUP, 1), ALICE, 0, MONDAY)
    assert other.points == 2, "another group's cap is its own"
    mine = await stores.quiz.standing(GROUP, ALICE, MONDAY, tuesday)
    assert (mine.week_points, mine.total_points, mine.rank) == (DAILY_POINTS_CAP + 1,
                                                                DAILY_POINTS_CAP + 1, 1)
    next_week = await stores.quiz.standing(GROUP, ALICE, MONDAY + timedelta(days=7),
                                           MONDAY + timedelta(days=7))
    assert (next_week.week_points, next_week.total_points, next_week.rank) == (0, 7, None)


async def test_streaks_follow_the_groups_study_days(stores):
    days = [MONDAY + timedelta(days=d) for d in (0, 1, 2, 7)]  # Mon–Wed, next Monday
    for number, day in enumerate(days, start=1):
        await stores.quiz.record_push(number, GROUP, day, f"lecture:1.{number}")
    for number, day in enumerate(days[:3], start=1):
        await stores.quiz.award_check_in(GROUP, ALICE, number, day, day)
    # No push from Thursday to Sunday: the streak carries over the gap in the plan.
    assert (await stores.quiz.standing(GROUP, ALICE, days[3], days[3])).streak == 3
    await stores.quiz.award_check_in(GROUP, ALICE, 4, days[3], days[3])
    assert (await stores.quiz.standing(GROUP, ALICE, days[3], days[3])).streak == 4
    await stores.quiz.award_check_in(GROUP, BOB, 1, days[0], days[0])
    assert (await stores.quiz.standing(GROUP, BOB, days[3], days[3])).streak == 0


def test_streak_rules():
    mon, tue, wed = MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    assert streak([mon, tue, wed], {mon, tue}, wed) == 2, "today is not over yet"
    assert streak([mon, tue, wed], {mon, wed}, wed) == 1
    assert streak([mon, tue], {mon}, wed) == 0
    assert streak([], {tue, wed}, wed) == 2, "a made-up day counts as a study day"


def test_equal_points_share_a_rank():
    standings = ranked([(1, 9), (2, 5), (3, 5), (4, 1)])
    assert [s.rank for s in standings] == [1, 2, 2, 4]


async def test_a_push_is_quizzed_at_most_once_and_its_days_are_listed(stores):
    await stores.quiz.record_push(7, GROUP, MONDAY, "lecture:1.1")
    assert await stores.quiz.unquizzed_pushes(GROUP, MONDAY) == [(7, "lecture:1.1")]
    assert await stores.quiz.claim_quiz(GROUP, 7, MONDAY, _question(1)) is not None
    assert await stores.quiz.claim_quiz(GROUP, 7, MONDAY, _question(2)) is None
    assert await stores.quiz.unquizzed_pushes(GROUP, MONDAY) == []
