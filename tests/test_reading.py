"""The reader: what a question asks for, and the sentence and span that answer it."""

from __future__ import annotations

import gc
import json
import weakref
from dataclasses import replace

import pytest

from bot.core.answer import AnswerKind
from bot.core.forest import ForestFileError
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Passage, split_sentences
from bot.core.links import LINKS_SUFFIX, passage_ref_in_lecture
from bot.core.reading import (
    SENTENCE_FEATURES,
    AnswerType,
    PassageSentences,
    Reader,
    ReaderModel,
    analyze_question,
    fold_chars,
    sentence_rows,
    shipped_reader_model,
    span_candidates,
)
from bot.core.render import html_chunks, plain_text
from bot.core.text import Lexicon, Tokenizer


@pytest.fixture(scope="module")
def reader(knowledge) -> Reader:
    return Reader(knowledge.index.tokenizer)


@pytest.mark.parametrize(("question", "kind"), [
    ("党员人数有多少", AnswerType.QUANTITY),
    ("全国一共有几个党员", AnswerType.QUANTITY),
    ("网民规模多大", AnswerType.QUANTITY),
    ("宣言是哪一年发布的", AnswerType.DATE),
    ("这个规定什么时候印发的?", AnswerType.DATE),
    ("谁说过过不了互联网这一关", AnswerType.PERSON),
    ("哪个部门负责网络管理", AnswerType.ORGANIZATION),
    ("网络文明大会在哪里开的", AnswerType.PLACE),
    ("党员上网有哪些要求", AnswerType.LIST),
    ("为什么要管党员上网", AnswerType.REASON),
    ("怎么规范网络行为", AnswerType.METHOD),
    ("党员能不能匿名发帖", AnswerType.YES_NO),
    ("党员可以转发吗?", AnswerType.YES_NO),
    ("什么是网络意识形态", AnswerType.DEFINITION),
    ("宣言叫什么名字", AnswerType.ENTITY),
    ("党员网络行为管理", AnswerType.TOPIC),
])
def test_the_interrogative_sets_the_answer_type(knowledge, question, kind):
    assert analyze_question(question, knowledge.index.tokenizer).answer_type == kind


def test_the_analysis_keeps_the_words_around_the_interrogative(knowledge):
    analysis = analyze_question("截至2023年底党员总数达多少?", knowledge.index.tokenizer)
    assert analysis.before == "截至2023年底党员总数达"
    assert analysis.after == ""
    assert analysis.constraints == ("2023",)
    assert "党员" in analysis.focus
    countries = analyze_question("几个国家参加了大会", knowledge.index.tokenizer)
    assert countries.head == "国家"


def test_folding_keeps_offsets():
    text = "黨員總數ＡＢ9918.5萬名"
    folded = fold_chars(text)
    assert len(folded) == len(text)
    assert folded.startswith("党员总数ab")


def test_candidates_hold_numbers_with_their_units(knowledge):
    sentence = "截至2023年底,中国GCD党员总数达9918.5万名,广大党员成为意识形态斗争的先锋队和主力军。"
    spans = {sentence[s:e] for s, e in span_candidates(sentence, knowledge.index.tokenizer)}
    assert "9918.5万名" in spans
    assert "2023年" in spans or "2023年底" in spans
    # never across a clause
    assert not any("," in span for span in spans)


def test_the_count_of_members_is_read_where_it_stands(knowledge, reader):
    passage = next(p for p in knowledge.library.passages if "9918.5万名" in p.text)
    reading = reader.read(reader.analyze("全国一共有多少党员"), passage)
    assert "9918.5万名" in reading.sentence
    assert reading.shows_span and "9918.5万" in reading.span_text
    assert reading.answer_type == AnswerType.QUANTITY


def test_a_reason_is_answered_by_a_sentence_without_a_span(knowledge, reader):
    passage = knowledge.library.passages[2]
    reading = reader.read(reader.analyze("为什么要加强党员网络行为管理"), passage)
    assert reading.sentence in passage.sentences
    assert not reading.shows_span
    assert reading.as_dict()["span"] is None


def test_the_paragraph_without_the_type_beside_the_focus_weighs_against(knowledge, reader):
    """A quantity asked about what has no number beside it is evidence against: the count
    of 党员 answers 党员有多少人, not 女党员有多少, and a paragraph with no number neither."""
    with_count = next(p for p in knowledge.library.passages if "9918.5万名" in p.text)
    without_numbers = next(p for p in knowledge.library.passages
                           if not any(ch.isdigit() for ch in p.text) and "党员" in p.text)
    members, women = reader.analyze("党员有多少人"), reader.analyze("女党员有多少")
    assert not reader.weigh(members, with_count).type_missing
    assert reader.weigh(members, with_count).near_rarest > 0.5
    assert reader.weigh(members, without_numbers).type_missing
    assert reader.weigh(women, with_count).type_missing


def test_the_reader_tells_the_counted_noun_from_a_word_that_qualifies_it(knowledge, reader):
    """全国一共有多少党员 asks a count of 党员 (the interrogative's head noun). The lexicon
    maps 全国 to 我国, which stands beside 10.92亿 in the paragraph on netizens; the count of
    党员 stands beside 9918.5万名. The decision gets that as evidence (reader_near_head)."""
    with_count = next(p for p in knowledge.library.passages if "9918.5万名" in p.text)
    netizens = next(p for p in knowledge.library.passages if "10.92亿" in p.text)
    asked = reader.analyze("全国一共有多少党员")
    assert asked.head == "党员"
    assert reader.weigh(asked, with_count).near_head > 0.5
    assert reader.weigh(asked, netizens).near_head == 0
    assert reader.weigh(asked, netizens).near_rarest == 0


def test_a_weak_span_is_not_bolded(knowledge, reader):
    """Below the reader's bold floor the span is read but not shown: the answering sentence
    is quoted without a bolded span."""
    passage = next(p for p in knowledge.library.passages if "9918.5万名" in p.text)
    asked = reader.analyze("全国一共有多少党员")
    sure = reader.read(asked, passage)
    assert sure.shows_span
    assert sure.span_probability >= reader.model.bold_floor(AnswerType.QUANTITY)
    unsure = Reader(knowledge.index.tokenizer,
                    replace(reader.model, bold_floors={"quantity": 1.01}))
    reading = unsure.read(asked, passage)
    assert reading.sentence == sure.sentence and reading.span == sure.span
    assert not reading.shows_span
    assert reading.as_dict()["span"] is None


def test_a_constraint_number_is_not_found_inside_another(tokenizer):
    """问 2 月 of a sentence that only has 2023: the 2 is not there as a number."""
    text = "2023年党员总数达9918.5万名。2月召开了会议。"
    passage = Passage("p", "l", "讲稿", 1, "", 1, 0, text, split_sentences(text))
    rows = sentence_rows(analyze_question("2月召开了什么会议", tokenizer),
                         PassageSentences.of(passage, tokenizer))
    column = SENTENCE_FEATURES.index("constraints")
    assert rows[:, column].tolist() == [0.0, 1.0]


def test_a_reader_does_not_keep_a_replaced_tokenizer_alive(knowledge):
    """After a lexicon reload the old tokenizer (and its jieba) goes with its reader: no
    module-level cache keyed by tokenizer holds it."""
    tokenizer = Tokenizer(Lexicon.load(knowledge.folder / "lexicon"))
    reader = Reader(tokenizer, passages=knowledge.library.passages)
    passage = next(p for p in knowledge.library.passages if "9918.5万名" in p.text)
    assert reader.read(reader.analyze("全国一共有多少党员"), passage).span is not None
    gone = weakref.ref(tokenizer)
    del reader, tokenizer
    gc.collect()
    assert gone() is None


def test_a_quantity_question_is_answered_with_the_count(knowledge):
    answer = knowledge.answer("党员有多少人")
    assert answer.answered, (answer.kind, answer.confidence)
    assert "9918.5万名" in answer.best.passage.text
    assert "9918.5万" in answer.reading.span_text
    # the paragraph's highlighted sentence is the answering one
    assert answer.best.sentences == (answer.reading.sentence,)


def test_a_count_asked_in_other_words_is_offered_with_the_count(knowledge):
    """人数 is not the lecture's 总数: not a confident answer, but the paragraph offered
    first is the one with the count, and its sentence is the count's."""
    answer = knowledge.answer("党员人数有多少")
    assert answer.best is not None and "9918.5万名" in answer.best.passage.text
    assert answer.kind in (AnswerKind.ANSWERED, AnswerKind.CLOSEST)
    assert "9918.5万" in answer.reading.span_text


def test_another_lectures_subject_does_not_answer_a_count(tmp_path, knowledge):
    """After a short lecture on 党费 is published, a count of members is still the count."""
    folder = tmp_path / "knowledge"
    folder.mkdir()
    source = knowledge.folder / "party-lecture-online-conduct.txt"
    (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "dues.txt").write_text(
        "党费收缴工作\n\n一、按时交纳党费\n\n"
        "党员应当每月按时交纳党费,这是党员应尽的义务。党员交纳党费的比例按月工资收入计算。\n"
        "党费由党支部统一收缴,党员不得拖欠党费。\n", encoding="utf-8")
    both = KnowledgeBase.load(folder, knowledge.index.tokenizer)
    answer = both.answer("党员有多少人")
    # Before the reader it was answered at 85% with 党员应当每月按时交纳党费…, no count at all.
    shown = answer.kind in (AnswerKind.ANSWERED, AnswerKind.CLOSEST)
    assert not (shown and "党费" in answer.best.passage.text), answer
    if shown:
        assert "9918.5万名" in answer.best.passage.text


def test_the_reply_opens_with_the_answering_sentence(knowledge):
    answer = knowledge.answer("党员有多少人")
    text = plain_text(answer, knowledge.library)
    first = text.splitlines()[0]
    assert first.startswith("答:")
    assert "【9918.5万名】" in first or "【9918.5万】" in first
    html = html_chunks(answer, knowledge.library)[0]
    assert html.startswith("答:") and "<b>9918.5万" in html.splitlines()[0]


def test_the_json_answer_field(knowledge):
    from bot.cli import answer_json

    result = answer_json(knowledge.answer("党员有多少人"))
    assert result["answer"]["type"] == "quantity"
    assert "9918.5万" in result["answer"]["span"]
    assert result["answer"]["sentence"] in result["results"][0]["text"]
    assert result["answer"]["passage_id"] == result["results"][0]["passage_id"]
    assert answer_json(knowledge.answer("今天天气怎么样"))["answer"] is None


def test_the_shipped_weights_fit_the_features():
    model = shipped_reader_model()
    assert model.sentences.feature.max() < len(SENTENCE_FEATURES)
    assert len(model.sentences.roots) >= 10 and len(model.spans.roots) >= 10


def test_weights_trained_on_other_features_are_refused():
    with pytest.raises(ForestFileError):
        ReaderModel.from_dict(json.loads(json.dumps({
            "sentences": {"features": ["words"], "baseline": 0.0, "trees": [[[0.1]]]},
            "spans": {"features": ["words"], "baseline": 0.0, "trees": [[[0.1]]]}})))


def test_a_taught_link_highlights_by_the_same_reading(tmp_path, knowledge):
    folder = tmp_path / "knowledge"
    folder.mkdir()
    source = knowledge.folder / "party-lecture-online-conduct.txt"
    (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    counted = next(p for p in knowledge.library.passages if "9918.5万名" in p.text)
    (folder / f"{counted.lecture_id}{LINKS_SUFFIX}").write_text(
        f"全国一共有多少党员\t{passage_ref_in_lecture(counted)}\n", encoding="utf-8")
    taught = KnowledgeBase.load(folder, knowledge.index.tokenizer)
    answer = taught.answer("全国一共有多少党员")
    assert answer.confidence == 1.0  # answered through the link
    assert answer.best.passage.passage_id == counted.passage_id
    assert answer.best.sentences == (answer.reading.sentence,)
    assert "9918.5万名" in answer.reading.sentence


def test_a_one_sentence_paragraph_is_not_quoted_twice(tmp_path, knowledge):
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "short.txt").write_text(
        "短讲稿\n\n一、要求\n\n党员要自觉学网、懂网、用网,不断提高网络素养。\n", encoding="utf-8")
    short = KnowledgeBase.load(folder, knowledge.index.tokenizer)
    answer = short.answer("党员为什么要学网懂网用网")
    assert answer.answered and answer.reading is not None and not answer.reading.shows_span
    assert not plain_text(answer, short.library).startswith("答:")
