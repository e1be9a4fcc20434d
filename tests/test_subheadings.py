"""Sub-headings within a section (（一）坚持…, Word's Heading 2): kept with their paragraphs,
in the citation, above the quote, and in what a question can match; passage ids unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.answer import AnswerKind
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import lecture_from_bytes, read_lecture
from bot.core.render import html_chunks, passage_message, plain_text
from tests.conftest import write_lecture
from tests.test_docx_lectures import docx_bytes

LECTURE = """党课:严守纪律 做合格党员
一、聚力攻坚,不断汇聚工作合力
（一）坚持学习教育常态化
支部每月集中学习一次,党员要做好学习笔记。
党员要按时参加组织生活,不无故缺席。
（二）严守组织纪律
请假须提前一天向支部书记说明。
二、保障措施
支部书记负总责。
"""
WITHOUT_SUBHEADINGS = "\n".join(line for line in LECTURE.splitlines()
                                if not line.startswith("（")) + "\n"


@pytest.fixture
def lecture(tmp_path: Path):
    return read_lecture(write_lecture(tmp_path, "discipline.txt", LECTURE))


def test_paragraphs_carry_the_sub_heading_they_follow_until_the_next_one_or_section(lecture):
    assert [(p.passage_id, p.subheading) for p in lecture.passages] == [
        ("discipline:1.1", "（一）坚持学习教育常态化"),
        ("discipline:1.2", "（一）坚持学习教育常态化"),
        ("discipline:1.3", "（二）严守组织纪律"),
        ("discipline:2.1", ""),
    ]


def test_passage_ids_are_those_of_the_lecture_without_its_sub_headings(lecture, tmp_path):
    plain = read_lecture(write_lecture(tmp_path, "discipline.md", WITHOUT_SUBHEADINGS),
                         "discipline")
    assert [p.passage_id for p in lecture.passages] == [p.passage_id for p in plain.passages]
    assert [p.text for p in lecture.passages] == [p.text for p in plain.passages]


def test_the_citation_names_the_sub_heading_between_section_and_paragraph(lecture):
    first, _, third, last = lecture.passages
    assert first.citation == \
        "《党课:严守纪律 做合格党员》· 一、聚力攻坚… · （一）坚持学习教育常态化 · 第1段"
    assert third.citation.endswith("· （二）严守组织纪律 · 第3段")
    assert last.citation == "《党课:严守纪律 做合格党员》· 二、保障措施 · 第1段"


def test_a_long_sub_heading_is_cut_to_its_first_clause_in_the_citation(tmp_path):
    text = "标题\n一、总则\n（一）坚持党的全面领导,把政治建设摆在首位\n内容一。\n"
    passage = read_lecture(write_lecture(tmp_path, "long.txt", text)).passages[0]
    assert "· （一）坚持党的全面领导… · 第1段" in passage.citation
    assert passage.subheading == "（一）坚持党的全面领导,把政治建设摆在首位"


def test_a_paragraph_that_opens_with_its_sub_heading_heads_the_paragraphs_after_it(tmp_path):
    text = ("标题\n一、总则\n（一）坚持学习。支部每月集中学习一次。\n党员要做好学习笔记。\n"
            "（二）严守纪律。请假须提前一天。\n")
    first, second, third = read_lecture(write_lecture(tmp_path, "inline.txt", text)).passages
    assert (first.subheading, second.subheading, third.subheading) == \
        ("（一）坚持学习", "（一）坚持学习", "（二）严守纪律")
    # The text already opens with it: it is not shown twice.
    assert first.heading_line == "" and second.heading_line == "（一）坚持学习"


def test_a_numbered_paragraph_in_the_sections_own_style_is_no_sub_heading(tmp_path):
    text = "标题\n一、总则\n内容一。\n二、分则很长的一句话,后面还有内容。这是正文。\n"
    lecture = read_lecture(write_lecture(tmp_path, "same.txt", text))
    assert all(p.subheading == "" for p in lecture.passages)


def test_the_quote_shows_the_sub_heading_above_the_paragraph_plain_and_html(lecture):
    from bot.core.answer import Answer
    from bot.core.lectures import Library
    from bot.core.search import Hit

    passage = lecture.passages[1]
    answer = Answer("q", AnswerKind.ANSWERED, (Hit(passage, 1.0, 1.0, (0,), ()),))
    library = Library((lecture,))
    assert "（一）坚持学习教育常态化\n【党员要按时参加组织生活,不无故缺席。】" in \
        plain_text(answer, library)
    (chunk,) = html_chunks(answer, library)
    assert "（一）坚持学习教育常态化\n<b>党员要按时参加组织生活,不无故缺席。</b>" in chunk
    assert passage_message("今日学习", passage).startswith(
        "今日学习\n\n（一）坚持学习教育常态化\n党员要按时")


def test_a_sub_heading_is_escaped_in_html(tmp_path):
    text = "标题\n一、总则\n（一）<b>学习</b>&纪律\n内容一。\n"
    passage = read_lecture(write_lecture(tmp_path, "html.txt", text)).passages[0]
    assert "（一）&lt;b&gt;学习&lt;/b&gt;&amp;纪律\n内容一。" in passage_message("h", passage)


def test_a_question_in_the_sub_headings_words_finds_its_paragraphs(tmp_path, tokenizer):
    write_lecture(tmp_path, "discipline.txt", LECTURE)
    knowledge = KnowledgeBase.load(tmp_path, tokenizer)
    question = "学习教育常态化是怎么要求的"
    answer = knowledge.answer(question)
    assert answer.best.passage.passage_id == "discipline:1.1"
    assert {"学习", "教育", "常态"} <= set(answer.best.matched_terms)
    # Highlighted sentences are the paragraph's own, not the sub-heading.
    assert all(0 <= i < len(answer.best.passage.sentences)
               for i in answer.best.matched_sentences)
    # Without its sub-heading the paragraph holds none of the question's words.
    plain = tmp_path / "plain"
    plain.mkdir()
    write_lecture(plain, "discipline.txt", WITHOUT_SUBHEADINGS)
    plain_hits = KnowledgeBase.load(plain, tokenizer).index.search(question, 1)
    assert not plain_hits or not {"教育", "常态"} & set(plain_hits[0].matched_terms)


def test_word_heading_2_and_3_are_sub_headings_of_the_heading_1_section():
    data = docx_bytes([
        ("党课", "Title"),
        ("一、总体要求", "Heading 1"),
        ("（一）学习要求", "Heading 2"), ("每月集中学习一次。", None),
        ("（二）纪律要求", "Heading 2"), ("严格遵守请假制度。", None),
        ("细则", "Heading 3"), ("请假须提前一天。", None),
        ("二、保障措施", "Heading 1"), ("支部书记负总责。", None),
    ])
    lecture = lecture_from_bytes(Path("rules.docx"), data)
    assert [(p.passage_id, p.subheading) for p in lecture.passages] == [
        ("rules:1.1", "（一）学习要求"), ("rules:1.2", "（二）纪律要求"),
        ("rules:1.3", "细则"), ("rules:2.1", "")]
    assert lecture.passages[0].citation == "《党课》· 一、总体要求 · （一）学习要求 · 第1段"


def test_ask_json_gives_the_sub_heading(tmp_path, capsys):
    write_lecture(tmp_path, "discipline.txt", LECTURE)
    assert main(["ask", "--json", "--knowledge", str(tmp_path), "请假要提前几天"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["passage_id"] == "discipline:1.3"
    assert result["subheading"] == "（二）严守组织纪律"
    assert "（二）严守组织纪律" in result["citation"]
