"""Polls whose sendPoll got no answer, on a throwaway database: answers to them are kept, and
scored once a `poll` update shows which claimed quiz the poll is; never twice, never in the
wrong group."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.quiz.generation import Question
from bot.quiz.matching import RECOGNISED_DAYS, Claim, recognised, same_text
from bot.quiz.store import Voter
from bot.stores import Stores

GROUP, OTHER_GROUP = -100, -200
ALICE, BOB = Voter(1, "Alice"), Voter(2, "Bob", "B", "bob")
MONDAY = date(2026, 11, 23)
QUESTION = Question("lecture:1.1", "h", "网络行为要规范的是?", ("言行", "饮食", "睡眠"), 0, "解析")
RIGHT, WRONG = 0, 1


@pytest.fixture
async def stores(database_target):
    opened = await Stores.open(database_target)
    yield opened
    await opened.close()


async def _uncertain(stores, chat_id: int = GROUP, question: Question = QUESTION,
                     day: date = MONDAY) -> int:
    """A claim whose sendPoll timed out: no poll id."""
    return await stores.quiz.claim_quiz(chat_id, None, day, question)


async def _seen(stores, poll_id: str, question: Question = QUESTION, today: date = MONDAY):
    return await stores.quiz.poll_seen(poll_id, question.question, question.options, today)


def _points(scored) -> list[tuple[int, int]]:
    return [(answer.voter.user_id, answer.result.points) for answer in scored]


async def _week(stores, chat_id: int = GROUP) -> list[tuple[int, int]]:
    return [(s.user_id, s.points) for s in await stores.quiz.weekly_board(chat_id, MONDAY)]


async def test_an_answer_before_the_poll_update_is_kept_then_scored_once(stores):
    quiz_id = await _uncertain(stores)
    assert await stores.quiz.answer_poll("p1", ALICE, RIGHT, MONDAY) == []
    assert await _week(stores) == [], "kept, not scored: the poll's chat is unknown"

    scored = await _seen(stores, "p1")
    assert _points(scored) == [(ALICE.user_id, 2)]
    assert scored[0].quiz.quiz_id == quiz_id and scored[0].quiz.chat_id == GROUP
    assert scored[0].voter == ALICE, "the names come back for the members' list"

    assert await _seen(stores, "p1") == [], "the next vote's poll update awards nothing again"
    again = await stores.quiz.answer_poll("p1", ALICE, RIGHT, MONDAY)
    assert [(a.result.first, a.result.points) for a in again] == [(False, 0)]
    later = await stores.quiz.answer_poll("p1", BOB, WRONG, MONDAY)
    assert [(a.result.first, a.result.correct, a.result.points) for a in later] == [
        (True, False, 0)]
    assert await _week(stores) == [(ALICE.user_id, 2)]
    assert (await stores.quiz.sent_quiz("p1")).quiz_id == quiz_id


async def test_a_poll_update_first_binds_the_claim_and_answers_count_at_once(stores):
    await _uncertain(stores)
    assert await _seen(stores, "p1") == []
    scored = await stores.quiz.answer_poll("p1", BOB, RIGHT, MONDAY)
    assert _points(scored) == [(BOB.user_id, 2)]
    assert await stores.quiz.daily_results(GROUP, MONDAY, MONDAY) == {MONDAY: (1, 1)}


async def test_only_a_kept_first_answer_counts(stores):
    await _uncertain(stores)
    await stores.quiz.answer_poll("p1", ALICE, WRONG, MONDAY)
    await stores.quiz.answer_poll("p1", ALICE, RIGHT, MONDAY)  # Telegram would not send it
    scored = await _seen(stores, "p1")
    assert [(a.result.correct, a.result.points) for a in scored] == [(False, 0)]


async def test_the_newest_recent_claim_with_the_same_text_is_taken(stores):
    old = await _uncertain(stores, day=MONDAY - timedelta(days=1))
    new = await _uncertain(stores)
    other = Question("lecture:1.2", "h", "另一道题?", ("甲", "乙"), 0, "")
    await _uncertain(stores, question=other)
    await stores.quiz.answer_poll("p1", ALICE, RIGHT, MONDAY)
    (scored,) = await _seen(stores, "p1")
    assert scored.quiz.quiz_id == new
    await stores.quiz.answer_poll("p2", BOB, RIGHT, MONDAY)
    (scored,) = await _seen(stores, "p2")
    assert scored.quiz.quiz_id == old, "the older claim is left for the next poll"


async def test_a_stale_claim_or_other_text_is_not_recognised(stores):
    await _uncertain(stores)
    late = MONDAY + timedelta(days=RECOGNISED_DAYS + 1)
    await stores.quiz.answer_poll("p1", ALICE, RIGHT, late)
    assert await _seen(stores, "p1", today=late) == []
    changed = Question(QUESTION.passage_id, "h", QUESTION.question, ("言行", "饮食"), 0, "")
    await stores.quiz.answer_poll("p2", ALICE, RIGHT, MONDAY)
    assert await _seen(stores, "p2", changed) == []
    assert await _week(stores) == []
    assert await stores.quiz.sent_quiz("p1") is None and await stores.quiz.sent_quiz("p2") is None


async def test_claims_in_two_groups_are_told_apart_by_the_voters(stores):
    """A timeout hits both groups' quiz on the same passage: same question, two claims."""
    mine = await _uncertain(stores, GROUP)
    await _uncertain(stores, OTHER_GROUP)  # the newer one
    await stores.quiz.award_check_in(GROUP, ALICE.user_id, 1, MONDAY, MONDAY)
    stranger = Voter(99, "New")
    assert await _seen(stores, "p1") == [], "no voter yet: which group is unknown"
    assert await stores.quiz.answer_poll("p1", stranger, RIGHT, MONDAY) == [], \
        "a member known in neither group does not decide"
    scored = await stores.quiz.answer_poll("p1", ALICE, RIGHT, MONDAY)
    assert {(a.quiz.quiz_id, a.voter.user_id, a.result.points) for a in scored} == {
        (mine, stranger.user_id, 2), (mine, ALICE.user_id, 2)}
    assert await _week(stores, OTHER_GROUP) == []


async def test_telegrams_reply_scores_answers_that_came_before_it(stores):
    quiz_id = await _uncertain(stores)  # sendPoll still in flight
    await stores.quiz.answer_poll("p1", ALICE, RIGHT, MONDAY)
    scored = await stores.quiz.complete_quiz(quiz_id, "p1", GROUP, 5, MONDAY)
    assert _points(scored) == [(ALICE.user_id, 2)]
    assert await _seen(stores, "p1") == []


async def test_an_uncertain_claim_counts_as_asked_and_a_forgotten_one_not(stores):
    await stores.quiz.record_push(7, GROUP, MONDAY, "lecture:1.1")
    await stores.quiz.record_push(8, GROUP, MONDAY, "lecture:1.2")
    uncertain = await stores.quiz.claim_quiz(GROUP, 7, MONDAY, QUESTION)
    refused = await stores.quiz.claim_quiz(GROUP, 8, MONDAY, Question(
        "lecture:1.2", "h", "另一道题?", ("甲", "乙"), 0, ""))
    await stores.quiz.forget_quiz(refused)
    assert await stores.quiz.asked_counts(GROUP) == {QUESTION.key: 1}
    assert await stores.quiz.unquizzed_pushes(GROUP, MONDAY) == [(8, "lecture:1.2")], \
        "the uncertain push is never quizzed twice"
    assert await stores.quiz.daily_results(GROUP, MONDAY, MONDAY) == {}, \
        "not a quiz day in the records until its poll is recognised"
    assert uncertain is not None


def test_recognised_needs_one_chat():
    a1, a2 = Claim(3, GROUP, "q", ("x", "y")), Claim(1, GROUP, "q", ("x", "y"))
    b = Claim(2, OTHER_GROUP, "q", ("x", "y"))
    assert recognised([a1, a2], []) == a1
    assert recognised([], [{GROUP}]) is None
    assert recognised([a1, b, a2], []) is None
    assert recognised([a1, b, a2], [{GROUP, OTHER_GROUP}]) is None
    assert recognised([a1, b, a2], [{OTHER_GROUP}, set()]) == b
    assert recognised([a1, b, a2], [{OTHER_GROUP}, {GROUP}]) is None, "voters disagree"
    assert same_text(a1, " q ", ["x ", "y"]) and not same_text(a1, "q", ["y", "x"])
