"""Points, the daily cap, streaks and ranks as plain functions (no Telegram, no storage)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# 学习强国's habit, which members know: answering right earns more than showing up, and a
# daily cap keeps the board about steady study, not about who taps /quiz most in one evening.
CORRECT_ANSWER_POINTS = 2
CHECK_IN_POINTS = 1
# Per member, chat and day: today's quiz and check-in (3) twice over, so extra pushes and
# private practice count, but a marathon does not outweigh a week of daily study.
DAILY_POINTS_CAP = 6
LEADERBOARD_SIZE = 10


def capped(points: int, earned_today: int) -> int:
    """What of `points` may still be earned today."""
    return max(0, min(points, DAILY_POINTS_CAP - earned_today))


def streak(study_days: Iterable[date], active_days: set[date], today: date) -> int:
    """Consecutive study days of the chat, up to the latest, on which the member studied.

    Study days are the days the chat had a push or a quiz (a group that studies on workdays
    does not lose its streaks every weekend). Today does not break a streak before the
    member has had the chance to study.
    """
    days = sorted(set(study_days) | active_days, reverse=True)
    count = 0
    for day in days:
        if day > today:
            continue
        if day in active_days:
            count += 1
        elif day == today:
            continue
        else:
            break
    return count


@dataclass(frozen=True)
class Standing:
    user_id: int
    points: int
    rank: int


def ranked(totals: Iterable[tuple[int, int]]) -> list[Standing]:
    """(user, points) in board order → standings; equal points share a rank (1, 2, 2, 4)."""
    standings: list[Standing] = []
    for position, (user_id, points) in enumerate(totals, start=1):
        tied = standings and standings[-1].points == points
        standings.append(Standing(user_id, points, standings[-1].rank if tied else position))
    return standings
