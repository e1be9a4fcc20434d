"""Trains and cross-validates the reader (`bot.core.reading`) on CMRC 2018 dev; prints
held-out figures beside the baselines, and with --write the weights.

    python -m benchmarks.reading            # cross-validate and print (make bench)
    python -m benchmarks.reading --write    # … and write bot/core/reading.json

Given the paragraph each question was written about (848 paragraphs, 3,219 questions):
- answering sentence: the sentence the reply shows first holds a gold answer;
- span exact match and F1 with CMRC 2018's own metric (its evaluation script: punctuation
  and spaces dropped, CJK split into characters and other runs into words, F1 of the longest
  common substring, the best over the gold answers), in percent.

Cross-validation is grouped by article (5 folds, fixed seed): every figure is a held-out
prediction made exactly as the bot makes it (`Reader.read` with trees fitted without the
article). Baselines in the same run: today's first highlighted sentence (the search's, over
all 848 paragraphs, on the questions whose paragraph the search ranks first, as the issue
measured it), the sentence sharing the most characters with the question, and the same by
weighted characters.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from benchmarks import REPO_ROOT, Report, load_average
from bot.core.features import CANDIDATES
from bot.core.forest import Forest, exported_trees
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Passage, split_sentences
from bot.core.reading import (
    SENTENCE_FEATURES,
    SPAN_FEATURES,
    SPAN_SENTENCES,
    WEIGHTS_FILE,
    PassageSentences,
    QuestionAnalysis,
    Reader,
    ReaderModel,
    SentenceSpans,
    aliases_of,
    analyze_question,
    candidates_read,
    fold_chars,
    reading_order,
    sentence_rows,
    shipped_reader_model,
    span_rows,
)
from bot.core.search import Index
from bot.core.text import Lexicon, Tokenizer, normalize

CMRC = REPO_ROOT.parent / "shared" / "data" / "cmrc2018_dev.json"
WEIGHTS_PATH = REPO_ROOT / "bot" / "core" / WEIGHTS_FILE
CV_SEED = 2026
FOLDS = 5
# Depth, trees, learning rate, as the answer decision's trees.
TREES = (4, 200, 0.05)
# The reader's trees are walked on every question (all sentences of three candidates, a
# sentence's candidate spans), so their size is time: held out on CMRC dev, (4, 100, 0.2)
# sentence trees and (6, 100, 0.15) span trees read as well as the (6, 300, 0.05) both had
# (answering sentence 0.863 vs 0.864, span EM/F1 35.7/56.8 vs 36.3/56.9 when spans were read
# in three sentences) for a fifth and a third of the steps; (4, 100, 0.2) span trees lost
# EM (35.5/56.0).
SENTENCE_TREES = (4, 100, 0.2)
SPAN_TREES = (6, 100, 0.15)
# Negative spans kept per sentence in training (see span_matrix).
SPAN_NEGATIVES = 40
# A span of a type is shown in bold when, held out, that type's spans bolded from its
# probability on are exactly a gold answer at least this often (half: bold that misleads more
# often than it helps is worse than none); floors tried in these steps, a few reported.
BOLD_PRECISION = 0.5
BOLD_STEP = 0.05
BOLD_REPORTED = (0.0, 0.1, 0.2, 0.3, 0.5)


@dataclass
class Question:
    article: str
    passage: Passage
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]
    analysis: QuestionAnalysis | None = None
    sentence_rows: np.ndarray | None = None
    sentence_labels: np.ndarray | None = None
    held_out_sentences: np.ndarray | None = None
    span_sets: list = field(default_factory=list)  # (sentence index, spans, rows, labels)


def cmrc_questions() -> list[Question]:
    data = json.loads(CMRC.read_text(encoding="utf-8"))["data"]
    questions = []
    for article in data:
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            passage = Passage(paragraph["id"], article["id"], article["title"], 1, "", 1, 0,
                              text, split_sentences(text))
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa["answers"])
                starts = tuple(int(a["answer_start"]) for a in qa["answers"])
                questions.append(Question(article["id"], passage, qa["question"], answers,
                                          starts))
    return questions


def holds_answer(passage: Passage, sentence_index: int, q: Question) -> bool:
    """Does this sentence hold a gold answer (where the annotator marked it, or verbatim)?"""
    start, end = passage.sentence_spans[sentence_index]
    sentence = passage.text[start:end]
    return any(answer.strip() and answer.strip() in sentence for answer in q.answers)


# --- CMRC 2018's metric (its evaluation script) -----------------------------------------

_PUNCTUATION = set(string.punctuation) | set(
    "－：_*^/\\~`+=，。：？！“”；’《》〈〉【】（）「」『』、·…—–．")


def _segments(text: str) -> list[str]:
    """CJK characters one by one, other runs as words; punctuation and spaces dropped."""
    out, run = [], ""
    for char in text.lower():
        if char in _PUNCTUATION or char.isspace():
            if run:
                out.append(run)
                run = ""
        elif re.match(r"[\u4e00-\u9fa5]", char):
            if run:
                out.append(run)
                run = ""
            out.append(char)
        else:
            run += char
    if run:
        out.append(run)
    return out


def _longest_common_substring(a: list[str], b: list[str]) -> int:
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


def f1(prediction: str, answers: Sequence[str]) -> float:
    scores = []
    predicted = _segments(prediction)
    for answer in answers:
        gold = _segments(answer)
        common = _longest_common_substring(gold, predicted)
        if common == 0:
            scores.append(0.0)
            continue
        precision, recall = common / len(predicted), common / len(gold)
        scores.append(2 * precision * recall / (precision + recall))
    return max(scores, default=0.0)


def exact(prediction: str, answers: Sequence[str]) -> bool:
    bare = "".join(_segments(prediction))
    return any(bare == "".join(_segments(answer)) for answer in answers)


# --- features ----------------------------------------------------------------------------


def featurise_sentences(questions: Sequence[Question], tokenizer: Tokenizer) -> None:
    aliases = aliases_of(tokenizer)
    prepared: dict[str, PassageSentences] = {}
    for q in questions:
        q.analysis = analyze_question(q.question, tokenizer, aliases)
        sentences = prepared.get(q.passage.passage_id)
        if sentences is None:
            sentences = prepared[q.passage.passage_id] = PassageSentences.of(q.passage, tokenizer)
        q.sentence_rows = sentence_rows(q.analysis, sentences)
        q.sentence_labels = np.array([float(holds_answer(q.passage, i, q))
                                      for i in range(len(q.passage.sentences))])


def featurise_spans(questions: Sequence[Question], tokenizer: Tokenizer) -> None:
    """Span rows where the bot reads spans: in the best SPAN_SENTENCES sentences in the
    order it reads them (held-out probabilities, answer-type filtering: `reading_order`),
    the candidates it scores there (`candidates_read`); and in the gold sentence."""
    gold_answers = {}
    spans_of: dict[str, SentenceSpans] = {}
    for q in questions:
        order = reading_order(q.analysis, q.sentence_rows, q.held_out_sentences)
        chosen = order[:SPAN_SENTENCES]
        gold = [i for i, label in enumerate(q.sentence_labels) if label]
        q.span_sets = []
        for i in dict.fromkeys(chosen + gold[:1]):
            sentence = q.passage.sentences[i]
            spans = spans_of.get(sentence)
            if spans is None:
                spans = spans_of[sentence] = SentenceSpans.of(sentence, tokenizer)
            read = candidates_read(q.analysis, spans)
            if not len(read):
                continue
            rank = chosen.index(i) if i in chosen else SPAN_SENTENCES
            rows = span_rows(q.analysis, spans, float(q.held_out_sentences[i]), rank, read)
            wanted = gold_answers.setdefault(id(q), {"".join(_segments(a)) for a in q.answers})
            labels = np.array([float("".join(_segments(sentence[s:e])) in wanted)
                               for s, e in (spans.spans[n] for n in read)])
            q.span_sets.append((i, [spans.spans[n] for n in read], rows, labels))


def article_folds(questions: Sequence[Question]) -> list[set[str]]:
    articles = sorted({q.article for q in questions})
    random.Random(CV_SEED).shuffle(articles)
    return [set(articles[i::FOLDS]) for i in range(FOLDS)]


def fit(rows: np.ndarray, labels: np.ndarray,
        trees: tuple[int, int, float] = TREES) -> tuple[Forest, dict]:
    """Trees fitted on the rows, as the bot applies them, and as the weights file holds them."""
    depth, count, rate = trees
    model = HistGradientBoostingClassifier(max_depth=depth, max_iter=count, learning_rate=rate,
                                           early_stopping=False, random_state=CV_SEED)
    model.fit(rows, labels)
    exported = exported_trees(model)
    return Forest.of_trees([[tuple(n) for n in tree] for tree in exported["trees"]],
                           exported["baseline"], rows.shape[1]), exported


def sentence_matrix(questions: Sequence[Question]) -> tuple[np.ndarray, np.ndarray]:
    return (np.vstack([q.sentence_rows for q in questions]),
            np.concatenate([q.sentence_labels for q in questions]))


def span_matrix(questions: Sequence[Question]) -> tuple[np.ndarray, np.ndarray]:
    """Every gold span and at most SPAN_NEGATIVES others of each sentence read (a fixed
    sample): a sentence has a hundred candidates, and fitting all of them is slow for no
    gain in which one comes first."""
    sample = np.random.default_rng(CV_SEED)
    rows, labels = [], []
    for q in questions:
        for *_, span_rows_, span_labels in q.span_sets:
            negatives = np.flatnonzero(span_labels == 0)
            if len(negatives) > SPAN_NEGATIVES:
                negatives = sample.choice(negatives, SPAN_NEGATIVES, replace=False)
            keep = np.concatenate([np.flatnonzero(span_labels == 1), np.sort(negatives)])
            rows.append(span_rows_[keep])
            labels.append(span_labels[keep])
    return np.vstack(rows), np.concatenate(labels)


# --- baselines ---------------------------------------------------------------------------


def most_shared_characters(q: Question, weights: dict[str, float] | None = None) -> int:
    asked = {ch for ch in normalize(q.question) if ch.isalnum()}
    scores = [sum((weights or {}).get(ch, 1.0) for ch in asked if ch in fold_chars(s))
              for s in q.passage.sentences]
    return int(np.argmax(scores))


def first_highlighted(index: Index, q: Question) -> int | None:
    """Today's first highlighted sentence, when the search ranks the paragraph first."""
    hits = index.search(q.question, 1)
    if not hits or hits[0].passage.passage_id != q.passage.passage_id:
        return None
    return hits[0].matched_sentences[0] if hits[0].matched_sentences else 0


# --- main --------------------------------------------------------------------------------


def prepare_spans(questions: Sequence[Question], folds: Sequence[set[str]],
                  tokenizer: Tokenizer) -> list[Forest]:
    """Span rows as training needs them: read in the sentences a sentence scorer that never
    saw the article would choose (held-out probabilities are a feature of every span).
    Returns each fold's sentence scorer."""
    forests = []
    for held in folds:
        forest, _ = fit(*sentence_matrix([q for q in questions if q.article not in held]),
                        SENTENCE_TREES)
        forests.append(forest)
        for q in questions:
            if q.article in held:
                q.held_out_sentences = forest.probabilities(q.sentence_rows)
    featurise_spans(questions, tokenizer)
    return forests


def reader_trained_on(articles: set[str], tokenizer: Tokenizer) -> ReaderModel:
    """A reader fitted on these CMRC articles' questions only: the answer decision trains on
    CMRC questions asked of the other articles, which this reader never saw."""
    questions = [q for q in cmrc_questions() if q.article in articles]
    featurise_sentences(questions, tokenizer)
    prepare_spans(questions, article_folds(questions), tokenizer)
    sentences, _ = fit(*sentence_matrix(questions), SENTENCE_TREES)
    spans, _ = fit(*span_matrix(questions), SPAN_TREES)
    return ReaderModel(sentences, spans)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="write the weights fitted on all of CMRC dev to bot/core/reading.json")
    parser.add_argument("--write-only", action="store_true",
                        help="write the weights without cross-validating")
    parser.add_argument("--no-speed", action="store_true", help="skip the timing")
    parser.add_argument("--speed-only", action="store_true", help="only the timing")
    args = parser.parse_args(argv)
    say = Report()
    tokenizer = Tokenizer(Lexicon.load(REPO_ROOT / "knowledge" / "lexicon"))
    questions = cmrc_questions()
    if args.speed_only:
        speed(say, questions, tokenizer)
        return 0
    started = time.perf_counter()
    featurise_sentences(questions, tokenizer)
    say(f"CMRC 2018 dev: {len(questions)} questions, "
        f"{len({q.passage.passage_id for q in questions})} paragraphs; "
        f"features in {time.perf_counter() - started:.0f} s")
    folds = article_folds(questions)
    sentence_forests = prepare_spans(questions, folds, tokenizer)
    if args.write_only:  # no held-out readings to choose a floor from: the shipped one
        write_weights(questions, dict(shipped_reader_model().bold_floors))
        say(f"weights written to {WEIGHTS_PATH.relative_to(REPO_ROOT)}")
        return 0

    # The reader as the bot runs it, both models held out.
    readings, span_readings = {}, {}
    for held, sentences in zip(folds, sentence_forests, strict=True):
        train = [q for q in questions if q.article not in held]
        spans, _ = fit(*span_matrix(train), SPAN_TREES)
        reader = Reader(tokenizer, ReaderModel(sentences, spans))
        for q in questions:
            if q.article in held:
                # The reply's sentence is read as the bot reads it (a span only where one is
                # shown); the span is read for every question, for EM and F1.
                shown = reader.read(q.analysis, q.passage, with_span=q.analysis.wants_span)
                spanned = shown if q.analysis.wants_span else reader.read(q.analysis, q.passage)
                readings[id(q)] = shown
                span_readings[id(q)] = spanned

    floors = bold_floors(say, questions, readings)
    if args.write:
        write_weights(questions, floors)
        say(f"weights written to {WEIGHTS_PATH.relative_to(REPO_ROOT)}")
    index = Index(tuple({q.passage.passage_id: q.passage for q in questions}.values()),
                  tokenizer)
    report(say, questions, readings, span_readings, index, tokenizer, floors)
    if not args.no_speed:
        speed(say, questions, tokenizer)
    say.save("reading.txt")
    return 0


def bold_floors(say: Report, questions: Sequence[Question], readings: dict
                ) -> dict[str, float]:
    """Per answer type, the lowest span probability (in steps of BOLD_STEP) from which the
    spans the bot would bold, held out, are exactly a gold answer at least BOLD_PRECISION
    of the time (1.0, never bolded, when no floor reaches it)."""
    shown: dict[str, list[tuple[float, bool]]] = {}
    for q in questions:
        reading = readings[id(q)]
        if q.analysis.wants_span and reading.span is not None:
            shown.setdefault(str(q.analysis.answer_type), []).append(
                (reading.span_probability, exact(reading.span_text, q.answers)))
    floors = {}
    say("bolded spans (held out, by answer type): the chosen floor, then share bolded and EM "
        "of the bolded at floors " + ", ".join(f"{f:.1f}" for f in BOLD_REPORTED))
    for kind, pairs in sorted(shown.items(), key=lambda item: -len(item[1])):
        probabilities = np.array([p for p, _ in pairs])
        right = np.array([ok for _, ok in pairs], dtype=float)
        floors[kind] = next((round(float(f), 2) for f in np.arange(0.0, 1.0, BOLD_STEP)
                             if (probabilities >= f).any()
                             and right[probabilities >= f].mean() >= BOLD_PRECISION), 1.0)
        cells = [f"{(probabilities >= f).mean():.2f} {100 * right[probabilities >= f].mean():4.1f}"
                 if (probabilities >= f).any() else "0.00    -" for f in BOLD_REPORTED]
        say(f"  {kind:<13} n={len(pairs):>4}  floor {floors[kind]:.2f}   " + "   ".join(cells))
    return floors


def report(say: Report, questions: Sequence[Question], readings: dict, span_readings: dict,
           index: Index, tokenizer: Tokenizer, floors: dict[str, float]) -> None:
    n = len(questions)
    right = [holds_answer(q.passage, readings[id(q)].sentence_index, q) for q in questions]
    alone = [holds_answer(q.passage, int(np.argmax(q.held_out_sentences)), q) for q in questions]
    shared = [holds_answer(q.passage, most_shared_characters(q), q) for q in questions]
    weights = {}
    for q in questions:
        for ch in normalize(q.question):
            if ch.isalnum() and ch not in weights:
                weights[ch] = tokenizer.word_weight(ch)
    weighted = [holds_answer(q.passage, most_shared_characters(q, weights), q)
                for q in questions]
    top3 = [any(q.sentence_labels[i] for i in np.argsort(-q.held_out_sentences)[:3])
            for q in questions]
    firsts = [(q, first_highlighted(index, q)) for q in questions]
    ranked_first = [(q, i) for q, i in firsts if i is not None]
    today = [holds_answer(q.passage, i, q) for q, i in ranked_first]
    reader_on_those = [holds_answer(q.passage, readings[id(q)].sentence_index, q)
                       for q, _ in ranked_first]
    spans = [span_readings[id(q)].span_text for q in questions]
    em = 100 * np.mean([exact(s, q.answers) for s, q in zip(spans, questions, strict=True)])
    f = 100 * np.mean([f1(s, q.answers) for s, q in zip(spans, questions, strict=True)])
    sentence_f = 100 * np.mean([f1(readings[id(q)].sentence, q.answers) for q in questions])
    oracle = np.mean([any(label.any() for *_, label in q.span_sets) for q in questions])
    say("answering sentence (held out by article), given the right paragraph:")
    say(f"  the reader                                   {np.mean(right):.3f}  (n={n})")
    say(f"  its sentence scorer alone (no span)          {np.mean(alone):.3f}")
    say(f"  baseline: the most shared characters         {np.mean(shared):.3f}")
    say(f"  baseline: the most shared weighted chars     {np.mean(weighted):.3f}")
    say(f"  a gold answer in the reader's top 3          {np.mean(top3):.3f}")
    say(f"  where the search ranks the paragraph first (n={len(ranked_first)}):")
    say(f"    today's first highlighted sentence         {np.mean(today):.3f}")
    say(f"    the reader                                 {np.mean(reader_on_those):.3f}")
    say("answer span (CMRC 2018 metric, held out by article):")
    say(f"  the reader                                   EM {em:.1f}  F1 {f:.1f}")
    say(f"  baseline: the whole answering sentence       EM 0.0  F1 {sentence_f:.1f}")
    say(f"  a gold span among the candidates read        {oracle:.3f}")
    say("  for reference: logistic regression on lexical features, SQuAD 1.1, EM 40.4 / F1 51.0;")
    say("  CMRC 2018 test: humans EM 92.4 / F1 97.9, MacBERT-large EM 80.4 / F1 93.8")
    by_type: dict[str, list[tuple[bool, bool, bool, bool]]] = {}
    for q, ok, s in zip(questions, right, spans, strict=True):
        shown = readings[id(q)]
        bolded = q.analysis.wants_span and shown.span is not None
        by_type.setdefault(str(q.analysis.answer_type), []).append(
            (ok, exact(s, q.answers), bolded,
             bolded and shown.span_probability >= floors.get(str(q.analysis.answer_type), 0.0)))
    say("by answer type: n, answering sentence, span EM; the spans shown in bold: share and "
        "EM with no floor, then with the type's floor")
    for kind, results in sorted(by_type.items(), key=lambda item: -len(item[1])):
        oks, ems, bolded, sure = (np.array(column) for column in zip(*results, strict=True))
        line = f"  {kind:<13} {len(results):>5}  {oks.mean():.3f}  {100 * ems.mean():5.1f}"
        if bolded.any():
            line += (f"   bold {bolded.mean():.2f} EM {100 * ems[bolded].mean():5.1f}"
                     f"  ->  {sure.mean():.2f} EM "
                     + (f"{100 * ems[sure].mean():5.1f}" if sure.any() else "    -"))
        say(line)


def speed(say: Report, questions: Sequence[Question], tokenizer: Tokenizer,
          count: int = 500) -> None:
    """The reader's own time per question over all 848 paragraphs (weighing the decision's
    three candidates, reading the one shown, a span only where one is shown, as the bot
    does), beside the whole answer path it is part of. The reading is timed on a reader of
    its own, prepared at start-up as the bot's is, that has not read the question before
    (the answer path's reader keeps what it read for the question)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for passage in {q.passage.passage_id: q.passage for q in questions}.values():
            (folder / f"{passage.passage_id}.txt").write_text(
                f"{passage.lecture_title} {passage.passage_id}\n\n{passage.text}\n",
                encoding="utf-8")
        knowledge = KnowledgeBase.load(folder, tokenizer)
    reader = Reader(tokenizer, knowledge.answerer.reader.model,
                    passages=knowledge.library.passages)
    sample = random.Random(CV_SEED).sample(list(questions), min(count, len(questions)))
    whole, reading, whole_cpu, reading_cpu = [], [], [], []
    for q in sample:
        # The search first, as in the bot: the question is cut before it is read.
        hits = knowledge.index.search(q.question, CANDIDATES)
        started, cpu = time.perf_counter(), time.thread_time()
        analysis = reader.analyze(q.question)
        reader.weigh_all(analysis, [hit.passage for hit in hits])
        if hits:
            reader.read(analysis, hits[0].passage, with_span=analysis.wants_span)
        reading.append(time.perf_counter() - started)
        reading_cpu.append(time.thread_time() - cpu)
        started, cpu = time.perf_counter(), time.thread_time()
        knowledge.answer(q.question)
        whole.append(time.perf_counter() - started)
        whole_cpu.append(time.thread_time() - cpu)
    say(f"time per question, {len(sample)} questions over "
        f"{len(knowledge.library.passages)} paragraphs (p50 / p95 ms; wall clock, then this "
        "thread's CPU time, which other work on the machine inflates less); "
        f"load average at the end {load_average()}:")
    for name, wall, cpu_times in (("reading (3 candidates weighed, 1 read)  ", reading,
                                   reading_cpu),
                                  ("the whole answer path, reading included", whole, whole_cpu)):
        say(f"  {name}  {1000 * np.median(wall):.2f} / {1000 * np.percentile(wall, 95):.2f}"
            f"   CPU {1000 * np.median(cpu_times):.2f} / "
            f"{1000 * np.percentile(cpu_times, 95):.2f}")
    say(f"  reading is {np.median(reading) / np.median(whole):.0%} of the whole path (p50)")


def write_weights(questions: Sequence[Question], floors: dict[str, float]) -> None:
    _, sentences = fit(*sentence_matrix(questions), SENTENCE_TREES)
    _, spans = fit(*span_matrix(questions), SPAN_TREES)
    data = {"sentences": {"features": list(SENTENCE_FEATURES), **sentences},
            "spans": {"features": list(SPAN_FEATURES), **spans}, "bold_floors": floors}
    WEIGHTS_PATH.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
