"""Caps on costly requests: once per user and thing, a few per chat in a window."""

from __future__ import annotations

from bot.isolation.budget import RequestBudget, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeat_is_refused_until_its_time_has_passed():
    clock = Clock()
    budget = RequestBudget(repeat_s=600, per_chat=3, window_s=60, clock=clock)
    assert budget.allow(1, 7, "lecture") == Verdict.ALLOWED
    clock.now = 599
    assert budget.allow(1, 7, "lecture") == Verdict.REPEATED
    assert budget.allow(2, 7, "lecture") == Verdict.ALLOWED  # another chat is another request
    clock.now = 600
    assert budget.allow(1, 7, "lecture") == Verdict.ALLOWED


def test_a_chat_has_a_few_requests_per_window():
    clock = Clock()
    budget = RequestBudget(repeat_s=600, per_chat=2, window_s=60, clock=clock)
    assert [budget.allow(1, user, "x") for user in (7, 8, 9)] == [
        Verdict.ALLOWED, Verdict.ALLOWED, Verdict.CHAT_BUSY]
    assert budget.allow(2, 9, "x") == Verdict.ALLOWED  # other chats are not touched
    clock.now = 60
    assert budget.allow(1, 9, "x") == Verdict.ALLOWED


def test_a_request_that_failed_may_be_made_again():
    budget = RequestBudget(repeat_s=600, per_chat=3, window_s=60, clock=Clock())
    assert budget.allow(1, 7, "x") == Verdict.ALLOWED
    budget.forget(1, 7, "x")
    assert budget.allow(1, 7, "x") == Verdict.ALLOWED
