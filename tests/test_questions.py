"""A member's message → the questions in it (bot.core.questions): pure text rules."""

from __future__ import annotations

import pytest

from bot.core.answer import AnswerKind
from bot.core.questions import (
    MAX_MESSAGE_CHARS,
    MAX_QUESTION_CHARS,
    MAX_QUESTIONS,
    is_cut,
    question_parts,
)
from tests.conftest import LECTURE_ID

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


# A fragment of the lecture quoted with its end left out, as members ask for the rest of it.
QUOTED_FRAGMENTS = [
    "有一句“确保互联网平台在法治轨道内……”,后半句是什么?",
    '有一句"确保互联网平台在法治轨道内...",后半句是什么?',
    "有一句「确保互联网平台在法治轨道内⋯⋯」后半句是什么?",
    "“确保互联网平台在法治轨道内。。。”这句话的后半句是什么?",
]


@pytest.mark.parametrize("message", QUOTED_FRAGMENTS)
def test_a_quoted_fragment_stays_with_the_sentence_that_asks_about_it(message):
    assert question_parts(message) == [message]


def test_an_ellipsis_that_the_sentence_carries_on_after_is_no_sentence_end():
    message = "确保互联网平台在法治轨道内……,后半句是什么?"
    assert question_parts(message) == [message]
    # an ellipsis before a new sentence is a pause between two
    assert question_parts("老师好……请问网民规模多大?") == ["请问网民规模多大?"]


def test_what_a_quote_reports_is_not_the_members_question():
    assert question_parts("他问我“党员能转发吗?”我没答上来。请问网民规模多大?") == [
        "请问网民规模多大?"]
    # a quotation mark without its pair quotes nothing
    assert question_parts("他说“党员不能乱转发。请问网民规模多大?") == ["请问网民规模多大?"]


@pytest.mark.parametrize("message", QUOTED_FRAGMENTS[:2])
def test_a_quoted_fragment_is_answered_like_any_question(knowledge, message):
    answer = knowledge.answer(message)
    assert answer.kind == AnswerKind.ANSWERED and answer.confidence is not None
    assert answer.best.passage.passage_id == f"{LECTURE_ID}:3.3"


# A member's message as older members write them: a story about the shipped lecture's subject
# whose sentences hold 意思, 什么都, 没怎么, 有没有 without asking, then two questions.
LONG_MESSAGE = (
    "书记您好!我是三支部的老党员,今年七十多了,平时喜欢在微信群里转发一些养生文章和新闻,"
    "觉得挺有意思。上个月社区开会,说党员上网也有规矩,不能什么都往群里发,我当时没怎么听明白。"
    "回家后让孙子帮我在网上查了查,说是有一个专门管党员上网的规定,我心里有点打鼓,"
    "不知道自己以前转发的那些东西有没有问题。"
    "想请教一下,党员网络行为规定是什么时候印发的?另外,现在全国的网民有多少?")
LONG_MESSAGE_QUESTIONS = ["想请教一下,党员网络行为规定是什么时候印发的?", "现在全国的网民有多少?"]


def test_a_story_before_marked_questions_is_context_not_questions():
    assert question_parts(LONG_MESSAGE) == LONG_MESSAGE_QUESTIONS
    # the same without question marks: the sentences that ask outright are the questions,
    # not the one that tells a worry (不知道…有没有问题)
    unmarked = LONG_MESSAGE.replace("?", "。")
    assert question_parts(unmarked) == [q.replace("?", "。") for q in LONG_MESSAGE_QUESTIONS]
    assert question_parts("不知道党员能不能转发朋友圈") == ["不知道党员能不能转发朋友圈"]


def test_a_question_ended_with_a_full_stop_beside_marked_ones_is_still_asked():
    assert question_parts("三地是啥?网民有多少。党员总数多少?") == [
        "三地是啥?", "网民有多少。", "党员总数多少?"]


def test_interrogatives_that_do_not_ask_make_no_question():
    # no question mark anywhere: the words decide, and 什么都 / 没怎么 / 要求 ask nothing
    message = "我什么都不懂,也没怎么上过网,组织上要求大家学习。党员网络行为规定讲了啥"
    assert question_parts(message) == ["党员网络行为规定讲了啥"]
    # 几 of "we few", telling someone else, explaining in the past
    message = "我们几个老党员想跟他讲讲道理。我也在会上做过解释。党员转发谣言怎么处理"
    assert question_parts(message) == ["党员转发谣言怎么处理"]


def test_the_questions_of_a_long_message_are_answered_not_its_story(knowledge):
    answer = knowledge.answer(LONG_MESSAGE)
    assert [part.question for part in answer.parts] == LONG_MESSAGE_QUESTIONS
    issued, netizens = answer.parts
    assert issued.answered
    assert "中央办公厅印发《中国GCD党员网络行为规定》" in issued.best.passage.text
    assert netizens.answered and "10.92亿" in netizens.best.passage.text


REPEATED = "党员可以在朋友圈转发新闻吗?" * 120 + "网民规模多大?"


def test_a_repeated_sentence_is_one_question_and_the_question_after_it_is_read():
    assert question_parts(REPEATED) == ["党员可以在朋友圈转发新闻吗?", "网民规模多大?"]
    assert not is_cut(REPEATED)
    assert question_parts("学习了。" * 120 + "党员总数是多少?") == ["党员总数是多少?"]


def test_the_same_question_written_twice_is_asked_once():
    assert question_parts("网民规模多大?网民规模多大?") == ["网民规模多大?"]
    assert question_parts("网民规模多大?網民規模多大？ 网民规模 多大") == ["网民规模多大?"]


def test_a_repeated_sentence_gets_one_answer_per_distinct_question(knowledge):
    answer = knowledge.answer(REPEATED)
    assert [part.question for part in answer.parts] == [
        "党员可以在朋友圈转发新闻吗?", "网民规模多大?"]
    assert not answer.truncated
