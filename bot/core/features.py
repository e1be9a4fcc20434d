"""The evidence the answer decision weighs, as numbers: one row per candidate passage.

Every feature is generic (no word, lecture or question is named here) and scale-free: scores
are divided by what the question could score at most, weights by the question's own total,
so the same learned weights serve a two-paragraph lecture and thousands of passages.
`FEATURE_NAMES` fixes the order; the weights file (`bot/core/decision.json`) names the
features it was trained on, and loading refuses a mismatch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.checks import Evidence, folded_sentences, folded_text
from bot.core.reading import SentenceEvidence
from bot.core.search import MATCHED_TERM_DEGREE, Hit, Query
from bot.core.text import normalize

# Candidates the decision weighs: the first can be overtaken by the next two at most; deeper
# ranks almost never hold the answer when these do not (R@3 > 0.99 on CMRC dev).
CANDIDATES = 3
# The question's rarest words (highest weight): names, numbers and terms that pin down what
# is asked, as opposed to the words any question about the topic shares.
RARE_WORDS = 3
# A word weighing this much (IDF in jieba's dictionary) is about 1 in 3,000 words: a
# content word with meaning of its own, not a function word.
INFORMATIVE_WEIGHT = 8.0
# Weights and lengths are scaled to about 0-1 by these (the usual maximum seen).
WEIGHT_SCALE = 15.0
LOG_CHARS_SCALE = math.log(1000)
# How many passages compete for a question changes what a score means (a lecture of a dozen
# paragraphs against thousands of passages): the knowledge's size, on a log scale up to this.
LOG_PASSAGES_SCALE = math.log(10_000)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_QUESTION_MARK = re.compile(r"[?？]")
_INTERROGATIVE = re.compile(
    r"什么|啥|怎么|咋|怎样|如何|为什么|为啥|哪|谁|几|多少|吗|么|呢|是否|是不是|能不能|可不可以|"
    r"有没有|区别|意思|请问|问一下")

FEATURE_NAMES: tuple[str, ...] = (
    "rank_1", "rank_2",
    "coverage", "coverage_below_best", "sentence_coverage",
    "score_of_max", "score_of_first", "margin_to_next",
    "best_sentence_of_max",
    "rare_coverage", "max_unmatched_weight", "unmatched_informative",
    "unknown_weight_share", "unknown_informative",
    "numbers_asked", "numbers_missing",
    "types_asked", "types_failed", "exacting_asked", "exacting_failed",
    "premises_asked", "premises_failed",
    "fuzz_best_sentence",
    "question_log_chars", "question_words", "question_weight",
    "asks_question", "small_talk",
    "passage_log_chars",
    "reader_sentence", "reader_type_missing", "reader_anchored", "reader_focus",
    "reader_near_rarest", "reader_near_head",
    "knowledge_log_passages",
)


@dataclass(frozen=True)
class QuestionSignals:
    """What the question itself says, whatever passage is weighed against it."""

    folded: str
    log_chars: float
    asks: bool
    small_talk: bool
    numbers: tuple[str, ...]


def question_signals(question: str, small_talk: bool) -> QuestionSignals:
    folded = normalize(question)
    asks = bool(_QUESTION_MARK.search(question) or _INTERROGATIVE.search(folded))
    return QuestionSignals(folded, math.log1p(len(folded)), asks, small_talk,
                           tuple(_NUMBER.findall(folded)))


def candidate_rows(signals: QuestionSignals, query: Query, hits: Sequence[Hit],
                   evidence: Sequence[Evidence], sentence_coverages: Sequence[float],
                   readings: Sequence[SentenceEvidence], passages: int) -> np.ndarray:
    """One feature row (in FEATURE_NAMES order) per candidate among the first hits;
    `sentence_coverages` from `Index.sentence_coverage` and `readings` from `Reader.weigh`,
    one per hit; `passages`: how many the knowledge holds."""
    count = min(CANDIDATES, len(hits))
    rows = np.zeros((count, len(FEATURE_NAMES)), dtype=np.float64)
    for rank in range(count):
        rows[rank] = _row(signals, query, hits, rank, evidence[rank], sentence_coverages,
                          readings[rank])
    rows[:, -1] = math.log(max(passages, 1)) / LOG_PASSAGES_SCALE
    return rows


def shares_a_word(hit: Hit) -> bool:
    """Whether the passage holds one of the question's words at least (verbatim, as a homophone
    or a translation: `MATCHED_TERM_DEGREE`). One that shares only characters with it, say
    明天 read across 文明|天津, cannot answer it, however the other evidence adds up: such a
    candidate is never shown (held out, it would have been shown for 1 of 9,212 questions)."""
    return not hit.word_degrees or max(hit.word_degrees) >= MATCHED_TERM_DEGREE


def _row(signals: QuestionSignals, query: Query, hits: Sequence[Hit], rank: int,
         evidence: Evidence, sentence_coverages: Sequence[float],
         reading: SentenceEvidence) -> list[float]:
    hit = hits[rank]
    weights = query.weights
    total = query.total_weight or 1.0
    degrees = hit.word_degrees or (0.0,) * len(weights)
    unmatched = [w for w, d in zip(weights, degrees, strict=True) if d < MATCHED_TERM_DEGREE]
    rare = sorted(range(len(weights)), key=lambda i: -weights[i])[:RARE_WORDS]
    rare_total = sum(weights[i] for i in rare) or 1.0
    unknown = [w for w, known in zip(weights, query.known, strict=True) if not known]
    max_score = query.max_score or 1.0
    following = hits[rank + 1].score if rank + 1 < len(hits) else 0.0
    folded_passage = folded_text(hit.passage)
    missing_numbers = [n for n in signals.numbers if n not in folded_passage]
    return [
        float(rank == 1), float(rank == 2),
        hit.coverage, max(h.coverage for h in hits[:CANDIDATES]) - hit.coverage,
        sentence_coverages[rank],
        hit.score / max_score, hit.score / (hits[0].score or 1.0),
        (hit.score - following) / (hit.score or 1.0),
        max(hit.sentence_scores, default=0.0) / max_score,
        sum(weights[i] * degrees[i] for i in rare) / rare_total,
        max(unmatched, default=0.0) / WEIGHT_SCALE,
        float(sum(w >= INFORMATIVE_WEIGHT for w in unmatched)),
        sum(unknown) / total,
        float(sum(w >= INFORMATIVE_WEIGHT for w in unknown)),
        float(len(signals.numbers)), float(len(missing_numbers)),
        float(evidence.asked["type"]), float(evidence.failed["type"]),
        float(evidence.asked["exacting"]), float(evidence.failed["exacting"]),
        float(evidence.asked["premise"]), float(evidence.failed["premise"]),
        _best_sentence_match(signals.folded, hit) / 100.0,
        signals.log_chars / LOG_CHARS_SCALE,
        float(len(weights)), total / (WEIGHT_SCALE * 4),
        float(signals.asks), float(signals.small_talk),
        math.log1p(len(hit.passage.text)) / LOG_CHARS_SCALE,
        reading.probability, float(reading.type_missing), reading.anchored, reading.focus,
        reading.near_rarest, reading.near_head,
        0.0,  # knowledge_log_passages: the same for every candidate, filled by candidate_rows
    ]


def _best_sentence_match(folded_question: str, hit: Hit) -> float:
    """rapidfuzz's best partial match of the question in one sentence: a half-remembered
    quote matches one sentence closely even when its words are few or common."""
    if len(folded_question) < 4:
        return 0.0
    best = process.extractOne(folded_question, folded_sentences(hit.passage),
                              scorer=fuzz.partial_ratio)
    return best[1] if best else 0.0
