"""Formatting: escaping, highlighting, splitting at Telegram's limit, emoji, plain text."""

from __future__ import annotations

import re

from telegram.constants import MessageLimit

from bot.core.answer import Answer, AnswerKind
from bot.core.lectures import Library, Passage, split_sentences
from bot.core.render import (
    MAX_MESSAGE_LENGTH,
    highlighted_passage,
    html_chunks,
    pack_html,
    plain_text,
    telegram_length,
    toc_text,
)
from bot.core.search import Hit


def _passage(text: str) -> Passage:
    return Passage("l:1.1", "l", "讲稿<A&B>", 1, "一、标题", 1, 0, text, split_sentences(text))


def _answer(passage: Passage, sentences=(0,)) -> Answer:
    return Answer("q", AnswerKind.ANSWERED, (Hit(passage, 1.0, 1.0, tuple(sentences), ()),))


def test_limit_matches_telegram():
    assert MAX_MESSAGE_LENGTH == MessageLimit.MAX_TEXT_LENGTH


def test_html_is_escaped_and_highlight_is_bold():
    passage = _passage("a<b>&c。第二句。")
    (chunk,) = html_chunks(_answer(passage, (1,)), Library(()))
    assert "a&lt;b&gt;&amp;c。<b>第二句。</b>" in chunk
    assert "《讲稿&lt;A&amp;B&gt;》" in chunk


def test_highlight_runs_rebuild_the_passage_verbatim():
    passage = _passage("一。二。三。")
    runs = highlighted_passage(passage, (0, 2))
    assert "".join(text for text, _ in runs) == passage.text
    assert [bold for _, bold in runs] == [True, False, True]


def _well_formed(chunk: str) -> bool:
    stripped = re.sub(r"</?b>", "", chunk)
    return chunk.count("<b>") == chunk.count("</b>") and "<" not in stripped


def test_long_answer_splits_cleanly_within_the_limit():
    sentence = "党员要规范网络行为,😀 <注意> & 学习。"
    passage = _passage(sentence * 600)
    chunks = html_chunks(_answer(passage, range(0, 600, 3)), Library(()))
    assert len(chunks) > 1
    for chunk in chunks:
        assert telegram_length(chunk) <= MAX_MESSAGE_LENGTH
        assert _well_formed(chunk)
    text = "".join(re.sub(r"</?b>", "", c) for c in chunks)
    assert text.count("&lt;注意&gt;") == 600


def test_one_huge_bold_run_is_cut_between_tags():
    chunks = pack_html([[("字" * 9000, True)]], limit=4096)
    assert len(chunks) == 3
    assert all(c.startswith("<b>") and c.endswith("</b>") for c in chunks)


def test_emoji_count_as_two_units():
    chunks = pack_html([[("😀" * 3000, False)]], limit=4096)
    assert all(telegram_length(c) <= 4096 for c in chunks)
    assert "".join(chunks) == "😀" * 3000


def test_plain_text_marks_highlight_without_html(knowledge):
    answer = knowledge.answer("党员网络行为规定是什么时候印发的")
    text = plain_text(answer, knowledge.library)
    assert "【2024年1月,中央办公厅印发" in text
    assert "<b>" not in text
    assert answer.best.passage.citation in text


def test_toc_marks_missing_section(knowledge):
    toc = toc_text(knowledge.library)
    assert "第二部分:原文缺失(约2,928字)" in toc
    assert "三、聚力攻坚…(3段)" in toc


def test_each_question_of_a_message_gets_its_reply_naming_it(knowledge):
    text = plain_text(knowledge.answer("三地是啥？还有网民多少"), knowledge.library)
    first, second = text.index("关于“三地是啥？”:"), text.index("关于“网民多少”:")
    assert first < text.index("三地", first + 10) < second < text.index("10.92亿")


def test_a_passage_goes_out_whole_with_its_header_or_not_at_all():
    from bot.core.render import whole_passage_message

    fits = _passage("党员要规范网络行为。" * 300)  # 3,000 characters
    assert "党员要规范网络行为。" * 300 in whole_passage_message("📖 今日学习", fits)
    too_long = _passage("党员要规范网络行为。" * 420)  # 4,200 characters
    assert whole_passage_message("📖 今日学习", too_long) is None
