"""The learned answer decision: its evidence (bot.core.features, bot.core.checks), the shipped
weights (bot.core.decision) and the replies they lead to (bot.core.answer)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bot.core.answer import AnswerKind
from bot.core.checks import evidence
from bot.core.decision import DecisionFileError, DecisionModel, shipped_model
from bot.core.features import CANDIDATES, FEATURE_NAMES, candidate_rows, question_signals
from tests.conftest import LECTURE_ID

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def rows_for(knowledge, question: str) -> tuple[np.ndarray, list]:
    searched, hits = knowledge.index.search_query(question, CANDIDATES)
    verdicts = evidence(question, hits, knowledge.index.tokenizer)
    coverages = [knowledge.index.sentence_coverage(hit, searched) for hit in hits]
    return (candidate_rows(question_signals(question, False), searched, hits, verdicts,
                           coverages, len(knowledge.index)), hits)


# --------------------------------------------------------------------- features


def test_one_row_per_candidate_with_every_feature_finite(knowledge):
    rows, hits = rows_for(knowledge, "党员网络行为规定是什么时候印发的")
    assert rows.shape == (min(CANDIDATES, len(hits)), len(FEATURE_NAMES))
    assert np.isfinite(rows).all()
    assert rows[0, COLUMN["rank_1"]] == 0 and rows[1, COLUMN["rank_1"]] == 1
    assert rows[2, COLUMN["rank_2"]] == 1
    for row, hit in zip(rows, hits, strict=False):
        assert row[COLUMN["coverage"]] == pytest.approx(hit.coverage)
    # scores are shares of what the question could score at most
    assert 0 < rows[0, COLUMN["score_of_max"]] <= 1
    assert rows[0, COLUMN["score_of_first"]] == pytest.approx(1.0)


def test_words_the_whole_knowledge_lacks_are_counted_as_unknown(knowledge):
    known, _ = rows_for(knowledge, "网民规模有多大")
    unknown, _ = rows_for(knowledge, "火星探测器着陆器用的是什么燃料")
    assert known[0, COLUMN["unknown_weight_share"]] == 0
    assert unknown[0, COLUMN["unknown_weight_share"]] > 0.5
    assert unknown[0, COLUMN["unknown_informative"]] >= 2


def test_a_half_remembered_quote_matches_one_sentence_closely(knowledge):
    rows, hits = rows_for(knowledge, "像爱护绿水青山一样爱护网络生态")
    assert hits[0].passage.passage_id == f"{LECTURE_ID}:1.2"
    assert rows[0, COLUMN["fuzz_best_sentence"]] == pytest.approx(1.0)
    assert rows[1, COLUMN["fuzz_best_sentence"]] < 0.8


def test_answer_type_checks_are_counted_not_obeyed(knowledge):
    # asks for a date: the passage with the issuing date holds one, the others do not
    rows, hits = rows_for(knowledge, "网络行为规定是哪一年印发的")
    assert rows[:, COLUMN["types_asked"]].min() >= 1
    dated = [i for i, hit in enumerate(hits) if "2024年" in hit.passage.text]
    assert dated and rows[dated[0], COLUMN["types_failed"]] == 0


def test_numbers_the_question_takes_as_given_must_be_in_the_passage(knowledge):
    rows, hits = rows_for(knowledge, "2019年网民规模是多少")
    assert rows[0, COLUMN["numbers_asked"]] == 1
    assert rows[0, COLUMN["numbers_missing"]] == 1  # the lecture gives 2023's figure only


def test_a_question_and_small_talk_are_told_apart(knowledge):
    asking = question_signals("网民规模有多大?", False)
    telling = question_signals("我今天学习了讲稿", False)
    assert asking.asks and not telling.asks
    assert question_signals("谢谢", True).small_talk


# --------------------------------------------------------------------- the model


def test_the_shipped_weights_fit_the_features_and_order_the_thresholds():
    model = shipped_model()
    assert len(model.coef) == len(model.mean) == len(model.scale) == len(FEATURE_NAMES)
    assert (model.scale > 0).all()
    assert 0 < model.thresholds.closest < model.thresholds.confident < 1
    assert DecisionModel.load() is model  # read once per process


def test_a_weights_file_for_other_features_is_refused(tmp_path):
    data = {"features": ["coverage"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0,
            "thresholds": {"confident": 0.5, "closest": 0.3}}
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DecisionFileError):
        DecisionModel.load(path)
    path.write_text(json.dumps({"features": list(FEATURE_NAMES)}), encoding="utf-8")
    with pytest.raises(DecisionFileError):
        DecisionModel.load(path)


def test_probabilities_are_probabilities_and_follow_the_weights():
    names = len(FEATURE_NAMES)
    coef = np.zeros(names)
    coef[COLUMN["coverage"]] = 4.0
    model = DecisionModel(np.zeros(names), np.ones(names), coef, -2.0,
                          shipped_model().thresholds)
    rows = np.zeros((3, names))
    rows[:, COLUMN["coverage"]] = [0.0, 0.5, 1.0]
    p = model.probabilities(rows)
    assert p == pytest.approx([1 / (1 + math.exp(2)), 0.5, 1 / (1 + math.exp(-2))])
    assert len(model.probabilities(np.zeros((0, names)))) == 0
    extreme = np.zeros((1, names))
    extreme[0, COLUMN["coverage"]] = 1e6  # no overflow, still a probability
    assert model.probabilities(extreme)[0] == pytest.approx(1.0)


# --------------------------------------------------------------------- documented decisions


@pytest.mark.parametrize("question, kind, first", [
    ("党员网络行为规定是什么时候印发的", AnswerKind.ANSWERED, "0.1"),
    ("截至2023年12月我国网民规模是多少", AnswerKind.ANSWERED, "1.2"),
    ("中国共产党现在有多少党员啊", None, "1.1"),
    ("今天天气怎么样", AnswerKind.NOT_COVERED, None),
    ("谢谢老师", AnswerKind.SMALL_TALK, None),
])
def test_the_shipped_weights_give_the_documented_decisions(knowledge, question, kind, first):
    answer = knowledge.answer(question)
    if kind is not None:
        assert answer.kind == kind
    else:  # the number stands in 1.1: shown first, as an answer or as the closest paragraph
        assert answer.kind in (AnswerKind.ANSWERED, AnswerKind.CLOSEST)
    if first is not None:
        assert answer.best.passage.passage_id == f"{LECTURE_ID}:{first}"
        assert 0 < answer.confidence <= 1
    else:
        assert answer.kind != AnswerKind.CLOSEST
