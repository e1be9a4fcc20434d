"""A member's message → the questions in it (bot.core.questions): pure text rules."""

from __future__ import annotations

import pytest

from bot.core.questions import MAX_MESSAGE_CHARS, MAX_QUESTION_CHARS, MAX_QUESTIONS, question_parts

STORY = ("我是一名老党员,退休好多年了,平时喜欢在抖音上看看新闻,有时候也转发一些文章。"
         "前几天我们小区群里有人说党员不能随便转发东西,我心里有点犯嘀咕。")


@pytest.mark.parametrize("message, parts", [
    ("党员网络行为规定是什么时候印发的", ["党员网络行为规定是什么时候印发的"]),
    ("三地是啥?还有网民多少", ["三地是啥?", "网民多少"]),
    ("事后追责怎么搞 另外第二部分讲了啥", ["事后追责怎么搞", "第二部分讲了啥"]),
    # 还有 inside a sentence is part of the question, not a second one
    ("网上,还有哪些乱象", ["网上,还有哪些乱象"]),
    # greetings and thanks around a question are not questions
    ("老师好!请问网民规模多大?谢谢", ["请问网民规模多大?"]),
    # no sentence asks: the message as a whole (small talk is recognised later)
    ("你好", ["你好"]),
    ("党员网络行为规定", ["党员网络行为规定"]),
])
def test_questions_of_short_messages(message, parts):
    assert question_parts(message) == parts


def test_a_story_is_left_out_and_its_question_kept():
    assert question_parts(STORY + "想问一下,党员在网上转发东西到底有什么规定?") == [
        "想问一下,党员在网上转发东西到底有什么规定?"]


def test_a_question_that_points_back_keeps_the_sentence_before_it():
    assert question_parts("网上有人造谣说我们支部出事了。那怎么办?") == [
        "网上有人造谣说我们支部出事了。那怎么办?"]
    assert question_parts("老师好!三地是啥?") == ["三地是啥?"]


def test_words_that_only_look_like_asking_do_not_make_a_question():
    # 前几天 and 几乎 hold 几 without asking anything
    assert question_parts("前几天开了会。几乎人人都到了。讲稿第三部分讲的啥?") == [
        "讲稿第三部分讲的啥?"]


def test_at_most_three_questions_and_each_bounded():
    message = "。".join(f"问题{i}是什么?" for i in range(6))
    assert len(question_parts(message)) == MAX_QUESTIONS
    long_question = "为什么" + "很" * 2000
    (part,) = question_parts(long_question)
    assert len(part) <= MAX_QUESTION_CHARS


def test_only_the_first_part_of_a_huge_message_is_read():
    message = "网民规模多大?" + "啊" * 5000 + "党员总数多少?"
    assert question_parts(message) == ["网民规模多大?"]
    assert len(message) > MAX_MESSAGE_CHARS


@pytest.mark.parametrize("message", ["", "   ", "😂😂😂", "。。。???", "\n\n"])
def test_a_message_without_words_has_no_question(message):
    assert question_parts(message) == []
