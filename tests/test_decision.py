"""The learned answer decision: its evidence (bot.core.features, bot.core.checks), the shipped
weights (bot.core.decision) and the replies they lead to (bot.core.answer)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.core.answer import AnswerKind, showable
from bot.core.decision import DecisionFileError, DecisionModel, Thresholds, shipped_model
from bot.core.features import (
    CANDIDATES,
    FEATURE_NAMES,
    question_signals,
    shares_a_word,
)
from bot.core.render import closest_passages
from bot.core.search import MATCHED_TERM_DEGREE, Hit
from tests.conftest import LECTURE_ID

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def rows_for(knowledge, question: str) -> tuple[np.ndarray, list]:
    """The rows the bot weighs for the question's first candidates (as `Answerer` makes them)."""
    searched, hits = knowledge.index.search_query(question, CANDIDATES)
    return knowledge.answerer.candidate_features(question, searched, tuple(hits)), hits


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
    forest = model.forest
    assert len(forest.roots) >= 10
    assert len(forest.feature) == len(forest.threshold) == len(forest.value) > len(forest.roots)
    assert forest.feature.min() >= 0 and forest.feature.max() < len(FEATURE_NAMES)
    assert 1 <= forest.depth <= 4  # shallow trees, as trained
    assert 0 < model.thresholds.closest < model.thresholds.confident < 1
    assert DecisionModel.load() is model  # read once per process


def weights(trees: list, features: tuple[str, ...] = FEATURE_NAMES) -> dict:
    return {"features": list(features), "baseline": 0.0, "trees": trees,
            "thresholds": {"confident": 0.5, "closest": 0.3}}


@pytest.mark.parametrize("data", [
    weights([[[0.1]]], ("coverage",)),                   # trained on other features
    {"features": list(FEATURE_NAMES)},                    # no trees
    weights([]),                                          # an empty forest
    weights([[[0, 0.5, 1, 5], [0.1], [0.2]]]),            # a child outside its tree
    weights([[[0, 0.5, 0, 2], [0.1], [0.2]]]),            # a loop back to the root
    weights([[[99, 0.5, 1, 2], [0.1], [0.2]]]),           # no such feature
    weights([[[0, "x", 1, 2], [0.1], [0.2]]]),            # not a number
    weights([[[0, 0.5, 1], [0.1], [0.2]]]),               # a node missing a child
])
def test_a_weights_file_that_does_not_fit_is_refused(tmp_path, data):
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DecisionFileError):
        DecisionModel.load(path)


def test_probabilities_follow_the_trees_and_stay_probabilities():
    coverage, fuzz = COLUMN["coverage"], COLUMN["fuzz_best_sentence"]
    # tree 1: coverage <= 0.5 ? -2 : (fuzz <= 0.8 ? 1 : 3); tree 2: a lone leaf, 0.5
    model = DecisionModel.from_dict(weights([
        [[coverage, 0.5, 1, 2], [-2.0], [fuzz, 0.8, 3, 4], [1.0], [3.0]],
        [[0.5]],
    ]) | {"baseline": -0.5})
    assert model.forest.depth == 2
    rows = np.zeros((4, len(FEATURE_NAMES)))
    rows[:, coverage] = [0.2, 0.5, 0.9, 0.9]
    rows[:, fuzz] = [1.0, 1.0, 0.3, 0.95]
    logits = np.array([-2.0, -2.0, 1.0, 3.0])  # baseline and the lone leaf cancel
    assert model.probabilities(rows) == pytest.approx(1 / (1 + np.exp(-logits)))
    assert len(model.probabilities(np.zeros((0, len(FEATURE_NAMES))))) == 0
    huge = DecisionModel.from_dict(weights([[[1e6]]]))  # no overflow, still a probability
    assert huge.probabilities(np.zeros((1, len(FEATURE_NAMES))))[0] == pytest.approx(1.0)


def test_trees_exported_by_the_training_script_give_sklearns_probabilities():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from benchmarks.decision import exported

    rng = np.random.default_rng(7)
    rows = rng.random((600, len(FEATURE_NAMES))).round(2)  # rounded: rows meet thresholds
    rows[:, COLUMN["rank_1"]] = rows[:, COLUMN["rank_1"]] > 0.5
    labels = rows[:, COLUMN["coverage"]] + rows[:, COLUMN["fuzz_best_sentence"]] / 2 \
        - rows[:, COLUMN["rank_1"]] / 3 > 0.6
    trained = HistGradientBoostingClassifier(max_depth=3, max_iter=40, random_state=0)
    trained.fit(rows, labels)
    model = DecisionModel.from_dict(json.loads(json.dumps(exported(trained, Thresholds(0.5, 0.3)))))
    assert model.probabilities(rows) == pytest.approx(trained.predict_proba(rows)[:, 1], abs=1e-5)


def test_a_candidate_sharing_no_word_with_the_question_is_never_shown(knowledge):
    passage = knowledge.library.passage(f"{LECTURE_ID}:1.2")
    hit = lambda *degrees: Hit(passage, 3.0, 0.25, (), (), (), degrees)  # noqa: E731
    assert not shares_a_word(hit(0.5, 0.0))  # characters across a word boundary only
    assert shares_a_word(hit(0.5, MATCHED_TERM_DEGREE))  # a homophone typo counts
    assert shares_a_word(hit())  # no content words to judge by: the decision decides
    assert list(showable((hit(0.5), hit(1.0, 0.0)))) == [0.0, 1.0]


# --------------------------------------------------------------------- documented decisions


@pytest.mark.parametrize("question, kind, first", [
    ("党员网络行为规定是什么时候印发的", AnswerKind.ANSWERED, "0.1"),
    ("截至2023年12月我国网民规模是多少", AnswerKind.ANSWERED, "1.2"),
    ("中国共产党现在有多少党员啊", None, "1.1"),
    ("今天天气怎么样", AnswerKind.NOT_COVERED, None),
    # 明天 only across 文明|天津 (1.2): no word shared, so not even the closest paragraph
    ("明天的天气", AnswerKind.NOT_COVERED, None),
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


def test_a_refusal_lists_no_paragraph_that_shares_no_word(knowledge):
    """明天 read across 文明|天津 is no reason to name 1.2 as the nearest paragraph either."""
    answer = knowledge.answer("明天的天气")
    assert answer.best.passage.passage_id == f"{LECTURE_ID}:1.2"  # the search's first hit
    assert answer.kind == AnswerKind.NOT_COVERED
    assert f"{LECTURE_ID}:1.2" not in [p.passage_id for p in closest_passages(answer)]
