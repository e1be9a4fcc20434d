"""What makes the answer path and the index build scale, checked against the plain ways it
replaced: jieba's own cut, a scan of every lecture's title, BM25 counted term by term."""

from __future__ import annotations

import importlib
import json
import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Lecture, load_library
from bot.core.search import (
    BM25_B,
    BM25_K1,
    FIELD_WEIGHTS,
    Index,
    _Occurrences,
    _Postings,
    _Vocabulary,
)
from bot.core.segment import Segmenter, _Hmm
from bot.core.simplify import Simplifier
from bot.core.text import (
    Lexicon,
    Tokenizer,
    _run_terms,
    _simplifier,
    _splits_into,
    normalize,
    run_terms,
    spoken_numbers_as_digits,
    zhconv,
)
from bot.core.titles import TitleIndex
from tests.conftest import KNOWLEDGE_DIR, ROOT, write_lecture

CMRC = ROOT.parent / "shared" / "data" / "cmrc2018_dev.json"
GOLD_DIR = ROOT / "tests" / "gold"


def _cmrc_texts(count: int) -> list[str]:
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    contexts = [p["context"] for article in data["data"] for p in article["paragraphs"]]
    questions = [qa["question"] for article in data["data"] for p in article["paragraphs"]
                 for qa in p["qas"]]
    sample = random.Random(10)
    return sample.sample(contexts, count) + sample.sample(questions, count)


def _odd_texts() -> list[str]:
    return ["", " ", "党员", "a", "GCD中国gcd", "2023年12月,网民规模达10.92亿人", "😀党员😀",
            "hello world 你好 世界", "C++和Python哪个好?", "e-mail、U盘 & 5G+",
            "范廷颂范廷颂范廷颂", "\t换行\n之后", "％１２３全角", "abc_def-ghi.jkl%", "。。。"]


@pytest.fixture(scope="module")
def lecture_texts() -> list[str]:
    lines = (KNOWLEDGE_DIR / "party-lecture-online-conduct.txt").read_text(encoding="utf-8")
    gold = [json.loads(line)["question"] for path in sorted(GOLD_DIR.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines.splitlines() + gold


def test_the_segmenter_cuts_exactly_as_jieba(tokenizer, lecture_texts):
    jieba_tokenizer = tokenizer._jieba
    segmenter = Segmenter(jieba_tokenizer)
    texts = lecture_texts + _cmrc_texts(150) + _odd_texts()
    # Between blocks: spaces, line breaks (\r\n is one word), symbols, letters of no block.
    texts += ["党员\r\n网络", " \r\n\r 党", "😀 😀", "é党㐀员Ω", "《党章》", "\u3000党\u3000", "-"]
    for text in texts + [normalize(t) for t in texts]:
        assert segmenter.cut(text) == jieba_tokenizer.lcut(text), text


def test_the_segmenters_hmm_cuts_exactly_as_jiebas(lecture_texts):
    finalseg = importlib.import_module("jieba.finalseg")
    texts = lecture_texts + _cmrc_texts(400) + _odd_texts()
    sample = random.Random(3)
    chars = sorted(set("".join(texts)))
    texts += ["".join(sample.choices(chars, k=sample.randint(1, 12))) for _ in range(3000)]
    texts += ["a党b员", "3.5%党员", "党员x2", "丶", "𠀀党", "党員"]
    hmm = _Hmm(finalseg)
    for text in texts:
        assert hmm.cut(text) == list(finalseg.cut(text)), text


def test_the_segmenter_cuts_a_repeated_block_once(tokenizer):
    segmenter = Segmenter(tokenizer._jieba)
    segmenter.cut("党员要遵守网络纪律,党员要遵守网络纪律。")
    info = segmenter._cut_block.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_the_simplifier_converts_exactly_as_zhconv(lecture_texts):
    def reference(text: str) -> str:
        return zhconv.convert(text, "zh-hans")

    table = zhconv.zhconv.getdict("zh-hans")
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    texts = lecture_texts + _odd_texts() + [p["context"] for article in data["data"]
                                            for p in article["paragraphs"]]
    sample = random.Random(7)
    keys = sorted(table)
    phrases = [key for key in keys if len(key) > 1]
    chars = sorted(set("".join(keys)) | set("党员网络abc 1。"))
    # Phrases side by side and overlapping, and their pieces: where the longest match decides.
    texts += ["".join(sample.choices(phrases + keys[:300], k=sample.randint(1, 6)))
              for _ in range(3000)]
    texts += ["".join(sample.choices(chars, k=sample.randint(1, 12))) for _ in range(3000)]
    texts += [phrase[:-1] for phrase in phrases] + [phrase[1:] for phrase in phrases]
    simplifier = _simplifier()
    for text in texts + [t[1:] for t in texts]:
        assert simplifier.simplify(text) == reference(text), text
    assert Simplifier({}).simplify("書") == "書"


def test_the_simplifier_takes_the_longest_phrase_from_the_left():
    simplifier = Simplifier({"ab": "X", "abcd": "Y", "bc": "Z", "c": "w", "d": "d"})
    assert simplifier.simplify("abcabcdbcd") == "Xw" + "Y" + "Zd"
    assert simplifier.simplify("abc") == "Xw" and simplifier.simplify("dcb") == "dwb"


def test_spoken_numbers_skip_only_texts_without_their_words(lecture_texts):
    from bot.core import text

    def every_pattern(value: str) -> str:
        value = text._SPOKEN_YEAR.sub(lambda m: text._digit_by_digit(m.group()), value)
        value = text._SPOKEN_DECIMAL.sub(text._decimal, value)
        return text._SPOKEN_PERCENT.sub(text._percent, value)

    texts = lecture_texts + _cmrc_texts(300) + _odd_texts() + [
        "二零二三年", "二〇二三年百分之七十七点五", "十点九二亿", "百分之七十七", "一点一滴",
        "三点建议", "百分之百分之五点五万", "二零二三 年", "九九点五亿年"]
    for value in texts:
        assert spoken_numbers_as_digits(value) == every_pattern(value), value


def test_the_stop_word_shortcut_agrees_with_the_search(lecture_texts):
    tokenizer = Tokenizer(Lexicon.load(KNOWLEDGE_DIR / "lexicon"))
    stop_words = tokenizer.lexicon.stop_words
    words = [w for text in lecture_texts + _cmrc_texts(100) for w in tokenizer.words(text)]
    candidates = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)} | \
        {a + b for a in list(stop_words)[:60] for b in list(stop_words)[:60]}
    def searched(word: str) -> bool:
        return word in stop_words or (len(word) > 1 and _splits_into(word, stop_words))

    for word in candidates:
        assert tokenizer._is_stop_compound(word) == searched(word), word
    for text in lecture_texts + _cmrc_texts(100):
        words = tokenizer.words(text)
        stop = [searched(w) for w in words]  # every neighbour tried, as before the shortcut
        for i in range(len(words) - 1):
            if not (stop[i] and stop[i + 1]) and searched(words[i] + words[i + 1]):
                stop[i] = stop[i + 1] = True
        assert tokenizer._stop_positions(words) == stop, text


def test_the_terms_of_many_runs_are_each_runs_own(tokenizer, lecture_texts):
    texts = lecture_texts + _cmrc_texts(100) + _odd_texts() + ["㐀a豈", "党", "党a员b", "x"]
    runs = [run for text in texts for run in tokenizer.content_runs(tokenizer.words(text))[1]]
    runs += ["党", "a党b", "党员a", "五、党"]
    terms, term_of_occurrence, run_of_occurrence = run_terms(runs)
    assert len(set(terms)) == len(terms)
    counted: list[Counter[str]] = [Counter() for _ in runs]
    for term, run in zip(term_of_occurrence.tolist(), run_of_occurrence.tolist(), strict=True):
        counted[run][terms[term]] += 1
    assert counted == [Counter(_run_terms(run)) for run in runs]
    assert run_terms([])[0] == []


def test_the_vocabulary_numbers_new_terms_in_order_and_refuses_known_ones():
    vocabulary = _Vocabulary()
    assert vocabulary.add_new(["w:党员", "c:党员"]) == range(2)
    assert vocabulary.add_new(["p:dang yuan"]) == range(2, 3)
    assert vocabulary == {"w:党员": 0, "c:党员": 1, "p:dang yuan": 2}
    assert vocabulary.fields == [0, 1, 2]
    with pytest.raises(ValueError):
        vocabulary.add_new(["c:网络", "c:网络"])
    with pytest.raises(ValueError):
        _Vocabulary().add_new(["w:党员", "w:党员"])


def _lecture(lecture_id: str, title: str) -> Lecture:
    return Lecture(lecture_id, title, Path(f"{lecture_id}.txt"), "", (), (), ())


def _scanned(lectures: list[Lecture], folded: str) -> Lecture | None:
    """The scan the title index replaced."""
    return next((lec for lec in lectures
                 if normalize(lec.title) in folded or lec.lecture_id in folded), None)


def test_the_title_index_finds_what_a_scan_of_every_title_finds():
    titles = ["党课:发挥模范带头作用", "党课", "网络安全", "安全", "纪律处分条例学习", "條例",
              "Party Lecture", "范廷颂", "学习", "网络"]
    lectures = [_lecture(f"lecture-{n}", title) for n, title in enumerate(titles)]
    lectures.append(_lecture("discipline", "无关标题"))
    index = TitleIndex(lectures)
    questions = ["党课讲了啥", "网络安全法", "纪律处分条例学习第几条", "条例", "party lecture 讲啥",
                 "范廷颂是谁", "lecture-3 的内容", "discipline 讲什么", "今天天气", "",
                 "安全网络", "网络党课"]
    for question in questions:
        folded = normalize(question)
        assert index.named_in(folded) is _scanned(lectures, folded), question
    assert index.named_in(normalize("网络安全法")).title == "网络安全"  # first in order


def test_an_empty_title_is_in_every_question_as_before():
    lectures = [_lecture("a", "党课"), _lecture("b", "\u200b"), _lecture("c", "网络")]
    index = TitleIndex(lectures)
    assert index.named_in("网络") is lectures[1] is _scanned(lectures, "网络")
    assert index.named_in("党课") is lectures[0]
    assert TitleIndex([]).named_in("党课") is None


def test_a_question_naming_one_of_many_lectures_is_about_that_one(tmp_path, tokenizer):
    for n in range(30):
        write_lecture(tmp_path, f"lecture{n:02d}.txt",
                      f"第{n}号学习材料\n\n第一部分 总则\n支部第{n}次学习的内容。\n")
    knowledge = KnowledgeBase.load(tmp_path, tokenizer)
    answer = knowledge.answer("第17号学习材料第一部分讲了什么")
    assert answer.lecture.lecture_id == "lecture17"
    assert answer.section.number == 1


def test_library_finds_lectures_and_sections_by_id(tmp_path):
    for name in ("b.txt", "a.txt", "c.txt"):
        write_lecture(tmp_path, name, f"{name}\n一、节\n内容。\n二、节\n内容二。\n")
    library = load_library(tmp_path)
    assert [lec.lecture_id for lec in library.lectures] == ["a", "b", "c"]
    assert library.lecture("b") is library.lectures[1] and library.lecture("x") is None
    # In library order, whatever the order asked; all lectures when none is named.
    assert [s.passages[0].lecture_id for s in library.sections_of(["c", "a", "c"])] == \
        ["a", "a", "c", "c"]
    assert len(library.sections_of([])) == 6
    assert len({library.lectures[0], library.lectures[0], library.lectures[2]}) == 2


def _reference_bm25(documents: list[Counter[str]]) -> dict[str, list[float]]:
    """Okapi BM25 weights counted term by term per field, as the index promises them."""
    size = len(documents)
    lengths = {prefix: [sum(c for t, c in doc.items() if t.startswith(prefix))
                        for doc in documents] for prefix in FIELD_WEIGHTS}
    weights: dict[str, list[float]] = {}
    for term in {t for doc in documents for t in doc}:
        prefix = term[:2]
        df = sum(1 for doc in documents if term in doc)
        idf = math.log1p((size - df + 0.5) / (df + 0.5))
        average = max(sum(lengths[prefix]) / size, 1.0)
        weights[term] = [
            FIELD_WEIGHTS[prefix] * idf * doc[term] * (BM25_K1 + 1)
            / (doc[term] + BM25_K1 * (1 - BM25_B + BM25_B * lengths[prefix][n] / average))
            if term in doc else 0.0 for n, doc in enumerate(documents)]
    return weights


def test_the_index_weights_are_bm25_counted_term_by_term(knowledge):
    index = knowledge.index
    passages = index.passages
    analyses = [[index.tokenizer.analyze(s) for s in p.sentences] for p in passages]
    documents = [Counter(t for a in sentences for t in a.terms) for sentences in analyses]
    reference = _reference_bm25(documents)
    for term, expected in reference.items():
        got = index._passage_index.score([(index._vocabulary[term], 1.0)])
        assert got == pytest.approx(expected, rel=1e-5), term
    sentences = [Counter(a.terms) for sentences in analyses for a in sentences]
    reference = _reference_bm25(sentences)
    for term in list(reference)[:300]:
        got = index._sentence_index.score([(index._vocabulary[term], 1.0)])
        assert got == pytest.approx(reference[term], rel=1e-5), term


def _postings_counted_alone(vocabulary, term_ids, doc_of_occurrence, size) -> _Postings:
    """An index's postings from its own sort of (term, document) keys, as before the
    passages and the sentences shared one."""
    field_of_term = np.array(vocabulary.fields, dtype=np.int8)
    keys, counts = np.unique(term_ids * size + doc_of_occurrence, return_counts=True)
    terms, doc_ids = np.divmod(keys, size)
    field_of_occurrence = field_of_term[term_ids]
    postings = _Postings.__new__(_Postings)
    postings.size, postings.vocabulary = size, vocabulary
    postings._build(terms, doc_ids.astype(np.int32), counts.astype(np.float32),
                    {prefix: np.bincount(doc_of_occurrence[field_of_occurrence == field],
                                         minlength=size).astype(np.float32)
                     for field, prefix in enumerate(FIELD_WEIGHTS)}, field_of_term)
    return postings


def test_the_passages_and_sentences_postings_are_each_indexs_own_count(tmp_path, tokenizer):
    write_lecture(tmp_path, "a.txt", "讲稿\n一、总则\n（一）网络安全\n"
                  "党员要遵守网络纪律。网络安全很重要。\n二、分则\n党员不得在网上炫富。\n")
    write_lecture(tmp_path, "b.txt", "另一讲\n网络纪律是纪律。\n")
    for folder in (KNOWLEDGE_DIR, tmp_path):
        index = KnowledgeBase.load(folder, tokenizer).index
        occurrences, passage_of_text, is_sentence = _Occurrences(), [], []
        for i, passage in enumerate(index.passages):
            texts = ([passage.heading_line] if passage.heading_line else []) + \
                list(passage.sentences)
            for text in texts:
                occurrences.add(*tokenizer.content_runs(tokenizer.words(text)))
            passage_of_text += [i] * len(texts)
            is_sentence += [False] * (len(texts) - len(passage.sentences)) + \
                [True] * len(passage.sentences)
        term_ids, text_of = occurrences.count()
        passages, sentence = np.array(passage_of_text), np.array(is_sentence)
        in_sentence = sentence[text_of]
        expected = {
            "passages": _postings_counted_alone(occurrences.vocabulary, term_ids,
                                                passages[text_of], len(index)),
            "sentences": _postings_counted_alone(
                occurrences.vocabulary, term_ids[in_sentence],
                (np.cumsum(sentence) - 1)[text_of[in_sentence]], int(sentence.sum()))}
        for name, got in (("passages", index._passage_index),
                          ("sentences", index._sentence_index)):
            for attribute in ("doc_ids", "indptr", "weights"):
                assert np.array_equal(getattr(got, attribute),
                                      getattr(expected[name], attribute)), (name, attribute)
            assert got.term_weight == expected[name].term_weight
    assert any(p.heading_line for p in index.passages)  # texts that are no sentence


def test_an_index_over_no_passage_finds_nothing(tokenizer):
    index = Index([], tokenizer)
    assert len(index) == 0 and index.search("党员") == []


def test_a_rebuilt_index_ranks_as_the_first():
    tokenizer = Tokenizer(Lexicon.load(KNOWLEDGE_DIR / "lexicon"))
    first = KnowledgeBase.load(KNOWLEDGE_DIR, tokenizer)
    again = first.reload()  # every block now comes from the segmenter's cache
    for question in ("网民规模多大", "党员能不能在网上炫富", "平台主体责任怎么压实"):
        ours, theirs = first.index.search(question), again.index.search(question)
        assert [(h.passage.passage_id, h.score, h.coverage) for h in ours] == \
            [(h.passage.passage_id, h.score, h.coverage) for h in theirs]


def test_what_the_lectures_cover_is_listed_from_the_suggested_sections_alone(tmp_path):
    for n in range(12):
        write_lecture(tmp_path, f"lecture{n:02d}.txt",
                      f"第{n}号材料\n一、总则\n内容{n}。\n二、分则\n二{n}。\n")
    library = load_library(tmp_path)
    suggested = library.sections_of(["lecture07", "lecture03"]) + library.lectures[3].sections
    # The scan of every lecture that listing replaced, section equality and all.
    scanned = [(lecture, [s for s in suggested if s in lecture.sections])
               for lecture in library.lectures]
    assert library.lectures_holding(suggested) == [(lec, own) for lec, own in scanned if own]
    assert [lec.lecture_id for lec, _ in library.lectures_holding(suggested)] == \
        ["lecture03", "lecture07"]
    assert library.lectures_holding([]) == []
