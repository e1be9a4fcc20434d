"""Trains and cross-validates the answer decision; prints held-out figures, writes the weights.

    python -m benchmarks.decision            # cross-validate and print (make bench)
    python -m benchmarks.decision --write    # … and write bot/core/decision.json (training)

Data (every question is asked of a knowledge folder, as `lecture-bot ask` would):
- lectures: `knowledge/` with the gold files of `tests/gold/*.jsonl`, and every lecture of
  `tests/gold/lectures/` with its `<stem>.gold.jsonl`, all lectures in one folder;
- cross-lecture negatives: each lecture's answerable questions asked of the folder without
  it (and of the CMRC knowledge), where nothing may be answered;
- CMRC 2018 dev, split as issue 10 says: `random.Random(7).shuffle(articles)`, the first half
  is the knowledge (one file per paragraph: "<title> <paragraph id>", a blank line, the
  context); its questions must be answered with their own paragraph, the other half's
  refused; and the same with the halves swapped.

Cross-validation is grouped: by lecture (every question about a lecture, and the negatives
made from it, are held out together) and by CMRC article (5 folds of articles; an article's
questions are held out in both halves). Every figure printed is a held-out prediction, never
a training one. The weights written at the end are fitted on all the data, with the
thresholds chosen from the held-out predictions (see `choose_thresholds`).

Baselines in the same run: bm25s (lucene) over plain jieba tokens answering everything with
its first passage (what a user gets from a plain BM25 search), and the same with the one
score threshold that does best on the very data it is scored on (an optimistic baseline);
and the logistic regression the trees replaced, cross-validated on the same folds with its
thresholds chosen by the same rules.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import jieba
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks import REPO_ROOT, Report
from benchmarks.reading import reader_trained_on
from bot.core.answer import AnswerKind, showable
from bot.core.decision import WEIGHTS_FILE, DecisionModel, Thresholds
from bot.core.features import CANDIDATES, FEATURE_NAMES
from bot.core.forest import exported_trees
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import LECTURE_SUFFIXES, lecture_of
from bot.core.questions import question_parts
from bot.core.text import Lexicon, Tokenizer

CMRC = REPO_ROOT.parent / "shared" / "data" / "cmrc2018_dev.json"
KNOWLEDGE = REPO_ROOT / "knowledge"
GOLD = REPO_ROOT / "tests" / "gold"
EXTRA_LECTURES = GOLD / "lectures"
WEIGHTS_PATH = REPO_ROOT / "bot" / "core" / WEIGHTS_FILE

SPLIT_SEED = 7  # the CMRC split
CV_SEED = 2026
CMRC_FOLDS = 5
# Shallow gradient-boosted trees (depth, trees, learning rate): the smallest of SWEEP within
# 0.001 of the lowest held-out log loss (each source weighing the same, as in training),
# printed by --sweep beside the logistic regression they replaced and the same trees
# without MONOTONE.
TREES = (4, 200, 0.05)
SWEEP = ((3, 200, 0.05), (4, 200, 0.05), (4, 400, 0.025), (5, 200, 0.05))
# Evidence for an answer may only raise the probability, evidence against only lower it,
# whatever the other features say: trees fitted freely learn from a few hundred lecture
# questions that, say, a lone candidate with no question word in it is a sure answer.
SUPPORTS = ("coverage", "sentence_coverage", "score_of_max", "score_of_first", "margin_to_next",
            "best_sentence_of_max", "rare_coverage", "fuzz_best_sentence",
            "reader_sentence", "reader_anchored", "reader_focus", "reader_near_rarest",
            "reader_near_head")
OPPOSES = ("coverage_below_best", "max_unmatched_weight", "unmatched_informative",
           "unknown_weight_share", "unknown_informative", "numbers_missing", "types_failed",
           "exacting_failed", "premises_failed", "small_talk", "reader_type_missing")
MONOTONE = tuple(1 if name in SUPPORTS else -1 if name in OPPOSES else 0
                 for name in FEATURE_NAMES)
# Each source weighs as much in training as this many questions, whatever its size: CMRC
# has thousands of questions and must not drown the lectures members ask about.
SOURCE_WEIGHT = 1000.0
RULE_KINDS = {AnswerKind.SMALL_TALK, AnswerKind.SECTION, AnswerKind.MISSING_SECTION,
              AnswerKind.NO_QUESTION}
# A confident answer from this probability up: the held-out probabilities are calibrated
# (the reliability table), so from here an answer is more likely right than wrong. Below it
# the paragraph is still shown, as the closest one. The trade-off table shows other choices.
CONFIDENT = 0.5
# Off-topic questions get the closest paragraph at most this often.
MAX_OFF_TOPIC_SHOWN = 0.05


@dataclass
class Example:
    """One message asked of one knowledge folder, and what the bot saw.

    A message may hold several questions (`bot.core.questions`): each is weighed on its own
    and the surest speaks for the message, as in the bot. Only one-question messages train
    the model (another question of the message may be answered by a paragraph the gold
    file does not list); all are scored.
    """

    source: str          # where it comes from, for the report ("lecture", "cmrc", …)
    group: str           # the cross-validation group (a lecture, a CMRC article)
    question: str
    kind: str
    answerable: bool     # should the bot answer here?
    rows: list[np.ndarray]    # per question of the message: candidate features
    labels: list[np.ndarray]  # per question: 1 where the candidate answers the message
    candidates: list[list[str]] = field(default_factory=list)  # per question: passage ids
    queries: list[str] = field(default_factory=list)  # the questions, as searched
    knowledge: str = ""  # the knowledge folder asked (its name)
    rule_answered: bool | None = None  # a rule's decision, when a rule decided
    rule_right: bool | None = None
    probabilities: list[np.ndarray] = field(default_factory=list)
    # per question: 1 where the candidate may be shown at all (`bot.core.answer.showable`)
    showables: list[np.ndarray] = field(default_factory=list)
    # The baseline: bm25s's first passage for the whole message, and its score.
    baseline_right: bool = False
    baseline_score: float = 0.0

    @property
    def trains(self) -> bool:
        return len(self.rows) == 1 and len(self.rows[0]) > 0


# --- data --------------------------------------------------------------------------------


def gold_questions(path: Path) -> Iterable[dict]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def lecture_gold() -> dict[str, list[dict]]:
    """lecture id → its gold questions (the shipped lecture and the extra ones)."""
    sets: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(GOLD.glob("*.jsonl")):
        for row in gold_questions(path):
            sets["party-lecture-online-conduct"].append(row)
    for path in sorted(EXTRA_LECTURES.glob("*.gold.jsonl")):
        stem = path.name.removesuffix(".gold.jsonl")
        sets[stem].extend(gold_questions(path))
    return dict(sets)


def lecture_files() -> dict[str, Path]:
    """lecture id (file stem) → its file: the shipped lecture(s) and the extra ones."""
    sources = [p for p in KNOWLEDGE.iterdir() if p.suffix in LECTURE_SUFFIXES]
    sources += [p for p in EXTRA_LECTURES.glob("*") if p.suffix in LECTURE_SUFFIXES]
    return {path.stem: path for path in sorted(sources)}


def lecture_folder(root: Path, lecture_ids: Sequence[str], name: str) -> Path:
    """A knowledge folder with the given lectures and the shipped lexicon."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    files = lecture_files()
    for lecture_id in lecture_ids:
        (folder / files[lecture_id].name).write_bytes(files[lecture_id].read_bytes())
    lexicon = folder / "lexicon"
    lexicon.mkdir(exist_ok=True)
    for path in (KNOWLEDGE / "lexicon").glob("*.txt"):
        (lexicon / path.name).write_bytes(path.read_bytes())
    return folder


def cmrc_halves() -> tuple[list[dict], list[dict]]:
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    articles = data["data"]
    random.Random(SPLIT_SEED).shuffle(articles)
    half = len(articles) // 2
    return articles[:half], articles[half:]


def cmrc_folder(root: Path, name: str, articles: Sequence[dict]) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        for paragraph in article["paragraphs"]:
            text = f"{article['title']} {paragraph['id']}\n\n{paragraph['context']}\n"
            (folder / f"{paragraph['id']}.txt").write_text(text, encoding="utf-8")
    return folder


def cmrc_questions(articles: Sequence[dict]) -> Iterable[tuple[str, str, str]]:
    """(article id, paragraph id, question) for every question of the articles."""
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield article["id"], paragraph["id"], qa["question"]


# --- asking ------------------------------------------------------------------------------


def ask(knowledge: KnowledgeBase, message: str, is_right):
    """Per question of the message, candidate rows and labels; or a rule's decision."""
    answer = knowledge.answer(message)
    if answer.kind in RULE_KINDS:
        right = bool(answer.best and is_right(answer.best.passage.passage_id))
        return [], [], answer.answered, right, [], [], []
    rows, labels, candidates, queries, showables = [], [], [], [], []
    for query in question_parts(message):
        if knowledge.answerer.is_small_talk(query):
            continue
        searched, hits = knowledge.index.search_query(query, CANDIDATES)
        hits = tuple(hits)
        found = knowledge.answerer.candidate_features(query, searched, hits)
        rows.append(found)
        labels.append(np.array([float(is_right(h.passage.passage_id))
                                for h in hits[:len(found)]]))
        candidates.append([h.passage.passage_id for h in hits[:len(found)]])
        queries.append(query)
        showables.append(showable(hits[:len(found)]))
    return rows, labels, None, None, candidates, queries, showables


# Collecting needs features, not decisions: a model that decides nothing, so that the
# script runs when the shipped weights were trained on other features.
UNDECIDED = DecisionModel.of_trees([[(0.0,)]], 0.0, Thresholds(1.0, 1.0))


def collect(tokenizer: Tokenizer, root: Path, quick: bool) -> list[Example]:
    examples: list[Example] = []
    gold = lecture_gold()
    first_half, second_half = cmrc_halves()
    if quick:
        first_half, second_half = first_half[:80], second_half[:80]

    # Each lecture alone, as its gold labels assume (another lecture may well answer a
    # question its gold file marks as not covered).
    for lecture_id, rows in gold.items():
        progress(f"lecture {lecture_id}: {len(rows)} questions")
        alone = KnowledgeBase.load(lecture_folder(root, [lecture_id], lecture_id), tokenizer,
                                   model=UNDECIDED)
        for row in rows:
            expected = frozenset(row["expected"])
            examples.append(_example("lecture", lecture_id, row["question"], row["kind"],
                                     bool(expected), alone,
                                     lambda pid, e=expected: pid in e))

    cmrc_knowledge = {}
    for name, knowledge_half, other_half in (("cmrc", first_half, second_half),
                                             ("cmrc-swapped", second_half, first_half)):
        progress(f"{name}: knowledge of {len(knowledge_half)} articles")
        # Its questions are read by a reader trained on the other half's articles only.
        reader = reader_trained_on({a["id"] for a in other_half}, tokenizer)
        kb = KnowledgeBase.load(cmrc_folder(root, name, knowledge_half), tokenizer,
                                model=UNDECIDED, reader=reader)
        cmrc_knowledge[name] = kb
        for answerable, articles in ((True, knowledge_half), (False, other_half)):
            for article_id, paragraph_id, question in cmrc_questions(articles):
                examples.append(_example(
                    name, f"cmrc:{article_id}", question, "in" if answerable else "out",
                    answerable, kb, lambda pid, p=paragraph_id: lecture_of(pid) == p))

    progress("cross-lecture negatives")
    for lecture_id, rows in gold.items():
        others = [other for other in gold if other != lecture_id]
        knowledge_bases = [("cmrc-as-knowledge", cmrc_knowledge["cmrc"])]
        if others:
            folder = lecture_folder(root, others, f"without-{lecture_id}")
            knowledge_bases.append(("other-lectures",
                                    KnowledgeBase.load(folder, tokenizer, model=UNDECIDED)))
        for row in rows:
            if not row["expected"]:
                continue
            for source, kb in knowledge_bases:
                examples.append(_example(source, lecture_id, row["question"], row["kind"],
                                         False, kb, lambda pid: False))
    return examples


def _example(source, group, question, kind, answerable, knowledge, is_right) -> Example:
    rows, labels, rule_answered, rule_right, candidates, queries, showables = ask(
        knowledge, question, is_right)
    top, score = Bm25Baseline.of(knowledge).first(question)
    PASSAGES.setdefault(knowledge.folder.name, [(p.passage_id, p.text)
                                                for p in knowledge.library.passages])
    return Example(source, group, question, kind, answerable, rows, labels, candidates,
                   queries, knowledge.folder.name, rule_answered, rule_right,
                   showables=showables, baseline_right=top is not None and is_right(top),
                   baseline_score=score)


# Every knowledge folder's passages (id, text), by folder name: for experiments with
# features computed after the fact (saved with --examples).
PASSAGES: dict[str, list[tuple[str, str]]] = {}


class Bm25Baseline:
    """What a user gets from a plain BM25 search: bm25s (lucene) over jieba's tokens."""

    _built: dict[Path, Bm25Baseline] = {}  # by knowledge folder
    _jieba = None

    def __init__(self, knowledge: KnowledgeBase):
        if Bm25Baseline._jieba is None:
            Bm25Baseline._jieba = jieba.Tokenizer()
            Bm25Baseline._jieba.initialize()
        self.ids = [p.passage_id for p in knowledge.library.passages]
        self.model = bm25s.BM25(method="lucene")
        self.model.index([self._words(p.text) for p in knowledge.library.passages],
                         show_progress=False)

    @classmethod
    def of(cls, knowledge: KnowledgeBase) -> Bm25Baseline:
        if knowledge.folder not in cls._built:
            cls._built[knowledge.folder] = cls(knowledge)
        return cls._built[knowledge.folder]

    def _words(self, text: str) -> list[str]:
        return [w for w in self._jieba.lcut(text) if w.strip()]

    def first(self, question: str) -> tuple[str | None, float]:
        words = self._words(question)
        if not words or not self.ids:
            return None, 0.0
        documents, scores = self.model.retrieve([words], k=1, show_progress=False)
        return self.ids[int(documents[0][0])], float(scores[0][0])


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- training ----------------------------------------------------------------------------


def folds(examples: Sequence[Example]) -> list[set[str]]:
    """Held-out groups, fold by fold: one fold per lecture, CMRC articles in CMRC_FOLDS."""
    lectures = sorted({e.group for e in examples if not e.group.startswith("cmrc:")})
    articles = sorted({e.group for e in examples if e.group.startswith("cmrc:")})
    random.Random(CV_SEED).shuffle(articles)
    cmrc = [set(articles[i::CMRC_FOLDS]) for i in range(CMRC_FOLDS)]
    return [{lecture} for lecture in lectures] + cmrc


def training_matrix(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sizes: dict[str, int] = defaultdict(int)
    for e in examples:
        sizes[e.source] += e.trains
    rows, labels, weights = [], [], []
    for e in examples:
        if not e.trains:
            continue
        rows.append(e.rows[0])
        labels.append(e.labels[0])
        weights.append(np.full(len(e.rows[0]), SOURCE_WEIGHT / sizes[e.source]))
    return np.vstack(rows), np.concatenate(labels), np.concatenate(weights)


def fit_trees(examples: Sequence[Example], trees: tuple[int, int, float] = TREES,
              monotone: bool = True) -> HistGradientBoostingClassifier:
    x, y, w = training_matrix(examples)
    depth, count, rate = trees
    model = HistGradientBoostingClassifier(max_depth=depth, max_iter=count, learning_rate=rate,
                                           monotonic_cst=list(MONOTONE) if monotone else None,
                                           early_stopping=False, random_state=CV_SEED)
    return model.fit(x, y, sample_weight=w)


def fit(examples: Sequence[Example], trees: tuple[int, int, float] = TREES,
        monotone: bool = True) -> DecisionModel:
    """Trees fitted on the examples, exported as the bot reads them (thresholds unset)."""
    fitted = fit_trees(examples, trees, monotone)
    return DecisionModel.from_dict(exported(fitted, Thresholds(1.0, 1.0)))


def exported(model: HistGradientBoostingClassifier, thresholds: Thresholds) -> dict:
    """The weights file's content (`bot.core.forest.exported_trees`), with the thresholds."""
    return {"features": list(FEATURE_NAMES), **exported_trees(model),
            "thresholds": {"confident": thresholds.confident, "closest": thresholds.closest}}


def cross_validate(examples: Sequence[Example], trees: tuple[int, int, float] = TREES,
                   monotone: bool = True) -> None:
    """Fills every example's held-out probabilities, computed as the bot computes them."""
    for held_out in folds(examples):
        train = [e for e in examples if e.group not in held_out]
        fitted = fit(train, trees, monotone)
        for e in examples:
            if e.group in held_out:
                e.probabilities = [fitted.probabilities(rows) for rows in e.rows]


def cross_validate_logistic(examples: Sequence[Example]) -> None:
    """The baseline model: logistic regression over standardised features, same folds."""
    for held_out in folds(examples):
        x, y, w = training_matrix([e for e in examples if e.group not in held_out])
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
        model.fit(x, y, logisticregression__sample_weight=w)
        for e in examples:
            if e.group in held_out:
                e.probabilities = [model.predict_proba(rows)[:, 1] if len(rows) else np.zeros(0)
                                   for rows in e.rows]


# --- measuring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the bot would do with one example at given thresholds."""

    answered: bool      # a confident answer (or a rule's answer)
    shown: bool         # some paragraph shown first (answer or closest)
    shown_right: bool   # ... and it answers the question


def chosen(e: Example) -> tuple[float, bool] | None:
    """The probability and rightness of what the bot shows: the surest candidate of the
    surest question of the message."""
    best = None
    for probabilities, labels, shown in zip(e.probabilities, e.labels, e.showables,
                                            strict=True):
        probabilities = probabilities * shown  # as the bot does
        if len(probabilities):
            rank = int(np.argmax(probabilities))
            if best is None or probabilities[rank] > best[0]:
                best = (float(probabilities[rank]), bool(labels[rank]))
    return best


def outcome(e: Example, confident: float, closest: float) -> Outcome:
    if e.rule_answered is not None:
        return Outcome(e.rule_answered, e.rule_answered, bool(e.rule_right))
    picked = chosen(e)
    if picked is None:
        return Outcome(False, False, False)
    p, right = picked
    return Outcome(p >= confident, p >= closest, p >= closest and right)


@dataclass(frozen=True)
class Scores:
    answered_right: float   # answerable: confident answer with a right paragraph
    shown_right: float      # answerable: the first paragraph shown (answer or closest) right
    refused: float          # not answerable: no confident answer
    confident_wrong: float  # of all confident answers, the share that is wrong
    accuracy: float         # answered right or refused right, over all questions
    counts: tuple[int, int]


def scores(examples: Sequence[Example], confident: float, closest: float) -> Scores:
    right = shown = refused = wrong = answered = 0
    answerable = [e for e in examples if e.answerable]
    others = [e for e in examples if not e.answerable]
    for e in answerable:
        o = outcome(e, confident, closest)
        right += o.answered and o.shown_right
        shown += o.shown_right
        answered += o.answered
        wrong += o.answered and not o.shown_right
    for e in others:
        o = outcome(e, confident, closest)
        refused += not o.answered
        answered += o.answered
        wrong += o.answered
    n_a, n_o = len(answerable), len(others)
    return Scores(right / n_a if n_a else 0.0, shown / n_a if n_a else 0.0,
                  refused / n_o if n_o else 0.0, wrong / answered if answered else 0.0,
                  (right + refused) / (n_a + n_o) if n_a + n_o else 0.0, (n_a, n_o))


def choose_thresholds(examples: Sequence[Example]) -> tuple[float, float]:
    """Confident: CONFIDENT. Closest, from the held-out predictions: the lowest at which no
    greeting, thanks or general question (kinds chitchat, general) gets a paragraph, and
    lecture questions asked of a knowledge that has nothing on them (CMRC's) get one at most
    MAX_OFF_TOPIC_SHOWN of the time."""
    grid = np.round(np.arange(0.05, CONFIDENT, 0.005), 3)
    chatter = [e for e in examples if e.source == "lecture" and e.kind in ("chitchat", "general")]
    off_topic = [e for e in examples if e.source == "cmrc-as-knowledge"]
    for t in grid:
        shown_to_chatter = any(outcome(e, CONFIDENT, t).shown for e in chatter)
        off_shown = sum(outcome(e, CONFIDENT, t).shown for e in off_topic) / max(len(off_topic), 1)
        if not shown_to_chatter and off_shown <= MAX_OFF_TOPIC_SHOWN:
            return CONFIDENT, float(t)
    return CONFIDENT, CONFIDENT


def reliability(examples: Sequence[Example], bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, observed share right, count) per probability bin of chosen candidates."""
    predicted, observed = [], []
    for e in examples:
        picked = chosen(e)
        if picked is not None:
            predicted.append(picked[0])
            observed.append(float(picked[1]))
    p, o = np.array(predicted), np.array(observed)
    table = []
    for low in np.linspace(0, 1, bins, endpoint=False):
        inside = (p >= low) & (p < low + 1 / bins) if low < 0.9 else p >= low
        if inside.any():
            table.append((float(p[inside].mean()), float(o[inside].mean()), int(inside.sum())))
    return table


# --- the run -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="write the weights fitted on all the data to bot/core/decision.json")
    parser.add_argument("--quick", action="store_true", help="160 CMRC articles only")
    parser.add_argument("--sweep", action="store_true", help="sweep the trees' size")
    parser.add_argument("--examples", type=Path, metavar="FILE",
                        help="reuse (or save) the asked examples: for trying models only")
    args = parser.parse_args(argv)
    say = Report()
    examples = load_or_collect(args.examples, args.quick)
    progress(f"{len(examples)} examples; cross-validating")
    baseline_model(say, examples)
    if args.sweep:
        sweep(say, examples)
    cross_validate(examples)
    confident, closest = choose_thresholds(examples)
    report(say, examples, confident, closest)
    if args.write:
        write_weights(examples, confident, closest)
        say(f"weights written to {WEIGHTS_PATH.relative_to(REPO_ROOT)}")
    say.save("decision_quick.txt" if args.quick else "decision.txt")
    return 0


def baseline_model(say: Report, examples: Sequence[Example]) -> None:
    """The logistic regression the trees replaced: same folds, same threshold rules."""
    cross_validate_logistic(examples)
    confident, closest = choose_thresholds(examples)
    say("BASELINE MODEL: the logistic regression the trees replaced (same folds and rules)")
    say(f"held-out log loss (each source weighing the same) {log_loss(examples):.4f}; "
        f"thresholds: confident {confident:.3f}, closest {closest:.3f}")
    figures(say, examples, confident, closest)
    say()
    say("THE TREES")


def sweep(say: Report, examples: Sequence[Example]) -> None:
    say("held-out log loss (each source weighing the same):")
    cross_validate(examples, TREES, monotone=False)
    say(f"  trees as below, without the monotone constraints: {log_loss(examples):.4f}")
    for trees in SWEEP:
        cross_validate(examples, trees)
        say(f"  depth {trees[0]}, {trees[1]} trees, rate {trees[2]}: {log_loss(examples):.4f}")


def load_or_collect(cache: Path | None, quick: bool) -> list[Example]:
    if cache is not None and cache.is_file():
        saved = pickle.loads(cache.read_bytes())
        trained = next((e for e in saved["examples"] if e.trains), None)
        if trained is not None and trained.rows[0].shape[1] != len(FEATURE_NAMES):
            sys.exit(f"{cache} was saved by an older version of this script: delete it")
        PASSAGES.update(saved["passages"])
        return saved["examples"]
    tokenizer = Tokenizer(Lexicon.load(KNOWLEDGE / "lexicon"))
    tokenizer.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        examples = collect(tokenizer, Path(tmp), quick)
    if cache is not None:
        cache.write_bytes(pickle.dumps({"examples": examples, "passages": PASSAGES}))
    return examples


def log_loss(examples: Sequence[Example]) -> float:
    """Held-out log loss of the training rows, each source weighing the same (as in training)."""
    by_source: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        if e.trains:
            by_source[e.source].append(e)
    losses = []
    for group in by_source.values():
        p = np.clip(np.concatenate([e.probabilities[0] for e in group]), 1e-6, 1 - 1e-6)
        y = np.concatenate([e.labels[0] for e in group])
        losses.append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
    return float(np.mean(losses))


def report(say: Report, examples: Sequence[Example], confident: float, closest: float) -> None:
    say(f"held-out log loss (each source weighing the same) {log_loss(examples):.4f}; "
        f"thresholds chosen from held-out predictions: confident {confident:.3f}, "
        f"closest {closest:.3f}")
    figures(say, examples, confident, closest)
    kind_figures(say, examples, confident, closest)
    say()
    say("baselines in the same run (bm25s lucene over jieba tokens, the first passage):")
    baselines(say, examples)
    say()
    say("reliability of the chosen candidate (held out): predicted → observed (n)")
    for predicted, observed, n in reliability(examples):
        say(f"  {predicted:.2f} → {observed:.2f} ({n})")
    say()
    trade_offs(say, examples, closest)


def figures(say: Report, examples: Sequence[Example], confident: float, closest: float) -> None:
    say("held-out figures (grouped cross-validation: by lecture, by CMRC article)")
    by_source: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by_source[e.source].append(e)
    say(f"{'source':<20} {'n ans/not':>10} {'answered right':>15} {'shown right':>12} "
        f"{'refused':>8} {'conf. wrong':>11}")
    for source, group in sorted(by_source.items()):
        s = scores(group, confident, closest)
        say(f"{source:<20} {s.counts[0]:>4}/{s.counts[1]:<5} {s.answered_right:>15.3f} "
            f"{s.shown_right:>12.3f} {s.refused:>8.3f} {s.confident_wrong:>11.3f}")
    say()
    say("lectures one by one (held out), answered right / shown right / refused / wrong:")
    for group in sorted({e.group for e in examples if e.source == "lecture"}):
        s = scores([e for e in examples if e.source == "lecture" and e.group == group],
                   confident, closest)
        say(f"  {group:<32} {s.answered_right:.3f} / {s.shown_right:.3f} / {s.refused:.3f} / "
            f"{s.confident_wrong:.3f}  ({s.counts[0]} answerable, {s.counts[1]} not)")


def kind_figures(say: Report, examples: Sequence[Example], confident: float,
                 closest: float) -> None:
    say("lecture questions by kind (held out): right (answered right, or refused) / n")
    kinds: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        if e.source == "lecture":
            kinds[e.kind].append(e)
    line = []
    for kind, group in sorted(kinds.items()):
        right = sum((outcome(e, confident, closest).answered
                     and outcome(e, confident, closest).shown_right) if e.answerable
                    else not outcome(e, confident, closest).answered for e in group)
        line.append(f"{kind} {right}/{len(group)}")
    say("  " + ", ".join(line))


def baselines(say: Report, examples: Sequence[Example]) -> None:
    lectures = [e for e in examples if e.source == "lecture"]
    say(f"  lectures, answering everything: answered right "
        f"{_share(e.baseline_right for e in lectures if e.answerable)}, refused 0.000")
    cmrc = [e for e in examples if e.source in ("cmrc", "cmrc-swapped")]
    threshold, inside, outside = best_baseline_threshold(cmrc)
    say(f"  CMRC split, with its best score threshold ({threshold:.2f}, chosen on these very "
        f"questions): in-knowledge answered right {inside:.3f}, out-of-knowledge refused "
        f"{outside:.3f}")


def trade_offs(say: Report, examples: Sequence[Example], closest: float) -> None:
    """What other confident thresholds would give, held out: lectures each weighing the same."""
    lectures = [e for e in examples if e.source == "lecture"]
    names = sorted({e.group for e in lectures})
    by_lecture = [[e for e in lectures if e.group == name] for name in names]
    cmrc = [[e for e in examples if e.source == source] for source in ("cmrc", "cmrc-swapped")]
    say("other confident thresholds (held out): lectures' answered right / confident wrong "
        "(mean over lectures); CMRC in right / out refused, swapped")
    for t in (0.3, 0.4, CONFIDENT, 0.6, 0.7, 0.8, 0.9):
        each = [scores(group, t, min(closest, t)) for group in by_lecture]
        halves = [scores(group, t, min(closest, t)) for group in cmrc]
        say(f"  {t:.2f}: {np.mean([s.answered_right for s in each]):.3f} / "
            f"{np.mean([s.confident_wrong for s in each]):.3f};  " + ",  ".join(
                f"{s.answered_right:.3f} / {s.refused:.3f}" for s in halves))


def _share(values: Iterable[bool]) -> str:
    values = list(values)
    return f"{sum(values) / len(values):.3f}" if values else "-"


def best_baseline_threshold(examples: Sequence[Example]) -> tuple[float, float, float]:
    """bm25s's one score threshold that does best (mean of in-right and out-refused)."""
    inside = [e for e in examples if e.answerable]
    outside = [e for e in examples if not e.answerable]
    best = (0.0, 0.0, 0.0)
    for t in sorted({round(e.baseline_score, 2) for e in examples}):
        right = sum(e.baseline_right and e.baseline_score >= t for e in inside) / len(inside)
        refused = sum(e.baseline_score < t for e in outside) / len(outside)
        if right + refused > best[1] + best[2]:
            best = (t, right, refused)
    return best


def write_weights(examples: Sequence[Example], confident: float, closest: float) -> None:
    """The trees fitted on all the data, one tree per line so that a diff stays readable."""
    data = exported(fit_trees(examples), Thresholds(confident, closest))
    depth, count, rate = TREES
    data["trained_on"] = (f"{len(examples)} examples: benchmarks/decision.py (depth {depth}, "
                          f"{count} trees, rate {rate}, seed {CV_SEED})")
    head = {key: value for key, value in data.items() if key != "trees"}
    lines = json.dumps(head, indent=1, ensure_ascii=False)[:-2]
    trees = ",\n  ".join(json.dumps(tree, separators=(",", ":")) for tree in data["trees"])
    WEIGHTS_PATH.write_text(f'{lines},\n "trees": [\n  {trees}\n ]\n}}\n', encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
